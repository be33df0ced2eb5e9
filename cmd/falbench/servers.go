package main

import (
	"fmt"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// blobServer serves one fixed body at every path, as fal's CDN serves a
// generated image.
type blobServer struct {
	srv *http.Server
	url string
}

func startBlob(body []byte, contentType string) (*blobServer, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("start the CDN: %w", err)
	}
	srv := &http.Server{
		ReadHeaderTimeout: 10 * time.Second,
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", contentType)
			w.Header().Set("Content-Length", strconv.Itoa(len(body)))
			_, _ = w.Write(body)
		}),
	}
	go func() { _ = srv.Serve(ln) }()
	return &blobServer{srv: srv, url: "http://" + ln.Addr().String()}, nil
}

func (b *blobServer) close() { _ = b.srv.Close() }

// blackhole accepts connections and never answers, like a host whose
// service hangs: a client waits until its own deadline.
type blackhole struct {
	ln       net.Listener
	mu       sync.Mutex
	conns    []net.Conn
	accepted int
	done     chan struct{}
}

func startBlackhole() (*blackhole, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("start the black hole: %w", err)
	}
	h := &blackhole{ln: ln, done: make(chan struct{})}
	go func() {
		defer close(h.done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			h.mu.Lock()
			h.conns = append(h.conns, c)
			h.accepted++
			h.mu.Unlock()
		}
	}()
	return h, nil
}

func (h *blackhole) url() string { return "http://" + h.ln.Addr().String() }

// count is how many connections it has swallowed.
func (h *blackhole) count() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.accepted
}

func (h *blackhole) close() {
	_ = h.ln.Close()
	<-h.done
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, c := range h.conns {
		_ = c.Close()
	}
}
