package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/falproxy/falproxy/internal/falfake"
	"github.com/falproxy/falproxy/internal/fleet"
)

// fleetAnswer is what a client saw of one request.
type fleetAnswer struct {
	status int
	header http.Header
	code   string // the OpenAI error code, for an error
}

// fleetAsk asks replica r for one image with the key and prompt. A
// request that gets no answer within a minute fails the test: none may
// hang.
func fleetAsk(t *testing.T, r *replica, key, prompt string) fleetAnswer {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"model": "flux-dev", "prompt": prompt, "response_format": "url"})
	req, err := http.NewRequest(http.MethodPost, r.URL+"/v1/images/generations", strings.NewReader(string(body)))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	res, err := (&http.Client{Timeout: time.Minute}).Do(req)
	if err != nil {
		t.Errorf("replica %s gave no answer: %v", r.URL, err)
		return fleetAnswer{}
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	var e struct {
		Error struct {
			Code string `json:"code"`
		} `json:"error"`
	}
	_ = json.Unmarshal(b, &e)
	return fleetAnswer{status: res.StatusCode, header: res.Header, code: e.Error.Code}
}

// fleetKey creates a virtual key with the admin API's spec and returns
// its secret.
func fleetKey(f *testFleet, spec string) string {
	var created struct {
		Key string `json:"key"`
	}
	f.Admin(http.MethodPost, "/admin/keys", spec, &created)
	return created.Key
}

// refusedWithRetry checks an answer is a clean refusal: a 429 or 503 of
// the code wanted, with a Retry-After of a second or more.
func refusedWithRetry(t *testing.T, a fleetAnswer, status int, code string) {
	t.Helper()
	if a.status != status || a.code != code {
		t.Errorf("answer %d %q, want %d %q", a.status, a.code, status, code)
		return
	}
	if s, err := strconv.Atoi(a.header.Get("Retry-After")); err != nil || s < 1 {
		t.Errorf("%d %s with Retry-After %q, want whole seconds", a.status, code, a.header.Get("Retry-After"))
	}
}

// fleetHealth is a replica's /health.
func fleetHealth(t *testing.T, r *replica) (int, fleet.Status) {
	t.Helper()
	res, err := http.Get(r.URL + "/health")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var h struct {
		Status string       `json:"status"`
		Redis  fleet.Status `json:"redis"`
	}
	if err := json.NewDecoder(res.Body).Decode(&h); err != nil {
		t.Fatal(err)
	}
	return res.StatusCode, h.Redis
}

// fleetMetrics is a replica's /metrics.
func fleetMetrics(t *testing.T, r *replica) string {
	t.Helper()
	res, err := http.Get(r.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return string(b)
}

// metricValue is the value of an unlabelled metric in a Prometheus text
// exposition, -1 when absent.
func metricValue(text, name string) float64 {
	for line := range strings.Lines(text) {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err == nil {
				return f
			}
		}
	}
	return -1
}

// pollFleet polls cond every 200 ms until it holds, failing the test
// after a minute.
func pollFleet(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("%s: not so after a minute", what)
}

// TestFleetRateLimitIsExactAcrossReplicas: a key limited to 30 requests a
// minute gets exactly 30 of 45 through three replicas driven round robin.
func TestFleetRateLimitIsExactAcrossReplicas(t *testing.T) {
	f := startFleet(t, fleetOptions{})
	key := fleetKey(f, `{"name":"rpm","rpm":30}`)
	answers := make([]fleetAnswer, 45)
	for i := range answers {
		answers[i] = fleetAsk(t, f.Replicas[i%3], key, fmt.Sprint("lighthouse ", i))
	}
	served := 0
	for _, a := range answers {
		if a.status == http.StatusOK {
			served++
			continue
		}
		refusedWithRetry(t, a, http.StatusTooManyRequests, "rate_limit_exceeded")
	}
	checkServed(t, f, "requests of a key limited to 30 a minute", served, 30)
	if n := f.Fake.Counts().Submits; n != served {
		t.Errorf("fal received %d submits for %d served", n, served)
	}
}

// countServed counts the answers served and checks that the others are
// clean refusals: 429 insufficient_quota (the budget), or 429
// rate_limit_exceeded with a Retry-After (the key's other limits).
func countServed(t *testing.T, answers []fleetAnswer) int {
	t.Helper()
	served := 0
	for _, a := range answers {
		switch {
		case a.status == http.StatusOK:
			served++
		case a.code == "insufficient_quota":
			if a.status != http.StatusTooManyRequests {
				t.Errorf("answer %d %q, want 429", a.status, a.code)
			}
		default:
			refusedWithRetry(t, a, http.StatusTooManyRequests, "rate_limit_exceeded")
		}
	}
	return served
}

