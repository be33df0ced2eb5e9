package server

import (
	"context"
	"net/http"
	"time"

	"github.com/falproxy/falproxy/internal/fal"
)

// keepAliveEvery is how often a silent stream gets an SSE comment, so that
// proxies and clients between falproxy and the user do not time it out.
const keepAliveEvery = 15 * time.Second

// maxUpstreamLine caps one SSE line read from fal.
const maxUpstreamLine = 16 << 20

// sseWriter sends server-sent events, flushing each one at once.
type sseWriter struct {
	w  http.ResponseWriter
	rc *http.ResponseController
}

func startSSE(w http.ResponseWriter) *sseWriter {
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no") // nginx: do not buffer the stream
	w.WriteHeader(http.StatusOK)
	s := &sseWriter{w: w, rc: http.NewResponseController(w)}
	_ = s.rc.Flush()
	return s
}

// send writes b (one or more complete events) and flushes.
func (s *sseWriter) send(b []byte) error {
	if _, err := s.w.Write(b); err != nil {
		return err
	}
	return s.rc.Flush()
}

// newKeepAliveTicker ticks when a silent stream is due a keep-alive.
func newKeepAliveTicker() *time.Ticker { return time.NewTicker(keepAliveEvery) }

// upstreamEvent is one event read from fal, with its data copied.
type upstreamEvent struct {
	data []byte
	err  error // io.EOF at the normal end
}

// pumpEvents reads fal's events on a goroutine so that the writer can send
// keep-alives while fal is silent. The goroutine ends when the stream ends
// or ctx is cancelled (the caller closes the body, which unblocks reads).
func pumpEvents(ctx context.Context, rd *fal.SSEReader) <-chan upstreamEvent {
	ch := make(chan upstreamEvent)
	go func() {
		defer close(ch)
		for {
			ev, err := rd.Next()
			var item upstreamEvent
			switch {
			case err != nil:
				item.err = err
			case ev.Comment || len(ev.Data) == 0:
				continue
			default:
				item.data = append([]byte(nil), ev.Data...)
			}
			select {
			case ch <- item:
			case <-ctx.Done():
				return
			}
			if err != nil {
				return
			}
		}
	}()
	return ch
}

// relay feeds every event of fal's stream to handle, sending keep-alive
// comments while fal is silent. It returns when handle says stop, the
// stream ends (with the read error, io.EOF at a normal end), or ctx ends.
// Events are read on a goroutine that ends with the call.
func relay(ctx context.Context, out *sseWriter, rd *fal.SSEReader, handle func(data []byte) (stop bool, err error)) error {
	pumpCtx, stopPump := context.WithCancel(ctx)
	defer stopPump()
	events := pumpEvents(pumpCtx, rd)
	tick := newKeepAliveTicker()
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
			if err := out.send([]byte(": keep-alive\n\n")); err != nil {
				return err
			}
		case ev, ok := <-events:
			if !ok {
				return ctx.Err()
			}
			if ev.err != nil {
				return ev.err
			}
			stop, err := handle(ev.data)
			if stop || err != nil {
				return err
			}
		}
	}
}
