package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/falproxy/falproxy/internal/openai"
	"github.com/falproxy/falproxy/internal/pricing"
	"github.com/falproxy/falproxy/internal/store"
	"github.com/falproxy/falproxy/internal/teams"
)

type sessionKey struct{}

// sessionFrom is the virtual key of a request, nil for an operator key.
func sessionFrom(ctx context.Context) *teams.Session {
	s, _ := ctx.Value(sessionKey{}).(*teams.Session)
	return s
}

// authenticate guards a handler: an operator key (CUSTOM_ACCESS_KEY) passes
// as it always did; a virtual key passes while it is enabled and unexpired
// and travels on in the request context.
func (s *Server) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		k := bearer(r)
		if k == "" {
			writeError(w, openai.InvalidAPIKey(true))
			return
		}
		if s.keys.valid(k) {
			next.ServeHTTP(w, r)
			return
		}
		if s.opt.Gate == nil || !strings.HasPrefix(k, store.KeyPrefix) {
			writeError(w, openai.InvalidAPIKey(false))
			return
		}
		sess, err := s.opt.Gate.Lookup(r.Context(), k)
		switch {
		case errors.Is(err, store.ErrNotFound):
			writeError(w, openai.InvalidAPIKey(false))
			return
		case err != nil:
			s.log.Error("virtual key lookup failed", "request_id", infoFrom(r.Context()).ID, "error", err.Error())
			writeError(w, &openai.Error{Status: http.StatusServiceUnavailable, Type: openai.TypeServer, Code: "key_store_unavailable",
				Message: "The key could not be checked: falproxy's database is unavailable. Try again shortly.", RetryAfter: 5 * time.Second})
			return
		}
		if why := teams.Usable(sess.Key, time.Now()); why != "" {
			writeError(w, &openai.Error{Status: http.StatusUnauthorized, Type: openai.TypeInvalidRequest, Code: "invalid_api_key",
				Message: fmt.Sprintf("This API key is %s.", why), NoRetry: true})
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), sessionKey{}, sess)))
	})
}

// costHeader carries a request's estimated cost in USD: the estimate made
// before fal ran, not fal's bill.
const costHeader = "X-Falproxy-Cost-Usd"

// meter applies a virtual key's model list, rate, concurrency and budget
// to a request that runs fal work, tells the client its estimated cost,
// and writes the request to the usage ledger. Without a store it does
// nothing.
func (s *Server) meter(next http.Handler) http.Handler {
	g := s.opt.Gate
	if g == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sess := sessionFrom(r.Context())
		job := s.workloadOf(r)
		if sess != nil {
			release, e := s.admitKey(sess, job, start)
			if e != nil {
				writeError(w, e)
				return
			}
			defer release()
		}
		price, priced := s.opt.Prices.Price(r.Context(), job.endpoint)
		estimate := charge{}
		if !job.unmeasured {
			estimate = chargeFor(price, priced, job.measures)
		}
		if estimate.cost != nil {
			w.Header().Set(costHeader, strconv.FormatFloat(store.MicrosToUSD(*estimate.cost), 'f', -1, 64))
		}
		var hold *teams.Reservation
		if sess != nil {
			var ok bool
			if hold, ok = g.Reserve(sess, valueOr(estimate.cost, 0)); !ok {
				writeError(w, budgetSpent(sess.Key, start))
				return
			}
		}
		rec := &tailRecorder{statusRecorder: &statusRecorder{ResponseWriter: w}, keep: job.settle != settleAsEstimated}
		finished := false
		defer func() {
			if !finished && hold != nil { // the handler panicked: free the reservation
				g.Settle(hold, 0)
			}
		}()
		next.ServeHTTP(rec, r)
		finished = true

		status := rec.status
		switch {
		case status == 0 && r.Context().Err() != nil:
			status = 499 // the client left before any answer
		case status == 0:
			status = http.StatusOK // net/http answers 200 for a handler that wrote nothing
		}
		actual := settled(job, estimate, price, priced, status, rec.tail)
		if hold != nil {
			g.Settle(hold, valueOr(actual.cost, 0))
		}
		s.record(r, sess, job, actual, status, start)
	})
}

