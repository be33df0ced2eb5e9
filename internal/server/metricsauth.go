package server

import (
	"net/http"

	"github.com/falproxy/falproxy/internal/metrics"
)

// metricsEndpoint serves m in the Prometheus format. With a key, only
// requests that send it as "Authorization: Bearer <key>" get the metrics:
// the key is compared in constant time, as access keys are, and others get
// the same 401 as a wrong access key.
func metricsEndpoint(m *metrics.Metrics, key string) http.Handler {
	if key == "" {
		return m.Handler()
	}
	return requireKey(newAccessKeys([]string{key}), m.Handler())
}

// MetricsHandler is the whole handler of a listener kept for metrics
// (METRICS_ADDR): GET /metrics, behind key when one is set, and the JSON 404
// of the main routes for every other path. The main handler then leaves
// /metrics out (Options.MetricsElsewhere).
func MetricsHandler(m *metrics.Metrics, key string) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", metricsEndpoint(m, key))
	mux.HandleFunc("/", handleNotFound)
	return mux
}
