package main

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/falproxy/falproxy/internal/metrics"
	"github.com/falproxy/falproxy/internal/server"
)

// benchLine is an access log line as the server logs one.
func benchLine() slog.Record {
	r := slog.NewRecord(time.Now(), slog.LevelInfo, "request", 0)
	r.AddAttrs(slog.String("request_id", "req_44a6ac42ba56e360899cb2f0"), slog.String("method", "GET"),
		slog.String("path", "/v1/models"), slog.Int("status", 200), slog.Float64("duration_ms", 0.123))
	return r
}

// BenchmarkDirectLine formats and writes an access line in the direct
// format, as text; BenchmarkSlogLine is the same line through slog's
// text handler.
func BenchmarkDirectLine(b *testing.B) {
	f, r := &lineFormat{w: io.Discard}, benchLine()
	b.ReportAllocs()
	for b.Loop() {
		_, _ = f.write(r, unchanged)
	}
}

func BenchmarkSlogLine(b *testing.B) {
	h, r := slog.NewTextHandler(io.Discard, nil), benchLine()
	b.ReportAllocs()
	for b.Loop() {
		_ = h.Handle(context.Background(), r)
	}
}

// BenchmarkServedModels serves GET /v1/models with the access key through
// falproxy's handler, its own logger, gathering lines as it does for a
// file or a pipe, and its metrics, so that it shows the cost of the
// access line and the metrics in the request (internal/server's
// BenchmarkListModels has neither).
func BenchmarkServedModels(b *testing.B) {
	const accessKey = "sk-bench-0123456789abcdef"
	for _, format := range []string{"text", "json"} {
		b.Run(format, func(b *testing.B) {
			out := &logBuffer{w: io.Discard}
			b.Cleanup(out.close)
			h := server.New(server.Options{AccessKeys: []string{accessKey}, Metrics: metrics.New(nil, nil),
				Logger: newLogger(out, loadLogConfig(b, accessKey, format))})
			req := httptest.NewRequest(http.MethodGet, "/v1/models", nil)
			req.Header.Set("Authorization", "Bearer "+accessKey)
			w := &discardAnswer{header: http.Header{}}
			b.ReportAllocs()
			for b.Loop() {
				clear(w.header)
				w.status = 0
				h.ServeHTTP(w, req)
				if w.status != http.StatusOK {
					b.Fatalf("GET /v1/models answered %d", w.status)
				}
			}
		})
	}
}

// discardAnswer is a ResponseWriter that keeps only the status.
type discardAnswer struct {
	header http.Header
	status int
}

func (d *discardAnswer) Header() http.Header { return d.header }

func (d *discardAnswer) WriteHeader(code int) {
	if d.status == 0 {
		d.status = code
	}
}

func (d *discardAnswer) Write(p []byte) (int, error) {
	d.WriteHeader(http.StatusOK)
	return len(p), nil
}
