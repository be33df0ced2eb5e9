package fal

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"strings"
	"time"
)

// Options configures a Client.
type Options struct {
	QueueURL string // e.g. https://queue.fal.run
	RunURL   string // e.g. https://fal.run
	// StorageURL is the base of fal's storage API (e.g. https://rest.fal.ai),
	// where Upload sends input files; empty disables uploads.
	StorageURL string
	Pool       *Pool
	// HTTP is the client for API calls; nil builds one tuned for many
	// concurrent long-lived calls to one host.
	HTTP   *http.Client
	Logger *slog.Logger
	// MaxResultBytes caps result and sync-run bodies (default 256 MiB:
	// sync_mode results carry whole images as base64).
	MaxResultBytes int64
	// PollInterval is the first interval of the polling fallback used when
	// the status stream is unavailable (default 100ms, doubling to 1s).
	PollInterval time.Duration
	// StreamIdle ends a status stream that has been silent this long (fal
	// sends a comment every 15s), falling back to polling (default 45s).
	StreamIdle time.Duration
	// CancelTimeout bounds the cancel call made after a client has gone.
	CancelTimeout time.Duration
	// KeyWait bounds how long a call waits for a key slot when every key is
	// at its concurrency cap (default 30s).
	KeyWait time.Duration
	// Observer, if set, receives the duration of each phase of fal calls.
	Observer Observer
}

// Observer receives how long each phase of a fal call took: "submit",
// "queue" (accepted until a runner took it), "generation", "result",
// "stream_open" (a synchronous or streaming call until its headers).
type Observer interface {
	Phase(endpoint, phase string, d time.Duration)
}

type noObserver struct{}

func (noObserver) Phase(string, string, time.Duration) {}

// Client calls fal.
type Client struct {
	opt Options
	hc  *http.Client
	log *slog.Logger
}

// New builds a Client.
func New(opt Options) *Client {
	opt.QueueURL = strings.TrimRight(opt.QueueURL, "/")
	opt.RunURL = strings.TrimRight(opt.RunURL, "/")
	opt.StorageURL = strings.TrimRight(opt.StorageURL, "/")
	if opt.MaxResultBytes <= 0 {
		opt.MaxResultBytes = 256 << 20
	}
	if opt.PollInterval <= 0 {
		opt.PollInterval = 100 * time.Millisecond
	}
	if opt.StreamIdle <= 0 {
		opt.StreamIdle = 45 * time.Second
	}
	if opt.CancelTimeout <= 0 {
		opt.CancelTimeout = 10 * time.Second
	}
	if opt.KeyWait <= 0 {
		opt.KeyWait = 30 * time.Second
	}
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	if opt.Observer == nil {
		opt.Observer = noObserver{}
	}
	hc := opt.HTTP
	if hc == nil {
		hc = NewHTTPClient()
	}
	return &Client{opt: opt, hc: hc, log: opt.Logger}
}

// NewLoopbackHTTPClient is NewHTTPClient for an fal emulator on loopback
// (plain http): it speaks HTTP/2 with prior knowledge, as falproxy does
// with fal's real hosts over TLS, so that tests and benchmarks see the
// same connection use.
func NewLoopbackHTTPClient() *http.Client {
	hc := NewHTTPClient()
	p := new(http.Protocols)
	p.SetUnencryptedHTTP2(true)
	hc.Transport.(*http.Transport).Protocols = p
	return hc
}

// NewHTTPClient returns an http.Client suited to fal: keep-alive with a
// bounded pool of idle connections per host, HTTP/2 when offered, no overall timeout (every
// call carries a context) and no redirects (a redirect from fal's API is
// unexpected and must not carry the key elsewhere).
func NewHTTPClient() *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConns = 256
	tr.MaxIdleConnsPerHost = 128
	tr.IdleConnTimeout = 90 * time.Second
	// Every job holds a status stream open for its whole life, so the
	// per-connection buffers are multiplied by the jobs in flight; fal's
	// requests and status events are small.
	tr.WriteBufferSize = 1 << 10
	tr.ReadBufferSize = 2 << 10
	tr.ResponseHeaderTimeout = 0
	tr.ForceAttemptHTTP2 = true
	return &http.Client{
		Transport: tr,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

// Pool returns the client's key pool.
func (c *Client) Pool() *Pool { return c.opt.Pool }

type requestIDKey struct{}

// WithRequestID returns a context whose fal calls carry x-request-id, so a
// request can be followed from the client through falproxy to fal.
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey{}, id)
}

func (c *Client) newRequest(ctx context.Context, method, url string, k *Key, body []byte) (*http.Request, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	if err != nil {
		return nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "falproxy")
	if k != nil {
		req.Header.Set("Authorization", "Key "+k.secret)
	}
	if id, ok := ctx.Value(requestIDKey{}).(string); ok && id != "" {
		req.Header.Set("X-Request-Id", id)
	}
	return req, nil
}

