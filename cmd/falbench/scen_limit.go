package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/falproxy/falproxy/internal/falfake"
)

// comparison is one route measured for throughput through falproxy and
// through a bare Go server doing the same job.
type comparison struct {
	what, bareWhat string
	proxy, bare    loadTarget
	goal           float64 // least share of the bare server's rate
	now            string  // the share before this suite measured it
}

// runLimit measures falproxy's request rate as a share of bare Go servers
// on the same cores (a net/http handler writing the same /v1/models bytes;
// httputil.ReverseProxy to the same emulator for a passthrough chat), the
// two sides alternating slice by slice, and its allocations per request.
func runLimit(ctx context.Context, b *bench) ([]section, error) {
	conns := b.plan.loadConns
	env := map[string]string{"CHAT_ENDPOINT": "openrouter/router/openai/v1"}
	st, err := b.startStack(ctx, "limit", falfake.Options{}, env, conns)
	if err != nil {
		return nil, err
	}
	defer st.close()
	comps, stop, err := b.startControls(ctx, st)
	if err != nil {
		return nil, err
	}
	defer stop()
	useWrk := b.plan.wrkTime > 0 && haveWrk()
	rates := make([][2]load, len(comps))    // proxy, bare: all rounds
	shares := make([][]float64, len(comps)) // proxy ÷ bare, round by round
	for _, c := range comps {               // unmeasured: opens the connections
		for _, t := range []loadTarget{c.proxy, c.bare} {
			if _, err := loadRun(ctx, st.client.hc, t, conns, b.plan.loadSlice/4); err != nil {
				return nil, fmt.Errorf("%w: warm-up: %w", errFunctional, err)
			}
		}
	}
	slice := b.plan.limitSlice
	b.logf("  %d rounds of %v per route and side at %d connections", b.plan.limitRounds, slice, conns)
	for r := range b.plan.limitRounds {
		for i, c := range comps {
			var round [2]load
			sides := []int{0, 1}
			if r%2 == 1 {
				sides = []int{1, 0}
			}
			for _, side := range sides {
				t := []loadTarget{c.proxy, c.bare}[side]
				l, err := b.measureRate(ctx, st.client.hc, t, conns, slice, useWrk)
				if err != nil {
					return nil, fmt.Errorf("%w: %w", errFunctional, err)
				}
				rates[i][side].add(l)
				round[side] = l
			}
			shares[i] = append(shares[i], round[0].perSecond()/round[1].perSecond())
		}
	}
	tool := fmt.Sprintf("Go load generator in falbench, %d connections", conns)
	if useWrk {
		tool = fmt.Sprintf("wrk -t2 -c%d", conns)
	}
	sec := section{num: 11, title: "The limit of the machine: falproxy against bare Go servers"}
	for i, c := range comps {
		p, bare := rates[i][0].perSecond(), rates[i][1].perSecond()
		slices.Sort(shares[i])
		med := shares[i][len(shares[i])/2]
		sec.rows = append(sec.rows, row{what: c.what, seed: c.now, target: fmt.Sprintf("≥ %.2f×", c.goal),
			measured: fmt.Sprintf("%.2f× median of rounds (rounds %.2f–%.2f×; in all, falproxy %.0f req/s, %s %.0f req/s)",
				med, shares[i][0], shares[i][len(shares[i])-1], p, c.bareWhat, bare),
			verdict: check(med >= c.goal)})
	}
	allocRows, err := b.allocations(ctx, st)
	if err != nil {
		return []section{sec}, err
	}
	sec.rows = append(sec.rows, allocRows...)
	sec.notes = []string{
		fmt.Sprintf("Rates from %s, %d round(s) of %v per route and side, falproxy and the bare server alternating slice by slice (the order swapping each round), so that both meet the same load on the shared machine; the share is the median of the rounds' shares (each falproxy slice against the bare slice next to it), which a burst of load from elsewhere moves less than the ratio of totals. The bare servers are falbench itself in a child process, as falproxy is: `net/http` writing the bytes falproxy answered to GET /v1/models, and `httputil.ReverseProxy` to the emulator over h2c, as falproxy reaches it, sent the exact body falproxy forwarded.", tool, b.plan.limitRounds, slice),
		"falproxy does what the bare servers leave out: the access key, a request id, the access log line (text, to a file), metrics, CORS headers and, for the chat, the field filter and the answer's rewrite (model name, usage).",
		fmt.Sprintf("Allocations per request: falproxy's `go_memstats_mallocs_total` (its /metrics) over a series of 2n requests made one at a time less over a series of n (n = %d), divided by n, so that what reading /metrics allocates cancels out (the median of three such estimates); the image is a url answer with no generation time.", b.plan.allocN),
	}
	return []section{sec}, nil
}

