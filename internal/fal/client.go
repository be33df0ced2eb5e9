package fal

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
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
	// concurrent long-lived calls to one host. Unless it has a Timeout or
	// a Jar, calls go to its Transport directly and follow no redirect,
	// whatever its CheckRedirect says (see send).
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
	// CancelTimeout bounds each cancel call made after a client has gone
	// (default 10s).
	CancelTimeout time.Duration
	// CancelRetryFor bounds how long the cancel of an abandoned job is
	// retried when fal cannot be reached or fails (default 2 minutes).
	CancelRetryFor time.Duration
	// MediaTTL, when positive, asks fal to keep the media of submitted
	// jobs and synchronous runs this long (rounded up to whole seconds);
	// zero leaves fal's default.
	MediaTTL time.Duration
	// KeyWait bounds how long a call waits for a key slot when every key is
	// at its concurrency cap (default 30s).
	KeyWait time.Duration
	// Observer, if set, receives the duration of each phase of fal calls.
	Observer Observer
}

// Observer receives how long each phase of a fal call took: "submit",
// "queue" (accepted until a runner took it), "generation", "result",
// "stream_open" (a synchronous or streaming call until its headers); and
// how the cancel of each abandoned job ended (CancelConfirmed,
// CancelAlreadyFinished, CancelGaveUp) after how many retries.
type Observer interface {
	Phase(endpoint, phase string, d time.Duration)
	CancelSettled(outcome string, retries int)
}

type noObserver struct{}

func (noObserver) Phase(string, string, time.Duration) {}
func (noObserver) CancelSettled(string, int)           {}

// Client calls fal.
type Client struct {
	opt Options
	hc  *http.Client
	// rt is hc's transport when fal's calls can go to it directly (see
	// send); nil when hc must do them (it has a Timeout or a Jar).
	rt  http.RoundTripper
	log *slog.Logger
	// origins are the configured upstreams' scheme://host, the only
	// non-fal hosts a URL in fal's answers may point at (see followable).
	origins []string
	// lifecycle is the X-Fal-Object-Lifecycle-Preference sent with work,
	// made once from MediaTTL ("" for fal's default).
	lifecycle string

	// Cancels of abandoned jobs run in the background (see abandon);
	// Close waits for them, and ends retries (retries) when it stops
	// waiting.
	bgMu        sync.Mutex
	closing     bool
	background  sync.WaitGroup
	retries     context.Context
	stopRetries context.CancelFunc
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
	if opt.CancelRetryFor <= 0 {
		opt.CancelRetryFor = 2 * time.Minute
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
	c := &Client{opt: opt, hc: hc, log: opt.Logger, origins: trustedOrigins(opt.QueueURL, opt.RunURL, opt.StorageURL),
		lifecycle: lifecycleValue(opt.MediaTTL)}
	if hc.Timeout == 0 && hc.Jar == nil {
		c.rt = hc.Transport
		if c.rt == nil {
			c.rt = http.DefaultTransport
		}
	}
	c.retries, c.stopRetries = context.WithCancel(context.Background())
	return c
}

// NewH2CHTTPClient is NewHTTPClient that also speaks HTTP/2 with prior
// knowledge (h2c) to plain http:// upstreams, so that many calls share one
// connection as they do with fal's hosts over TLS. An upstream that speaks
// only HTTP/1.1 cannot answer it, so it is used only when configured
// (FAL_H2C), never guessed from where an upstream URL points.
func NewH2CHTTPClient() *http.Client {
	hc := NewHTTPClient()
	p := new(http.Protocols)
	p.SetUnencryptedHTTP2(true)
	hc.Transport.(*http.Transport).Protocols = p
	return hc
}

// NewHTTPClient returns an http.Client suited to fal: keep-alive with a
// bounded pool of idle connections per host, HTTP/2 when TLS negotiates it
// and HTTP/1.1 otherwise, no overall timeout (every
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

// send makes one HTTP exchange with fal. fal's calls follow no redirect
// (an answer of 3xx is returned as it is, as NewHTTPClient's CheckRedirect
// does) and carry their deadlines in their contexts, so they go to the
// transport directly when the client adds no time limit or cookies:
// http.Client.Do would copy every header of every call, in case a
// redirect needs them, and add 1.1 KiB of frames to the deepest stack a
// request reaches, which sets the size its goroutine keeps while it waits.
func (c *Client) send(req *http.Request) (*http.Response, error) {
	if c.rt == nil {
		return c.hc.Do(req)
	}
	return c.rt.RoundTrip(req)
}

// Pool returns the client's key pool.
func (c *Client) Pool() *Pool { return c.opt.Pool }

type requestIDKey struct{}

// WithRequestID returns a context whose fal calls carry x-request-id, so a
// request can be followed from the client through falproxy to fal.
func WithRequestID(ctx context.Context, id string) context.Context {
	if id == "" {
		return ctx
	}
	// Kept as the header's value, which every fal call of the request
	// then shares.
	return context.WithValue(ctx, requestIDKey{}, &[1]string{id})
}

// Header values of every call, shared by all requests rather than made for
// each: net/http only reads a request's header values, and the code that
// changes a header (Set, Add) replaces its slice.
var (
	jsonHeader      = []string{"application/json"}
	userAgentHeader = []string{"falproxy"}
)

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
		req.Header["Content-Type"] = jsonHeader
	}
	req.Header["Accept"] = jsonHeader
	req.Header["User-Agent"] = userAgentHeader
	if k != nil {
		req.Header["Authorization"] = k.authorization
	}
	if id, ok := ctx.Value(requestIDKey{}).(*[1]string); ok {
		req.Header["X-Request-Id"] = id[:]
	}
	return req, nil
}

