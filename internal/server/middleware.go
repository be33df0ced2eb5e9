package server

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/falproxy/falproxy/internal/metrics"
	"github.com/falproxy/falproxy/internal/openai"
)

// middleware wraps a handler.
type middleware func(http.Handler) http.Handler

func chain(h http.Handler, mws ...middleware) http.Handler {
	for i := len(mws) - 1; i >= 0; i-- {
		h = mws[i](h)
	}
	return h
}

// requestInfo travels in the request context so that handlers can add what
// the access log line should say (model, fal request id).
type requestInfo struct {
	ID     string
	header [1]string // ID as the value of the X-Request-Id header
	mu     sync.Mutex
	// Filled by handlers.
	Model string
	// FalRequestIDs are the ids of the fal jobs the request ran or
	// looked at, in order.
	FalRequestIDs []string
	// work is what fal completed for the request, which settles its cost.
	work falWork
	// tenant is the SHA-256 of the client's key, hashed once by
	// authenticate for every use of it.
	tenant tenant
	// recorder is the access log's, allocated with the info.
	recorder statusRecorder
	// cutShort: the answer had begun (a stream) when the request's
	// context ended; the client left, the request timed out or the
	// server is shutting down (see cutShort).
	cutShort atomic.Bool
}

func (ri *requestInfo) set(model, falID string) {
	ri.mu.Lock()
	defer ri.mu.Unlock()
	if model != "" {
		ri.Model = model
	}
	if falID != "" && !slices.Contains(ri.FalRequestIDs, falID) {
		ri.FalRequestIDs = append(ri.FalRequestIDs, falID)
	}
}

type infoKey struct{}

func infoFrom(ctx context.Context) *requestInfo {
	if c, ok := ctx.(*infoContext); ok { // the request's own, as on most routes
		return &c.info
	}
	if ri, ok := ctx.Value(infoKey{}).(*requestInfo); ok {
		return ri
	}
	return &requestInfo{}
}

// withRequestID accepts a sane x-request-id from the client or makes one,
// echoes it back, and records it for logs and upstream calls.
func withRequestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := headerValue(r.Header, "X-Request-Id")
		if !validRequestID(id) {
			id = newRequestID()
		}
		ctx := &infoContext{Context: r.Context()}
		ri := &ctx.info
		ri.ID = id
		ri.header[0] = id
		w.Header()["X-Request-Id"] = ri.header[:]
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// headerValue is h.Get(key) for a key in canonical form: Get puts its
// key in that form first, which on every request costs as much as the
// rest of reading the header.
func headerValue(h http.Header, key string) string {
	if v := h[key]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// infoContext is a request's context carrying its info: one allocation
// where context.WithValue and the info would be two, on every request.
type infoContext struct {
	context.Context
	info requestInfo
}

func (c *infoContext) Value(key any) any {
	if key == (infoKey{}) {
		return &c.info
	}
	return c.Context.Value(key)
}

func validRequestID(id string) bool {
	if id == "" || len(id) > 128 {
		return false
	}
	for _, c := range id {
		if c < 0x21 || c > 0x7e {
			return false
		}
	}
	return true
}

// newRequestID makes an id of 96 random bits. A request id names a
// request in logs and at fal; it guards nothing (a client may choose its
// own), so it comes from math/rand's ChaCha8, seeded by the system and
// several times cheaper per request than crypto/rand.
func newRequestID() string {
	var b [12]byte
	binary.LittleEndian.PutUint64(b[:8], rand.Uint64())
	binary.LittleEndian.PutUint32(b[8:], rand.Uint32())
	var id [len("req_") + 2*len(b)]byte
	hex.Encode(id[copy(id[:], "req_"):], b[:])
	return string(id[:])
}

// statusRecorder remembers the status written, for the access log.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection's Flush (with
// its error) and deadlines; statusRecorder has no Flush of its own, which
// would hide a failed flush from streaming handlers.
func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// answeredStatus is the status the access log, the metrics and the
// ledger give a request whose handler wrote written (0 for nothing): 499
// when the client is not getting the whole answer, because none had
// begun when its context ended or because its stream was cut short,
// although the status line said 200; otherwise what the client got.
func answeredStatus(ctx context.Context, written int) int {
	switch {
	case written == 0 && ctx.Err() != nil:
		return 499
	case written == 0:
		return http.StatusOK // net/http answers 200 for a handler that wrote nothing
	case infoFrom(ctx).cutShort.Load():
		return 499
	}
	return written
}

// cutShort notes that the answer of the request of ctx, already begun,
// ended because ctx did: the request is logged and settled as one the
// client left (status 499), charged for the fal work that completed
// (see settled), however much of the answer the client got.
func cutShort(ctx context.Context) {
	infoFrom(ctx).cutShort.Store(true)
}

// clockBase is the time requests start from: a request's start is the
// monotonic time since it, which reads one clock where time.Now reads
// two (the wall clock too, which only the line's time at the end needs).
// (In a testing/synctest bubble, whose clock is not the process's, the
// durations would be wrong.)
var clockBase = time.Now()

// withAccessLog writes one line per request and records its metrics.
func withAccessLog(log *slog.Logger, m *metrics.Metrics) middleware {
	// A handler that writes access lines itself is asked once, not on
	// every request.
	direct, _ := log.Handler().(AccessLineWriter)
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			start := time.Since(clockBase)
			rec := &infoFrom(r.Context()).recorder
			*rec = statusRecorder{ResponseWriter: w}
			next.ServeHTTP(rec, r)
			logRequest(log, direct, m, r, rec.status, start)
		})
	}
}

