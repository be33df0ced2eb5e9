package metrics

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/falproxy/falproxy/internal/fal"
	"github.com/falproxy/falproxy/internal/falschema"
)

var (
	keyHealthy = prometheus.NewDesc("falproxy_fal_key_healthy",
		"1 when the fal key may be used, 0 while it cools down or is quarantined.", []string{"key"}, nil)
	keyInflight = prometheus.NewDesc("falproxy_fal_key_inflight",
		"fal calls currently running on the key.", []string{"key"}, nil)
	keyFailures = prometheus.NewDesc("falproxy_fal_key_failures_total",
		"Failed fal calls made with the key (429, 401/403, 5xx, transport).", []string{"key"}, nil)

	schemaEvents = prometheus.NewDesc("falproxy_schema_cache_total",
		"Schema cache events: hit, miss, stale (an expired entry was found), fetch, fetch_failure, refresh, refresh_failure (the stale entry was kept), "+
			"failure_hit (a remembered failed fetch answered), throttled (a lookup of an uncached endpoint refused by the per-minute bound).",
		[]string{"event"}, nil)
)

// keyCollector reads the key pool at scrape time. Keys are labelled with
// their position in AI_KEYS (key1, key2, …), never the key or a hash of it.
type keyCollector struct{ pool *fal.Pool }

func (c *keyCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- keyHealthy
	ch <- keyInflight
	ch <- keyFailures
}

func (c *keyCollector) Collect(ch chan<- prometheus.Metric) {
	for _, s := range c.pool.States() {
		healthy := 0.0
		if s.Healthy {
			healthy = 1
		}
		ch <- prometheus.MustNewConstMetric(keyHealthy, prometheus.GaugeValue, healthy, s.ID)
		ch <- prometheus.MustNewConstMetric(keyInflight, prometheus.GaugeValue, float64(s.Inflight), s.ID)
		ch <- prometheus.MustNewConstMetric(keyFailures, prometheus.CounterValue, float64(s.Failures), s.ID)
	}
}

// schemaCollector reads the schema store's counters at scrape time.
type schemaCollector struct{ store *falschema.Store }

func (c *schemaCollector) Describe(ch chan<- *prometheus.Desc) { ch <- schemaEvents }

func (c *schemaCollector) Collect(ch chan<- prometheus.Metric) {
	st := c.store.Stats()
	for event, v := range map[string]int64{
		"hit": st.Hits, "miss": st.Misses, "stale": st.Stale,
		"fetch": st.Fetches, "fetch_failure": st.FetchFailures,
		"refresh": st.Refreshes, "refresh_failure": st.RefreshFailures,
		"failure_hit": st.FailureHits, "throttled": st.Throttled,
	} {
		ch <- prometheus.MustNewConstMetric(schemaEvents, prometheus.CounterValue, float64(v), event)
	}
}
