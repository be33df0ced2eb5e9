package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
)

// check validates the configuration (exit 2 with its problem lines, as
// serve), reaches the schema of every image endpoint, and reaches the
// database and Redis serve would use (see checkLinks). Problems exit 1
// with one line each; warnings are printed and do not fail. Nothing it
// prints carries a key: errors pass through the configuration's redactor.
func check(ctx context.Context, args []string, environ func(string) (string, bool), stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("falproxy check", flag.ContinueOnError)
	r, cfg, err := inspectCommand(ctx, fs, args, environ, stderr)
	if r == nil || err != nil {
		return err
	}
	problems, warnings := judge(r)
	problems = append(problems, judgeVideos(r)...)
	problems = append(problems, judgeAudio(r)...)
	problems = append(problems, checkLinks(ctx, cfg, stdout)...)
	for _, w := range warnings {
		fmt.Fprintln(stdout, "warning: "+w)
	}
	if len(problems) > 0 {
		return &exitCode{1, errors.New(strings.Join(problems, "\n"))}
	}
	fmt.Fprintf(stdout, "ok: %d image models, %d chat models%s%s\n", len(r.ImageModels), len(r.ChatModels), videoSummary(r), audioSummary(r))
	return nil
}

// judge sorts what check found into problems, which make falproxy fail
// requests it is configured to serve, and warnings. An edit-only model is
// a problem only as the default image model, which requests naming no
// model are sent to; elsewhere it is a warning, since it serves edits.
func judge(r *report) (problems, warnings []string) {
	for _, m := range r.ImageModels {
		name := fmt.Sprintf("%s (%s)", m.Alias, m.Endpoint)
		switch {
		case m.Error != "":
			problems = append(problems, name+": schema fetch failed: "+m.Error)
		case m.Capabilities.Generates:
			// Serves generations (and edits, if it takes images): fine.
		case m.Alias == r.DefaultImageModel:
			problems = append(problems, name+": edit-only model is the default image model: generations without a model will be refused")
		default:
			warnings = append(warnings, name+": edit-only model: generations will be refused; edits work")
		}
	}
	return problems, warnings
}