// logRequest writes the access log line of r and records its metrics. It
// is a function of its own, not part of withAccessLog's closure, so that
// its large frame (the line and its record) is on the stack only while
// the line is written: a request waiting seconds on fal sits below
// withAccessLog, and a deep stack while it waits stays grown (and makes
// the runtime start every new goroutine with a larger stack).
func logRequest(log *slog.Logger, direct AccessLineWriter, m *metrics.Metrics, r *http.Request, status int, start time.Duration) {
	ri := infoFrom(r.Context())
	// One reading of the clock serves the duration, the metrics and the
	// line's time.
	now := time.Now()
	line := AccessLine{Time: now, RequestID: ri.ID, Method: r.Method, Path: r.URL.Path,
		Status: answeredStatus(r.Context(), status), Elapsed: now.Sub(clockBase) - start}
	ri.mu.Lock()
	line.Model = ri.Model
	line.FalRequestIDs = ri.FalRequestIDs
	if len(line.FalRequestIDs) > 1 {
		// Handlers may add ids while the line is written; the first
		// id alone is never changed.
		line.FalRequestIDs = slices.Clone(line.FalRequestIDs)
	}
	ri.mu.Unlock()
	route := r.Pattern
	if route == "" || route == "/" {
		route = "other"
	}
	m.Request(route, line.Model, line.Status, line.Elapsed)
	if r.URL.Path == "/health" || r.URL.Path == "/metrics" {
		line.Level = slog.LevelDebug
	}
	if !log.Enabled(r.Context(), line.Level) {
		return
	}
	if direct != nil {
		if done, _ := direct.WriteAccessLine(line); done {
			return
		}
	}
	// The record goes to the handler directly: Logger would walk
	// the stack for a source position the line never shows.
	_ = log.Handler().Handle(r.Context(), line.Record())
}

// withRecovery turns a panic into a 500 instead of a dropped connection.
func withRecovery(log *slog.Logger) middleware {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			defer func() {
				if v := recover(); v != nil {
					if v == http.ErrAbortHandler {
						panic(v)
					}
					log.Error("handler panic", "request_id", infoFrom(r.Context()).ID, "panic", fmt.Sprint(v))
					writeError(w, openai.ServerError("internal error"))
				}
			}()
			next.ServeHTTP(w, r)
		})
	}
}

