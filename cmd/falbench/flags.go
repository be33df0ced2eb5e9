package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// errUsage is a command-line mistake (exit status 2).
var errUsage = errors.New("usage")

// config is what the command line chose.
type config struct {
	quick    bool
	out      string       // file whose falbench section is replaced; "" = stdout only
	only     map[int]bool // scenarios to run; nil = all
	falproxy string       // prebuilt binary; "" = go build ./cmd/falproxy
	args     []string     // as given, for the report's command line
}

func parseFlags(args []string, stderr io.Writer) (*config, error) {
	fs := flag.NewFlagSet("falbench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg := &config{args: args}
	var only string
	fs.BoolVar(&cfg.quick, "quick", false, "smoke run in seconds (few samples); fails only on functional errors")
	fs.StringVar(&cfg.out, "out", "", "also write the results into this markdown file, between the falbench markers")
	fs.StringVar(&only, "only", "", "comma-separated scenario numbers to run (default: all)")
	fs.StringVar(&cfg.falproxy, "falproxy", "", "use this falproxy binary instead of building ./cmd/falproxy")
	if err := fs.Parse(args); err != nil {
		return nil, fmt.Errorf("%w: %w", errUsage, err)
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("%w: unexpected arguments %q", errUsage, fs.Args())
	}
	if only != "" {
		cfg.only = map[int]bool{}
		for _, s := range strings.Split(only, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(s))
			if err != nil || n < 1 || n > len(scenarios) {
				return nil, fmt.Errorf("%w: -only takes numbers 1-%d, got %q", errUsage, len(scenarios), s)
			}
			cfg.only[n] = true
		}
	}
	return cfg, nil
}

// command is the command line that reproduces this run.
func (c *config) command() string {
	return strings.TrimSpace("go run ./cmd/falbench " + strings.Join(c.args, " "))
}
