package audio

import (
	"slices"

	"github.com/falproxy/falproxy/internal/falschema"
	"github.com/falproxy/falproxy/internal/openai"
)

// TranscriptPlan is the fal input of a transcription or translation and
// what the answer needs.
type TranscriptPlan struct {
	Input  map[string]any
	Format string // the response_format, json by default
	Task   string // "transcribe" or "translate"
	Words  bool   // verbose_json lists words
}

// PlanTranscription builds the fal input of a transcription or
// translation; the caller adds the recording's URL at a.AudioURL once it
// has one. Translation needs the model's task "translate"; a language must
// be one the model declares (none given, a model that defaults to one
// language is asked to detect it, as OpenAI does, for a translation too:
// the language is the recording's); the prompt goes where the model takes
// one; word timestamps need the model's word-level chunks, and timed
// formats its segment chunks. Temperature is not sent: fal's models take
// none.
func PlanTranscription(req *openai.TranscriptionRequest, a *falschema.Audio, alias string, translate bool) (*TranscriptPlan, *openai.Error) {
	p := &TranscriptPlan{Input: map[string]any{}, Format: req.ResponseFormat, Task: "transcribe"}
	if p.Format == "" {
		p.Format = "json"
	}
	if translate {
		if !a.Task.Has("translate") {
			return nil, openai.InvalidRequest("model", "model_not_supported",
				"The model `%s` does not translate; use /v1/audio/transcriptions, or a model that offers translation.", alias)
		}
		p.Task = "translate"
	}
	if a.Task.Has(p.Task) {
		set(p.Input, a.Task.Path, p.Task)
	}
	if e := planLanguage(p, req.Language, a, alias); e != nil {
		return nil, e
	}
	if req.Prompt != "" && a.Prompt != "" {
		set(p.Input, a.Prompt, req.Prompt)
	}
	timed := p.Format == "srt" || p.Format == "vtt" || p.Format == "verbose_json"
	p.Words = p.Format == "verbose_json" && slices.Contains(req.Granularities, "word")
	switch {
	case p.Words && !a.ChunkLevel.Has("word"):
		return nil, openai.InvalidRequest("timestamp_granularities", "unsupported_value",
			"The model `%s` gives no word-level timestamps; ask for segment granularity only.", alias)
	case p.Words:
		set(p.Input, a.ChunkLevel.Path, "word")
	case timed && a.ChunkLevel.Has("segment"):
		set(p.Input, a.ChunkLevel.Path, "segment")
	}
	return p, nil
}

// planLanguage sets the language of the recording.
func planLanguage(p *TranscriptPlan, lang string, a *falschema.Audio, alias string) *openai.Error {
	f := a.Language
	switch {
	case f == nil:
		return nil
	case lang == "":
		if f.Default != "" && f.Nullable {
			p.Input[f.Path] = nil // detect the language rather than assume the default
		}
		return nil
	case len(f.Values) > 0 && !f.Has(lang):
		return openai.InvalidRequest("language", "invalid_value",
			"Invalid 'language': the model `%s` does not know %q; give an ISO-639-1 code such as en, de or zh.", alias, openai.Echo(lang))
	}
	set(p.Input, f.Path, lang)
	return nil
}