// withCORS answers preflights and decorates every response. With "*" any
// origin is allowed; otherwise the request's Origin is echoed when listed.
func withCORS(origins []string) middleware {
	anyOrigin := len(origins) == 0 || slices.Contains(origins, "*")
	// Values shared by every answer, set without allocating (see
	// fixedAnswer for why sharing them is safe).
	allowAny := []string{"*"}
	// A player in a page seeks a video's content with Range and reads
	// where its part lies in the file.
	expose := []string{"X-Request-Id, Retry-After, Retry-After-Ms, X-Should-Retry, X-Falproxy-Voice, Content-Range, Accept-Ranges, X-Falproxy-Cost-Usd"}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			h := w.Header()
			if anyOrigin {
				h["Access-Control-Allow-Origin"] = allowAny
			} else if origin := r.Header.Get("Origin"); origin != "" {
				// An unlisted origin's answer, without the header, must
				// not be served by a cache to a listed origin either.
				h.Add("Vary", "Origin")
				if slices.Contains(origins, origin) {
					h.Set("Access-Control-Allow-Origin", origin)
				}
			}
			h["Access-Control-Expose-Headers"] = expose
			if r.Method == http.MethodOptions {
				h.Set("Access-Control-Allow-Methods", "GET, HEAD, POST, DELETE, OPTIONS")
				// Browser SDKs send X-Stainless-* and other headers; allow
				// what the preflight asks for, or the seed's basic pair.
				allow := r.Header.Get("Access-Control-Request-Headers")
				if allow == "" {
					allow = "Content-Type, Authorization"
				}
				h.Set("Access-Control-Allow-Headers", allow)
				h.Set("Access-Control-Max-Age", "86400")
				w.WriteHeader(http.StatusNoContent)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

// accessKeys checks client keys in constant time. Keys are hashed first so
// that the comparison does not even leak their lengths.
type accessKeys [][32]byte

func newAccessKeys(keys []string) accessKeys {
	out := make(accessKeys, 0, len(keys))
	for _, k := range keys {
		out = append(out, sha256.Sum256([]byte(k)))
	}
	return out
}

func (a accessKeys) valid(key string) bool { return a.hold(hashKey(key)) }

// hashKey is the SHA-256 of a client's key, hashed from a copy on the
// stack: converting a string longer than 32 bytes to a []byte allocates,
// and keys mostly are (falproxy's own have 40 characters). It is never
// inlined, so that its buffer is not in the frame of authenticate, under
// which requests wait on fal (see logRequest).
//
//go:noinline
func hashKey(k string) [sha256.Size]byte {
	var buf [256]byte
	if len(k) > len(buf) {
		return sha256.Sum256([]byte(k))
	}
	return sha256.Sum256(append(buf[:0], k...))
}

// hold is valid for a key already hashed.
func (a accessKeys) hold(h [sha256.Size]byte) bool {
	ok := 0
	for i := range a {
		ok |= subtle.ConstantTimeCompare(h[:], a[i][:])
	}
	return ok == 1
}

// bearer extracts the key from "Bearer k", "Key k" or a bare key.
func bearer(r *http.Request) string {
	v := strings.TrimSpace(headerValue(r.Header, "Authorization"))
	for _, scheme := range []string{"Bearer ", "Key "} {
		if len(v) >= len(scheme) && strings.EqualFold(v[:len(scheme)], scheme) {
			return strings.TrimSpace(v[len(scheme):])
		}
	}
	return v
}

// requireKey guards a handler with the access keys.
func requireKey(keys accessKeys, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		k := bearer(r)
		if k == "" {
			writeError(w, openai.InvalidAPIKey(true))
			return
		}
		if !keys.valid(k) {
			writeError(w, openai.InvalidAPIKey(false))
			return
		}
		next.ServeHTTP(w, r)
	})
}
