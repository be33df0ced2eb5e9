package main

import (
	"io"
	"net"
	"net/http"
	"time"
)

// newHTTPClient is the keep-alive client both sides use, the proxy's
// clients and the direct fal client alike, so that neither gets a better
// transport: enough idle connections for the largest burst, no gzip, no
// overall timeout (every call carries a context).
func newHTTPClient(conns int) *http.Client {
	tr := &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        conns,
		MaxIdleConnsPerHost: conns,
		IdleConnTimeout:     2 * time.Minute,
		DisableCompression:  true,
	}
	return &http.Client{Transport: tr}
}

// newUpstreamClient is newHTTPClient for the direct fal client: HTTP/2 with
// prior knowledge, as falproxy speaks to the emulator (and to fal over
// TLS), so that both sides reach fal the same way.
func newUpstreamClient(conns int) *http.Client {
	hc := newHTTPClient(conns)
	p := new(http.Protocols)
	p.SetUnencryptedHTTP2(true)
	hc.Transport.(*http.Transport).Protocols = p
	return hc
}

// drain reads what is left of a response and closes it, so that its
// connection goes back to the pool.
func drain(resp *http.Response) {
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
}
