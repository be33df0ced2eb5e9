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

// WatchLedger exports the count of usage ledger rows dropped because the
// database was unavailable for longer than the writer's queue could hold.
func (m *Metrics) WatchLedger(dropped func() uint64) {
	if m == nil {
		return
	}
	m.reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
		Name: "falproxy_ledger_rows_dropped_total",
		Help: "Usage ledger rows dropped because the database could not take them before the queue filled.",
	}, func() float64 { return float64(dropped()) }))
}
