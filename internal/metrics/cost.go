package metrics

import "github.com/prometheus/client_golang/prometheus"

func newCostCounter() *prometheus.CounterVec {
	return prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "falproxy_cost_usd_total",
		Help: "Estimated cost of completed requests in USD, by virtual key name (\"operator\" for CUSTOM_ACCESS_KEY) and model alias; requests of unknown price are not counted.",
	}, []string{"key_name", "model"})
}

// Cost adds a request's cost in USD.
func (m *Metrics) Cost(keyName, model string, usd float64) {
	if m != nil && usd > 0 {
		m.cost.WithLabelValues(keyName, model).Add(usd)
	}
}
