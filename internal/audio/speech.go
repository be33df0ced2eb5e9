package audio

import (
	"slices"
	"strings"

	"github.com/falproxy/falproxy/internal/falschema"
	"github.com/falproxy/falproxy/internal/openai"
)

// OpenAIVoices are the voice names of OpenAI's speech models. A model
// without a voice of that name gets its default voice instead.
var OpenAIVoices = []string{"alloy", "ash", "ballad", "cedar", "coral", "echo", "fable", "marin", "nova", "onyx", "sage", "shimmer", "verse"}

// SpeechPlan is the fal input of a speech request.
type SpeechPlan struct {
	Input map[string]any
	// Voice is the voice fal is asked for; Mapped reports that it is not
	// the one the client named (an OpenAI name mapped to the model's
	// voice, or its default).
	Voice  string
	Mapped bool
	// Format is the format the model was asked for in its format field;
	// "" when it has none or does not offer the one requested.
	Format string
}

// PlanSpeech builds the fal input of a speech request for a model that
// speaks. The text goes to the model's text field; the voice passes
// through when the model declares it (or takes any voice), an OpenAI
// voice name maps to the model's voice whose id contains it or else to
// its default; speed is clamped to the model's bounds; response_format
// goes to the model's format field when it offers that format (otherwise
// the model answers its own format), and pcm is asked for at OpenAI's
// 24 kHz mono where the model lets it be chosen; a model that can answer
// hex is asked for a URL.
func PlanSpeech(req *openai.SpeechRequest, a *falschema.Audio, alias string) (*SpeechPlan, *openai.Error) {
	p := &SpeechPlan{Input: map[string]any{}}
	if a.TextMax > 0 && len([]rune(req.Input)) > a.TextMax {
		return nil, openai.InvalidRequest("input", "string_above_max_length",
			"Invalid 'input': the model `%s` reads at most %d characters.", alias, a.TextMax)
	}
	set(p.Input, a.Text, req.Input)
	if a.Voice != nil {
		voice, mapped, e := pickVoice(req.Voice, a.Voice, alias)
		if e != nil {
			return nil, e
		}
		if voice != "" {
			set(p.Input, a.Voice.Path, voice)
		}
		p.Voice, p.Mapped = voice, mapped
	}
	if a.Speed != nil && req.Speed != nil {
		set(p.Input, a.Speed.Path, clamp(*req.Speed, a.Speed))
	}
	format := req.ResponseFormat
	if format == "" {
		format = "mp3"
	}
	if a.Format.Has(format) {
		set(p.Input, a.Format.Path, format)
		p.Format = format
	}
	if p.Format == "pcm" {
		set(p.Input, a.PCMRate, 24000)
		set(p.Input, a.PCMChannel, 1)
	}
	if a.Delivery.Has("url") {
		set(p.Input, a.Delivery.Path, "url")
	}
	return p, nil
}

// pickVoice chooses the voice fal gets. mapped reports a voice other than
// the one asked for; "" (with no error) leaves the model's default to fal.
func pickVoice(asked string, f *falschema.AudioField, alias string) (voice string, mapped bool, e *openai.Error) {
	switch {
	case asked == "":
		return f.Default, f.Default != "", nil
	case f.Has(asked):
		return asked, false, nil
	case slices.Contains(OpenAIVoices, strings.ToLower(asked)):
		name := strings.ToLower(asked)
		for _, v := range f.Values {
			if strings.Contains(strings.ToLower(v), name) {
				return v, true, nil
			}
		}
		return f.Default, f.Default != "", nil
	case len(f.Values) == 0:
		return asked, false, nil // the model takes any voice id
	}
	return "", false, openai.InvalidRequest("voice", "invalid_value",
		"Invalid 'voice': the model `%s` has no voice %q. Use an OpenAI voice name or one of its voices, such as %s.",
		alias, openai.Echo(asked), strings.Join(f.Values[:min(len(f.Values), 5)], ", "))
}

// MappedVoice is the voice of a that the OpenAI voice name gets in its
// place ("" when the name itself is used), so that a listing can show the
// mapping.
func MappedVoice(name string, a *falschema.Audio) string {
	if a == nil || a.Voice == nil {
		return ""
	}
	voice, mapped, _ := pickVoice(name, a.Voice, "")
	if !mapped {
		return ""
	}
	return voice
}

// clamp keeps a speed within the field's bounds.
func clamp(v float64, f *falschema.AudioField) float64 {
	if f.Min != nil {
		v = max(v, *f.Min)
	}
	if f.Max != nil {
		v = min(v, *f.Max)
	}
	return v
}

// set stores v at a dotted path, making the nested objects on the way.
func set(in map[string]any, path string, v any) {
	if path == "" {
		return
	}
	head, rest, nested := strings.Cut(path, ".")
	if !nested {
		in[head] = v
		return
	}
	sub, ok := in[head].(map[string]any)
	if !ok {
		sub = map[string]any{}
		in[head] = sub
	}
	set(sub, rest, v)
}

// Param names the OpenAI field a fal input path came from, for errors of
// a fal 422 ("voice_setting.voice_id" is the voice).
func Param(a *falschema.Audio, falPath string) string {
	for param, f := range map[string]*falschema.AudioField{"voice": a.Voice, "speed": a.Speed, "response_format": a.Format, "language": a.Language} {
		if f != nil && f.Path == falPath {
			return param
		}
	}
	switch falPath {
	case a.Text:
		return "input"
	case a.AudioURL:
		return "file"
	case a.Prompt:
		return "prompt"
	}
	return falPath
}

// Voices lists a speech model's declared voices, or its default voice
// when it declares no list.
func Voices(a *falschema.Audio) []string {
	if a == nil || a.Voice == nil {
		return nil
	}
	if len(a.Voice.Values) > 0 {
		return a.Voice.Values
	}
	if a.Voice.Default != "" {
		return []string{a.Voice.Default}
	}
	return nil
}
