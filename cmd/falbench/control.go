package main

import (
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"strconv"
	"time"
)

// The control servers are the physical limit falproxy is measured against:
// what a bare Go server does on the same cores for the same answer. Each
// runs as a child process, as falproxy does, so that both cross the same
// process boundaries.
const (
	// fixedCommand serves one file's bytes as JSON at every path, as a
	// bare net/http handler would serve GET /v1/models.
	fixedCommand = "fixed"
	// reverseProxyCommand is a bare httputil.ReverseProxy to an upstream
	// over h2c, the least a chat passthrough can do.
	reverseProxyCommand = "reverse-proxy"
	// cdnProxyCommand is a bare httputil.ReverseProxy to a CDN over
	// HTTP/1.1, as falproxy downloads a video's file: the least any Go
	// server passing the bytes on can do.
	cdnProxyCommand = "cdn-proxy"
)

// serveFixed answers every request with the bytes of file as JSON.
func serveFixed(listen, file string) error {
	body, err := os.ReadFile(file)
	if err != nil {
		return fmt.Errorf("fixed: %w", err)
	}
	length := strconv.Itoa(len(body))
	return serveControl(listen, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", length)
		_, _ = w.Write(body)
	}))
}

// serveReverseProxy forwards every request to upstream with
// httputil.ReverseProxy through transport: HTTP/2 with prior knowledge to
// the emulator, as falproxy speaks to it, or HTTP/1.1 to a CDN.
func serveReverseProxy(listen, upstream string, transport http.RoundTripper) error {
	u, err := url.Parse(upstream)
	if err != nil {
		return fmt.Errorf("reverse proxy: %w", err)
	}
	rp := httputil.NewSingleHostReverseProxy(u)
	rp.Transport = transport
	// wrk cuts its connections off when its time is up; the requests it
	// abandons are no news.
	rp.ErrorLog = log.New(io.Discard, "", 0)
	return serveControl(listen, rp)
}

// serveControl serves h on listen with net/http's defaults, until the
// process is killed.
func serveControl(listen string, h http.Handler) error {
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return fmt.Errorf("control server: %w", err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	return srv.Serve(ln)
}
