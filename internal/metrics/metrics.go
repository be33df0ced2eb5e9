// Package metrics exposes falproxy's Prometheus metrics: requests by route,
// model and status; fal latency by endpoint and phase; jobs in flight; key
// health (keys named by their position in the list, never the key); and the
// schema cache.
package metrics

import (
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/falproxy/falproxy/internal/fal"
	"github.com/falproxy/falproxy/internal/falschema"
)

// Metrics holds the collectors. The zero value is not usable; call New.
// A nil *Metrics is valid and records nothing, so callers need no checks.
type Metrics struct {
	reg      *prometheus.Registry
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	upstream *prometheus.HistogramVec
	inflight prometheus.Gauge
	rejected *prometheus.CounterVec
	cancels  *prometheus.CounterVec
	retries  prometheus.Counter
	cost     *prometheus.CounterVec
	series   requestSeries
}

// New registers every falproxy metric, plus the Go runtime and process
// collectors, in a fresh registry.
func New(pool *fal.Pool, schemas *falschema.Store) *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "falproxy_requests_total",
			Help: "Client requests by route, model and HTTP status.",
		}, []string{"route", "model", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "falproxy_request_duration_seconds",
			Help:    "Time to answer client requests, by route.",
			Buckets: []float64{.005, .025, .1, .5, 1, 2.5, 5, 10, 30, 60, 120, 300},
		}, []string{"route"}),
		upstream: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "falproxy_fal_phase_seconds",
			Help:    "Time spent in each phase of fal calls (submit, queue, generation, result, stream_open), by endpoint.",
			Buckets: []float64{.001, .005, .025, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 120, 300},
		}, []string{"endpoint", "phase"}),
		inflight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "falproxy_inflight_requests",
			Help: "Requests holding an admission slot (running fal work).",
		}),
		rejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "falproxy_admission_rejected_total",
			Help: "Requests refused because MAX_INFLIGHT slots stayed full for ADMISSION_WAIT.",
		}, []string{"route"}),
		cancels: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "falproxy_fal_cancels_total",
			Help: "Cancels of abandoned fal jobs by outcome: confirmed, already_finished (nothing left to stop), unknown_job (fal knows no such job), gave_up (the job may have run and been billed).",
		}, []string{"outcome"}),
		retries: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "falproxy_fal_cancel_retries_total",
			Help: "Cancel calls made again after a failed try.",
		}),
		cost: newCostCounter(),
	}
	for _, o := range []string{fal.CancelConfirmed, fal.CancelAlreadyFinished, fal.CancelGaveUp} {
		m.cancels.WithLabelValues(o) // exported as 0 from the start
	}
	m.reg.MustRegister(m.requests, m.duration, m.upstream, m.inflight, m.rejected, m.cancels, m.retries, m.cost,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if pool != nil {
		m.reg.MustRegister(&keyCollector{pool: pool})
	}
	if schemas != nil {
		m.reg.MustRegister(&schemaCollector{store: schemas})
	}
	return m
}

// Handler serves the metrics in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

// Request records one answered client request.
func (m *Metrics) Request(route, model string, status int, d time.Duration) {
	if m == nil {
		return
	}
	s := m.series.of(m, seriesKey{route: route, model: model, status: status})
	s.count.Inc()
	s.duration.Observe(d.Seconds())
}

// Phase implements fal.Observer.
func (m *Metrics) Phase(endpoint, phase string, d time.Duration) {
	if m == nil {
		return
	}
	m.upstream.WithLabelValues(endpoint, phase).Observe(d.Seconds())
}

// CancelSettled implements fal.Observer.
func (m *Metrics) CancelSettled(outcome string, retries int) {
	if m == nil {
		return
	}
	m.cancels.WithLabelValues(outcome).Inc()
	m.retries.Add(float64(retries))
}

// Admitted and Released track admission slots; Rejected counts refusals.
func (m *Metrics) Admitted() {
	if m != nil {
		m.inflight.Inc()
	}
}

// Released gives back what Admitted counted.
func (m *Metrics) Released() {
	if m != nil {
		m.inflight.Dec()
	}
}

// Rejected counts a request refused for lack of a slot.
func (m *Metrics) Rejected(route string) {
	if m != nil {
		m.rejected.WithLabelValues(route).Inc()
	}
}
