package falfake

import (
	"fmt"
	"net/http"
)

// sseWriter writes a text/event-stream answer, flushing after every event
// so that clients see each one at once.
type sseWriter struct {
	w  http.ResponseWriter
	rc *http.ResponseController
}

// startSSE sends the headers of an event stream.
func startSSE(w http.ResponseWriter, requestID string) *sseWriter {
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Fal-Request-Id", requestID)
	w.WriteHeader(http.StatusOK)
	s := &sseWriter{w: w, rc: http.NewResponseController(w)}
	_ = s.rc.Flush()
	return s
}

// data sends one event whose data is b (a single line of JSON).
func (s *sseWriter) data(b []byte) error {
	if _, err := fmt.Fprintf(s.w, "data: %s\n\n", b); err != nil {
		return fmt.Errorf("writing event: %w", err)
	}
	return s.rc.Flush()
}

// comment sends a comment line, which clients ignore; it keeps idle
// connections open.
func (s *sseWriter) comment(text string) error {
	if _, err := fmt.Fprintf(s.w, ": %s\n\n", text); err != nil {
		return fmt.Errorf("writing comment: %w", err)
	}
	return s.rc.Flush()
}
