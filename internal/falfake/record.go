package falfake

import (
	"maps"
	"net/http"
	"sync"
	"time"
)

// Op names one kind of request the emulator serves. Faults match on it and
// every recorded Call carries it.
type Op string

// The operations, one per fal route.
const (
	OpSubmit    Op = "submit"     // POST queue/{endpoint}
	OpStatus    Op = "status"     // GET  queue/.../requests/{id}/status
	OpStream    Op = "stream"     // GET  queue/.../requests/{id}/status/stream
	OpResult    Op = "result"     // GET  queue/.../requests/{id}
	OpCancel    Op = "cancel"     // PUT  queue/.../requests/{id}/cancel
	OpRun       Op = "run"        // POST run/{endpoint}
	OpLLMStream Op = "llm_stream" // POST run/{llm endpoint}/stream
	OpChat      Op = "chat"       // POST run/openrouter/router/openai/v1/chat/completions
	OpResponses Op = "responses"  // POST run/openrouter/router/openai/v1/responses
	OpEmbed     Op = "embeddings" // POST run/openrouter/router/openai/v1/embeddings
	OpSchema    Op = "schema"     // GET  openapi/queue/openapi.json
	OpCDN       Op = "cdn"        // GET  files/...
	OpUpload    Op = "upload"     // POST rest/storage/upload/initiate
	OpUploadPut Op = "upload_put" // PUT  the upload_url an initiate returned
	OpPricing   Op = "pricing"    // GET  api/v1/models/pricing
)

// maxRecordedBody caps the copy of a request body kept in a Call, so that
// large uploads are not held twice.
const maxRecordedBody = 1 << 20

// Call is one request the emulator received.
type Call struct {
	Op       Op
	Endpoint string // endpoint id; for queue reads, the job's endpoint
	Key      string // fal key from "Authorization: Key <k>", "" if none
	Method   string
	Path     string
	Query    string
	Body     []byte // POST and PUT only; at most 1 MiB of it
	BodySize int    // full body length
	Time     time.Time
	// RequestID is the X-Request-Id the caller sent, if any.
	RequestID string
	// Proto is the protocol the request came in, e.g. "HTTP/1.1" or "HTTP/2.0".
	Proto string
	// Header holds the request's headers, without Authorization (see Key).
	Header http.Header
}

// Counts is a snapshot of the request counters. Every request is counted
// under its operation when it arrives, whatever the answer.
type Counts struct {
	Submits         int
	Status          int // status polls
	StatusStreams   int
	Results         int
	Cancels         int
	SyncRuns        int
	Streams         int // LLM /stream runs
	ChatCompletions int // OpenAI-compatible chat calls
	Schemas         int
	CDN             int // file downloads
	Uploads         int // upload initiations
	UploadPuts      int
	Rejected        int // answered 401 for the key, by check or injected fault
	Faults          int // HTTP faults that fired
	ByEndpoint      map[string]int
	// Total is every request received, of any operation.
	Total int
}

// recorder keeps calls and counters under one small lock that is never held
// across I/O.
type recorder struct {
	mu         sync.Mutex
	calls      []Call
	byOp       map[Op]int
	byEndpoint map[string]int
	rejected   int
	faults     int
}

func (r *recorder) init() {
	r.byOp = map[Op]int{}
	r.byEndpoint = map[string]int{}
}

func (r *recorder) record(c Call) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, c)
	r.byOp[c.Op]++
	if c.Endpoint != "" {
		r.byEndpoint[c.Endpoint]++
	}
}

func (r *recorder) addRejected() {
	r.mu.Lock()
	r.rejected++
	r.mu.Unlock()
}

func (r *recorder) addFault() {
	r.mu.Lock()
	r.faults++
	r.mu.Unlock()
}

func (r *recorder) reset() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = nil
	r.init()
	r.rejected, r.faults = 0, 0
}

func (r *recorder) snapshot() Counts {
	r.mu.Lock()
	defer r.mu.Unlock()
	total := 0
	for _, n := range r.byOp {
		total += n
	}
	return Counts{
		Total:           total,
		Submits:         r.byOp[OpSubmit],
		Status:          r.byOp[OpStatus],
		StatusStreams:   r.byOp[OpStream],
		Results:         r.byOp[OpResult],
		Cancels:         r.byOp[OpCancel],
		SyncRuns:        r.byOp[OpRun],
		Streams:         r.byOp[OpLLMStream],
		ChatCompletions: r.byOp[OpChat],
		Schemas:         r.byOp[OpSchema],
		CDN:             r.byOp[OpCDN],
		Uploads:         r.byOp[OpUpload],
		UploadPuts:      r.byOp[OpUploadPut],
		Rejected:        r.rejected,
		Faults:          r.faults,
		ByEndpoint:      maps.Clone(r.byEndpoint),
	}
}

// Counts returns a snapshot of the counters.
func (f *Fake) Counts() Counts { return f.rec.snapshot() }

// Received returns every call received since New or Reset, in arrival
// order. The Body slices are shared and must not be modified.
func (f *Fake) Received() []Call {
	f.rec.mu.Lock()
	defer f.rec.mu.Unlock()
	return append([]Call(nil), f.rec.calls...)
}
