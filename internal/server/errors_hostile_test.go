package server_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/falproxy/falproxy/internal/falfake"
)

// maxMessage bounds an error message: enough for a sentence that names a
// field, what is wrong and an echo of the value, never the value at length.
const maxMessage = 300

// leaks are what an error message must never carry: Go type names, Go
// error chains and upstream URLs.
var leaks = []string{"openai.", "float64", "http://", "https://", `Post "`, `Get "`, "falschema:", "json:"}

// checkMessage fails the test if an error body leaks internals or echoes
// input at length.
func checkMessage(t *testing.T, body []byte) apiError {
	t.Helper()
	e := decodeError(t, body)
	for _, leak := range leaks {
		if strings.Contains(e.Message, leak) {
			t.Errorf("message carries %q: %s", leak, e.Message)
		}
	}
	if n := utf8.RuneCountInString(e.Message); n > maxMessage {
		t.Errorf("message of %d characters: %.120s…", n, e.Message)
	}
	if n := len(deref(e.Param)); n > maxMessage {
		t.Errorf("param of %d characters", n)
	}
	return e
}

// TestHostileInputErrors sends requests built to make falproxy repeat
// them, or show its internals, and checks every error message.
func TestHostileInputErrors(t *testing.T) {
	h := newHarness(t, func(s *setup) { s.server.AllowAnyEndpoint = false })
	long := strings.Repeat("x", 10_000)
	json := []struct{ name, path, body, param string }{
		{"long size", "/v1/images/generations", `{"prompt":"p","size":"` + long + `"}`, "size"},
		{"size of digits", "/v1/images/generations", `{"prompt":"p","size":"1x` + strings.Repeat("9", 10_000) + `"}`, "size"},
		{"size not a string", "/v1/images/generations", `{"prompt":"p","size":1024}`, "size"},
		{"n not an integer", "/v1/images/generations", `{"prompt":"p","n":"` + long + `"}`, "n"},
		{"long model", "/v1/images/generations", `{"prompt":"p","model":"` + long + `"}`, "model"},
		{"long response_format", "/v1/images/generations", `{"prompt":"p","response_format":"` + long + `"}`, "response_format"},
		{"long output_format", "/v1/images/generations", `{"prompt":"p","output_format":"` + long + `"}`, "output_format"},
		{"broken json", "/v1/images/generations", `{"prompt":` + long, ""},
		{"messages not an array", "/v1/chat/completions", `{"model":"gpt-4o","messages":"` + long + `"}`, "messages"},
		{"message not an object", "/v1/chat/completions", `{"model":"gpt-4o","messages":[5]}`, ""},
		{"temperature not a number", "/v1/chat/completions", `{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}],"temperature":"hot"}`, "temperature"},
		{"content not text", "/v1/chat/completions", `{"model":"gpt-4o","messages":[{"role":"user","content":5}]}`, "messages"},
		{"long unknown route", "/v1/" + long, `{}`, ""},
	}
	for _, tt := range json {
		t.Run(tt.name, func(t *testing.T) {
			code, _, body := h.post(context.Background(), tt.path, tt.body)
			if code < 400 || code >= 500 {
				t.Fatalf("status %d: %.300s", code, body)
			}
			e := checkMessage(t, body)
			if tt.param != "" && deref(e.Param) != tt.param {
				t.Errorf("param %q, want %q", deref(e.Param), tt.param)
			}
			if strings.Contains(tt.name, "not") && !strings.Contains(e.Message, "expected") && !strings.Contains(e.Message, "must be") {
				t.Errorf("message does not say what is expected: %s", e.Message)
			}
		})
	}
	small := pngFile(t, 64, 64, false)
	forms := []struct {
		name  string
		parts []formPart
	}{
		{"n not an integer", []formPart{{name: "image", file: "a.png", data: small}, {name: "prompt", data: []byte("p")}, {name: "n", data: []byte(long)}}},
		{"stream not a boolean", []formPart{{name: "image", file: "a.png", data: small}, {name: "stream", data: []byte(long)}}},
		{"long field name twice", []formPart{{name: long, data: []byte("a")}, {name: long, data: []byte("b")}}},
		{"long file field", []formPart{{name: long, file: "a.png", data: small}}},
	}
	for _, tt := range forms {
		t.Run("form "+tt.name, func(t *testing.T) {
			ct, body := multipartBody(t, tt.parts)
			code, b := h.postEdit(ct, body)
			if code != http.StatusBadRequest {
				t.Fatalf("status %d: %.300s", code, b)
			}
			checkMessage(t, b)
		})
	}
	raw := []struct{ name, contentType, body string }{
		{"long content type", "text/" + long, "x"},
		{"multipart without boundary", "multipart/form-data", "x"},
		{"multipart cut short", "multipart/form-data; boundary=zz", "--zz\r\nContent-Disposition: form-data; name=\"prompt\"\r\n\r\np"},
	}
	for _, tt := range raw {
		t.Run("edit "+tt.name, func(t *testing.T) {
			code, b := h.postEdit(tt.contentType, []byte(tt.body))
			if code != http.StatusBadRequest {
				t.Fatalf("status %d: %.300s", code, b)
			}
			checkMessage(t, b)
		})
	}
}

// TestHostileUpstreamErrors makes fal fail in ways whose detail (fal's
// URLs, Go's error chains, a long answer) must stay in the log.
func TestHostileUpstreamErrors(t *testing.T) {
	h := newHarness(t)
	longDetail := `{"detail":"see https://internal.example/trace?id=1 and http://10.0.0.1/x ` + strings.Repeat("y", 10_000) + `"}`
	tests := []struct {
		name  string
		fault falfake.Fault
		body  string
	}{
		{"fal answers a long detail with URLs", falfake.Fault{Op: falfake.OpSubmit, Status: http.StatusBadRequest, Body: longDetail}, genBody},
		{"fal fails the job with URLs", falfake.Fault{Op: falfake.OpSubmit, JobError: "internal_server_error", Status: http.StatusInternalServerError, Body: longDetail}, genBody},
		{"fal drops the connection", falfake.Fault{Op: falfake.OpSubmit, Drop: true}, genBody},
		{"schema service drops the connection", falfake.Fault{Op: falfake.OpSchema, Endpoint: "fal-ai/fast-sdxl", Drop: true}, `{"model":"sdxl","prompt":"p"}`},
		{"schema service refuses", falfake.Fault{Op: falfake.OpSchema, Endpoint: "fal-ai/ideogram/v2", Status: http.StatusUnauthorized}, `{"model":"ideogram","prompt":"p"}`},
		{"result is not JSON", falfake.Fault{Op: falfake.OpResult, Status: http.StatusOK, Body: "<html>" + longDetail}, genBody},
		{"result image is gone", falfake.Fault{Op: falfake.OpCDN, Status: http.StatusNotFound, Body: longDetail}, `{"model":"recraft","prompt":"p","response_format":"b64_json"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h.fake.Reset()
			h.fake.Inject(tt.fault)
			code, _, body := h.post(context.Background(), "/v1/images/generations", tt.body)
			if code < 400 {
				t.Fatalf("status %d: %.300s", code, body)
			}
			checkMessage(t, body)
		})
	}
	if !strings.Contains(h.logs.String(), "internal.example") {
		t.Error("the failures' detail is not in the log")
	}
}
