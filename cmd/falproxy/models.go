package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/falproxy/falproxy/internal/config"
	"github.com/falproxy/falproxy/internal/falschema"
	"github.com/falproxy/falproxy/internal/images"
)

// models prints every configured model and how falproxy drives it: for an
// image alias, its kind (image, or edit when it requires an input image),
// what its fal schema offers and what sample OpenAI sizes become; for a
// chat alias, the fal model id, its kind and the backend. It fails (exit
// 1) when a schema could not be fetched, after printing what is known.
func models(ctx context.Context, args []string, environ func(string) (string, bool), stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("falproxy models", flag.ContinueOnError)
	asJSON := fs.Bool("json", false, "print JSON instead of text")
	r, _, err := inspectCommand(ctx, fs, args, environ, stderr)
	if r == nil || err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(r); err != nil {
			return fmt.Errorf("falproxy models: %w", err)
		}
	} else if err := writeReport(stdout, r); err != nil {
		return fmt.Errorf("falproxy models: %w", err)
	}
	if n := r.failed(); n > 0 {
		return &exitCode{1, fmt.Errorf("falproxy models: the schema of %d of %d image models could not be fetched", n, len(r.ImageModels))}
	}
	if n := r.videoFailures(); n > 0 {
		return &exitCode{1, fmt.Errorf("falproxy models: a schema of %d of %d video models could not be fetched", n, len(r.VideoModels))}
	}
	if problems := judgeAudio(r); len(problems) > 0 {
		return &exitCode{1, fmt.Errorf("falproxy models: %s", strings.Join(problems, "; "))}
	}
	return nil
}

// inspectCommand is the common start of models and check: parse the
// subcommand's flags, load the configuration as serve does, and inspect
// every configured model, returning the configuration too. A nil report with a nil error means help was
// printed and there is nothing more to do.
func inspectCommand(ctx context.Context, fs *flag.FlagSet, args []string, environ func(string) (string, bool), stderr io.Writer) (*report, *config.Config, error) {
	fs.SetOutput(stderr)
	if help, err := parseFlags(fs, args); help || err != nil {
		return nil, nil, err
	}
	cfg, err := loadConfig(environ, nil)
	if err != nil {
		return nil, nil, err
	}
	return inspect(ctx, cfg), cfg, nil
}

// parseFlags parses a subcommand's flags and refuses stray arguments;
// usage problems exit with status 2, as for an unknown command. It
// reports help when -h or --help was asked for and the usage is printed,
// in which case the command does nothing more.
func parseFlags(fs *flag.FlagSet, args []string) (help bool, err error) {
	err = fs.Parse(args)
	switch {
	case errors.Is(err, flag.ErrHelp):
		return true, nil
	case err != nil:
		return false, &exitCode{2, err}
	case fs.NArg() > 0:
		return false, &exitCode{2, fmt.Errorf("%s: unexpected argument %q", fs.Name(), fs.Arg(0))}
	}
	return false, nil
}

// writeReport prints r as aligned text.
func writeReport(w io.Writer, r *report) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "Image models (%d)\n", len(r.ImageModels))
	for _, m := range r.ImageModels {
		fmt.Fprintf(tw, "\n%s → %s", m.Alias, m.Endpoint)
		if m.Alias == r.DefaultImageModel {
			fmt.Fprint(tw, "  (default)")
		}
		fmt.Fprintln(tw)
		fmt.Fprintf(tw, "  kind\t%s\n", m.Kind)
		if m.Error != "" {
			fmt.Fprintf(tw, "  error\tschema fetch failed: %s\n", m.Error)
			continue
		}
		writeDescription(tw, m.Capabilities)
	}
	fmt.Fprintf(tw, "\nChat models (%d), served by %s\n\n", len(r.ChatModels), r.ChatBackend)
	for _, m := range r.ChatModels {
		fmt.Fprintf(tw, "  %s\t→ %s\t%s\n", m.Alias, m.Model, m.Kind)
	}
	writeVideos(tw, r)
	writeAudioReport(tw, r.AudioModels)
	if len(r.EmbeddingModels) > 0 {
		fmt.Fprintf(tw, "\nEmbedding models (%d), served by %s\n\n", len(r.EmbeddingModels), r.EmbeddingModels[0].Endpoint)
		for _, m := range r.EmbeddingModels {
			fmt.Fprintf(tw, "  %s\t→ %s\t%s\n", m.Alias, m.Model, m.Kind)
		}
	}
	return tw.Flush()
}

// writeDescription prints one image model's summary, a labelled row per
// aspect.
func writeDescription(w io.Writer, d *images.Description) {
	row := func(label, value string) { fmt.Fprintf(w, "  %s\t%s\n", label, value) }
	if !d.Generates {
		row("generates", "no: edit-only, the schema requires an input image; use /v1/images/edits")
	}
	row("size", sizeText(d.Size))
	row("n", countText(d.NumImages))
	row("output", formatText(d.OutputFormat))
	row("seed", yesNo(d.Seed, "", "a requested seed is not sent"))
	row("sync_mode", yesNo(d.SyncMode, "b64_json images arrive inline", "b64_json images are downloaded and encoded"))
	row("safety", yesNo(d.SafetyChecker, "enable_safety_checker is sent as SAFETY_CHECKER says", "the model has no safety checker field"))
	row("edit", editText(d.Edit))
	for _, name := range slices.Sorted(maps.Keys(d.Enums)) {
		row(name, strings.Join(d.Enums[name], ", "))
	}
	row("other", listOr(d.OtherFields, "none"))
	for i, ex := range d.Examples {
		label := ""
		if i == 0 {
			label = "examples"
		}
		fmt.Fprintf(w, "  %s\t%s\t→ %s\n", label, ex.Size, exampleText(ex))
	}
}

