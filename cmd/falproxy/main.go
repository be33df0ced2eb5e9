// Command falproxy serves fal.ai image models and LLMs behind the OpenAI
// API. See the README for the subcommands and configuration.
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

// exitCode lets run choose the process status (2 for configuration).
type exitCode struct {
	code int
	err  error
}

func (e *exitCode) Error() string { return e.err.Error() }
func (e *exitCode) Unwrap() error { return e.err }

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// After the first signal starts a graceful shutdown, a second one
	// ends the process at once.
	go func() {
		<-ctx.Done()
		stop()
	}()
	// The log is buffered here, not only in serve, so that the lines
	// logged after serve returned are written before the process exits.
	logOut, flushLog := bufferedLog(os.Stderr)
	err := run(ctx, os.Args[1:], os.LookupEnv, os.Stdout, logOut)
	flushLog()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		var ec *exitCode
		if errors.As(err, &ec) {
			os.Exit(ec.code)
		}
		os.Exit(1)
	}
}

const usage = `usage: falproxy [command]

commands:
  serve        run the proxy (default); configuration from .env and the environment
  demo         run the proxy against the built-in fal emulator; needs no fal key
  models       show every configured model and how requests map onto it (--json)
  check        validate the configuration and reach every model's schema, the database and Redis
  keys         create, list, show, update and revoke virtual keys (falproxy keys for help)
  usage        usage and cost totals from the ledger (--key, --model, --from, --to, --group-by)
  healthcheck  exit 0 if the proxy on 127.0.0.1:PORT answers /health (for containers)
  help         show this text
`

// run is the whole program; main only supplies the process's environment.
func run(ctx context.Context, args []string, environ func(string) (string, bool), stdout, stderr io.Writer) error {
	cmd := "serve"
	if len(args) > 0 {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "serve":
		return serve(ctx, environ, stdout, stderr, nil)
	case "demo":
		return demo(ctx, environ, stdout, stderr)
	case "models":
		return models(ctx, args, environ, stdout, stderr)
	case "check":
		return check(ctx, args, environ, stdout, stderr)
	case "keys":
		return keys(ctx, args, environ, stdout, stderr)
	case "usage":
		return usageTotals(ctx, args, environ, stdout, stderr)
	case "healthcheck":
		return healthcheck(ctx, environ)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return &exitCode{2, fmt.Errorf("falproxy: unknown command %q", cmd)}
}
