package falfake

import (
	"sync"
	"time"
)

// Fault is a rule that makes matching requests misbehave. Rules are tried
// in the order they were injected; the first match fires.
//
// An HTTP fault (JobError empty) answers the request itself: after Delay it
// drops the connection (Drop), answers Status with Body (or fal's usual body
// for that status), or, with neither, lets the request proceed late.
//
// A job fault (JobError set) lets the request through but makes the run it
// starts fail with that error_type: a queued job (Op "" or "submit")
// completes with the error, a sync run (Op "" or "run") answers it, an LLM
// stream (Op "" or "llm_stream") ends with an error event, and an
// OpenAI-compatible chat (Op "" or "chat") answers an OpenAI error (in the
// stream, after two content chunks). Status and Body, when set, replace
// the result's status and body (a chat uses Status only).
type Fault struct {
	Op         Op            // which operation; "" = any
	Key        string        // only requests with this fal key; "" = any
	Endpoint   string        // only this endpoint id; "" = any
	Status     int           // HTTP status to answer; 0 with Drop or a pure Delay
	Body       string        // answer body; default is fal-shaped per status
	RetryAfter string        // Retry-After header value, if any
	Drop       bool          // close the connection without answering
	Delay      time.Duration // wait first; ends early if the client goes away
	// Late lets the request run (a submit queues its job), then holds
	// the answer this long, ending early if the client goes away: the
	// answer of an accepted job is still on its way when the client
	// leaves.
	Late     time.Duration
	Times    int    // how many times it fires; 0 = forever
	JobError string // make the job fail with this fal error_type

	// ContentType labels Body (default application/json), e.g. an error
	// page a CDN passes off as image/png.
	ContentType string
}

// faultRule is an injected Fault with its remaining count.
type faultRule struct {
	Fault
	left int // remaining firings; ignored when Times is 0
}

// faultSet holds the rules. Its lock is held only while matching.
type faultSet struct {
	mu    sync.Mutex
	rules []*faultRule
}

// Inject adds a fault rule.
func (f *Fake) Inject(fault Fault) { f.faults.add(fault) }

// ClearFaults removes every fault rule.
func (f *Fake) ClearFaults() { f.faults.clear() }

func (s *faultSet) add(ft Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rules = append(s.rules, &faultRule{Fault: ft, left: ft.Times})
}

func (s *faultSet) clear() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rules = nil
}

// takeHTTP returns the first HTTP fault matching the request and uses up
// one of its firings.
func (s *faultSet) takeHTTP(op Op, key, endpoint string) (Fault, bool) {
	return s.take(op, key, endpoint, false)
}

// takeJob returns the first job fault matching the request and uses up one
// of its firings.
func (s *faultSet) takeJob(op Op, key, endpoint string) (Fault, bool) {
	return s.take(op, key, endpoint, true)
}

func (s *faultSet) take(op Op, key, endpoint string, job bool) (Fault, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, r := range s.rules {
		if (r.JobError != "") != job || !r.matches(op, key, endpoint) {
			continue
		}
		if r.Times > 0 {
			r.left--
			if r.left <= 0 {
				s.rules = append(s.rules[:i:i], s.rules[i+1:]...)
			}
		}
		return r.Fault, true
	}
	return Fault{}, false
}

func (r *faultRule) matches(op Op, key, endpoint string) bool {
	return (r.Op == "" || r.Op == op) &&
		(r.Key == "" || r.Key == key) &&
		(r.Endpoint == "" || r.Endpoint == endpoint)
}
