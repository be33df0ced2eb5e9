package fal

import (
	"net/http"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestErrorFromResponse(t *testing.T) {
	tests := []struct {
		name, body, header string
		status             int
		wantMsg, wantType  string
		wantField          string
	}{
		{"string detail", `{"detail":"No user found for Key ID and Secret"}`, "", 401, "No user found for Key ID and Secret", "", ""},
		{"validation", `{"detail":[{"loc":["body","num_images"],"msg":"Input should be less than or equal to 4","type":"less_than_equal"}]}`, "", 422,
			"num_images: Input should be less than or equal to 4", "", "num_images"},
		{"error type in body", `{"detail":"Runner disconnected","error_type":"runner_disconnected"}`, "", 503, "Runner disconnected", "runner_disconnected", ""},
		{"error type in header", `{"detail":"Request timed out"}`, "request_timeout", 504, "Request timed out", "request_timeout", ""},
		{"openai shape", `{"error":{"message":"model not found","type":"invalid_request_error"}}`, "", 404, "model not found", "", ""},
		{"queue status", `{"status":"NOT_FOUND"}`, "", 404, "NOT_FOUND", "", ""},
		{"not json", `<html>bad gateway</html>`, "", 502, "<html>bad gateway</html>", "", ""},
		{"empty", ``, "", 503, "Service Unavailable", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := &http.Response{StatusCode: tt.status, Header: http.Header{}}
			if tt.header != "" {
				resp.Header.Set("X-Fal-Error-Type", tt.header)
			}
			e := errorFromResponse(OpResult, resp, []byte(tt.body))
			if e.Message() != tt.wantMsg || e.ErrorType != tt.wantType || e.Status != tt.status {
				t.Fatalf("got msg %q type %q status %d", e.Message(), e.ErrorType, e.Status)
			}
			if tt.wantField != "" && e.Validation[0].Field() != tt.wantField {
				t.Fatalf("field = %q", e.Validation[0].Field())
			}
		})
	}
}

func TestAppID(t *testing.T) {
	cases := map[string]string{
		"fal-ai/flux/dev":            "fal-ai/flux",
		"fal-ai/flux-pro/v1.1-ultra": "fal-ai/flux-pro",
		"fal-ai/fast-sdxl":           "fal-ai/fast-sdxl",
		"workflows/me/app/run":       "workflows/me/app",
	}
	for in, want := range cases {
		if got := appID(in); got != want {
			t.Errorf("appID(%q) = %q, want %q", in, got, want)
		}
	}
}

// FuzzErrorFromResponse feeds arbitrary answers to the error parser: it
// must never panic, and the message it yields, which reaches logs and
// clients, must be valid UTF-8 and bounded in length.
func FuzzErrorFromResponse(f *testing.F) {
	f.Add(422, `{"detail":[{"loc":["body","num_images"],"msg":"Input should be less than or equal to 4","type":"less_than_equal"}]}`, "")
	f.Add(422, `{"detail":[{"loc":["body",0,"image_size","width"],"msg":"too big","type":"x"},{"loc":[],"msg":"","type":""}]}`, "")
	f.Add(503, `{"detail":"Runner disconnected","error_type":"runner_disconnected"}`, "runner_disconnected")
	f.Add(404, `{"error":{"message":"model not found","code":404}}`, "")
	f.Add(400, `{"error":"plain"}`, "")
	f.Add(404, `{"status":"NOT_FOUND"}`, "")
	f.Add(502, `<html><body><h1>502 Bad Gateway</h1></body></html>`, "")
	f.Add(500, "\xff\xfe garbage \x00\x80", "\xc3")
	f.Add(422, `{"detail":"`+strings.Repeat("é", 5000)+`"}`, strings.Repeat("t", 5000))
	f.Add(422, `{"detail":[`+strings.Repeat(`{"loc":["body","x"],"msg":"bad value","type":"t"},`, 500)+`{}]}`, "")
	f.Add(0, ``, "")
	f.Fuzz(func(t *testing.T, status int, body, errorType string) {
		resp := &http.Response{StatusCode: status, Header: http.Header{}}
		resp.Header.Set("X-Fal-Error-Type", errorType)
		resp.Header.Set("Retry-After", body)
		e := errorFromResponse(OpSubmit, resp, []byte(body))
		for what, s := range map[string]string{"message": e.Message(), "error": e.Error()} {
			if !utf8.ValidString(s) {
				t.Fatalf("%s is not valid UTF-8: %q", what, s)
			}
		}
		if n := len(e.Message()); n > maxMessage+len("…") {
			t.Fatalf("message is %d bytes, over the bound of %d", n, maxMessage)
		}
		if n := len(e.Error()); n > 2*maxMessage {
			t.Fatalf("error text is %d bytes", n)
		}
	})
}
