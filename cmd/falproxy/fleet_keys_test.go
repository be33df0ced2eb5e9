package main

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/falproxy/falproxy/internal/fal"
	"github.com/falproxy/falproxy/internal/falfake"
	"github.com/falproxy/falproxy/internal/fleet"
)

// fleetAccessKey is an access key every replica of a test fleet accepts
// (see fakeEnv).
const fleetAccessKey = "sk-access-key-one"

// The fal keys of fakeEnv's AI_KEYS, as the emulator sees them.
const (
	fleetFalKey1 = "falkeyid1:falsecretvalue1"
	fleetFalKey2 = "falkeyid2:falsecretvalue2"
)

// askImage asks replica r for one image of prompt and returns the status;
// unlike fleetImage it may run beside the test, and a replica killed
// mid-request is an error, not a failure.
func askImage(r *replica, prompt string) (int, error) {
	body := fmt.Sprintf(`{"model":"flux-dev","prompt":%q,"response_format":"url"}`, prompt)
	req, err := http.NewRequest(http.MethodPost, r.URL+"/v1/images/generations", strings.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "Bearer "+fleetAccessKey)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	res.Body.Close()
	return res.StatusCode, nil
}

// keyHealthy reads from replica r's /metrics whether it may use the fal key
// labelled id (key1, key2, …).
func keyHealthy(t *testing.T, r *replica, id string) bool {
	t.Helper()
	res, err := http.Get(r.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	want := `falproxy_fal_key_healthy{key="` + id + `"} `
	for sc := bufio.NewScanner(res.Body); sc.Scan(); {
		if v, ok := strings.CutPrefix(sc.Text(), want); ok {
			return v == "1"
		}
	}
	t.Fatalf("replica %s's /metrics has no %s", r.URL, want)
	return false
}

// TestFleetAvoidsAKeyRateLimitedOnAnotherReplica: fal answers 429 to one
// fal key; once one replica met it, the others stop using that key too,
// and every request is served on the other key.
func TestFleetAvoidsAKeyRateLimitedOnAnotherReplica(t *testing.T) {
	f := startFleet(t, fleetOptions{})
	f.Fake.Inject(falfake.Fault{Op: falfake.OpSubmit, Key: fleetFalKey1, Status: http.StatusTooManyRequests, RetryAfter: "30"})
	asked := 0
	for f.Fake.Counts().Faults == 0 {
		if asked == 6 {
			t.Fatal("no request met the rate limited key")
		}
		r := f.Replicas[asked%len(f.Replicas)]
		if code, err := askImage(r, "a lighthouse"); code != http.StatusOK {
			t.Fatalf("request %d: %d %v, want 200 on the other key", asked+1, code, err)
		}
		asked++
	}
	for i, r := range f.Replicas {
		waitFor(t, fmt.Sprintf("replica %d takes key1 out of rotation", i+1), func() bool { return !keyHealthy(t, r, "key1") })
	}
	for i := range 9 {
		if code, err := askImage(f.Replicas[i%len(f.Replicas)], "a lighthouse"); code != http.StatusOK {
			t.Fatalf("request %d after the rest: %d %v, want 200", i+1, code, err)
		}
		asked++
	}
	c := f.Fake.Counts()
	if c.Faults != 1 {
		t.Errorf("fal answered the rate limited key %d times, want 1: the other replicas should avoid it", c.Faults)
	}
	if c.Submits != asked+1 {
		t.Errorf("fal received %d submits for %d requests, want one more (the 429)", c.Submits, asked)
	}
	if n := len(f.Fake.Jobs()); n != asked {
		t.Errorf("fal queued %d jobs for %d requests", n, asked)
	}
	for _, j := range f.Fake.Jobs() {
		if j.Key != fleetFalKey2 {
			t.Errorf("a job ran on %q, want only the key not rate limited", j.Key)
		}
	}
}

// sumMetric adds up an unlabelled counter over the running replicas of f.
func (f *testFleet) sumMetric(t *testing.T, name string) float64 {
	t.Helper()
	sum := 0.0
	for _, r := range f.Replicas {
		if r.proc != nil {
			sum += max(metricValue(fleetMetrics(t, r), name), 0)
		}
	}
	return sum
}

// redisFailed reports whether a running replica of f saw a Redis call
// fail: on a loaded machine one may, and that call fell back to the
// replica's share, so an exact fleet-wide count is checked only when none
// did. Each replica's share keeps its own bound in either case.
func (f *testFleet) redisFailed(t *testing.T) bool {
	t.Helper()
	return f.sumMetric(t, "falproxy_redis_errors_total") > 0
}

// TestFleetKeyConcurrencyHoldsAcrossReplicas: KEY_CONCURRENCY=1 on three
// replicas lets fal run one job of the key at a time, not one per replica;
// the other requests wait for the slot and are served.
func TestFleetKeyConcurrencyHoldsAcrossReplicas(t *testing.T) {
	opt := fleetOptions{
		Fake: falfake.Options{GenerationTime: 300 * time.Millisecond},
		Env:  map[string]string{"AI_KEYS": fleetFalKey1, "KEY_CONCURRENCY": "1"},
	}
	f := startFleet(t, opt)
	const requests = 6
	codes := make([]int, requests)
	errs := make([]error, requests)
	var wg sync.WaitGroup
	for i := range requests {
		wg.Go(func() { codes[i], errs[i] = askImage(f.Replicas[i%len(f.Replicas)], fmt.Sprint("job ", i)) })
	}
	wg.Wait()
	for i, code := range codes {
		if code != http.StatusOK {
			t.Errorf("request %d on replica %d: %d %v, want 200 after waiting for the slot", i+1, i%len(f.Replicas)+1, code, errs[i])
		}
	}
	if n := f.Fake.Counts().Submits; n != requests {
		t.Errorf("fal received %d submits, want %d", n, requests)
	}
	most := f.Fake.MaxRunning(fleetFalKey1)
	switch {
	case most > len(f.Replicas):
		t.Errorf("fal ran up to %d jobs of the key at once, more than the %d replicas' shares of 1", most, len(f.Replicas))
	case most != 1 && !f.redisFailed(t):
		t.Errorf("fal ran up to %d jobs of the key at once, want 1 (KEY_CONCURRENCY across the fleet)", most)
	}
}

// leaseFreedBy is when a lease of a replica killed at killed is free at
// the latest: renewed at most a renewal period before, it lives one TTL;
// + 3 s for a loaded machine running three replicas.
func leaseFreedBy(killed time.Time) time.Time {
	return killed.Add(fleet.DefaultLeaseTTL + fleet.DefaultLeaseTTL/3 + 3*time.Second)
}

// TestFleetSlotOfAKilledReplicaComesBack: a replica killed while it holds
// the key's only slot does not hold it forever: its lease expires within
// its TTL, another replica takes the slot, and no job is submitted twice.
func TestFleetSlotOfAKilledReplicaComesBack(t *testing.T) {
	opt := fleetOptions{Env: map[string]string{"AI_KEYS": fleetFalKey1, "KEY_CONCURRENCY": "1"}}
	f := startFleet(t, opt)
	// fal holds the answer of the first submit: the replica keeps the slot.
	f.Fake.Inject(falfake.Fault{Op: falfake.OpSubmit, Late: time.Minute, Times: 1})
	go func() { _, _ = askImage(f.Replicas[0], "the killed replica's") }()
	waitFor(t, "fal queues the first job", func() bool { return len(f.Fake.Jobs()) == 1 })
	ctx := context.Background()
	rdb := f.Redis.Client()
	set := "falproxy:keyslots:" + fal.NewPool([]string{fleetFalKey1}, fal.PoolOptions{}).KeyTags()[0]
	held := rdb.ZRangeWithScores(ctx, set, 0, -1).Val()
	killed := time.Now()
	f.Kill(f.Replicas[0])
	code, err := askImage(f.Replicas[1], "the living replica's")
	if len(held) != 1 {
		t.Fatalf("the key's leases in Redis = %v, want the one of the running job", held)
	}
	dead, expiry := held[0].Member.(string), time.UnixMilli(int64(held[0].Score))
	if code != http.StatusOK {
		t.Fatalf("a request after the kill: %d %v, want 200 once the dead lease expired", code, err)
	}
	jobs := f.Fake.Jobs()
	if len(jobs) != 2 || f.Fake.Counts().Submits != 2 {
		t.Fatalf("fal queued %d jobs from %d submits, want 2 and 2 (none submitted twice)", len(jobs), f.Fake.Counts().Submits)
	}
	if !strings.Contains(string(jobs[0].Input), "killed") || !strings.Contains(string(jobs[1].Input), "living") {
		t.Errorf("jobs' inputs %s and %s, want the killed replica's then the living one's", jobs[0].Input, jobs[1].Input)
	}
	if jobs[1].Submitted.Before(expiry) && !f.redisFailed(t) {
		t.Errorf("the living replica submitted at %v, before the dead replica's lease expired at %v", jobs[1].Submitted, expiry)
	}
	if by := leaseFreedBy(killed); jobs[1].Submitted.After(by) {
		t.Errorf("the living replica submitted %v after the kill, want the dead lease gone by %v",
			jobs[1].Submitted.Sub(killed).Round(time.Millisecond), by.Sub(killed))
	}
	if err := rdb.ZScore(ctx, set, dead).Err(); err == nil {
		t.Error("the dead replica's lease is still in Redis")
	}
}
