package main

import (
	"context"
	"fmt"
	"io"

	"github.com/falproxy/falproxy/internal/config"
	"github.com/falproxy/falproxy/internal/falschema"
	"github.com/falproxy/falproxy/internal/server"
	"github.com/falproxy/falproxy/internal/video"
)

// inspectVideos describes every video alias, one after the other (they
// are few, and their endpoints share schema fetches).
func (r *report) inspectVideos(ctx context.Context, store *falschema.Store, cfg *config.Config) {
	for _, m := range cfg.VideoModels {
		info, failed := server.InspectVideo(ctx, store, m, func(err error) string { return cfg.Redact(err.Error()) })
		if failed {
			r.videoFailures++
		}
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
	row("durations", listOr(d.Durations, "none: the model picks the length"))
	row("aspect ratios", listOr(d.AspectRatios, "none"))
	row("resolutions", listOr(d.Resolutions, "none"))
	if d.ImageField != "" {
		row("image field", d.ImageField)
	}
	row("other", listOr(d.Extras, "none"))
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