// postFailover POSTs body to url with one key after another until fal
// answers with something other than a key or capacity problem. It is used
// only where no job can exist yet after a failure: a refused connection, or
// an answer of 401/403/429/5xx, which fal gives before accepting any work.
// header is added to every try. On success the caller owns resp.Body and
// must call release(k).
//
// queued marks a queue submit, which differs from a synchronous call in two
// ways. Its HTTP exchange is not cut when ctx ends: a submit fal may have
// accepted must be allowed to return the job's ids, or the job could be
// neither followed nor cancelled (the caller then sees ctx is done and
// cancels it). And a 5xx answer means fal accepted nothing, so it is tried
// again; a synchronous call answering 5xx may have run the model, so it is
// reported as it is.
func (c *Client) postFailover(ctx context.Context, op, url string, body []byte, header http.Header, queued bool) (*http.Response, *Key, error) {
	var tried map[*Key]bool // made when a key fails: most calls need one key
	var last *Error
	rounds := 0
	for attempt := 0; ; attempt++ {
		k, err := c.waitKey(ctx, op, tried)
		if err != nil {
			switch decideWithoutKey(last, rounds) {
			case nextRound:
				rounds++
				clear(tried)
				if !c.backoff(ctx, attempt) {
					return nil, nil, ctx.Err()
				}
				continue
			case reportLast:
				return nil, nil, last
			}
			return nil, nil, err
		}
		resp, action, fe := c.tryKey(ctx, op, url, body, header, queued, k)
		switch action {
		case accept:
			return resp, k, nil
		case giveUpCancelled:
			return nil, nil, ctx.Err()
		case giveUp:
			return nil, nil, fe
		}
		c.logNextKey(op, k, fe)
		if tried == nil {
			tried = make(map[*Key]bool)
		}
		tried[k] = true
		last = fe
	}
}

