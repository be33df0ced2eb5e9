package main

import (
	"context"
	"fmt"
	"os/exec"
	"regexp"
	"strconv"
	"time"
)

// wrkRate matches wrk's summary line, e.g. "Requests/sec:  41234.56".
var wrkRate = regexp.MustCompile(`Requests/sec:\s+([0-9.]+)`)

// parseWrk reads the request rate from wrk's output.
func parseWrk(out []byte) (float64, error) {
	m := wrkRate.FindSubmatch(out)
	if m == nil {
		return 0, fmt.Errorf("no Requests/sec in wrk's output: %.300s", out)
	}
	return strconv.ParseFloat(string(m[1]), 64)
}

// runWrk runs wrk (two threads, conns connections) against url with the
// access key, if wrk is installed; ok is false when it is not.
func runWrk(ctx context.Context, url, key string, conns int, dur time.Duration) (rate float64, ok bool, err error) {
	path, err := exec.LookPath("wrk")
	if err != nil {
		return 0, false, nil
	}
	cmd := exec.CommandContext(ctx, path, "-t2", fmt.Sprintf("-c%d", conns), fmt.Sprintf("-d%ds", int(dur.Seconds())),
		"-H", "Authorization: Bearer "+key, url)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return 0, true, fmt.Errorf("wrk: %w: %.300s", err, out)
	}
	rate, err = parseWrk(out)
	return rate, true, err
}