// postFailover POSTs body to url with one key after another until fal
// answers with something other than a key or capacity problem. It is used
// only where no job can exist yet after a failure: a refused connection, or
// an answer of 401/403/429/5xx, which fal gives before accepting any work.
// On success the caller owns resp.Body and must call release(k).
//
// queued marks a queue submit, which differs from a synchronous call in two
// ways. Its HTTP exchange is not cut when ctx ends: a submit fal may have
// accepted must be allowed to return the job's ids, or the job could be
// neither followed nor cancelled (the caller then sees ctx is done and
// cancels it). And a 5xx answer means fal accepted nothing, so it is tried
// again; a synchronous call answering 5xx may have run the model, so it is
// reported as it is.
func (c *Client) postFailover(ctx context.Context, op, url string, body []byte, accept string, queued bool) (*http.Response, *Key, error) {
	tried := make(map[*Key]bool)
	var last *Error
	rounds := 0
	for attempt := 0; ; attempt++ {
		k, err := c.waitKey(ctx, op, tried)
		if err != nil && last != nil && transient(last) && rounds < maxRounds-1 {
			// Every key met a passing fault (5xx, refused connection):
			// go round again after a pause.
			rounds++
			clear(tried)
			if !c.backoff(ctx, attempt) {
				return nil, nil, ctx.Err()
			}
			continue
		}
		if err != nil {
			if last != nil {
				return nil, nil, last
			}
			return nil, nil, err
		}
		tried[k] = true
		reqCtx, cancel := ctx, context.CancelFunc(func() {})
		if queued {
			reqCtx, cancel = context.WithTimeout(context.WithoutCancel(ctx), detachedTimeout)
		}
		req, err := c.newRequest(reqCtx, http.MethodPost, url, k, body)
		if err != nil {
			cancel()
			c.opt.Pool.release(k)
			return nil, nil, &Error{Op: op, Err: err}
		}
		if accept != "" {
			req.Header.Set("Accept", accept)
		}
		resp, err := c.hc.Do(req)
		if err == nil && resp.StatusCode/100 == 2 {
			resp.Body = &cancelOnClose{ReadCloser: resp.Body, cancel: cancel}
		} else {
			defer cancel()
		}
		if err != nil {
			c.opt.Pool.release(k)
			c.opt.Pool.report(k, 0, 0)
			if ctx.Err() != nil {
				return nil, nil, ctx.Err()
			}
			if !neverSent(err) {
				// The body may have reached fal: a job may exist, so it
				// must not be sent again.
				return nil, nil, &Error{Op: op, Err: err}
			}
			last = &Error{Op: op, Err: err}
			c.log.Warn("fal unreachable, trying next key", "op", op, "key", k.ID(), "err", err)
			continue
		}
		if resp.StatusCode >= 200 && resp.StatusCode < 300 {
			c.opt.Pool.report(k, resp.StatusCode, 0)
			return resp, k, nil
		}
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		resp.Body.Close()
		c.opt.Pool.release(k)
		fe := errorFromResponse(op, resp, b)
		c.opt.Pool.report(k, resp.StatusCode, fe.RetryAfter)
		if !keyOrCapacityProblem(resp.StatusCode) || !queued && resp.StatusCode >= 500 {
			return nil, nil, fe
		}
		c.log.Warn("fal refused the call, trying next key", "op", op, "key", k.ID(), "status", resp.StatusCode)
		last = fe
	}
}

// detachedTimeout bounds a submit that no longer has a caller waiting.
const detachedTimeout = 60 * time.Second

// maxRounds bounds how many times postFailover goes through the keys when
// fal fails in passing ways.
const maxRounds = 3

// transient reports whether a failure may pass by itself.
func transient(e *Error) bool { return e.Status == 0 || e.Status >= 500 }

// keyOrCapacityProblem tells whether another key (or a later try) may
// succeed where this answer failed.
func keyOrCapacityProblem(status int) bool {
	return status == http.StatusUnauthorized || status == http.StatusForbidden ||
		status == http.StatusTooManyRequests || status >= 500
}

// neverSent reports whether err proves the request never reached fal.
func neverSent(err error) bool {
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return true
	}
	var dns *net.DNSError
	return errors.As(err, &dns)
}

// waitKey takes a key not yet tried. When a healthy untried key is merely
// busy (at its concurrency cap) it waits, up to KeyWait, for a slot.
func (c *Client) waitKey(ctx context.Context, op string, tried map[*Key]bool) (*Key, error) {
	deadline := time.Now().Add(c.opt.KeyWait)
	for {
		k, busy, wait := c.opt.Pool.acquire(tried)
		switch {
		case k != nil:
			return k, nil
		case !busy:
			return nil, &Error{Op: op, Err: c.opt.Pool.noKeyReason(), RetryAfter: wait, Status: http.StatusServiceUnavailable}
		case time.Now().After(deadline):
			return nil, &Error{Op: op, Err: ErrNoKey, RetryAfter: time.Second, Status: http.StatusServiceUnavailable,
				Detail: "every fal key is at its concurrency limit"}
		}
		if !sleep(ctx, 20*time.Millisecond) {
			return nil, ctx.Err()
		}
	}
}

// backoff sleeps a capped exponential delay with jitter; false if ctx ended.
func (c *Client) backoff(ctx context.Context, attempt int) bool {
	d := min(50*time.Millisecond<<min(attempt, 6), 2*time.Second)
	return sleep(ctx, d/2+rand.N(d/2+1))
}

// sleep waits d; false if ctx ended first.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// readAll reads at most max bytes of body, failing with ErrTooLarge beyond.
func readAll(op string, body io.Reader, max int64) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(body, max+1))
	if err != nil {
		return nil, &Error{Op: op, Err: err}
	}
	if int64(len(b)) > max {
		return nil, &Error{Op: op, Err: fmt.Errorf("%w (over %d bytes)", ErrTooLarge, max)}
	}
	return b, nil
}

// readResponse reads a whole body like readAll, into one buffer of the
// announced size when fal sent a Content-Length: a result carrying an image
// as base64 is then held once, not in a chain of growing copies.
func readResponse(op string, resp *http.Response, max int64) ([]byte, error) {
	n := resp.ContentLength
	if n < 0 || n > max {
		return readAll(op, resp.Body, max)
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(resp.Body, b); err != nil {
		return nil, &Error{Op: op, Err: err}
	}
	return b, nil
}

// cancelOnClose ends a request's context when its body is closed.
type cancelOnClose struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (c *cancelOnClose) Close() error {
	err := c.ReadCloser.Close()
	c.cancel()
	return err
}
