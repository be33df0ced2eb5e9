package server

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"net/http"
	"slices"
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
		sum := hashKey(k)
		infoFrom(r.Context()).tenant = sum
		if s.keys.hold(sum) {
			next.ServeHTTP(w, r)
			return
		}
		if sess := s.virtualKey(w, r, k, sum); sess != nil {
			next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), sessionKey{}, sess)))
		}
	})
}

// virtualKey returns the session of a key that is not an operator's while
// it is a usable virtual key, and otherwise answers the refusal and returns
// nil. It is apart from authenticate so that its locals are not on the
// stack under the handler: an image request waiting on fal keeps the stack
// its deepest point needed.
func (s *Server) virtualKey(w http.ResponseWriter, r *http.Request, k string, sum [sha256.Size]byte) *teams.Session {
	if s.opt.Gate == nil || !strings.HasPrefix(k, store.KeyPrefix) {
		writeError(w, openai.InvalidAPIKey(false))
		return nil
	}
	sess, err := s.opt.Gate.Lookup(r.Context(), store.HashOf(sum))
	switch {
	case errors.Is(err, store.ErrNotFound):
		writeError(w, openai.InvalidAPIKey(false))
		return nil
	case err != nil:
		e := s.databaseFailed(r.Context(), "a virtual key lookup", err)
		e.Code, e.Message = "key_store_unavailable", "The key could not be checked: falproxy's database is unavailable. Try again shortly."
		writeError(w, e)
		return nil
	}
	if why := teams.Usable(sess.Key, time.Now()); why != "" {
		writeError(w, keyNotUsable(why))
		return nil
	}
	return sess
}

// keyNotUsable is the 401 for a virtual key that is disabled or expired
// (see teams.Usable).
func keyNotUsable(why string) *openai.Error {
	return &openai.Error{Status: http.StatusUnauthorized, Type: openai.TypeInvalidRequest, Code: "invalid_api_key",
		Message: fmt.Sprintf("This API key is %s.", why), NoRetry: true}
}

// recheckKey brings the key of a request about to spend up to date with
// the store (see teams.Gate.Recheck), so that a key changed or revoked
// through any process applies to it at once.
func (s *Server) recheckKey(ctx context.Context, m *metering) *openai.Error {
	sess, e := s.currentSession(ctx, m.sess)
	if e != nil {
		return e
	}
	m.sess = sess
	return nil
}

// currentSession is sess as the store has it now, or the 401 for a key
// deleted, disabled or expired meanwhile.
func (s *Server) currentSession(ctx context.Context, sess *teams.Session) (*teams.Session, *openai.Error) {
	return usableSession(s.opt.Gate.Recheck(ctx, sess))
}

// usableSession is the key a recheck read, or the 401 for a key deleted
// (err), disabled or expired.
func usableSession(sess *teams.Session, err error) (*teams.Session, *openai.Error) {
	if err != nil { // deleted meanwhile
		return nil, openai.InvalidAPIKey(false)
	}
	if why := teams.Usable(sess.Key, time.Now()); why != "" {
		return nil, keyNotUsable(why)
	}
	return sess, nil
}

// costHeader carries a request's estimated cost in USD: the estimate made
// before fal ran, not fal's bill.
const costHeader = "X-Falproxy-Cost-Usd"

// meter applies a virtual key's rate and concurrency to a request that
// runs fal work and writes the request to the usage ledger; the model
// list, the price and the budget apply where the handler resolves the
// model (admitModel). Without a store it does nothing.
func (s *Server) meter(next http.Handler) http.Handler {
	g := s.opt.Gate
	if g == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sess := sessionFrom(r.Context())
		if sess != nil {
			release := s.admitOrRefuse(w, r, sess, start)
			if release == nil {
				return
			}
			defer release()
		}
		m := &metering{sess: sess, job: s.workloadOf(r), w: w, start: start}
		rec := &statusRecorder{ResponseWriter: w}
		finished := false
		defer func() {
			if !finished && m.hold != nil { // the handler panicked: free the reservation
				g.Settle(m.hold, 0)
			}
		}()
		next.ServeHTTP(rec, r.WithContext(context.WithValue(r.Context(), meteringKey{}, m)))
		finished = true
		s.settleMetered(r, m, rec.status)
	})
}

// admitOrRefuse applies the key's rate and concurrency to a request and
// returns the release of its concurrency slot, or answers the refusal
// and returns nil. It and settleMetered are apart from meter so that
// their locals are not on the stack under the handler: an image request
// waiting on fal keeps the stack its deepest point needed.
func (s *Server) admitOrRefuse(w http.ResponseWriter, r *http.Request, sess *teams.Session, start time.Time) (release func()) {
	release, e := s.admitKey(sess, start)
	if e == nil {
		return release
	}
	// A key revoked elsewhere is told so, not to retry later; the store
	// is read only for a refused request, at most once per key per
	// teams.CacheTTL.
	if _, gone := usableSession(s.opt.Gate.RecheckRefused(r.Context(), sess)); gone != nil {
		e = gone
	}
	askRetry(w.Header(), e)
	writeError(w, e)
	return nil
}

