package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
)

var (
	// wrkRate matches wrk's summary line, e.g. "Requests/sec:  41234.56".
	wrkRate = regexp.MustCompile(`Requests/sec:\s+([0-9.]+)`)
	// wrkErrors matches wrk's count of answers other than 2xx and 3xx.
	wrkErrors = regexp.MustCompile(`Non-2xx or 3xx responses:\s+([0-9]+)`)
)

// parseWrk reads the request rate from wrk's output; answers other than
// 2xx and 3xx are an error.
func parseWrk(out []byte) (float64, error) {
	if m := wrkErrors.FindSubmatch(out); m != nil {
		return 0, fmt.Errorf("wrk saw %s answers other than 2xx and 3xx", m[1])
	}
	m := wrkRate.FindSubmatch(out)
	if m == nil {
		return 0, fmt.Errorf("no Requests/sec in wrk's output: %.300s", out)
	}
	return strconv.ParseFloat(string(m[1]), 64)
}

// haveWrk reports whether wrk is installed.
func haveWrk() bool {
	_, err := exec.LookPath("wrk")
	return err == nil
}

// runWrk runs wrk (two threads, conns connections) on t, if wrk is
// installed; ok is false when it is not. A request with a body is
// described to wrk by a script written into dir.
func runWrk(ctx context.Context, t loadTarget, dir string, conns int, dur time.Duration) (rate float64, ok bool, err error) {
	path, err := exec.LookPath("wrk")
	if err != nil {
		return 0, false, nil
	}
	args := []string{"-t2", fmt.Sprintf("-c%d", conns), fmt.Sprintf("-d%ds", int(dur.Seconds()))}
	for k, vs := range t.header {
		for _, v := range vs {
			args = append(args, "-H", k+": "+v)
		}
	}
	if t.body != nil {
		script, err := writeWrkScript(dir, t)
		if err != nil {
			return 0, true, err
		}
		args = append(args, "-H", "Content-Type: application/json", "-s", script)
	}
	cmd := exec.CommandContext(ctx, path, append(args, t.url)...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return 0, true, fmt.Errorf("wrk: %w: %.300s", err, out)
	}
	rate, err = parseWrk(out)
	return rate, true, err
}

// writeWrkScript writes the Lua script that makes wrk send t's method and
// body.
func writeWrkScript(dir string, t loadTarget) (string, error) {
	if strings.Contains(string(t.body), "]==]") {
		return "", fmt.Errorf("the body of %s cannot be quoted for wrk", t.url)
	}
	f, err := os.CreateTemp(dir, "wrk-*.lua")
	if err != nil {
		return "", fmt.Errorf("wrk script: %w", err)
	}
	defer f.Close()
	_, err = fmt.Fprintf(f, "wrk.method = %q\nwrk.body = [==[%s]==]\n", t.method, t.body)
	return filepath.Clean(f.Name()), err
}
