package audio

import (
	"strings"
	"testing"

	"github.com/falproxy/falproxy/internal/openai"
)

// TestPlanTranscription checks what fal receives for each request shape
// on Wizper and Whisper.
func TestPlanTranscription(t *testing.T) {
	const wizper, whisper = "fal-ai/wizper", "fal-ai/whisper"
	tests := []struct {
		endpoint  string
		req       openai.TranscriptionRequest
		translate bool
		want      string
		words     bool
	}{
		{wizper, openai.TranscriptionRequest{}, false, `{"task":"transcribe","language":null}`, false},
		{wizper, openai.TranscriptionRequest{Language: "de", Prompt: "ignored", ResponseFormat: "srt"}, false, `{"task":"transcribe","language":"de"}`, false},
		{wizper, openai.TranscriptionRequest{Language: "de"}, true, `{"task":"translate","language":"de"}`, false},
		{wizper, openai.TranscriptionRequest{}, true, `{"task":"translate","language":null}`, false},
		{whisper, openai.TranscriptionRequest{Prompt: "names: Ada", ResponseFormat: "vtt"}, false, `{"task":"transcribe","prompt":"names: Ada","chunk_level":"segment"}`, false},
		{whisper, openai.TranscriptionRequest{ResponseFormat: "verbose_json", Granularities: []string{"word", "segment"}}, false, `{"task":"transcribe","chunk_level":"word"}`, true},
		{whisper, openai.TranscriptionRequest{ResponseFormat: "json", Granularities: []string{"word"}}, false, `{"task":"transcribe"}`, false},
		{whisper, openai.TranscriptionRequest{ResponseFormat: "text"}, true, `{"task":"translate"}`, false},
	}
	for _, tt := range tests {
		p, e := PlanTranscription(&tt.req, audioSpec(t, tt.endpoint), "whisper-1", tt.translate)
		if e != nil {
			t.Errorf("%s %+v: %v", tt.endpoint, tt.req, e)
			continue
		}
		if got := jsonOf(t, p.Input); got != jsonOf(t, jsonValue(t, tt.want)) {
			t.Errorf("%s %+v translate=%v:\n got %s\nwant %s", tt.endpoint, tt.req, tt.translate, got, tt.want)
		}
		if p.Words != tt.words {
			t.Errorf("%s %+v: words = %v", tt.endpoint, tt.req, p.Words)
		}
	}
}

// TestPlanTranscriptionRejects checks the 400s: an unknown language, word
// timestamps from a model that has none, translation by a model without
// the task.
func TestPlanTranscriptionRejects(t *testing.T) {
	wizper := audioSpec(t, "fal-ai/wizper")
	cases := []struct {
		req       openai.TranscriptionRequest
		translate bool
		param     string
	}{
		{openai.TranscriptionRequest{Language: "klingon"}, false, "language"},
		{openai.TranscriptionRequest{ResponseFormat: "verbose_json", Granularities: []string{"word"}}, false, "timestamp_granularities"},
	}
	for _, c := range cases {
		if _, e := PlanTranscription(&c.req, wizper, "whisper-1", c.translate); e == nil || e.Param != c.param || e.Status != 400 {
			t.Errorf("%+v: %v, want a 400 naming %s", c.req, e, c.param)
		}
	}
	noTask := *wizper
	noTask.Task = nil
	if _, e := PlanTranscription(&openai.TranscriptionRequest{}, &noTask, "stt", true); e == nil || e.Param != "model" || !strings.Contains(e.Message, "does not translate") {
		t.Errorf("translation without a translate task: %v", e)
	}
}
