package server

import (
	"crypto/sha256"
	"net/http"
	"sync"
	"time"

	"github.com/falproxy/falproxy/internal/openai"
)

// admission bounds how many requests run fal work at once (MAX_INFLIGHT).
// A request over the bound waits up to ADMISSION_WAIT for a slot, then is
// refused with 503 and Retry-After, instead of piling up without limit.
//
// Slots are shared fairly between client keys: a freed slot goes to the
// waiting key that holds the fewest slots (in turn among equals), so one
// key with a thousand queued requests cannot make another key's request
// wait behind them all.
type admission struct {
	max  int // 0: no bound
	wait time.Duration
	idle *idleRelease

	mu      sync.Mutex
	inUse   int
	held    map[tenant]int       // slots held per key
	waiting map[tenant][]*waiter // per key, oldest first
	turn    []tenant             // keys with waiters, in order of service
}

// tenant identifies a client key without keeping the key itself.
type tenant [sha256.Size]byte

type waiter struct {
	granted chan struct{} // closed when a slot is handed over
}

func newAdmission(max int, wait time.Duration) *admission {
	return &admission{max: max, wait: wait, idle: newIdleRelease(),
		held: make(map[tenant]int), waiting: make(map[tenant][]*waiter)}
}

// limit wraps a handler that starts fal work.
func (s *Server) limit(next http.Handler) http.Handler {
	a := s.admission
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if a.max > 0 {
			t := infoFrom(r.Context()).tenant // authenticate hashed the key
			if !a.acquire(r, t) {
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
			defer a.release(t)
		}
		s.opt.Metrics.Admitted()
		defer s.opt.Metrics.Released()
		a.idle.begin()
		defer a.idle.end()
		next.ServeHTTP(w, r)
	})
}

func (a *admission) acquire(r *http.Request, t tenant) bool {
	a.mu.Lock()
	if a.inUse < a.max && len(a.turn) == 0 {
		a.take(t)
		a.mu.Unlock()
		return true
	}
	if a.wait <= 0 {
		a.mu.Unlock()
		return false
	}
	w := &waiter{granted: make(chan struct{})}
	if len(a.waiting[t]) == 0 {
		a.turn = append(a.turn, t)
	}
	a.waiting[t] = append(a.waiting[t], w)
	a.mu.Unlock()

	timer := time.NewTimer(a.wait)
	defer timer.Stop()
	select {
	case <-w.granted:
		return true
	case <-timer.C:
	case <-r.Context().Done():
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	select {
	case <-w.granted: // handed over while giving up: pass it on
		a.releaseLocked(t)
		return false
	default:
	}
	a.dequeue(t, w)
	return false
}

// take gives t a slot; a.mu is held.
func (a *admission) take(t tenant) {
	a.inUse++
	a.held[t]++
}

func (a *admission) release(t tenant) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.releaseLocked(t)
}

// releaseLocked frees t's slot and hands it to the waiting key holding
// the fewest slots, the earliest in turn among equals; a.mu is held.
func (a *admission) releaseLocked(t tenant) {
	a.inUse--
	if a.held[t]--; a.held[t] == 0 {
		delete(a.held, t)
	}
	if len(a.turn) == 0 {
		return
	}
	best := 0
	for i, c := range a.turn {
		if a.held[c] < a.held[a.turn[best]] {
			best = i
		}
	}
	next := a.turn[best]
	w := a.waiting[next][0]
	a.dequeue(next, w)
	if len(a.waiting[next]) > 0 { // served: to the back of the turn
		a.dropTurn(next)
		a.turn = append(a.turn, next)
	}
	a.take(next)
	close(w.granted)
}

// dequeue removes w from t's queue, and t from the turn when its queue
// empties; a.mu is held.
func (a *admission) dequeue(t tenant, w *waiter) {
	q := a.waiting[t]
	for i, x := range q {
		if x == w {
			q = append(q[:i:i], q[i+1:]...)
			break
		}
	}
	if len(q) > 0 {
		a.waiting[t] = q
		return
	}
	delete(a.waiting, t)
	a.dropTurn(t)
}

func (a *admission) dropTurn(t tenant) {
	for i, x := range a.turn {
		if x == t {
			a.turn = append(a.turn[:i:i], a.turn[i+1:]...)
			return
		}
	}
}
