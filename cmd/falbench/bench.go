package main

import (
	"bufio"
	"cmp"
	"context"
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"strings"
	"time"
)

// bench is one falbench run: the plan, the falproxy binary and a scratch
// directory for the proxies' logs.
type bench struct {
	cfg    *config
	plan   plan
	bin    string
	dir    string
	stderr io.Writer
	keep   bool // keep dir (and the proxies' logs) after a failure
}

func newBench(ctx context.Context, cfg *config, stderr io.Writer) (*bench, error) {
	dir, err := os.MkdirTemp("", "falbench-")
	if err != nil {
		return nil, fmt.Errorf("scratch directory: %w", err)
	}
	b := &bench{cfg: cfg, plan: fullPlan(), dir: dir, stderr: stderr}
	if cfg.quick {
		b.plan = quickPlan()
	}
	b.bin = cfg.falproxy
	if b.bin == "" {
		b.logf("building ./cmd/falproxy")
		if b.bin, err = buildFalproxy(ctx, dir); err != nil {
			b.close()
			return nil, err
		}
	}
	return b, nil
}

// close removes the scratch directory, unless a scenario failed and its
// proxy logs are worth keeping.
func (b *bench) close() {
	if b.keep {
		b.logf("proxy logs kept in %s", b.dir)
		return
	}
	_ = os.RemoveAll(b.dir)
}

// logf reports progress on stderr; stdout carries only the report.
func (b *bench) logf(format string, args ...any) {
	fmt.Fprintf(b.stderr, "falbench: "+format+"\n", args...)
}

// scenario measures one aspect and returns its table(s). A non-nil error
// is a functional failure: something that must work did not.
type scenario struct {
	title string
	run   func(ctx context.Context, b *bench) ([]section, error)
}

// scenarios are numbered as in BENCHMARKS.md; scenario 1 also yields the
// table of scenario 4 (upstream requests per image).
var scenarios = []scenario{
	{"image generation, one at a time (and upstream requests per image)", runImages},
	{"reporting a failed job and a fal 422", runFailures},
	{"images with many requests in flight", runBurst},
	{"upstream requests per image (measured with scenario 1)", nil},
	{"chat streaming", runChatStream},
	{"chat passthrough, not streaming", runPassthrough},
	{"GET /v1/models and /health throughput", runLoad},
	{"memory with many image jobs in flight", runRSS},
	{"b64_json of a 4 MiB image", runB64},
	{"start-up with fal's schema service unreachable", runStartup},
	{"the limit of the machine: bare Go servers", runLimit},
	{"Responses stream, time to first event", runResponses},
	{"speech, time to the first byte", runSpeech},
	{"video content download", runVideoContent},
}

// runAll runs the selected scenarios in order. A failing scenario is
// recorded and the run goes on, so that one report shows everything.
func (b *bench) runAll(ctx context.Context) *report {
	start := time.Now()
	rep := &report{header: runHeader{
		date: start, goVersion: runtime.Version(), nproc: runtime.NumCPU(), cpu: cpuModel(),
		command: b.cfg.command(), quick: b.cfg.quick,
	}}
	for i, sc := range scenarios {
		num := i + 1
		if sc.run == nil || b.cfg.only != nil && !b.cfg.only[num] && !(num == 1 && b.cfg.only[4]) {
			continue
		}
		if ctx.Err() != nil {
			break
		}
		b.logf("scenario %d: %s", num, sc.title)
		t0 := time.Now()
		secs, err := sc.run(ctx, b)
		if err != nil {
			err = fmt.Errorf("scenario %d (%s): %w", num, sc.title, err)
			b.logf("FAILED: %v", err)
			rep.failures = append(rep.failures, err)
		}
		rep.sections = append(rep.sections, secs...)
		b.logf("scenario %d done in %v", num, time.Since(t0).Round(time.Millisecond))
	}
	slices.SortStableFunc(rep.sections, func(x, y section) int { return cmp.Compare(x.num, y.num) })
	rep.header.elapsed = time.Since(start)
	b.keep = len(rep.failures) > 0
	return rep
}

// cpuModel is the processor's name from /proc/cpuinfo, if known.
func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return "cpu unknown"
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "cpu unknown"
}
