package metrics

import (
	"strconv"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
)

// seriesKey names the series one answered request adds to.
type seriesKey struct {
	route, model string
	status       int
}

// series is a request's counter and duration histogram, looked up once.
type series struct {
	count    prometheus.Counter
	duration prometheus.Observer
}

// requestSeries keeps the series of every route, model and status seen,
// so that a request adds to them without formatting its status and hashing
// the label values again: the vectors hold the same series, so this holds
// no more than they do.
type requestSeries struct {
	mu   sync.RWMutex
	seen map[seriesKey]series
}

func (rs *requestSeries) of(m *Metrics, k seriesKey) series {
	rs.mu.RLock()
	s, ok := rs.seen[k]
	rs.mu.RUnlock()
	if ok {
		return s
	}
	s = series{
		count:    m.requests.WithLabelValues(k.route, k.model, strconv.Itoa(k.status)),
		duration: m.duration.WithLabelValues(k.route),
	}
	rs.mu.Lock()
	if rs.seen == nil {
		rs.seen = make(map[seriesKey]series)
	}
	rs.seen[k] = s
	rs.mu.Unlock()
	return s
}
