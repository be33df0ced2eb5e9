package server

import (
	"net/http"
	"time"

	"github.com/falproxy/falproxy/internal/openai"
)

// sharedLimitsDown is the 503 for a virtual key's request while the
// fleet's Redis is unreachable and REDIS_REQUIRED refuses to fall back to
// local limits; nil otherwise. Redis is usually back within seconds, so
// the client is told to retry.
func (s *Server) sharedLimitsDown() *openai.Error {
	f := s.opt.Fleet
	if f == nil || !f.Required() || f.Up() {
		return nil
	}
	return sharedLimitsUnavailable()
}

// sharedLimitsUnavailable is the 503 of shared limits that could not be
// asked.
func sharedLimitsUnavailable() *openai.Error {
	return &openai.Error{Status: http.StatusServiceUnavailable, Type: openai.TypeServer, Code: "shared_limits_unavailable", RetryAfter: time.Second,
		Message: "This API key's limits are shared by every falproxy replica and cannot be checked now. Try again shortly."}
}

// sharedOr is a limit's refusal e, unless shared limits could not be
// asked (unavailable, as the limits reported it, or Redis down) and
// REDIS_REQUIRED refused rather than fall back: then the 503 of
// sharedLimitsUnavailable, since the limit itself may well allow the
// request.
func (s *Server) sharedOr(unavailable bool, e *openai.Error) *openai.Error {
	if unavailable {
		return sharedLimitsUnavailable()
	}
	if down := s.sharedLimitsDown(); down != nil {
		return down
	}
	return e
}

// askRetry tells the client to retry the 503 of shared limits that cannot
// be asked now: the OpenAI SDKs would otherwise go by the status alone.
func askRetry(h http.Header, e *openai.Error) {
	if e.Status == http.StatusServiceUnavailable {
		h.Set("X-Should-Retry", "true")
	}
}

// fleetHealth is the link to Redis as /health shows it: whether it
// answers and how many replicas share it, never its address or errors.
type fleetHealth struct {
	Up        bool      `json:"up"`
	Replicas  int       `json:"replicas"`
	DownSince time.Time `json:"down_since,omitzero"`
}

// handleHealth answers ok with the fleet's Redis status when there is
// one. A Redis outage leaves it 200, since every replica falls back to
// local limits and a load balancer must not pull them all; only with
// REDIS_REQUIRED, where virtual keys are refused, it answers 503 so that
// traffic goes elsewhere.
func (s *Server) handleHealth(w http.ResponseWriter, r *http.Request) {
	f := s.opt.Fleet
	if f == nil {
		writeFixedJSON(w, &healthAnswer)
		return
	}
	st := f.Status()
	body := struct {
		Status string      `json:"status"`
		Redis  fleetHealth `json:"redis"`
	}{"ok", fleetHealth{Up: st.Up, Replicas: st.Replicas, DownSince: st.DownSince}}
	code := http.StatusOK
	if !st.Up && f.Required() {
		body.Status, code = "unavailable", http.StatusServiceUnavailable
	}
	writeJSON(w, code, body)
}
