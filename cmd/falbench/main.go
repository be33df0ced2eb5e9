// Command falbench measures what going through falproxy costs a client.
//
// It starts the fal emulator (internal/falfake) in its own process and the
// real falproxy binary as a child process, both on 127.0.0.1, and measures
// side by side in one run: every proxy request is paired with the same work
// done by an ideal direct fal client written here with net/http, and the
// two alternate request by request. It prints one markdown table per
// scenario (see BENCHMARKS.md).
//
// Usage:
//
//	go run ./cmd/falbench [-quick] [-out BENCHMARKS.md] [-only 1,5] [-falproxy path]
//
// -quick is a smoke run of a few seconds for CI: it exits non-zero only
// when something does not work (a request fails, an image takes more than
// three upstream calls), never because of a timing.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// errFunctional marks a failure of falproxy's behaviour, as opposed to a
// timing that missed its target; only these make falbench exit non-zero.
var errFunctional = errors.New("functional failure")

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "falbench:", err)
		if errors.Is(err, errUsage) {
			os.Exit(2)
		}
		os.Exit(1)
	}
}

// run is the whole program; main only supplies the process's streams.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 3 {
		switch args[0] {
		case relayCommand:
			return serveRelay(args[1], args[2])
		case fixedCommand:
			return serveFixed(args[1], args[2])
		case reverseProxyCommand:
			return serveReverseProxy(args[1], args[2], newUpstreamClient(64).Transport)
		case cdnProxyCommand:
			return serveReverseProxy(args[1], args[2], newHTTPClient(64).Transport)
		}
	}
	cfg, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	b, err := newBench(ctx, cfg, stderr)
	if err != nil {
		return err
	}
	defer b.close()

	rep := b.runAll(ctx)
	md := rep.markdown()
	if _, err := io.WriteString(stdout, md); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	if cfg.out != "" {
		if err := writeSection(cfg.out, md); err != nil {
			return err
		}
		b.logf("wrote the results into %s", cfg.out)
	}
	if len(rep.failures) > 0 {
		return fmt.Errorf("%w: %d scenario(s) failed: %v", errFunctional, len(rep.failures), errors.Join(rep.failures...))
	}
	return ctx.Err()
}
