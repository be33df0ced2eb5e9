package fal

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"time"
)

// Stream opens a result file for passing on to a client as it arrives, a
// video of any length: with the client's Range header (players seek),
// without the size cap and without the whole-download timeout of Open.
// Only fal's silence ends it: a Read that waits the downloader's Timeout
// for a byte. Time between Reads, when the caller is blocked writing to a
// slow or paused client, does not count: that is not fal's silence. 200,
// 206 and 416 answers are handed over with their headers; the caller
// closes the body. The same address checks as Open apply.
func (d *Downloader) Stream(ctx context.Context, rawURL, rangeHeader string) (*http.Response, error) {
	return d.StreamMethod(ctx, http.MethodGet, rawURL, rangeHeader)
}

// StreamMethod is Stream with the client's method: a HEAD asks fal's CDN
// for the headers only, and opens no download.
func (d *Downloader) StreamMethod(ctx context.Context, method, rawURL, rangeHeader string) (*http.Response, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, &Error{Op: OpDownload, Err: err}
	}
	if err := checkScheme(u); err != nil {
		return nil, &Error{Op: OpDownload, Err: err}
	}
	ctx, cancel := context.WithCancel(ctx)
	req, err := http.NewRequestWithContext(ctx, method, u.String(), nil)
	if err != nil {
		cancel()
		return nil, &Error{Op: OpDownload, Err: err}
	}
	if rangeHeader != "" {
		req.Header.Set("Range", rangeHeader)
	}
	idle := d.hc.Timeout
	stall := time.AfterFunc(idle, cancel)
	hc := &http.Client{Transport: d.hc.Transport, CheckRedirect: d.hc.CheckRedirect}
	resp, err := hc.Do(req)
	if err != nil {
		stall.Stop()
		cancel()
		return nil, &Error{Op: OpDownload, Err: err}
	}
	switch resp.StatusCode {
	case http.StatusOK, http.StatusPartialContent, http.StatusRequestedRangeNotSatisfiable:
	default:
		resp.Body.Close()
		stall.Stop()
		cancel()
		return nil, &Error{Op: OpDownload, Status: resp.StatusCode, Detail: "media download failed: HTTP " + resp.Status}
	}
	stall.Stop() // the headers came; the clock runs again in each Read
	resp.Body = &idleBody{rc: resp.Body, stall: stall, idle: idle, cancel: cancel}
	return resp, nil
}

// idleBody ends a download when one Read waits idle for fal's CDN: the
// stall timer runs only while a Read waits, so that the time the caller
// spends elsewhere (writing to its client) is never taken for silence.
type idleBody struct {
	rc     io.ReadCloser
	stall  *time.Timer
	idle   time.Duration
	cancel context.CancelFunc
}

func (b *idleBody) Read(p []byte) (int, error) {
	b.stall.Reset(b.idle)
	n, err := b.rc.Read(p)
	b.stall.Stop()
	return n, err
}

func (b *idleBody) Close() error {
	b.stall.Stop()
	err := b.rc.Close()
	b.cancel()
	return err
}