// startControls starts the bare servers and returns the comparisons they
// serve, and a function that stops them.
func (b *bench) startControls(ctx context.Context, st *stack) ([]comparison, func(), error) {
	models, err := st.client.send(ctx, http.MethodGet, "/v1/models", "")
	if err != nil || models.status != http.StatusOK {
		return nil, nil, fmt.Errorf("%w: GET /v1/models: %d %v", errFunctional, models.status, err)
	}
	file := filepath.Join(b.dir, "models.json")
	if err := os.WriteFile(file, models.body, 0o644); err != nil {
		return nil, nil, err
	}
	a, err := st.client.send(ctx, http.MethodPost, "/v1/chat/completions", chatOnceBody)
	if err == nil {
		err = chatAnswer(a)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("%w: passthrough chat: %w", errFunctional, err)
	}
	call, err := st.proxyCall(falfake.OpChat)
	if err != nil {
		return nil, nil, err
	}
	fixed, err := startChild(ctx, fixedCommand, file)
	if err != nil {
		return nil, nil, err
	}
	rp, err := startChild(ctx, reverseProxyCommand, st.fake.RunURL())
	if err != nil {
		fixed.stop()
		return nil, nil, err
	}
	key := http.Header{"Authorization": {"Bearer " + accessKey}}
	comps := []comparison{{
		what: "`GET /v1/models` rate, as a share of a bare `net/http` handler writing the same bytes", bareWhat: "bare handler",
		proxy: getTarget(st.proxy.base+"/v1/models", accessKey),
		bare:  loadTarget{method: http.MethodGet, url: "http://" + fixed.addr + "/v1/models"},
		goal:  0.85, now: "0.59×",
	}, {
		what: "chat passthrough (non-streaming) rate, as a share of a bare `httputil.ReverseProxy` to the same upstream", bareWhat: "bare reverse proxy",
		proxy: loadTarget{method: http.MethodPost, url: st.proxy.base + "/v1/chat/completions", header: key, body: []byte(chatOnceBody)},
		bare: loadTarget{method: http.MethodPost, url: "http://" + rp.addr + "/openrouter/router/openai/v1/chat/completions",
			header: http.Header{"Authorization": {"Key " + directKey}}, body: call.Body},
		goal: 0.9, now: "0.62–0.71×",
	}}
	return comps, func() { fixed.stop(); rp.stop() }, nil
}

// measureRate runs one slice of load on t, with wrk or falbench's own
// load generator.
func (b *bench) measureRate(ctx context.Context, hc *http.Client, t loadTarget, conns int, slice time.Duration, useWrk bool) (load, error) {
	if !useWrk {
		return loadRun(ctx, hc, t, conns, slice)
	}
	rate, _, err := runWrk(ctx, t, b.dir, conns, slice)
	// As a load: the rate over the slice.
	return load{ok: int64(rate * slice.Seconds()), elapsed: slice}, err
}

// allocations measures falproxy's allocations per request on its three
// hot paths.
func (b *bench) allocations(ctx context.Context, st *stack) ([]row, error) {
	paths := []struct {
		what string
		do   func(ctx context.Context) error
	}{
		{"GET /v1/models", func(ctx context.Context) error {
			a, err := st.client.send(ctx, http.MethodGet, "/v1/models", "")
			if err == nil && a.status != http.StatusOK {
				err = fmt.Errorf("GET /v1/models answered %d", a.status)
			}
			return err
		}},
		{"an image (url answer)", func(ctx context.Context) error { return st.client.image(ctx, imageBody) }},
		{"a passthrough chat, not streaming", func(ctx context.Context) error {
			a, err := st.client.send(ctx, http.MethodPost, "/v1/chat/completions", chatOnceBody)
			if err != nil {
				return err
			}
			return chatAnswer(a)
		}},
	}
	var rows []row
	for _, p := range paths {
		n, err := b.allocsPerRequest(ctx, st, p.do)
		if err != nil {
			return rows, err
		}
		rows = append(rows, row{what: "allocations per request, " + p.what, measured: fmt.Sprintf("%.0f", n), verdict: info})
	}
	return rows, nil
}

// allocsPerRequest is the mean number of allocations falproxy makes for
// one call of do, read from its metrics: the difference between a series
// of 2n calls and one of n, divided by n, so that what a reading of
// /metrics costs cancels out.
func (b *bench) allocsPerRequest(ctx context.Context, st *stack, do func(context.Context) error) (float64, error) {
	if err := do(ctx); err != nil { // fills caches and pools
		return 0, fmt.Errorf("%w: %w", errFunctional, err)
	}
	// The median of three estimates: the process's own background work
	// (a closing connection, a metrics collector's first reading) lands
	// in one series now and then.
	n := b.plan.allocN
	var est []float64
	for range 3 {
		short, err := b.mallocsOver(ctx, st, n, do)
		if err != nil {
			return 0, err
		}
		long, err := b.mallocsOver(ctx, st, 2*n, do)
		if err != nil {
			return 0, err
		}
		est = append(est, (long-short)/float64(n))
	}
	slices.Sort(est)
	return est[1], nil
}

// mallocsOver is how many allocations falproxy counted over n calls of
// do, readings of /metrics included.
func (b *bench) mallocsOver(ctx context.Context, st *stack, n int, do func(context.Context) error) (float64, error) {
	before, err := mallocs(ctx, st.client)
	if err != nil {
		return 0, err
	}
	for range n {
		if err := do(ctx); err != nil {
			return 0, fmt.Errorf("%w: %w", errFunctional, err)
		}
	}
	after, err := mallocs(ctx, st.client)
	return after - before, err
}

// mallocs reads go_memstats_mallocs_total from falproxy's /metrics.
func mallocs(ctx context.Context, p *proxyClient) (float64, error) {
	a, err := p.send(ctx, http.MethodGet, "/metrics", "")
	if err != nil {
		return 0, err
	}
	if a.status != http.StatusOK {
		return 0, fmt.Errorf("%w: GET /metrics answered %d", errFunctional, a.status)
	}
	sc := bufio.NewScanner(bytes.NewReader(a.body))
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "go_memstats_mallocs_total "); ok {
			return strconv.ParseFloat(strings.TrimSpace(v), 64)
		}
	}
	return 0, fmt.Errorf("%w: /metrics has no go_memstats_mallocs_total", errFunctional)
}
