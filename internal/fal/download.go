package fal

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"syscall"
	"time"
)

// ErrForbiddenTarget means a download URL points somewhere falproxy must
// not connect to (a private, loopback or link-local address, or a scheme
// other than http(s)).
var ErrForbiddenTarget = errors.New("download target not allowed")

// Downloader fetches result media (images fal produced) from URLs found in
// fal's output. Those URLs are untrusted input: only http(s) is followed,
// private, loopback and link-local addresses are refused unless
// AllowPrivate (ALLOW_PRIVATE_MEDIA, for an emulator on this machine), and
// size and time are capped.
type Downloader struct {
	hc       *http.Client
	maxBytes int64
}

// DownloaderOptions configures a Downloader.
type DownloaderOptions struct {
	// AllowPrivate lets downloads reach private, loopback and link-local
	// addresses (off by default: a result URL must not reach the network
	// falproxy runs in).
	AllowPrivate bool
	MaxBytes     int64         // default 64 MiB
	Timeout      time.Duration // whole download, default 60s
}

// NewDownloader builds a Downloader.
func NewDownloader(o DownloaderOptions) *Downloader {
	if o.MaxBytes <= 0 {
		o.MaxBytes = 64 << 20
	}
	if o.Timeout <= 0 {
		o.Timeout = 60 * time.Second
	}
	dialer := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}
	if !o.AllowPrivate {
		dialer.Control = refusePrivate
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.DialContext = dialer.DialContext
	tr.Proxy = nil // the address check must see the real target
	tr.MaxIdleConnsPerHost = 64
	return &Downloader{
		maxBytes: o.MaxBytes,
		hc: &http.Client{
			Transport: tr,
			Timeout:   o.Timeout,
			CheckRedirect: func(req *http.Request, via []*http.Request) error {
				if len(via) >= 3 {
					return errors.New("too many redirects")
				}
				return checkScheme(req.URL)
			},
		},
	}
}

// refusePrivate runs after DNS resolution, on the address actually dialled,
// so a public name resolving to a private address is refused too.
func refusePrivate(network, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("%w: %s", ErrForbiddenTarget, address)
	}
	ip := ap.Addr().Unmap()
	if ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast() ||
		ip.IsUnspecified() || ip.IsMulticast() || ip.IsInterfaceLocalMulticast() {
		return fmt.Errorf("%w: %s", ErrForbiddenTarget, ip)
	}
	return nil
}

func checkScheme(u *url.URL) error {
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("%w: scheme %q", ErrForbiddenTarget, u.Scheme)
	}
	return nil
}

// Download is an open download: read Body (capped at the downloader's
// limit; reading past it fails with ErrTooLarge) and Close it.
type Download struct {
	Body          io.ReadCloser
	ContentType   string
	ContentLength int64 // -1 when unknown
}

// Open starts downloading rawURL.
func (d *Downloader) Open(ctx context.Context, rawURL string) (*Download, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, &Error{Op: OpDownload, Err: err}
	}
	if err := checkScheme(u); err != nil {
		return nil, &Error{Op: OpDownload, Err: err}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, &Error{Op: OpDownload, Err: err}
	}
	resp, err := d.hc.Do(req)
	if err != nil {
		return nil, &Error{Op: OpDownload, Err: err}
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		return nil, &Error{Op: OpDownload, Status: resp.StatusCode, Detail: "image download failed: HTTP " + resp.Status}
	}
	if resp.ContentLength > d.maxBytes {
		resp.Body.Close()
		return nil, &Error{Op: OpDownload, Err: fmt.Errorf("%w: %d bytes", ErrTooLarge, resp.ContentLength)}
	}
	return &Download{
		Body:          &cappedBody{rc: resp.Body, left: d.maxBytes},
		ContentType:   resp.Header.Get("Content-Type"),
		ContentLength: resp.ContentLength,
	}, nil
}

// cappedBody fails once more than its limit has been read.
type cappedBody struct {
	rc   io.ReadCloser
	left int64
}

func (c *cappedBody) Read(p []byte) (int, error) {
	if c.left < 0 {
		return 0, &Error{Op: OpDownload, Err: ErrTooLarge}
	}
	if int64(len(p)) > c.left+1 {
		p = p[:c.left+1]
	}
	n, err := c.rc.Read(p)
	c.left -= int64(n)
	if c.left < 0 {
		return n, &Error{Op: OpDownload, Err: ErrTooLarge}
	}
	return n, err
}

func (c *cappedBody) Close() error { return c.rc.Close() }