// checkServed checks that a fleet served limit requests of a key when no
// replica fell back to its share, and never more than one a fallback
// beyond it: a limit call that could not ask Redis admits at most its
// own request past the shared count.
func checkServed(t *testing.T, f *testFleet, what string, served, limit int) {
	t.Helper()
	fallbacks := int(f.sumMetric(t, "falproxy_shared_limits_fallback_total"))
	switch {
	case served > limit+fallbacks:
		t.Errorf("the fleet served %d %s, more than %d and its %d fallbacks", served, what, limit, fallbacks)
	case fallbacks == 0 && served != limit:
		t.Errorf("the fleet served %d %s, want %d", served, what, limit)
	}
}

// TestFleetBudgetHoldsAcrossReplicas: a budget covering 4 images allows 4
// of 12 requests sent at once to three replicas, and fal ran only those.
func TestFleetBudgetHoldsAcrossReplicas(t *testing.T) {
	opt := fleetOptions{Fake: falfake.Options{GenerationTime: 500 * time.Millisecond,
		Prices: map[string]falfake.Price{"fal-ai/flux/dev": {UnitPrice: 1, Unit: "image"}}}}
	f := startFleet(t, opt)
	key := fleetKey(f, `{"name":"budget","budget_usd":4,"hard_stop":true}`)
	answers := make([]fleetAnswer, 12)
	var wg sync.WaitGroup
	for i := range answers {
		wg.Go(func() { answers[i] = fleetAsk(t, f.Replicas[i%3], key, fmt.Sprint("lighthouse ", i)) })
	}
	wg.Wait()
	served := countServed(t, answers)
	checkServed(t, f, "requests on a budget covering 4 images", served, 4)
	if n := len(f.Fake.Jobs()); n != served {
		t.Errorf("fal ran %d jobs for %d served requests", n, served)
	}
}

// TestFleetKilledReplicaFreesItsSlots: a replica killed while it runs a
// key's two concurrent requests frees the slots within the lease TTL, and
// its jobs are not run again elsewhere.
func TestFleetKilledReplicaFreesItsSlots(t *testing.T) {
	f := startFleet(t, fleetOptions{Fake: falfake.Options{GenerationTime: time.Second}})
	key := fleetKey(f, `{"name":"conc","max_concurrent":2}`)
	doomed, other := f.Replicas[0], f.Replicas[1]
	for i := range 2 {
		go func() { // answered by no one: the replica dies under it
			req, _ := http.NewRequest(http.MethodPost, doomed.URL+"/v1/images/generations",
				strings.NewReader(fmt.Sprintf(`{"model":"flux-dev","prompt":"[slow] a long one %d","response_format":"url"}`, i)))
			req.Header.Set("Authorization", "Bearer "+key)
			req.Header.Set("Content-Type", "application/json")
			if res, err := http.DefaultClient.Do(req); err == nil {
				res.Body.Close()
			}
		}()
	}
	pollFleet(t, "two slow jobs running at fal", func() bool { return len(f.Fake.Jobs()) == 2 })
	fallbacks := f.sumMetric(t, "falproxy_shared_limits_fallback_total")
	whileHeld := fleetAsk(t, other, key, "while held")
	if f.sumMetric(t, "falproxy_shared_limits_fallback_total") == fallbacks {
		refusedWithRetry(t, whileHeld, http.StatusTooManyRequests, "rate_limit_exceeded")
	} // else it was checked against the replica's share, 1 of 2 free
	killed := time.Now()
	f.Kill(doomed)
	asked := 0
	var freed time.Time
	pollFleet(t, "another replica takes a slot of the killed one", func() bool {
		asked++
		if fleetAsk(t, other, key, fmt.Sprint("after the kill ", asked)).status != http.StatusOK {
			return false
		}
		freed = time.Now()
		return true
	})
	if by := leaseFreedBy(killed); freed.After(by) {
		t.Errorf("the killed replica's slots were free %v after the kill, want by %v",
			freed.Sub(killed).Round(time.Millisecond), by.Sub(killed))
	}
	noJobTwice(t, f)
}

