package server

import (
	"net/http"
	"time"

	"github.com/falproxy/falproxy/internal/openai"
)

// admission bounds how many requests run fal work at once (MAX_INFLIGHT).
// A request over the bound waits up to ADMISSION_WAIT for a slot, then is
// refused with 503 and Retry-After, instead of piling up without limit.
type admission struct {
	slots chan struct{} // nil: no bound
	wait  time.Duration
	idle  *idleRelease
}

func newAdmission(max int, wait time.Duration) *admission {
	a := &admission{wait: wait, idle: newIdleRelease()}
	if max > 0 {
		a.slots = make(chan struct{}, max)
	}
	return a
}

// limit wraps a handler that starts fal work.
func (s *Server) limit(next http.Handler) http.Handler {
	a := s.admission
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if a.slots != nil {
			if !a.acquire(r) {
				if r.Context().Err() != nil {
					return
				}
				s.opt.Metrics.Rejected(r.Pattern)
				writeError(w, &openai.Error{
					Status:     http.StatusServiceUnavailable,
					Message:    "falproxy is at its limit of concurrent requests (MAX_INFLIGHT); try again shortly.",
					Type:       openai.TypeServer,
					Code:       "server_busy",
					RetryAfter: time.Second,
				})
				return
			}
			defer func() { <-a.slots }()
		}
		s.opt.Metrics.Admitted()
		defer s.opt.Metrics.Released()
		a.idle.begin()
		defer a.idle.end()
		next.ServeHTTP(w, r)
	})
}

func (a *admission) acquire(r *http.Request) bool {
	select {
	case a.slots <- struct{}{}:
		return true
	default:
	}
	if a.wait <= 0 {
		return false
	}
	t := time.NewTimer(a.wait)
	defer t.Stop()
	select {
	case a.slots <- struct{}{}:
		return true
	case <-t.C:
		return false
	case <-r.Context().Done():
		return false
	}
}
