package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"time"

	"github.com/falproxy/falproxy/internal/falfake"
)

// seedPoll is the seed proxy's status polling interval.
const seedPoll = 2 * time.Second

// seedAdded is what the seed's polling adds to a job of generation time
// gen: the answer waits for the next poll after completion.
func seedAdded(gen time.Duration) time.Duration {
	polls := math.Ceil(float64(gen) / float64(seedPoll))
	return time.Duration(polls)*seedPoll - gen
}

// seedRequests is how many upstream requests the seed made for a job of
// generation time gen: submit, one status poll every 2 s, result.
func seedRequests(gen time.Duration) int {
	return 2 + int(math.Ceil(float64(gen)/float64(seedPoll)))
}

// imageBody is the OpenAI request of the image scenarios: one image, a size
// the model takes as a preset, the URL answer.
const imageBody = `{"model":"` + imageAlias + `","prompt":"a lighthouse on a cliff at dawn","size":"1024x768"}`

// imageSeries is scenario 1 at one generation time.
type imageSeries struct {
	gen            time.Duration
	proxy, direct  dist
	added          dist
	upstream       []int64 // per proxy request
	ratioOfMedians float64
}

// runImages measures one image at a time through the proxy and directly,
// at each generation time of the plan; it yields the tables of scenarios 1
// and 4.
func runImages(ctx context.Context, b *bench) ([]section, error) {
	lat := section{num: 1, title: "Image generation, one at a time: added latency (url answer)"}
	up := section{num: 4, title: "Upstream HTTP requests per image"}
	var series []imageSeries
	for i, gen := range b.plan.imageGen {
		s, err := b.imageSeries(ctx, gen, b.plan.imagePairs[i])
		if err != nil {
			return nil, err
		}
		series = append(series, s)
		g := secs(gen)
		lat.rows = append(lat.rows,
			row{what: "added latency at " + g + " (proxy − direct per pair), median / p99",
				seed:   fmt.Sprintf("+%s (next 2 s poll); ≈ 1 s on average, up to 2 s", ms(seedAdded(gen))),
				target: "≤ 2 ms / ≤ 10 ms", measured: medP99(s.added),
				verdict: check(s.added.median <= 2*time.Millisecond && s.added.p99 <= 10*time.Millisecond)},
			row{what: "total at " + g + ", median / p99", seed: "", target: "",
				measured: fmt.Sprintf("proxy %s; direct %s; ratio of medians %.4f (n = %d pairs)", medP99(s.proxy), medP99(s.direct), s.ratioOfMedians, s.proxy.n),
				verdict:  info},
		)
		up.rows = append(up.rows, row{what: "per image at " + g + ", mean / max",
			seed:   fmt.Sprintf("%d (submit, status poll ×%d, result); one more every 2 s of generation", seedRequests(gen), seedRequests(gen)-2),
			target: "≤ 3", measured: fmt.Sprintf("%.2f / %d (n = %d)", mean(s.upstream), maxInt(s.upstream), len(s.upstream)),
			verdict: check(maxInt(s.upstream) <= 3)})
	}
	same := true
	for _, s := range series[1:] {
		same = same && maxInt(s.upstream) == maxInt(series[0].upstream) && mean(s.upstream) == mean(series[0].upstream)
	}
	up.rows = append(up.rows, row{what: "independent of generation time", seed: "no (one more poll per 2 s)",
		target: "same count at every generation time", measured: yesNo(same), verdict: check(same)})
	lat.notes = []string{
		"Each pair is one proxy request (OpenAI `POST /v1/images/generations`, `url` answer, model flux-dev) and one direct fal job with the exact input the proxy sent, made by falbench's own minimal client: submit, follow the status stream, fetch the result the moment COMPLETED arrives.",
		"Pairs alternate which side goes first. The added latency is the per-pair difference; with fewer than 100 pairs, p99 is the largest difference seen.",
	}
	up.notes = []string{"Counted by the emulator (`Counts()`), minus the requests the direct client counted itself, attributed to each proxy request from its start to the next one's (late calls such as cancels included)."}
	var err error
	for _, s := range series {
		if maxInt(s.upstream) > 3 {
			err = fmt.Errorf("%w: an image took %d upstream requests at %s generation (at most 3 allowed)", errFunctional, maxInt(s.upstream), secs(s.gen))
		}
	}
	return []section{lat, up}, err
}

// imageSeries runs the interleaved pairs at one generation time.
func (b *bench) imageSeries(ctx context.Context, gen time.Duration, pairs int) (imageSeries, error) {
	b.logf("  images at %s generation: %d pairs", secs(gen), pairs)
	st, err := b.startStack(ctx, "images-"+secs(gen), falfake.Options{GenerationTime: gen}, nil, 8)
	if err != nil {
		return imageSeries{}, err
	}
	defer st.close()
	proxy := timed(func(ctx context.Context) error { return st.client.image(ctx, imageBody) })
	if err := warm(ctx, b.plan.warm, proxy); err != nil {
		return imageSeries{}, fmt.Errorf("%w: warm-up: %w", errFunctional, err)
	}
	call, err := st.proxyCall(falfake.OpSubmit)
	if err != nil {
		return imageSeries{}, err
	}
	direct := timed(func(ctx context.Context) error {
		r, err := st.direct.generate(ctx, call.Endpoint, call.Body)
		if err != nil {
			return err
		}
		return falImages(r)
	})
	if err := warm(ctx, b.plan.warm, direct); err != nil {
		return imageSeries{}, fmt.Errorf("%w: direct warm-up: %w", errFunctional, err)
	}
	t := &tally{fake: st.fake, direct: st.direct}
	out, err := interleave(ctx, pairs, t.wrap(proxy), direct)
	if err != nil {
		return imageSeries{}, fmt.Errorf("%w: %w", errFunctional, err)
	}
	pt, dt := column(out[0], 0), column(out[1], 0)
	ps, ds := summarize(pt), summarize(dt)
	return imageSeries{
		gen: gen, proxy: ps, direct: ds, added: summarize(differences(pt, dt)),
		upstream: t.perRequest(300 * time.Millisecond), ratioOfMedians: ratio(ps.median, ds.median),
	}, nil
}

// warm makes n unmeasured requests.
func warm(ctx context.Context, n int, f side) error {
	for range n {
		if _, err := f(ctx); err != nil {
			return err
		}
	}
	return nil
}

// falImages checks a fal result that must hold images.
func falImages(r falResult) error {
	if r.status != http.StatusOK {
		return fmt.Errorf("fal result answered %d: %.300s", r.status, r.body)
	}
	var out struct {
		Images []struct {
			URL string `json:"url"`
		} `json:"images"`
	}
	if err := json.Unmarshal(r.body, &out); err != nil || len(out.Images) == 0 || out.Images[0].URL == "" {
		return fmt.Errorf("fal result without images (%v): %.300s", err, r.body)
	}
	return nil
}

// secs formats a generation time as "0.7 s".
func secs(d time.Duration) string {
	return fmt.Sprintf("%g s", d.Seconds())
}

func yesNo(ok bool) string {
	if ok {
		return "yes"
	}
	return "no"
}