// noJobTwice checks that fal received each request's submit once (each
// has its own prompt) and the two slow jobs of the killed replica were
// not submitted again by another.
func noJobTwice(t *testing.T, f *testFleet) {
	jobs := f.Fake.Jobs()
	prompts, slow := map[string]int{}, 0
	for _, j := range jobs {
		var in struct {
			Prompt string `json:"prompt"`
		}
		if err := json.Unmarshal(j.Input, &in); err != nil {
			t.Fatalf("a job's input %s: %v", j.Input, err)
		}
		if prompts[in.Prompt]++; prompts[in.Prompt] == 2 {
			t.Errorf("fal received the submit of %q twice", in.Prompt)
		}
		if strings.Contains(in.Prompt, "[slow]") {
			slow++
		}
	}
	if slow != 2 {
		t.Errorf("fal received %d jobs of the killed replica's 2 requests, want 2: none resubmitted", slow)
	}
	if n := f.Fake.Counts().Submits; n != len(jobs) {
		t.Errorf("fal received %d submits for %d jobs", n, len(jobs))
	}
}

// TestFleetRedisOutage: with Redis stopped every request gets an answer
// and each replica enforces its share of the key's rate; once Redis is
// back the limit is shared again.
func TestFleetRedisOutage(t *testing.T) {
	f := startFleet(t, fleetOptions{})
	key := fleetKey(f, `{"name":"outage","rpm":30}`)
	pollFleet(t, "every replica sees three", func() bool {
		for _, r := range f.Replicas {
			if _, st := fleetHealth(t, r); st.Replicas != 3 {
				return false
			}
		}
		return true
	})
	f.Redis.Stop()
	for i, r := range f.Replicas[:2] {
		served := 0
		for range 15 {
			a := fleetAsk(t, r, key, "a lighthouse")
			if a.status == http.StatusOK {
				served++
				continue
			}
			refusedWithRetry(t, a, http.StatusTooManyRequests, "rate_limit_exceeded")
		}
		if served != 10 {
			t.Errorf("with Redis down replica %d served %d of 15 requests, want its share 10 of 30", i+1, served)
		}
	}
	if n := f.Fake.Counts().Submits; n != 20 {
		t.Errorf("fal received %d submits during the outage, want the 20 served", n)
	}
	code, st := fleetHealth(t, f.Replicas[0])
	if code != http.StatusOK || st.Up {
		t.Errorf("/health with Redis down: %d, redis up %v; want 200 and up false", code, st.Up)
	}
	m := fleetMetrics(t, f.Replicas[0])
	for _, want := range []string{"falproxy_redis_up 0\n", "falproxy_fleet_replicas 3\n"} {
		if !strings.Contains(m, want) {
			t.Errorf("/metrics with Redis down lacks %q", strings.TrimSpace(want))
		}
	}
	// Each of the 15 requests checked its rate locally; those served
	// reserved their budget locally too.
	if n := metricValue(m, "falproxy_shared_limits_fallback_total"); n < 15 {
		t.Errorf("/metrics counts %v fallbacks to local limits after 15 requests with Redis down", n)
	}
	if n := metricValue(m, "falproxy_redis_errors_total"); n < 1 {
		t.Errorf("/metrics counts %v failed Redis calls with Redis down", n)
	}

	f.Redis.Restart()
	pollFleet(t, "every replica reaches Redis again", func() bool {
		for _, r := range f.Replicas {
			if _, st := fleetHealth(t, r); !st.Up {
				return false
			}
		}
		return true
	})
	// 4 a minute: shared, two replicas serve 4 together; on local shares
	// they would serve 1 each.
	fresh := fleetKey(f, `{"name":"after","rpm":4}`)
	served := 0
	for i := range 8 {
		if fleetAsk(t, f.Replicas[i%2], fresh, "a lighthouse").status == http.StatusOK {
			served++
		}
	}
	if served != 4 {
		t.Errorf("after Redis returned two replicas served %d requests of a key limited to 4 a minute, want 4", served)
	}
}

