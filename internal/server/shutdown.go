package server

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/falproxy/falproxy/internal/openai"
)

// ErrShuttingDown is the cause with which cmd cancels the requests still
// running when the shutdown grace period is over. Handlers tell it from a
// client that went away: the client is still waiting and is told to retry.
var ErrShuttingDown = errors.New("falproxy is shutting down")

// shutdownRetryAfter is the wait advised to clients cut off by a shutdown:
// a restarted or sibling instance is usually there within seconds.
const shutdownRetryAfter = 2 * time.Second

// shuttingDown reports whether ctx ended because the server is shutting
// down (see ErrShuttingDown).
func shuttingDown(ctx context.Context) bool {
	return errors.Is(context.Cause(ctx), ErrShuttingDown)
}

// cancelled reports whether ctx was cancelled: the client went away or the
// server is shutting down. Before an answer has started a handler then
// writes nothing; withShutdownAnswer answers the client of the latter.
func cancelled(ctx context.Context) bool {
	return errors.Is(ctx.Err(), context.Canceled)
}

// shutdownError tells a client that its request was cut short by a
// shutdown. Retrying is safe and advised: its fal jobs were cancelled.
func shutdownError() *openai.Error {
	return &openai.Error{
		Status:     http.StatusServiceUnavailable,
		Message:    "falproxy is shutting down and stopped this request before it finished; retry it.",
		Type:       openai.TypeServer,
		Code:       "server_shutting_down",
		RetryAfter: shutdownRetryAfter,
	}
}

// withShutdownAnswer answers 503 server_shutting_down, with x-should-retry:
// true, for a request whose handler ended because of a shutdown before
// writing anything. Without it net/http would send 200 with an empty body.
// Streams that already started end with an error event of their own.
func withShutdownAnswer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Behind the access log, whose recorder has seen nothing before
		// this handler, that recorder serves here too.
		rec, ok := w.(*statusRecorder)
		if !ok {
			rec = &statusRecorder{ResponseWriter: w}
		}
		next.ServeHTTP(rec, r)
		if rec.status == 0 && shuttingDown(r.Context()) {
			w.Header().Set("X-Should-Retry", "true")
			writeError(w, shutdownError())
		}
	})
}
