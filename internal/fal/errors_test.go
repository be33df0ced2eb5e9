package fal

import (
	"net/http"
	"testing"
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
