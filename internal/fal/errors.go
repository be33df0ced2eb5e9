// Package fal is falproxy's client of the fal.ai HTTP API: a pool of fal
// keys with failover and cool-down, the queue (submit, status stream with a
// polling fallback, result, cancel), synchronous and streaming runs, and
// size-capped downloads of results. It is the only package that calls fal's
// API (falschema fetches fal's public schema documents) and it knows nothing
// about the OpenAI API.
package fal

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/falproxy/falproxy/internal/textcut"
)

// Operation names carried by Error.Op.
const (
	OpSubmit   = "submit"
	OpStatus   = "status"
	OpResult   = "result"
	OpCancel   = "cancel"
	OpRun      = "run"
	OpStream   = "stream"
	OpDownload = "download"
)

// ErrNoKey means every fal key is cooling down or quarantined. RetryAfter
// on the wrapping *Error says when the first one comes back.
var ErrNoKey = errors.New("no fal key is available")

// ErrTooLarge means an upstream body exceeded its size cap.
var ErrTooLarge = errors.New("upstream response too large")

// Error is a failed call to fal. Status is fal's HTTP status, or 0 when no
// answer came (Err then holds the transport error).
type Error struct {
	Op         string
	Status     int
	Detail     string             // fal's message (detail, or error.message)
	ErrorType  string             // error_type / X-Fal-Error-Type, e.g. runner_disconnected
	Code       string             // error.code of an OpenAI-shaped answer
	Validation []ValidationDetail // 422 detail entries
	RetryAfter time.Duration      // from Retry-After, when fal sent one
	Err        error              // transport error or sentinel
	// JobFailed marks a job that fal accepted and ran but that ended in
	// error; the error came from the job, not from the HTTP exchange.
	JobFailed bool
}

// ValidationDetail is one Pydantic-style entry of a fal 422 body.
type ValidationDetail struct {
	Loc  []any  `json:"loc"`
	Msg  string `json:"msg"`
	Type string `json:"type"`
}

// Field returns the input field a validation entry points at: the last
// string element of loc that is not "body".
func (v ValidationDetail) Field() string {
	var parts []string
	for _, l := range v.Loc {
		switch x := l.(type) {
		case string:
			if x != "body" {
				parts = append(parts, x)
			}
		case float64:
			parts = append(parts, strconv.Itoa(int(x)))
		}
	}
	return strings.Join(parts, ".")
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("fal ")
	b.WriteString(e.Op)
	if e.Status != 0 {
		fmt.Fprintf(&b, ": HTTP %d", e.Status)
	}
	if e.ErrorType != "" {
		fmt.Fprintf(&b, " (%s)", e.ErrorType)
	}
	if msg := e.Message(); msg != "" {
		b.WriteString(": ")
		b.WriteString(msg)
	}
	if e.Err != nil && e.Status == 0 {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// maxMessage bounds the text taken from an error answer (Message, and
// each of Detail, ErrorType and Code): the answer comes from the network
// and ends up in logs and client errors.
const maxMessage = 1000

// Message is the most useful human text fal gave for the failure: valid
// UTF-8, at most maxMessage bytes plus an ellipsis (errorFromResponse has
// cleaned Detail already; falproxy's own details are short constants).
func (e *Error) Message() string {
	if e.Detail != "" {
		return e.Detail
	}
	if len(e.Validation) > 0 {
		msgs := make([]string, 0, len(e.Validation))
		for _, v := range e.Validation {
			if f := v.Field(); f != "" {
				msgs = append(msgs, f+": "+v.Msg)
			} else {
				msgs = append(msgs, v.Msg)
			}
		}
		return cleanText(strings.Join(msgs, "; "), maxMessage)
	}
	return ""
}

// errorFromResponse builds an *Error from a non-2xx fal answer. fal uses
// several shapes: {"detail": "text"}, {"detail": [{loc,msg,type}]},
// {"detail": ..., "error_type": ...}, OpenAI's {"error": {"message"}} on the
// OpenAI-compatible endpoints, and {"status": "NOT_FOUND"} on the queue.
func errorFromResponse(op string, resp *http.Response, body []byte) *Error {
	e := parseErrorAnswer(op, resp, body)
	e.Detail = cleanText(e.Detail, maxMessage)
	e.ErrorType = cleanText(e.ErrorType, maxName)
	e.Code = cleanText(e.Code, maxName)
	return e
}

// parseErrorAnswer reads the answer's shape; errorFromResponse cleans the
// text it finds.
func parseErrorAnswer(op string, resp *http.Response, body []byte) *Error {
	e := &Error{
		Op:         op,
		Status:     resp.StatusCode,
		ErrorType:  resp.Header.Get("X-Fal-Error-Type"),
		RetryAfter: parseRetryAfter(resp.Header.Get("Retry-After"), time.Now()),
	}
	var shape struct {
		Detail    json.RawMessage `json:"detail"`
		ErrorType string          `json:"error_type"`
		Status    string          `json:"status"`
		Error     json.RawMessage `json:"error"`
		Message   string          `json:"message"`
	}
	if json.Unmarshal(body, &shape) != nil {
		e.Detail = strings.TrimSpace(truncate(string(body), 300))
		if e.Detail == "" {
			e.Detail = http.StatusText(resp.StatusCode)
		}
		return e
	}
	if shape.ErrorType != "" {
		e.ErrorType = shape.ErrorType
	}
	switch {
	case len(shape.Detail) > 0 && shape.Detail[0] == '"':
		_ = json.Unmarshal(shape.Detail, &e.Detail)
	case len(shape.Detail) > 0 && shape.Detail[0] == '[':
		_ = json.Unmarshal(shape.Detail, &e.Validation)
	case len(shape.Error) > 0:
		var oe struct {
			Message string `json:"message"`
			Code    any    `json:"code"`
		}
		if shape.Error[0] == '"' {
			_ = json.Unmarshal(shape.Error, &e.Detail)
		} else if json.Unmarshal(shape.Error, &oe) == nil {
			e.Detail = oe.Message
			if oe.Code != nil {
				e.Code = fmt.Sprint(oe.Code)
			}
		}
	case shape.Message != "":
		e.Detail = shape.Message
	case shape.Status != "":
		e.Detail = shape.Status
	}
	if e.Detail == "" && len(e.Validation) == 0 {
		e.Detail = http.StatusText(resp.StatusCode)
	}
	return e
}

// maxName bounds an error type or code, which fal keeps short.
const maxName = 100

// cleanText makes text from an answer safe to carry: invalid UTF-8 is
// replaced and the length capped at n bytes (plus an ellipsis).
func cleanText(s string, n int) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	return truncate(s, n)
}

// parseRetryAfter reads Retry-After as seconds or an HTTP date.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if secs, err := strconv.ParseFloat(v, 64); err == nil {
		if secs <= 0 {
			return 0
		}
		return time.Duration(secs * float64(time.Second))
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := t.Sub(now); d > 0 {
			return d
		}
	}
	return 0
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return textcut.Bytes(s, n) + "…"
}
