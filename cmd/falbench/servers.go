package main

import (
	"fmt"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// blobServer serves one fixed body at every path, as fal's CDN serves a
// generated image.
type blobServer struct {
	srv *http.Server
	url string
	// pace, when above zero, is the rate in bytes per second at which
	// the body is written, as a CDN across the internet delivers it;
	// zero writes it as fast as loopback takes it.
	pace atomic.Int64
}

// pacedChunk is how much a paced blob writes between its pauses.
const pacedChunk = 256 << 10

func startBlob(body []byte, contentType string) (*blobServer, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("start the CDN: %w", err)
	}
	b := &blobServer{url: "http://" + ln.Addr().String()}
	b.srv = &http.Server{
		ReadHeaderTimeout: 10 * time.Second,
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", contentType)
			w.Header().Set("Content-Length", strconv.Itoa(len(body)))
			rate := b.pace.Load()
			if rate <= 0 {
				_, _ = w.Write(body)
				return
			}
			start := time.Now()
			for sent := 0; sent < len(body); {
				n := min(pacedChunk, len(body)-sent)
				if _, err := w.Write(body[sent : sent+n]); err != nil {
					return
				}
				sent += n
				time.Sleep(time.Until(start.Add(time.Duration(float64(sent) / float64(rate) * float64(time.Second)))))
			}
		}),
	}
	go func() { _ = b.srv.Serve(ln) }()
	return b, nil
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
