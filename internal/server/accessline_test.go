package server_test

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/falproxy/falproxy/internal/server"
)

// lineWriterHandler is a text handler that also takes access lines
// without a record, as falproxy's own does: it writes them as Handle
// would, except those whose path holds "decline", which it leaves to
// Handle.
type lineWriterHandler struct {
	slog.Handler
	mu      sync.Mutex
	direct  []server.AccessLine // the lines taken without a record
	records []string            // the messages of the records handled
}

func (h *lineWriterHandler) WriteAccessLine(l server.AccessLine) (bool, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if strings.Contains(l.Path, "decline") {
		return false, nil
	}
	h.direct = append(h.direct, l)
	return true, h.Handler.Handle(context.Background(), l.Record())
}

func (h *lineWriterHandler) Handle(ctx context.Context, r slog.Record) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.records = append(h.records, r.Message)
	return h.Handler.Handle(ctx, r)
}

// TestAccessLineGoesToALineWriter: a logger whose handler writes access
// lines itself gets each one without a record, with what the client was
// answered; a line it declines goes to its Handle as a record.
func TestAccessLineGoesToALineWriter(t *testing.T) {
	var out bytes.Buffer
	h := &lineWriterHandler{Handler: slog.NewTextHandler(&out, &slog.HandlerOptions{Level: slog.LevelDebug})}
	proxy := httptest.NewServer(server.New(server.Options{AccessKeys: []string{accessKey}, Logger: slog.New(h)}))
	defer proxy.Close()
	requests := []struct {
		id, path string
		status   int
		level    slog.Level
	}{
		{"req-models", "/v1/models", http.StatusOK, slog.LevelInfo},
		{"req-health", "/health", http.StatusOK, slog.LevelDebug},
		{"req-decline", "/v1/models/decline", http.StatusNotFound, slog.LevelInfo},
	}
	for _, q := range requests {
		req, _ := http.NewRequest(http.MethodGet, proxy.URL+q.path, nil)
		req.Header = http.Header{"Authorization": {"Bearer " + accessKey}, "X-Request-Id": {q.id}}
		resp, err := proxy.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if got := resp.Header.Get("X-Request-Id"); resp.StatusCode != q.status || got != q.id {
			t.Fatalf("GET %s answered %d with request id %q", q.path, resp.StatusCode, got)
		}
	}
	proxy.Close() // every request has ended, and its line is written
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.direct) != 2 {
		t.Fatalf("the handler took %d access lines without a record, want 2: %+v", len(h.direct), h.direct)
	}
	for i, l := range h.direct {
		q := requests[i]
		if l.RequestID != q.id || l.Method != http.MethodGet || l.Path != q.path || l.Status != q.status ||
			l.Level != q.level || l.Time.IsZero() || l.Elapsed < 0 {
			t.Errorf("access line %+v, want request %+v", l, q)
		}
	}
	if len(h.records) != 1 || h.records[0] != server.AccessMessage {
		t.Errorf("the handler was handed the records %q, want the declined access line", h.records)
	}
	for _, q := range requests {
		if !strings.Contains(out.String(), "msg=request request_id="+q.id+" method=GET path="+q.path+" status=") {
			t.Errorf("no access line of %s in\n%s", q.id, out.String())
		}
	}
}
