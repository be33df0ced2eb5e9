package metrics

import "github.com/prometheus/client_golang/prometheus"

// FleetView is what the metrics read of the link to the fleet's Redis.
type FleetView struct {
	Up        func() bool   // Redis answers
	Replicas  func() int    // replicas seen, or REPLICAS
	Fallbacks func() uint64 // limit calls made locally because Redis failed
	Errors    func() uint64 // Redis calls that failed
}

// WatchFleet exports the link to the Redis the replicas share: whether it
// answers, the replicas seen, the limit checks that fell back to this
// replica's share and the calls that failed.
func (m *Metrics) WatchFleet(v FleetView) {
	if m == nil {
		return
	}
	m.reg.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "falproxy_redis_up",
			Help: "1 while the Redis the replicas share limits through answers, 0 while it is unreachable.",
		}, func() float64 {
			if v.Up() {
				return 1
			}
			return 0
		}),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "falproxy_fleet_replicas",
			Help: "Replicas this one counts in the fleet (REPLICAS, or those seen through Redis), which local shares of limits divide by.",
		}, func() float64 { return float64(v.Replicas()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "falproxy_shared_limits_fallback_total",
			Help: "Virtual key limit calls (rate and concurrency checks, budget reservations and their bookkeeping) made in process, with this replica's share, because Redis could not be asked.",
		}, func() float64 { return float64(v.Fallbacks()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "falproxy_redis_errors_total",
			Help: "Calls to the Redis the replicas share that failed (timeouts, lost connections, no free connection); a single failure falls back for that call only, two in a row or a failed heartbeat mark Redis unreachable.",
		}, func() float64 { return float64(v.Errors()) }),
	)
}