// settleMetered settles a metered request's reservation at what it
// spent and writes it to the ledger, once its handler answered status.
func (s *Server) settleMetered(r *http.Request, m *metering, recorded int) {
	status := answeredStatus(r.Context(), recorded)
	ri := infoFrom(r.Context())
	ri.mu.Lock()
	work, reachedFal := ri.work, len(ri.FalRequestIDs) > 0
	ri.mu.Unlock()
	if refusedBeforeFal(m, status, work, reachedFal) {
		return
	}
	actual := settled(m.job, m.estimate, m.price, m.priced, status, work)
	if m.hold != nil {
		s.opt.Gate.Settle(m.hold, valueOr(actual.cost, 0))
	}
	s.record(r, m.sess, m.job, actual, status, m.start)
}

// refusedBeforeFal tells a request refused before any fal work (an
// unknown, forbidden or unpriced model, a spent budget, an invalid body):
// the ledger counts what ran at fal, so such a request writes no row; it
// is counted on /metrics and in the access log like any other answer. A
// request admitted to its model may have reached fal, and is written
// even if it failed.
func refusedBeforeFal(m *metering, status int, work falWork, reachedFal bool) bool {
	return !m.admitted && status >= http.StatusBadRequest && work == (falWork{}) && !reachedFal
}

// metering is what meter and admitModel know of a request: its key, its
// measures, and once the handler named the model, its price, estimate
// and budget reservation.
type metering struct {
	sess     *teams.Session
	job      workload
	w        http.ResponseWriter
	start    time.Time
	admitted bool
	price    pricing.Price
	priced   bool
	estimate charge
	hold     *teams.Reservation
}

type meteringKey struct{}

// admitModel is called by a handler once it has resolved the model alias
// of a request and the fal endpoint that will run it, before any fal
// work: it applies the key's model list, prices the request at that
// endpoint, refuses what a hard budget cannot check or cover, reserves
// the estimate and tells the client. Metering the model the handler
// actually runs, not one read from the body beforehand, is what keeps a
// default model (an edit's, an audio request's) from slipping past a
// key's model list or being priced as another.
func (s *Server) admitModel(ctx context.Context, alias, endpoint string) *openai.Error {
	return s.admitLLM(ctx, alias, endpoint, "")
}

// admitLLM is admitModel for a model run by an LLM endpoint (chat,
// Responses, embeddings): fal bills the endpoint, at the rates of the
// model behind it, so the ledger names the endpoint and the price is
// that of the pair (see pricing.Catalog.ModelPrice).
func (s *Server) admitLLM(ctx context.Context, alias, endpoint, model string) *openai.Error {
	m, _ := ctx.Value(meteringKey{}).(*metering)
	if m == nil || m.admitted {
		return nil
	}
	m.job.alias, m.job.endpoint = alias, endpoint
	if m.sess != nil {
		if e := s.recheckKey(ctx, m); e != nil {
			return e
		}
	}
	if m.sess != nil && !teams.Allows(m.sess.Key, alias) {
		return &openai.Error{Status: http.StatusForbidden, Type: openai.TypeInvalidRequest, Param: "model", Code: "model_not_allowed", NoRetry: true,
			Message: fmt.Sprintf("This API key is not allowed to use the model `%s`.", openai.Echo(alias))}
	}
	if s.models.configured(alias) {
		m.price, m.priced = s.opt.Prices.ModelPrice(ctx, endpoint, model)
	} else { // a raw endpoint id (ALLOW_ANY_ENDPOINT): only a price at hand
		m.price, m.priced = s.opt.Prices.KnownModelPrice(endpoint, model)
	}
	if !m.job.unmeasured {
		m.estimate = chargeFor(m.price, m.priced, m.job.measures)
	}
	if m.sess != nil {
		if e := checkable(m.sess.Key, m.job, m.estimate, m.priced); e != nil {
			return e
		}
		hold, ok, unavailable := s.opt.Gate.Reserve(m.sess, valueOr(m.estimate.cost, 0))
		if !ok {
			e := s.sharedOr(unavailable, budgetSpent(m.sess.Key, m.start))
			askRetry(m.w.Header(), e)
			return e
		}
		m.hold = hold
	}
	if m.estimate.cost != nil {
		m.w.Header().Set(costHeader, strconv.FormatFloat(store.MicrosToUSD(*m.estimate.cost), 'f', -1, 64))
	}
	m.admitted = true
	return nil
}

