// Package openai holds the OpenAI wire types falproxy speaks to its clients:
// requests and responses for images, chat and models, and the error envelope.
// It knows nothing about fal.
package openai

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/falproxy/falproxy/internal/textcut"
)

// Error types used in the "type" field of an error body, as OpenAI uses them.
const (
	TypeInvalidRequest = "invalid_request_error"
	TypeServer         = "server_error"
	TypeUpstream       = "upstream_error"
	TypeTimeout        = "timeout_error"
)

// Error is an OpenAI-shaped error together with the HTTP status it travels
// with. It is the one error type handlers return to clients; the server turns
// it into `{"error":{"message","type","param","code"}}`.
type Error struct {
	Status  int    // HTTP status code
	Message string // human readable, never contains secrets
	Type    string // e.g. invalid_request_error
	Param   string // offending request field; empty means null
	Code    string // machine code, e.g. model_not_found; empty means null

	// RetryAfter, when positive, is sent as Retry-After (and retry-after-ms)
	// so that SDKs back off for the right time.
	RetryAfter time.Duration
	// NoRetry sends `x-should-retry: false`: the OpenAI SDKs retry every 5xx
	// and 429 by default, which would run (and bill) a fal job three times
	// when retrying cannot help.
	NoRetry bool
}

func (e *Error) Error() string {
	if e.Param != "" {
		return fmt.Sprintf("%d %s (param %s): %s", e.Status, e.Type, e.Param, e.Message)
	}
	return fmt.Sprintf("%d %s: %s", e.Status, e.Type, e.Message)
}

// errorBody is the wire form; param and code are null when empty.
type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Message string  `json:"message"`
	Type    string  `json:"type"`
	Param   *string `json:"param"`
	Code    *string `json:"code"`
}

// MarshalJSON writes the OpenAI error envelope.
func (e *Error) MarshalJSON() ([]byte, error) {
	return json.Marshal(errorBody{Error: errorDetail{
		Message: e.Message,
		Type:    e.Type,
		Param:   nullable(e.Param),
		Code:    nullable(e.Code),
	}})
}

func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// InvalidRequest is a 400 about one request field. Retrying the same request
// cannot succeed, so NoRetry is set.
func InvalidRequest(param, code, format string, args ...any) *Error {
	return &Error{
		Status:  http.StatusBadRequest,
		Message: fmt.Sprintf(format, args...),
		Type:    TypeInvalidRequest,
		Param:   param,
		Code:    code,
		NoRetry: true,
	}
}

// ModelNotFound is the 404 OpenAI answers for an unknown model.
func ModelNotFound(model string) *Error {
	return &Error{
		Status:  http.StatusNotFound,
		Message: fmt.Sprintf("The model `%s` does not exist or you do not have access to it.", Echo(model)),
		Type:    TypeInvalidRequest,
		Param:   "model",
		Code:    "model_not_found",
		NoRetry: true,
	}
}

// InvalidAPIKey is the 401 for a missing or wrong access key.
func InvalidAPIKey(missing bool) *Error {
	msg := "Incorrect API key provided. Use one of the access keys configured on this falproxy."
	code := "invalid_api_key"
	if missing {
		msg = "You didn't provide an API key. Send it in an Authorization header using Bearer auth (Authorization: Bearer YOUR_KEY)."
	}
	return &Error{Status: http.StatusUnauthorized, Message: msg, Type: TypeInvalidRequest, Code: code, NoRetry: true}
}

// ServerError is a 500 for faults of falproxy itself.
func ServerError(format string, args ...any) *Error {
	return &Error{Status: http.StatusInternalServerError, Message: fmt.Sprintf(format, args...), Type: TypeServer}
}

// echoLimit is how many characters of a client's input an error message
// repeats: enough to recognise the value, never a hostile one at length.
const echoLimit = 40

// Echo is s cut to echoLimit characters, for repeating client input (a
// value, a field name) in an error message.
func Echo(s string) string { return Clip(s, echoLimit) }

// Clip cuts s to at most n characters, marking a cut with "…".
func Clip(s string, n int) string {
	if cut := textcut.Runes(s, n); len(cut) < len(s) {
		return cut + "…"
	}
	return s
}
