package main

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/falproxy/falproxy/internal/falschema"
	"github.com/falproxy/falproxy/internal/server"
)

// writeAudioReport prints the audio models: kind, and what their schema
// offers (voices, formats and speed range of a speech model; task,
// languages and chunk levels of a transcription model).
func writeAudioReport(w io.Writer, models []server.AudioModelInfo) {
	if len(models) == 0 {
		return
	}
	fmt.Fprintf(w, "\nAudio models (%d)\n", len(models))
	for _, m := range models {
		fmt.Fprintf(w, "\n%s → %s\n  kind\t%s\n", m.Alias, m.Endpoint, m.Kind)
		row := func(label, value string) { fmt.Fprintf(w, "  %s\t%s\n", label, value) }
		switch a := m.Audio; {
		case m.Error != "":
			row("error", "schema fetch failed: "+m.Error)
		case a == nil:
			row("error", "neither speaks nor transcribes: the schema has no audio output and no transcript")
		case a.Kind == falschema.Speaks:
			row("text", fieldText(a.Text, a.TextMax))
			row("voices", enumText(a.Voice, "any voice id"))
			if a.Format == nil {
				row("formats", "the model's own, answered with its true Content-Type")
			} else {
				row("formats", enumText(a.Format, "any"))
			}
			row("speed", rangeText(a.Speed))
		default:
			row("translates", yesNo(a.Task.Has("translate"), "task translate", "no: /v1/audio/translations is refused"))
			row("languages", enumText(a.Language, "any"))
			row("word timestamps", yesNo(a.ChunkLevel.Has("word"), "chunk_level word", "the model has no word-level chunks"))
			row("prompt", yesNo(a.Prompt != "", "sent as "+a.Prompt, "not sent"))
		}
	}
}

// judgeAudio names the audio models falproxy cannot serve.
func judgeAudio(r *report) []string {
	var problems []string
	for _, m := range r.AudioModels {
		name := fmt.Sprintf("%s (%s)", m.Alias, m.Endpoint)
		switch {
		case m.Error != "":
			problems = append(problems, name+": schema fetch failed: "+m.Error)
		case m.Audio == nil:
			problems = append(problems, name+": not an audio model: it neither speaks nor transcribes")
		}
	}
	return problems
}

// audioSummary counts the audio models for check's ok line, "" when
// there are none.
func audioSummary(r *report) string {
	if len(r.AudioModels) == 0 {
		return ""
	}
	return fmt.Sprintf(", %d audio models", len(r.AudioModels))
}

func fieldText(name string, max int) string {
	if max > 0 {
		return name + " (at most " + strconv.Itoa(max) + " characters)"
	}
	return name
}

// enumText lists a field's values, or says what it takes without a list.
func enumText(f *falschema.AudioField, open string) string {
	switch {
	case f == nil:
		return "none"
	case len(f.Values) == 0 && f.Default != "":
		return f.Path + ": " + open + ", default " + f.Default
	case len(f.Values) == 0:
		return f.Path + ": " + open
	}
	s := f.Path + ": " + strings.Join(f.Values, ", ")
	if f.Default != "" {
		s += " (default " + f.Default + ")"
	}
	return s
}

// rangeText is a speed field's bounds.
func rangeText(f *falschema.AudioField) string {
	if f == nil {
		return "none: a requested speed is not sent"
	}
	lo, hi := "any", "any"
	if f.Min != nil {
		lo = strconv.FormatFloat(*f.Min, 'g', -1, 64)
	}
	if f.Max != nil {
		hi = strconv.FormatFloat(*f.Max, 'g', -1, 64)
	}
	return f.Path + ": " + lo + " to " + hi + " (requests are clamped to it)"
}
