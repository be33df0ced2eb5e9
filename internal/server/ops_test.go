package server_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/falproxy/falproxy/internal/falfake"
)

func TestMetrics(t *testing.T) {
	h := newHarness(t, func(s *setup) { s.metrics = true })
	if code, _, body := h.post(context.Background(), "/v1/images/generations", genBody); code != http.StatusOK {
		t.Fatalf("status %d: %s", code, body)
	}
	h.post(context.Background(), "/v1/images/generations", `{"model":"nope","prompt":"p"}`)
	req, _ := http.NewRequest(http.MethodGet, h.url+"/metrics", nil)
	code, hdr, body := h.do(req)
	if code != http.StatusOK || !strings.HasPrefix(hdr.Get("Content-Type"), "text/plain") {
		t.Fatalf("status %d, type %q", code, hdr.Get("Content-Type"))
	}
	text := string(body)
	for _, want := range []string{
		`falproxy_requests_total{model="flux-dev",route="POST /v1/images/generations",status="200"} 1`,
		`falproxy_requests_total{model="",route="POST /v1/images/generations",status="404"} 1`,
		`falproxy_fal_phase_seconds_count{endpoint="fal-ai/flux/dev",phase="generation"} 1`,
		`falproxy_fal_phase_seconds_count{endpoint="fal-ai/flux/dev",phase="submit"} 1`,
		`falproxy_fal_phase_seconds_count{endpoint="fal-ai/flux/dev",phase="result"} 1`,
		`falproxy_fal_key_healthy{key="key1"} 1`,
		`falproxy_schema_cache_total{event="miss"} 1`,
		`falproxy_inflight_requests 0`,
		`falproxy_request_duration_seconds_count{route="POST /v1/images/generations"} 2`,
		`falproxy_fal_key_inflight{key="key2"} 0`,
		`falproxy_fal_key_failures_total{key="key1"} 0`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if strings.Contains(text, "secret1") || strings.Contains(text, accessKey) {
		t.Fatal("metrics reveal a key")
	}
}

func TestAdmissionLimit(t *testing.T) {
	h := newHarness(t, func(s *setup) {
		s.fake.GenerationTime = 30 * time.Second
		s.server.MaxInflight = 1
		s.server.AdmissionWait = 50 * time.Millisecond
		s.metrics = true
	})
	cancel, done := h.postInBackground("/v1/images/generations", genBody)
	eventually(t, "the first job runs", func() bool { return len(h.fake.Jobs()) == 1 })

	code, hdr, body := h.post(context.Background(), "/v1/images/generations", genBody)
	if code != http.StatusServiceUnavailable || hdr.Get("Retry-After") == "" {
		t.Fatalf("status %d, Retry-After %q: %s", code, hdr.Get("Retry-After"), body)
	}
	if e := decodeError(t, body); deref(e.Code) != "server_busy" {
		t.Fatalf("code %q", deref(e.Code))
	}
	mreq, _ := http.NewRequest(http.MethodGet, h.url+"/metrics", nil)
	if _, _, m := h.do(mreq); !strings.Contains(string(m), `falproxy_admission_rejected_total{route="POST /v1/images/generations"} 1`) ||
		!strings.Contains(string(m), "falproxy_inflight_requests 1") {
		t.Fatalf("metrics do not show the refusal and the running request:\n%s", m)
	}
	// Routes that start no fal work are not limited.
	req, _ := http.NewRequest(http.MethodGet, h.url+"/v1/models", nil)
	req.Header.Set("Authorization", "Bearer "+accessKey)
	if code, _, _ := h.do(req); code != http.StatusOK {
		t.Fatalf("models: %d", code)
	}
	cancel()
	<-done
	eventually(t, "the first job is cancelled", func() bool { return h.fake.Jobs()[0].Cancelled })
	if n := len(h.fake.Jobs()); n != 1 {
		t.Fatalf("%d jobs reached fal, want 1", n)
	}
}

func TestRoutesAndAuth(t *testing.T) {
	h := newHarness(t, func(s *setup) { s.server.CORSOrigins = []string{"https://app.example"} })
	get := func(path, auth string, hdr map[string]string) (int, http.Header, []byte) {
		req, _ := http.NewRequest(http.MethodGet, h.url+path, nil)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		return h.do(req)
	}
	if code, _, body := get("/health", "", nil); code != 200 || string(body) != `{"status":"ok"}` {
		t.Fatalf("health: %d %s", code, body)
	}
	code, hdr, body := get("/v1/models", "", map[string]string{"Origin": "https://app.example"})
	if code != 401 || deref(decodeError(t, body).Code) != "invalid_api_key" {
		t.Fatalf("no key: %d %s", code, body)
	}
	if hdr.Get("Access-Control-Allow-Origin") != "https://app.example" {
		t.Fatalf("CORS missing on an error: %v", hdr)
	}
	if code, _, _ := get("/v1/models", "Bearer wrong", nil); code != 401 {
		t.Fatalf("wrong key: %d", code)
	}
	if code, _, _ := get("/v1/models", "Key "+accessKey, nil); code != 200 {
		t.Fatalf("Key scheme: %d", code)
	}
	if code, hdr, _ := get("/v1/models", "Bearer "+accessKey, map[string]string{"X-Request-Id": "client-id-1"}); code != 200 || hdr.Get("X-Request-Id") != "client-id-1" {
		t.Fatalf("request id not echoed: %d %v", code, hdr)
	}
	// Preflight from a browser SDK asking for its own headers.
	req, _ := http.NewRequest(http.MethodOptions, h.url+"/v1/chat/completions", nil)
	req.Header.Set("Origin", "https://app.example")
	req.Header.Set("Access-Control-Request-Method", "POST")
	req.Header.Set("Access-Control-Request-Headers", "authorization, content-type, x-stainless-os")
	code, hdr, _ = h.do(req)
	if code != 204 || !strings.Contains(hdr.Get("Access-Control-Allow-Headers"), "x-stainless-os") ||
		!strings.Contains(hdr.Get("Access-Control-Allow-Methods"), "POST") {
		t.Fatalf("preflight: %d %v", code, hdr)
	}
	if code, _, body := get("/v1/nothing", "Bearer "+accessKey, nil); code != 404 || decodeError(t, body).Type == "" {
		t.Fatalf("unknown route: %d %s", code, body)
	}
}

func TestModelsWithSDK(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	var ids []string
	iter := h.sdk.Models.ListAutoPaging(ctx)
	for iter.Next() {
		m := iter.Current()
		ids = append(ids, m.ID+"@"+m.OwnedBy)
	}
	if err := iter.Err(); err != nil {
		t.Fatal(err)
	}
	joined := strings.Join(ids, " ")
	for _, want := range []string{"flux-dev@fal-ai", "dall-e-3@fal-ai", "gpt-4o@openai", "google/gemini-2.5-flash@google"} {
		if !strings.Contains(joined, want) {
			t.Errorf("models list lacks %s: %s", want, joined)
		}
	}
	// An id with slashes arrives percent-encoded from the SDK.
	m, err := h.sdk.Models.Get(ctx, "fal-ai/flux/schnell")
	if err != nil || m.ID != "fal-ai/flux/schnell" || m.Object != "model" {
		t.Fatalf("get: %+v %v", m, err)
	}
	if _, err := h.sdk.Models.Get(ctx, "nope"); err == nil || !strings.Contains(err.Error(), "404") {
		t.Fatalf("unknown model: %v", err)
	}
}

// TestRequestIDReachesFal: the id a client sends is echoed and travels on
// every fal call the request makes.
func TestRequestIDReachesFal(t *testing.T) {
	h := newHarness(t)
	req, _ := http.NewRequest(http.MethodPost, h.url+"/v1/images/generations", strings.NewReader(genBody))
	req.Header.Set("Authorization", "Bearer "+accessKey)
	req.Header.Set("X-Request-Id", "trace-42")
	code, hdr, body := h.do(req)
	if code != http.StatusOK || hdr.Get("X-Request-Id") != "trace-42" {
		t.Fatalf("status %d, id %q: %s", code, hdr.Get("X-Request-Id"), body)
	}
	ops := 0
	for _, c := range h.fake.Received() {
		if c.Op == falfake.OpSchema {
			continue // fetched for the model, not for this request
		}
		ops++
		if c.RequestID != "trace-42" {
			t.Errorf("%s call carried request id %q", c.Op, c.RequestID)
		}
	}
	if ops != 3 {
		t.Fatalf("%d fal calls, want submit, status stream and result", ops)
	}
}