// tryKey makes the call of postFailover with key k, releasing k unless fal
// accepts it, and says what postFailover does next. It is apart from the
// loop over the keys so that the loop's locals (the keys tried, the log
// calls) are not on the stack under the HTTP round trip, the deepest point
// of a request waiting on fal: a stack that went past 7 KiB there stays at
// 16 KiB, not 8, for the whole wait.
func (c *Client) tryKey(ctx context.Context, op, url string, body []byte, header http.Header, queued bool, k *Key) (*http.Response, failoverAction, *Error) {
	reqCtx, cancel := ctx, context.CancelFunc(func() {})
	if queued {
		reqCtx, cancel = context.WithTimeout(context.WithoutCancel(ctx), detachedTimeout)
	}
	req, err := c.postRequest(ctx, reqCtx, op, url, k, body, header)
	if err != nil {
		cancel()
		c.opt.Pool.release(k)
		return nil, giveUp, &Error{Op: op, Err: err}
	}
	resp, err := c.send(req)
	if err != nil {
		cancel()
		c.opt.Pool.release(k)
		c.opt.Pool.report(k, 0, 0)
		// giveUp: the body may have reached fal, so a job may exist
		// and the call must not be made again.
		return nil, decideAfterTransportError(err, ctx.Err() != nil), &Error{Op: op, Err: err}
	}
	action := decideAfterAnswer(resp.StatusCode, queued)
	if action == accept {
		resp.Body = &cancelOnClose{ReadCloser: resp.Body, cancel: cancel}
		c.opt.Pool.report(k, resp.StatusCode, 0)
		return resp, accept, nil
	}
	cancel()
	return nil, action, c.refused(op, k, resp)
}

// postRequest builds tryKey's request, bound to reqCtx, with header and,
// unless it uploads, the headers of work at fal, which come from ctx.
func (c *Client) postRequest(ctx, reqCtx context.Context, op, url string, k *Key, body []byte, header http.Header) (*http.Request, error) {
	req, err := c.newRequest(reqCtx, http.MethodPost, url, k, body)
	if err != nil {
		return nil, err
	}
	for name, values := range header {
		req.Header[name] = values
	}
	if op != OpUpload { // every other call starts work at fal
		c.setWorkHeaders(ctx, req.Header)
	}
	return req, nil
}

// refused reads fal's refusal of a call made with key k, releases the key
// and reports the answer to the pool.
func (c *Client) refused(op string, k *Key, resp *http.Response) *Error {
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	c.opt.Pool.release(k)
	fe := errorFromResponse(op, resp, b)
	c.opt.Pool.report(k, resp.StatusCode, fe.RetryAfter)
	return fe
}

// logNextKey logs why postFailover tries another key after key k: fal
// could not be reached (a failure without a status) or refused the call.
func (c *Client) logNextKey(op string, k *Key, fe *Error) {
	if fe.Status == 0 {
		c.log.Warn("fal unreachable, trying next key", "op", op, "key", k.ID(), "err", fe.Err)
		return
	}
	c.log.Warn("fal refused the call, trying next key", "op", op, "key", k.ID(), "status", fe.Status)
}

// fleetPause is the shortest wait before asking the fleet's count of a
// key's slots again after it refused; a random part up to 1.5 times it is
// added, so that the waiters of all replicas do not ask together.
const fleetPause = 100 * time.Millisecond

// detachedTimeout bounds a submit that no longer has a caller waiting.
const detachedTimeout = 60 * time.Second

// waitKey takes a key not yet tried. When a healthy untried key is merely
// busy (at its concurrency cap) it waits, up to KeyWait, for a slot: it
// looks again every few milliseconds while this replica's own slots are
// full, but backs off while the fleet's count refuses, which every look
// asks through Redis.
func (c *Client) waitKey(ctx context.Context, op string, tried map[*Key]bool) (*Key, error) {
	deadline := time.Now().Add(c.opt.KeyWait)
	for {
		refused := c.opt.Pool.refused.Load()
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
		pause := 20 * time.Millisecond
		if c.opt.Pool.refused.Load() != refused {
			pause = fleetPause + rand.N(fleetPause*3/2)
		}
		if !sleep(ctx, pause) {
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
// as base64 is then held once, not in a chain of growing copies. The
// server's readAllSized does the same for request bodies, but caps what a
// client's announced length may allocate before its bytes arrive; fal's
// length is trusted up to max.
//
// Every call returns a fresh buffer that the Client never touches again:
// callers own it. images.ParseOutput relies on this rule, sharing the
// buffer's bytes with the strings it returns (unsafe.String) rather than
// copying a multi-megabyte image; pooling or reusing these buffers would
// silently rewrite images already handed out.
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