// remeasure corrects a request's measures with what its handler knows
// better than the body says (a video's length as fal will make it, a
// remix's as its source's), which makes them known; it is called before
// admitModel.
func (s *Server) remeasure(ctx context.Context, change func(*pricing.Measures)) {
	if m, _ := ctx.Value(meteringKey{}).(*metering); m != nil && !m.admitted {
		change(&m.job.measures)
		m.job.unmeasured = false
	}
}

// admitKey checks a key's rate and concurrency; release ends the
// request's concurrency slot.
func (s *Server) admitKey(sess *teams.Session, now time.Time) (release func(), e *openai.Error) {
	k := sess.Key
	if e := s.sharedLimitsDown(); e != nil {
		return nil, e
	}
	if wait, ok, unavailable := s.opt.Gate.AllowRequest(sess, now); !ok {
		return nil, s.sharedOr(unavailable, &openai.Error{Status: http.StatusTooManyRequests, Type: "requests", Code: "rate_limit_exceeded", RetryAfter: wait,
			Message: fmt.Sprintf("Rate limit reached: this API key may make %d requests per minute.", k.RPM)})
	}
	release, ok, unavailable := s.opt.Gate.Acquire(sess)
	if !ok {
		return nil, s.sharedOr(unavailable, &openai.Error{Status: http.StatusTooManyRequests, Type: "requests", Code: "rate_limit_exceeded", RetryAfter: time.Second,
			Message: fmt.Sprintf("Rate limit reached: this API key may run %d requests at once.", k.MaxConcurrent)})
	}
	if e := s.sharedLimitsDown(); e != nil { // Redis failed while this request was counted
		release()
		return nil, e
	}
	return release, nil
}

// checkable refuses a request that a key's hard budget cannot be checked
// against: one whose price is not known before it runs (a model missing
// from fal's pricing API and PRICES_FILE, a price in a unit the request
// has no measure for). A $0 estimate would let such requests
// through for ever. A transcription's price is known but its length only
// after it ran: it passes while the budget is not yet spent.
func checkable(k store.Key, job workload, estimate charge, priced bool) *openai.Error {
	if !k.HardStop || k.BudgetMicros == nil || estimate.cost != nil || (job.settle == settleByDuration && priced) {
		return nil
	}
	return &openai.Error{Status: http.StatusForbidden, Type: openai.TypeInvalidRequest, Param: "model", Code: "model_not_priced", NoRetry: true,
		Message: fmt.Sprintf("This API key has a hard budget, and the cost of a request to the model `%s` cannot be estimated beforehand: its price is not known to falproxy.", openai.Echo(job.alias))}
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
	alias, falIDs := ri.Model, slices.Clone(ri.FalRequestIDs)
	ri.mu.Unlock()
	if alias == "" {
		alias = job.alias
	}
	row := store.Row{Time: start, KeyName: "operator", Alias: alias, Endpoint: job.endpoint, Units: c.units, Unit: c.unit,
		CostMicros: c.cost, Status: status, Latency: time.Since(start), RequestID: ri.ID, FalRequestIDs: falIDs}
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
		if u, c, ok := price.Cost(m); ok {
			return charge{units: u, unit: price.Unit, cost: &c}
		}
	}
	u, unit := m.Natural()
	return charge{units: u, unit: unit}
}

// settled is what a finished request costs: what fal completed for it.
// A request that failed, and for which fal completed no job and
// reported no tokens or seconds, costs nothing; an
// image request costs the images fal made; an answer with tokens settles
// to the tokens its handler reported, or to the cost fal reported with
// them, a transcription to the seconds it covers; otherwise the estimate
// stands.
func settled(job workload, estimate charge, price pricing.Price, priced bool, status int, work falWork) charge {
	if work.jobs == 0 && work.tokens == 0 && work.seconds == 0 && status >= 400 {
		c := charge{unit: estimate.unit}
		if estimate.cost != nil {
			c.cost = new(int64)
		}
		return c
	}
	m := job.measures
	switch {
	case work.jobs > 0 && m.Images > 0:
		m.Megapixels = m.Megapixels / float64(m.Images) * float64(work.images)
		m.Images = work.images
	case job.settle == settleByTokens && work.tokens > 0:
		m.Tokens, m.OutputTokens = work.tokens, work.outputTokens
		if work.costMicros > 0 {
			c := chargeFor(price, priced, m)
			c.cost = &work.costMicros
			return c
		}
	case job.settle == settleByDuration && work.seconds > 0:
		m.Seconds = work.seconds
	default:
		return estimate
	}
	return chargeFor(price, priced, m)
}
