package audio

import (
	"encoding/json"
	"strings"
	"testing"
)

// FuzzRender feeds arbitrary fal output to ParseTranscript and renders
// whatever it accepts in every format: nothing may panic, JSON formats
// must be valid JSON, and SRT cues are numbered from 1.
func FuzzRender(f *testing.F) {
	f.Add([]byte(knownChunks))
	f.Add([]byte(`{"text":"a","chunks":[{"timestamp":[null,null],"text":"a"}]}`))
	f.Add([]byte(`{"text":"x","chunks":[{"timestamp":[-5,1e308],"text":"x."},{"timestamp":[],"text":""}]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		tr, err := ParseTranscript(body)
		if err != nil {
			return
		}
		for _, words := range []bool{false, true} {
			for _, format := range []string{"json", "text", "srt", "vtt", "verbose_json"} {
				ct, out := Render(tr, format, "transcribe", words)
				if strings.HasPrefix(ct, "application/json") && !json.Valid(out) {
					t.Fatalf("%s: invalid JSON %q", format, out)
				}
				if format == "srt" && len(tr.Segments(words)) > 0 && !strings.HasPrefix(string(out), "1\n") {
					t.Fatalf("srt does not start at cue 1: %q", out)
				}
			}
		}
	})
}