// admitKey checks a key's model list, rate and concurrency; release ends
// the request's concurrency slot.
func (s *Server) admitKey(sess *teams.Session, job workload, now time.Time) (release func(), e *openai.Error) {
	k := sess.Key
	if job.alias != "" && !teams.Allows(k, job.alias) {
		return nil, &openai.Error{Status: http.StatusForbidden, Type: openai.TypeInvalidRequest, Param: "model", Code: "model_not_allowed", NoRetry: true,
			Message: fmt.Sprintf("This API key is not allowed to use the model `%s`.", openai.Echo(job.alias))}
	}
	limits := s.opt.Gate.Limits()
	if wait, ok := limits.AllowRequest(k.ID, k.RPM, now); !ok {
		return nil, &openai.Error{Status: http.StatusTooManyRequests, Type: "requests", Code: "rate_limit_exceeded", RetryAfter: wait,
			Message: fmt.Sprintf("Rate limit reached: this API key may make %d requests per minute.", k.RPM)}
	}
	release, ok := limits.Acquire(k.ID, k.MaxConcurrent)
	if !ok {
		return nil, &openai.Error{Status: http.StatusTooManyRequests, Type: "requests", Code: "rate_limit_exceeded", RetryAfter: time.Second,
			Message: fmt.Sprintf("Rate limit reached: this API key may run %d requests at once.", k.MaxConcurrent)}
	}
	return release, nil
}

// budgetSpent is the 429 for a key whose hard budget cannot cover a
// request. Retrying helps only once the period turns over.
func budgetSpent(k store.Key, now time.Time) *openai.Error {
	e := &openai.Error{Status: http.StatusTooManyRequests, Type: "insufficient_quota", Code: "insufficient_quota", NoRetry: true,
		Message: fmt.Sprintf("This API key's %s budget is spent; ask its administrator to raise it.", k.BudgetPeriod)}
	if next := nextPeriod(k, now); !next.IsZero() {
		e.RetryAfter = next.Sub(now)
		e.Message = fmt.Sprintf("This API key's %s budget is spent until %s.", k.BudgetPeriod, next.Format(time.RFC3339))
	}
	return e
}

// nextPeriod is when a key's budget period turns over (zero for total).
func nextPeriod(k store.Key, now time.Time) time.Time {
	start := k.PeriodStart(now)
	switch k.BudgetPeriod {
	case store.PeriodDaily:
		return start.AddDate(0, 0, 1)
	case store.PeriodMonthly:
		return start.AddDate(0, 1, 0)
	}
	return time.Time{}
}

// record queues the request's ledger row and counts its cost.
func (s *Server) record(r *http.Request, sess *teams.Session, job workload, c charge, status int, start time.Time) {
	ri := infoFrom(r.Context())
	ri.mu.Lock()
	alias, falIDs := ri.Model, ri.FalRequestID
	ri.mu.Unlock()
	if alias == "" {
		alias = job.alias
	}
	row := store.Row{Time: start, KeyName: "operator", Alias: alias, Endpoint: job.endpoint, Units: c.units, Unit: c.unit,
		CostMicros: c.cost, Status: status, Latency: time.Since(start), RequestID: ri.ID}
	if falIDs != "" {
		row.FalRequestIDs = []string{falIDs}
	}
	if sess != nil {
		row.KeyID, row.KeyName = sess.Key.ID, sess.Key.Name
	}
	s.opt.Gate.Record(row)
	if c.cost != nil {
		s.opt.Metrics.Cost(row.KeyName, alias, store.MicrosToUSD(*c.cost))
	}
}

func valueOr(p *int64, def int64) int64 {
	if p == nil {
		return def
	}
	return *p
}

// charge is a request's units and cost, estimated before it runs and
// settled after.
type charge struct {
	units float64
	unit  string
	cost  *int64 // micro-dollars; nil: the price is not known
}

// chargeFor prices measures in the price's unit, or counts them in their
// own unit, without a cost, when the price is not known.
func chargeFor(price pricing.Price, priced bool, m pricing.Measures) charge {
	if priced {
		if u, ok := price.Units(m); ok {
			c := price.CostMicros(u)
			return charge{units: u, unit: price.Unit, cost: &c}
		}
	}
	u, unit := m.Natural()
	return charge{units: u, unit: unit}
}

// settled is what a finished request costs. fal bills what it completed:
// a failed or abandoned request costs nothing. A token-priced answer
// settles to the usage it reports, a transcription to the duration it
// reports; otherwise the estimate stands.
func settled(job workload, estimate charge, price pricing.Price, priced bool, status int, answer []byte) charge {
	if status >= 400 {
		c := charge{unit: estimate.unit}
		if estimate.cost != nil {
			c.cost = new(int64)
		}
		return c
	}
	m := job.measures
	switch job.settle {
	case settleByTokens:
		n, ok := reportedTokens(answer)
		if !ok {
			return estimate
		}
		m.Tokens = n
	case settleByDuration:
		secs, ok := reportedDuration(answer)
		if !ok {
			return estimate
		}
		m.Seconds = secs
	default:
		return estimate
	}
	return chargeFor(price, priced, m)
}
