package server_test

import (
	"flag"
	"fmt"
	"io"
	"maps"
	"net/http"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

var updateGolden = flag.Bool("update", false, "rewrite the golden files of the tests that keep one")

// TestFixedRoutesAnswerAsBefore holds every byte a client gets from the
// routes answered ahead of the router (GET /v1/models, GET /health) and
// from their neighbours: status, the whole header set and the body, for
// GET, HEAD, a CORS preflight, a wrong method, paths that only look alike
// and unknown paths, with and without a key; and the route each request
// was counted under in the metrics. The golden file was written by the
// code that routed every request through ServeMux.
func TestFixedRoutesAnswerAsBefore(t *testing.T) {
	h := newHarness(t, func(s *setup) {
		s.metrics = true
		s.server.Created = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	})
	type call struct {
		method, path, key string
		header            map[string]string
	}
	origin := map[string]string{"Origin": "https://app.example"}
	calls := []call{
		{method: "GET", path: "/v1/models", key: accessKey},
		{method: "GET", path: "/v1/models", key: accessKey, header: map[string]string{"X-Request-Id": "client-id-7"}},
		{method: "HEAD", path: "/v1/models", key: accessKey},
		{method: "GET", path: "/v1/models"},
		{method: "GET", path: "/v1/models", key: "wrong", header: origin},
		{method: "HEAD", path: "/v1/models"},
		{method: "POST", path: "/v1/models", key: accessKey},
		{method: "DELETE", path: "/v1/models"},
		{method: "OPTIONS", path: "/v1/models", header: map[string]string{"Origin": "https://app.example",
			"Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "authorization"}},
		{method: "GET", path: "/v1/models/", key: accessKey},
		{method: "GET", path: "/v1/models/gpt-4o", key: accessKey},
		{method: "GET", path: "/v1//models", key: accessKey},
		{method: "GET", path: "/v1/%6Dodels", key: accessKey},
		{method: "GET", path: "/v1/models?limit=2", key: accessKey},
		{method: "GET", path: "/V1/models", key: accessKey},
		{method: "GET", path: "/health"},
		{method: "HEAD", path: "/health"},
		{method: "GET", path: "/health", key: "wrong"},
		{method: "POST", path: "/health"},
		{method: "OPTIONS", path: "/health"},
		{method: "GET", path: "/health/"},
		{method: "GET", path: "/healthz"},
		{method: "GET", path: "/v1/nothing", key: accessKey},
		{method: "PUT", path: "/v1/nothing"},
	}
	generatedID := regexp.MustCompile(`^req_[0-9a-f]{24}$`)
	var dump strings.Builder
	for _, c := range calls {
		req, err := http.NewRequest(c.method, h.url+c.path, nil)
		if err != nil {
			t.Fatal(err)
		}
		if c.key != "" {
			req.Header.Set("Authorization", "Bearer "+c.key)
		}
		for k, v := range c.header {
			req.Header.Set(k, v)
		}
		resp, err := h.client.Transport.RoundTrip(req) // redirects are answers too
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&dump, "%s %s key=%q %v\n%d\n", c.method, c.path, c.key, sortedPairs(c.header), resp.StatusCode)
		for _, k := range slices.Sorted(maps.Keys(resp.Header)) {
			for _, v := range resp.Header[k] {
				switch {
				case k == "Date":
					v = "(the time)"
				case k == "X-Request-Id" && generatedID.MatchString(v):
					v = "(generated)"
				}
				fmt.Fprintf(&dump, "%s: %s\n", k, v)
			}
		}
		fmt.Fprintf(&dump, "%s\n\n", body)
	}
	_, m := h.getMetrics(h.url+"/metrics", "")
	for line := range strings.Lines(m) {
		if strings.HasPrefix(line, "falproxy_requests_total{") {
			dump.WriteString(line)
		}
	}
	if n := len(h.fake.Received()); n != 0 {
		t.Errorf("fal received %d calls, want none", n)
	}
	const golden = "testdata/fixed_routes.golden"
	if *updateGolden {
		if err := os.WriteFile(golden, []byte(dump.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if got := dump.String(); got != string(want) {
		t.Errorf("the answers differ from %s; got:\n%s", golden, got)
	}
}

// sortedPairs prints a header map in a stable order.
func sortedPairs(m map[string]string) []string {
	var out []string
	for k, v := range m {
		out = append(out, k+"="+v)
	}
	slices.Sort(out)
	return out
}
