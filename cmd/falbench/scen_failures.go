package main

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/falproxy/falproxy/internal/falfake"
)

// failureCase is a request that fal accepts and then fails.
type failureCase struct {
	name        string
	body        string   // the OpenAI request
	want        apiError // what falproxy must answer
	falStatus   int      // what fal's result answers
	seedOutcome string
}

var failureCases = []failureCase{
	{
		name:        `failed job ("[fail]" prompt: runner_disconnected)`,
		body:        `{"model":"` + imageAlias + `","prompt":"a lighthouse [fail]","size":"1024x768"}`,
		want:        apiError{status: http.StatusBadGateway, code: "runner_disconnected"},
		falStatus:   http.StatusServiceUnavailable,
		seedOutcome: "500, which SDKs retry twice: 3 jobs",
	},
	{
		name:        "fal 422 (num_inference_steps 99 as an extra field)",
		body:        `{"model":"` + imageAlias + `","prompt":"a lighthouse","size":"1024x768","num_inference_steps":99}`,
		want:        apiError{status: http.StatusBadRequest, param: "num_inference_steps"},
		falStatus:   http.StatusUnprocessableEntity,
		seedOutcome: "500, which SDKs retry twice: 3 jobs",
	},
}

// runFailures measures how soon a failed job and a fal validation error
// reach the client once fal has completed the job, and how many upstream
// calls each costs.
func runFailures(ctx context.Context, b *bench) ([]section, error) {
	gen := b.plan.failGen
	st, err := b.startStack(ctx, "failures", falfake.Options{GenerationTime: gen}, nil, 8)
	if err != nil {
		return nil, err
	}
	defer st.close()
	sec := section{num: 2, title: "Reporting a failed job and a fal 422"}
	for _, fc := range failureCases {
		rows, err := b.failureSeries(ctx, st, fc, gen)
		sec.rows = append(sec.rows, rows...)
		if err != nil {
			return []section{sec}, fmt.Errorf("%s: %w", fc.name, err)
		}
	}
	sec.notes = []string{
		fmt.Sprintf("Generation time %s. \"After fal completed\" is the client's receipt of the whole answer minus the moment the emulator completes the job (its submit time plus the generation time, on the same clock); the direct client does the same job with the input the proxy sent and reads fal's error result.", secs(gen)),
		"fal validates input when the job runs, as the real service does: the job is accepted, runs, completes, and only its result is the 422.",
	}
	return []section{sec}, nil
}

// failureSeries runs the interleaved pairs of one failure case.
func (b *bench) failureSeries(ctx context.Context, st *stack, fc failureCase, gen time.Duration) ([]row, error) {
	b.logf("  %s: %d pairs", fc.name, b.plan.failPairs)
	proxy := func(ctx context.Context) (obs, error) {
		t0 := time.Now()
		a, err := st.client.send(ctx, http.MethodPost, "/v1/images/generations", fc.body)
		end := time.Now()
		if err != nil {
			return nil, err
		}
		if err := expectError(a, fc.want); err != nil {
			return nil, err
		}
		return afterCompletion(st.fake, proxyKey, gen, t0, end)
	}
	if err := warm(ctx, b.plan.warm, proxy); err != nil {
		return nil, fmt.Errorf("%w: warm-up: %w", errFunctional, err)
	}
	call, err := st.proxyCall(falfake.OpSubmit)
	if err != nil {
		return nil, err
	}
	direct := func(ctx context.Context) (obs, error) {
		t0 := time.Now()
		r, err := st.direct.generate(ctx, call.Endpoint, call.Body)
		end := time.Now()
		if err != nil {
			return nil, err
		}
		if r.status != fc.falStatus {
			return nil, fmt.Errorf("fal result answered %d, want %d: %.300s", r.status, fc.falStatus, r.body)
		}
		return afterCompletion(st.fake, directKey, gen, t0, end)
	}
	if err := warm(ctx, b.plan.warm, direct); err != nil {
		return nil, fmt.Errorf("%w: direct warm-up: %w", errFunctional, err)
	}
	t := &tally{fake: st.fake, direct: st.direct}
	out, err := interleave(ctx, b.plan.failPairs, t.wrap(proxy), direct)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errFunctional, err)
	}
	calls := t.perRequest(300 * time.Millisecond)
	pa, da := column(out[0], 1), column(out[1], 1)
	proxyAfter := summarize(pa)
	rows := []row{
		{what: fc.name + ": answered after fal completed, median / p99",
			seed:     fmt.Sprintf("+%s (next 2 s poll), then %s", ms(seedAdded(gen)), fc.seedOutcome),
			target:   "≤ 10 ms",
			measured: fmt.Sprintf("proxy %s; direct %s; added %s (n = %d pairs)", medP99(proxyAfter), medP99(summarize(da)), medP99(summarize(differences(pa, da))), len(pa)),
			verdict:  check(proxyAfter.p99 <= 10*time.Millisecond)},
		{what: fc.name + ": upstream calls per request, mean / max",
			seed: "≥ 3 per attempt, 3 attempts", target: "≤ 3",
			measured: fmt.Sprintf("%.2f / %d", mean(calls), maxInt(calls)),
			verdict:  check(maxInt(calls) <= 3)},
	}
	if maxInt(calls) > 3 {
		return rows, fmt.Errorf("%w: a request made %d upstream calls (at most 3 allowed)", errFunctional, maxInt(calls))
	}
	return rows, nil
}

// afterCompletion observes a request's total time and how long after its
// fal job completed the answer was in: the newest job of key was submitted
// at a known time and runs for gen.
func afterCompletion(fake *falfake.Fake, key string, gen time.Duration, start, end time.Time) (obs, error) {
	jobs := fake.Jobs()
	for i := len(jobs) - 1; i >= 0; i-- {
		if j := jobs[i]; j.Key == key {
			if j.Submitted.Before(start) {
				break
			}
			return obs{end.Sub(start), end.Sub(j.Submitted.Add(gen))}, nil
		}
	}
	return nil, fmt.Errorf("%w: no fal job was submitted for the request", errFunctional)
}
