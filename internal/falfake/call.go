package falfake

import (
	"errors"
	"io"
	"net/http"
	"strings"
	"time"
)

// maxBody caps request bodies, uploads included (fal's storage limit for a
// single PUT is far larger; 64 MiB is plenty for tests and the demo).
const maxBody = 64 << 20

// call is one request on its way through a handler.
type call struct {
	op       Op
	key      string // fal key, "" if none
	endpoint string // endpoint id the request concerns, "" if none
	rid      string // request id for x-fal-request-id
	body     []byte // POST and PUT bodies
	base     string // http://host as the client addressed the emulator
	r        *http.Request
}

// resolver names the endpoint (and, for queue reads, the request id) a
// request concerns, before it is handled.
type resolver func(r *http.Request) (endpoint, requestID string)

// handle wraps an operation's handler with what every request goes through:
// body reading, recording, counting and HTTP faults.
func (f *Fake) handle(op Op, resolve resolver, h func(http.ResponseWriter, *call)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !f.handlers.enter() {
			return // closing
		}
		defer f.handlers.leave()
		c := &call{op: op, key: falKey(r), r: r, base: f.base}
		if r.Host != "" {
			c.base = "http://" + r.Host
		}
		c.endpoint, c.rid = resolve(r)
		if c.rid == "" {
			c.rid = newUUID()
		}
		var readErr error
		if r.Method == http.MethodPost || r.Method == http.MethodPut {
			c.body, readErr = io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
		}
		f.record(c)
		if readErr != nil {
			if _, ok := errors.AsType[*http.MaxBytesError](readErr); ok {
				writeJSON(w, http.StatusRequestEntityTooLarge, detailMsg("Request body is too large"))
			} else {
				writeJSON(w, http.StatusBadRequest, detailMsg("Could not read the request body"))
			}
			return
		}
		if ft, ok := f.faults.takeHTTP(op, c.key, c.endpoint); ok {
			f.rec.addFault()
			if f.applyFault(w, c, ft) {
				return
			}
			if ft.Late > 0 {
				w = &lateWriter{ResponseWriter: w, c: c, late: ft.Late}
			}
		}
		h(w, c)
	}
}

// record keeps the call for Received and Counts, and logs it.
func (f *Fake) record(c *call) {
	rec := Call{
		Op: c.op, Endpoint: c.endpoint, Key: c.key, Method: c.r.Method,
		Path: c.r.URL.Path, Query: c.r.URL.RawQuery, BodySize: len(c.body), Time: time.Now(),
		RequestID: c.r.Header.Get("X-Request-Id"), Proto: c.r.Proto, Header: c.r.Header.Clone(),
	}
	rec.Header.Del("Authorization")
	if c.body != nil {
		rec.Body = c.body[:min(len(c.body), maxRecordedBody):min(len(c.body), maxRecordedBody)]
	}
	f.rec.record(rec)
	f.log.Debug("falfake: request", "op", c.op, "method", c.r.Method, "path", c.r.URL.Path, "endpoint", c.endpoint)
}

// Resolvers for the routes.

// byPath takes the endpoint id from the {rest...} path wildcard.
func byPath(r *http.Request) (string, string) {
	return strings.Trim(r.PathValue("rest"), "/"), ""
}

// byStreamPath is byPath without the trailing /stream.
func byStreamPath(r *http.Request) (string, string) {
	ep, _ := byPath(r)
	return strings.TrimSuffix(ep, "/stream"), ""
}

// byQuery takes the endpoint id from ?endpoint_id=.
func byQuery(r *http.Request) (string, string) {
	return r.URL.Query().Get("endpoint_id"), ""
}

// noEndpoint is for requests that concern no endpoint.
func noEndpoint(*http.Request) (string, string) { return "", "" }

// fixedEndpoint always names ep.
func fixedEndpoint(ep string) resolver {
	return func(*http.Request) (string, string) { return ep, "" }
}

// byRequest names a queue request's job: its endpoint and id, or, for an
// unknown id, the path's prefix.
func (f *Fake) byRequest(r *http.Request) (string, string) {
	rp, ok := parseRequestPath(r.PathValue("rest"))
	if !ok {
		return "", ""
	}
	if j := f.jobs.get(rp.id); j != nil {
		return j.endpoint, j.id
	}
	return rp.prefix, rp.id
}

// lateWriter holds an answer back until late has passed or the client
// has gone (see Fault.Late).
type lateWriter struct {
	http.ResponseWriter
	c    *call
	late time.Duration
	held bool
}

func (l *lateWriter) hold() {
	if !l.held {
		l.held = true
		sleep(l.c.r.Context(), l.late)
	}
}

func (l *lateWriter) WriteHeader(status int) {
	l.hold()
	l.ResponseWriter.WriteHeader(status)
}

func (l *lateWriter) Write(b []byte) (int, error) {
	l.hold()
	return l.ResponseWriter.Write(b)
}
