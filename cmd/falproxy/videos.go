package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/falproxy/falproxy/internal/config"
	"github.com/falproxy/falproxy/internal/falschema"
	"github.com/falproxy/falproxy/internal/server"
	"github.com/falproxy/falproxy/internal/video"
)

// inspectVideos describes every video alias, one after the other (they
// are few, and their endpoints share schema fetches).
func (r *report) inspectVideos(ctx context.Context, store *falschema.Store, cfg *config.Config) {
	for _, m := range cfg.VideoModels {
		info := server.InspectVideo(ctx, store, m, func(err error) string { return cfg.Redact(err.Error()) })
		r.VideoModels = append(r.VideoModels, info)
	}
}

// writeVideos prints the video models: each endpoint's durations, aspect
// ratios, resolutions and image field, and where remixes run.
func writeVideos(w io.Writer, r *report) {
	if len(r.VideoModels) == 0 {
		return
	}
	fmt.Fprintf(w, "\nVideo models (%d)\n", len(r.VideoModels))
	for _, m := range r.VideoModels {
		fmt.Fprintf(w, "\n%s\n", m.Alias)
		for _, e := range m.Endpoints {
			fmt.Fprintf(w, "  %s\t%s\n", e.Role, e.Endpoint)
			if e.Error != "" {
				fmt.Fprintf(w, "    error\tschema fetch failed: %s\n", e.Error)
				continue
			}
			writeVideoDescription(w, e.Capabilities)
		}
		if m.Remix == "" {
			fmt.Fprintf(w, "  remix\tnone: the model cannot remix\n")
		}
	}
}

// writeVideoDescription prints one video endpoint's summary.
func writeVideoDescription(w io.Writer, d *video.Description) {
	row := func(label, value string) { fmt.Fprintf(w, "    %s\t%s\n", label, value) }
	if d.Remix {
		row("remixes", "by video_id")
		return
	}
	row("durations", durations(d))
	row("aspect ratios", listOr(d.AspectRatios, "none"))
	row("resolutions", listOr(d.Resolutions, "none"))
	if d.ImageField != "" {
		row("image field", d.ImageField)
	}
	row("other", listOr(d.Extras, "none"))
}

// durations words what a model takes as its length: the allowed values,
// or any number of seconds within the free field's bounds.
func durations(d *video.Description) string {
	num := func(f *float64) string { return strconv.FormatFloat(*f, 'f', -1, 64) }
	switch {
	case !d.Duration:
		return "none: the model picks the length"
	case len(d.Durations) > 0:
		return strings.Join(d.Durations, ", ")
	case d.MinSeconds != nil && d.MaxSeconds != nil:
		return "any, " + num(d.MinSeconds) + " to " + num(d.MaxSeconds) + " seconds"
	case d.MinSeconds != nil:
		return "any, at least " + num(d.MinSeconds) + " seconds"
	case d.MaxSeconds != nil:
		return "any, at most " + num(d.MaxSeconds) + " seconds"
	}
	return "any number of seconds"
}

// videoFailures counts the video models a schema of which could not be
// fetched, as their endpoints report.
func (r *report) videoFailures() int {
	n := 0
	for _, m := range r.VideoModels {
		if slices.ContainsFunc(m.Endpoints, func(e server.VideoEndpointInfo) bool { return e.Error != "" }) {
			n++
		}
	}
	return n
}

// judgeVideos adds the video models' failed schema fetches to check's
// problems.
func judgeVideos(r *report) (problems []string) {
	for _, m := range r.VideoModels {
		for _, e := range m.Endpoints {
			if e.Error != "" {
				problems = append(problems, fmt.Sprintf("%s (%s %s): schema fetch failed: %s", m.Alias, e.Role, e.Endpoint, e.Error))
			}
		}
	}
	return problems
}

// videoSummary is check's count of video models, "" when there are none.
func videoSummary(r *report) string {
	if len(r.VideoModels) == 0 {
		return ""
	}
	return fmt.Sprintf(", %d video models", len(r.VideoModels))
}