// sizeText describes the size control: family, field, values and bounds.
func sizeText(s falschema.SizeSpec) string {
	var parts []string
	switch s.Kind {
	case falschema.SizeNone:
		parts = append(parts, "none: the model picks its size")
	case falschema.SizeWidthHeight:
		parts = append(parts, "width_height (fields width, height)")
	case falschema.SizeResolution:
		parts = append(parts, "resolution tiers only")
	default:
		parts = append(parts, fmt.Sprintf("%s (field %s)", s.Kind, s.Field))
	}
	if len(s.Presets) > 0 {
		parts = append(parts, "presets "+strings.Join(s.Presets, ", "))
	}
	if len(s.Pixels) > 0 {
		parts = append(parts, "sizes "+strings.Join(s.Pixels, ", "))
	}
	if s.FreePixels {
		parts = append(parts, "any WxH string")
	}
	if len(s.AspectRatios) > 0 {
		parts = append(parts, "ratios "+strings.Join(s.AspectRatios, ", "))
	}
	if s.FreeAspect {
		parts = append(parts, "any W:H ratio")
	}
	if s.Object {
		parts = append(parts, "{width, height} object")
	}
	if b := boundsText(s); b != "" {
		parts = append(parts, b)
	}
	if r := s.Resolution; r != nil {
		parts = append(parts, fmt.Sprintf("resolution tiers (field %s) %s", r.Field, strings.Join(r.Values, ", ")))
	}
	return strings.Join(parts, "; ")
}

// boundsText renders pixel bounds, e.g. "width 256–1440, height ≤1440,
// multiple of 32"; empty when the schema declares none.
func boundsText(s falschema.SizeSpec) string {
	var parts []string
	for _, side := range []struct {
		name     string
		min, max int
	}{{"width", s.MinW, s.MaxW}, {"height", s.MinH, s.MaxH}} {
		switch {
		case side.min > 0 && side.max > 0:
			parts = append(parts, fmt.Sprintf("%s %d–%d", side.name, side.min, side.max))
		case side.min > 0:
			parts = append(parts, fmt.Sprintf("%s ≥%d", side.name, side.min))
		case side.max > 0:
			parts = append(parts, fmt.Sprintf("%s ≤%d", side.name, side.max))
		}
	}
	if s.Multiple > 1 {
		parts = append(parts, "multiple of "+strconv.Itoa(s.Multiple))
	}
	return strings.Join(parts, ", ")
}

// countText describes how n is honoured.
func countText(r *falschema.IntRange) string {
	switch {
	case r == nil:
		return "none: falproxy splits n into jobs of one image"
	case r.Max == 0:
		return fmt.Sprintf("num_images ≥%d, no maximum", r.Min)
	}
	return fmt.Sprintf("num_images %d–%d; a larger n runs several jobs", r.Min, r.Max)
}

// formatText describes the output format field.
func formatText(f *falschema.EnumField) string {
	switch {
	case f == nil:
		return "none: output_format is ignored"
	case len(f.Values) == 0:
		return f.Field + ": any value"
	case f.Open:
		return f.Field + ": " + strings.Join(f.Values, ", ") + ", or others"
	}
	return f.Field + ": " + strings.Join(f.Values, ", ")
}

// editText describes how the model takes input images.
func editText(in *falschema.ImageInput) string {
	if in == nil {
		return "no: the model takes no input image"
	}
	s := in.Field + " (one image)"
	if in.Multiple {
		s = in.Field + " (a list"
		if in.MaxImages > 0 {
			s += " of up to " + strconv.Itoa(in.MaxImages)
		}
		s += ")"
	}
	switch {
	case in.MaskField != "" && in.MaskRequired:
		s += "; mask " + in.MaskField + " (required)"
	case in.MaskField != "":
		s += "; mask " + in.MaskField
	}
	return s
}

// exampleText renders the size fields one example sends, sorted by name,
// values as JSON.
func exampleText(ex images.SizeExample) string {
	if ex.Error != "" {
		return "refused: " + ex.Error
	}
	if len(ex.Sent) == 0 {
		return "nothing (the model's default)"
	}
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(ex.Sent)) {
		b, err := json.Marshal(ex.Sent[k])
		if err != nil {
			b = []byte(fmt.Sprint(ex.Sent[k]))
		}
		parts = append(parts, k+"="+string(b))
	}
	return strings.Join(parts, " ")
}

// yesNo renders a feature flag with what it means either way.
func yesNo(ok bool, yes, no string) string {
	switch {
	case ok && yes == "":
		return "yes"
	case ok:
		return "yes: " + yes
	}
	return "no: " + no
}

// listOr joins items, or says empty when there are none.
func listOr(items []string, empty string) string {
	if len(items) == 0 {
		return empty
	}
	return strings.Join(items, ", ")
}
