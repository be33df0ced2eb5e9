package main

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// scrape GETs url with the Authorization header auth ("" sends none).
func scrape(t *testing.T, url, auth string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestMetricsAccess runs falproxy with each metrics setting: open on the
// main port by default, behind METRICS_KEY, and on METRICS_ADDR alone.
func TestMetricsAccess(t *testing.T) {
	const key = "metrics-key-0123456789"
	const served = "falproxy_requests_total"

	t.Run("open by default", func(t *testing.T) {
		r := startRun(t, []string{"serve"}, testEnv(t, nil))
		if code, body := scrape(t, r.base+"/metrics", ""); code != http.StatusOK || !strings.Contains(body, served) {
			t.Errorf("/metrics: %d", code)
		}
	})

	t.Run("METRICS_KEY", func(t *testing.T) {
		env := testEnv(t, map[string]string{"METRICS_KEY": key})
		r := startRun(t, []string{"serve"}, env)
		for _, auth := range []string{"", "Bearer sk-access-key-one", "Bearer wrong-metrics-key-0123"} {
			if code, body := scrape(t, r.base+"/metrics", auth); code != http.StatusUnauthorized || strings.Contains(body, served) {
				t.Errorf("Authorization %q: %d", auth, code)
			}
		}
		if code, body := scrape(t, r.base+"/metrics", "Bearer "+key); code != http.StatusOK || !strings.Contains(body, served) {
			t.Errorf("with the key: %d", code)
		}
		if err := r.shutdown(t); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(r.stderr.String()+r.stdout.String(), key) {
			t.Errorf("the metrics key reached the output:\n%s", r.stderr)
		}
	})

	t.Run("METRICS_ADDR", func(t *testing.T) {
		addr := "127.0.0.1:" + freePort(t)
		r := startRun(t, []string{"serve"}, testEnv(t, map[string]string{"METRICS_ADDR": addr, "METRICS_KEY": key}))
		if code, body := scrape(t, r.base+"/metrics", "Bearer "+key); code != http.StatusNotFound || !strings.Contains(body, "unknown_url") {
			t.Errorf("main port /metrics: %d %s", code, body)
		}
		if code, _ := scrape(t, "http://"+addr+"/metrics", ""); code != http.StatusUnauthorized {
			t.Errorf("metrics address without the key: %d", code)
		}
		if code, body := scrape(t, "http://"+addr+"/metrics", "Bearer "+key); code != http.StatusOK || !strings.Contains(body, served) {
			t.Errorf("metrics address: %d", code)
		}
	})
}