// TestFleetRedisRequired: with REDIS_REQUIRED a replica refuses virtual
// keys with a 503 to retry while Redis is down, and /health answers 503 so
// that the load balancer sends elsewhere; both recover with Redis.
func TestFleetRedisRequired(t *testing.T) {
	f := startFleet(t, fleetOptions{Replicas: 1, Env: map[string]string{"REDIS_REQUIRED": "true"}})
	r := f.Replicas[0]
	key := fleetKey(f, `{"name":"required","rpm":100}`)
	if a := fleetAsk(t, r, key, "a lighthouse"); a.status != http.StatusOK {
		t.Fatalf("with Redis up: %d %s", a.status, a.code)
	}
	f.Redis.Stop()
	a := fleetAsk(t, r, key, "a lighthouse")
	refusedWithRetry(t, a, http.StatusServiceUnavailable, "shared_limits_unavailable")
	if got := a.header.Get("X-Should-Retry"); got != "true" {
		t.Errorf("x-should-retry %q, want true", got)
	}
	if code, st := fleetHealth(t, r); code != http.StatusServiceUnavailable || st.Up {
		t.Errorf("/health with Redis down and required: %d, up %v; want 503", code, st.Up)
	}
	submits := f.Fake.Counts().Submits
	if fleetImage(t, r, "sk-access-key-one") != http.StatusOK {
		t.Error("the operator key, which has no shared limits, was refused")
	}
	f.Redis.Restart()
	pollFleet(t, "/health is 200 again", func() bool { code, _ := fleetHealth(t, r); return code == http.StatusOK })
	if a := fleetAsk(t, r, key, "a lighthouse"); a.status != http.StatusOK {
		t.Errorf("after Redis returned: %d %s", a.status, a.code)
	}
	if n := f.Fake.Counts().Submits; n != submits+2 {
		t.Errorf("fal received %d submits after the refusal, want %d", n, submits+2)
	}
}

// TestFleetRedisOutageWithRequestsInFlight: Redis stops while requests of
// a key with a budget and a concurrency limit run on every replica, and
// more arrive during the outage. Every request gets a clean answer (served,
// or a 429 with Retry-After; none hangs, none is a 500); when Redis comes
// back empty the leases of the requests still running and the replicas'
// budget reservations are in it again; and the fleet never serves beyond
// the budget.
func TestFleetRedisOutageWithRequestsInFlight(t *testing.T) {
	opt := fleetOptions{Fake: falfake.Options{GenerationTime: 8 * time.Second,
		Prices: map[string]falfake.Price{"fal-ai/flux/dev": {UnitPrice: 1, Unit: "image"}}}}
	f := startFleet(t, opt)
	const budget = 6
	key := fleetKey(f, `{"name":"inflight","budget_usd":6,"hard_stop":true,"max_concurrent":6}`)
	// Each replica's share during the outage divides by the replicas it
	// counted.
	pollFleet(t, "every replica sees three", func() bool {
		for _, r := range f.Replicas {
			if _, st := fleetHealth(t, r); st.Replicas != len(f.Replicas) {
				return false
			}
		}
		return true
	})
	var (
		mu      sync.Mutex
		answers []fleetAnswer
		wg      sync.WaitGroup
	)
	ask := func(r *replica, prompt string) {
		wg.Go(func() {
			a := fleetAsk(t, r, key, prompt)
			mu.Lock()
			answers = append(answers, a)
			mu.Unlock()
		})
	}
	for i, r := range f.Replicas {
		ask(r, fmt.Sprint("before the outage ", i))
	}
	pollFleet(t, "a job of each replica running at fal", func() bool { return len(f.Fake.Jobs()) == len(f.Replicas) })
	f.Redis.Stop()
	for i := range 6 {
		ask(f.Replicas[i%len(f.Replicas)], fmt.Sprint("during the outage ", i))
	}
	pollFleet(t, "every replica finds Redis unreachable", func() bool {
		for _, r := range f.Replicas {
			if _, st := fleetHealth(t, r); st.Up {
				return false
			}
		}
		return true
	})
	f.Redis.Restart() // empty
	rdb := f.Redis.Client()
	ctx := t.Context()
	running := func() int {
		n := 0
		for _, j := range f.Fake.Jobs() {
			if j.State != falfake.StateCompleted {
				n++
			}
		}
		return n
	}
	pollFleet(t, "the running requests' leases written back", func() bool {
		sets := rdb.Keys(ctx, "falproxy:leases:*").Val()
		return len(sets) == 1 && int(rdb.ZCard(ctx, sets[0]).Val()) == running()
	})
	pollFleet(t, "the replicas' budget reservations written back", func() bool {
		hashes := rdb.Keys(ctx, "falproxy:spend:*").Val()
		if len(hashes) != 1 {
			return false
		}
		reserved := 0
		for field := range rdb.HGetAll(ctx, hashes[0]).Val() {
			if strings.HasPrefix(field, "r:") {
				reserved++
			}
		}
		return reserved == len(f.Replicas)
	})
	wg.Wait()
	served := countServed(t, answers)
	if served > budget {
		t.Errorf("the fleet served %d images on a budget of %d", served, budget)
	}
	if n := len(f.Fake.Jobs()); n != served {
		t.Errorf("fal ran %d jobs for %d served requests", n, served)
	}
}
