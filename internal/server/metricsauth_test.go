package server_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/falproxy/falproxy/internal/metrics"
	"github.com/falproxy/falproxy/internal/server"
)

const metricsKey = "metrics-key-0123456789"

// generationCounted is the metrics line of one successful generation.
const generationCounted = `falproxy_requests_total{model="flux-dev",route="POST /v1/images/generations",status="200"} 1`

// getMetrics fetches url with the Authorization header auth ("" sends none).
func (h *harness) getMetrics(url, auth string) (int, string) {
	h.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	code, _, body := h.do(req)
	return code, string(body)
}

// TestMetricsKey: with METRICS_KEY set, /metrics answers only the key; an
// access key, a wrong key or none get the OpenAI-shaped 401.
func TestMetricsKey(t *testing.T) {
	h := newHarness(t, func(s *setup) {
		s.metrics = true
		s.server.MetricsKey = metricsKey
	})
	if code, _, body := h.post(context.Background(), "/v1/images/generations", genBody); code != http.StatusOK {
		t.Fatalf("generation: %d %s", code, body)
	}
	for _, auth := range []string{"", "Bearer " + accessKey, "Bearer " + metricsKey + "x", "Bearer metrics-key"} {
		code, body := h.getMetrics(h.url+"/metrics", auth)
		if code != http.StatusUnauthorized || !strings.Contains(body, `"code":"invalid_api_key"`) || strings.Contains(body, "falproxy_") {
			t.Errorf("Authorization %q: %d %s", auth, code, body)
		}
	}
	code, body := h.getMetrics(h.url+"/metrics", "Bearer "+metricsKey)
	if code != http.StatusOK || !strings.Contains(body, generationCounted) {
		t.Fatalf("with the key: %d\n%s", code, body)
	}
	if c := h.fake.Counts(); c.Submits != 1 {
		t.Errorf("fal received %d submits, want 1", c.Submits)
	}
}

// TestMetricsElsewhere: with metrics on a listener of their own, the main
// port's /metrics is a 404 while requests there are still counted.
func TestMetricsElsewhere(t *testing.T) {
	m := metrics.New(nil, nil)
	h := newHarness(t, func(s *setup) {
		s.server.Metrics = m
		s.server.MetricsElsewhere = true
	})
	own := httptest.NewServer(server.MetricsHandler(m, ""))
	defer own.Close()
	if code, _, body := h.post(context.Background(), "/v1/images/generations", genBody); code != http.StatusOK {
		t.Fatalf("generation: %d %s", code, body)
	}
	if code, body := h.getMetrics(h.url+"/metrics", ""); code != http.StatusNotFound || !strings.Contains(body, `"code":"unknown_url"`) {
		t.Errorf("main port /metrics: %d %s", code, body)
	}
	if code, body := h.getMetrics(own.URL+"/metrics", ""); code != http.StatusOK || !strings.Contains(body, generationCounted) {
		t.Errorf("metrics listener /metrics: %d\n%s", code, body)
	}
	if code, body := h.getMetrics(own.URL+"/v1/models", "Bearer "+accessKey); code != http.StatusNotFound || !strings.Contains(body, `"code":"unknown_url"`) {
		t.Errorf("metrics listener serves more than /metrics: %d %s", code, body)
	}
	if c := h.fake.Counts(); c.Submits != 1 {
		t.Errorf("fal received %d submits, want 1", c.Submits)
	}
}
