package falschema

import (
	"encoding/json"
	"slices"
	"strings"
)

// AudioKind names what an audio endpoint does, as its output shows.
type AudioKind string

// The audio kinds: an "audio" file out (text to speech), or a "text"
// transcript out of an "audio_url" in (speech to text).
const (
	Speaks      AudioKind = "speech"
	Transcribes AudioKind = "transcription"
)

// Audio describes an audio endpoint: how it takes text, a voice, a speed
// and a format (speech), or an audio file, a task, a language and a chunk
// level (transcription). Fields are named by their path in the input:
// "voice", or "voice_setting.voice_id" for a field of a nested object.
type Audio struct {
	Kind AudioKind `json:"kind"`

	// Speech.
	Text     string      `json:"text,omitempty"`     // the field that takes the words
	TextMax  int         `json:"text_max,omitempty"` // its maxLength, 0 if none
	Voice    *AudioField `json:"voice,omitempty"`
	Speed    *AudioField `json:"speed,omitempty"`
	Format   *AudioField `json:"format,omitempty"`
	Delivery *AudioField `json:"delivery,omitempty"` // "output_format": url or hex
	// PCMRate and PCMChannel are the paths of a sample-rate field that
	// offers 24000 and of a channel-count field that takes 1: raw PCM has
	// no header, so it must come as OpenAI's pcm is, 24 kHz mono.
	PCMRate    string `json:"pcm_rate,omitempty"`
	PCMChannel string `json:"pcm_channel,omitempty"`

	// Transcription.
	AudioURL   string      `json:"audio_url,omitempty"`
	Task       *AudioField `json:"task,omitempty"`
	Language   *AudioField `json:"language,omitempty"`
	Prompt     string      `json:"prompt,omitempty"`
	ChunkLevel *AudioField `json:"chunk_level,omitempty"`
}

// AudioField is one input field an audio mapping uses: its path, its
// string enumeration, its default and its numeric bounds.
type AudioField struct {
	Path     string   `json:"path"`
	Values   []string `json:"values,omitempty"`
	Default  string   `json:"default,omitempty"`
	Min      *float64 `json:"min,omitempty"`
	Max      *float64 `json:"max,omitempty"`
	Nullable bool     `json:"nullable,omitempty"` // null is accepted
}

// Has reports whether the field takes the string v.
func (f *AudioField) Has(v string) bool { return f != nil && slices.Contains(f.Values, v) }

// audio reads the audio side of an endpoint from its input properties
// and the top-level properties of its output; nil when it neither speaks
// nor transcribes.
func (d *document) audio(out map[string]json.RawMessage, props map[string]*property) *Audio {
	switch {
	case out["video"] != nil || out["images"] != nil:
		return nil // a soundtrack beside a video is not speech
	case out["audio"] != nil && out["text"] == nil:
		return d.speechSpec(props)
	case out["text"] != nil && props["audio_url"] != nil:
		return transcriptionSpec(props)
	}
	return nil
}

// speechSpec finds the text, voice, speed and format fields of a TTS
// input, at the top level or one object deep (MiniMax's voice_setting and
// audio_setting).
func (d *document) speechSpec(props map[string]*property) *Audio {
	a := &Audio{Kind: Speaks}
	for _, name := range []string{"text", "prompt", "input"} {
		if p := props[name]; p != nil && p.field.takes("string") {
			a.Text = name
			a.TextMax = maxLength(p.variants)
			break
		}
	}
	fields := d.flatten(props)
	a.Voice = pick(fields, "voice", "voice_id", "voice_setting.voice_id")
	a.Speed = pick(fields, "speed", "voice_setting.speed")
	if f := pick(fields, "output_format"); f != nil && (f.Has("url") || f.Has("hex")) {
		a.Delivery = f
		a.Format = pick(fields, "audio_setting.format", "response_format", "format")
	} else {
		a.Format = pick(fields, "audio_setting.format", "response_format", "output_format", "format")
	}
	a.PCMRate = offering(fields, 24000, "audio_setting.sample_rate", "sample_rate")
	a.PCMChannel = offering(fields, 1, "audio_setting.channel", "channel", "channels")
	if a.Voice == nil {
		a.Voice = suffixed(fields, ".voice_id", ".voice")
	}
	if a.Speed == nil {
		a.Speed = suffixed(fields, ".speed")
	}
	if a.Format == nil {
		a.Format = suffixed(fields, ".format")
	}
	return a
}

// transcriptionSpec finds the fields of a speech-to-text input.
func transcriptionSpec(props map[string]*property) *Audio {
	a := &Audio{Kind: Transcribes, AudioURL: "audio_url"}
	fields := map[string]Field{}
	for name, p := range props {
		fields[name] = p.field
	}
	a.Task = pick(fields, "task")
	a.Language = pick(fields, "language")
	if pick(fields, "prompt") != nil {
		a.Prompt = "prompt"
	}
	a.ChunkLevel = pick(fields, "chunk_level")
	return a
}

// flatten lists the input fields by path: every top-level field, and the
// fields of each top-level object.
func (d *document) flatten(props map[string]*property) map[string]Field {
	fields := map[string]Field{}
	for name, p := range props {
		fields[name] = p.field
		for _, v := range p.variants {
			for sub, raw := range v.props {
				vs, nullable, err := d.variants(raw)
				if err != nil {
					continue
				}
				fields[name+"."+sub] = fieldOf(vs, nullable)
			}
		}
	}
	return fields
}

// pick describes the first of paths that is a declared field.
func pick(fields map[string]Field, paths ...string) *AudioField {
	for _, path := range paths {
		if f, ok := fields[path]; ok {
			return audioField(path, f)
		}
	}
	return nil
}

// offering is the first of paths that is a numeric field taking n: in
// its enumeration when it has one, within its bounds.
func offering(fields map[string]Field, n float64, paths ...string) string {
	for _, path := range paths {
		f, ok := fields[path]
		switch {
		case !ok || !f.takes("integer") && !f.takes("number"):
		case len(f.Enum) > 0 && !slices.Contains(f.Enum, any(n)):
		case f.Min != nil && n < *f.Min, f.Max != nil && n > *f.Max:
		default:
			return path
		}
	}
	return ""
}

// suffixed describes the first field, by sorted path, whose path ends in
// one of suffixes.
func suffixed(fields map[string]Field, suffixes ...string) *AudioField {
	paths := make([]string, 0, len(fields))
	for p := range fields {
		paths = append(paths, p)
	}
	slices.Sort(paths)
	for _, s := range suffixes {
		for _, p := range paths {
			if strings.HasSuffix(p, s) {
				return audioField(p, fields[p])
			}
		}
	}
	return nil
}

func audioField(path string, f Field) *AudioField {
	a := &AudioField{Path: path, Values: f.strings(), Min: f.Min, Max: f.Max, Nullable: f.Nullable}
	var def string
	if json.Unmarshal(f.Default, &def) == nil {
		a.Default = def
	}
	return a
}

// maxLength is the tightest maxLength of a string field's alternatives.
func maxLength(vs []*node) int {
	n := 0
	for _, v := range vs {
		if v.maxLen > 0 && (n == 0 || v.maxLen < n) {
			n = v.maxLen
		}
	}
	return min(n, maxInt)
}

// outputProperties resolves the top-level properties of the endpoint's
// output: the 200 answer of its result path (…/requests/{request_id}), or
// the <Name>Output schema next to its <Name>Input.
func (d *document) outputProperties(endpoint string, input json.RawMessage) map[string]json.RawMessage {
	var paths map[string]map[string]json.RawMessage
	lenient(d.root["paths"], &paths)
	var schema json.RawMessage
	want := "/" + strings.Trim(endpoint, "/") + "/requests/{request_id}"
	keys := make([]string, 0, len(paths))
	for p := range paths {
		keys = append(keys, p)
	}
	slices.Sort(keys)
	if i := slices.Index(keys, want); i > 0 {
		keys[0], keys[i] = keys[i], keys[0]
	}
	for _, p := range keys {
		if !strings.HasSuffix(p, "/requests/{request_id}") || paths[p]["get"] == nil {
			continue
		}
		var op struct {
			Responses map[string]struct {
				Content map[string]struct {
					Schema json.RawMessage `json:"schema"`
				} `json:"content"`
			} `json:"responses"`
		}
		lenient(paths[p]["get"], &op)
		if schema = op.Responses["200"].Content["application/json"].Schema; schema != nil {
			break
		}
	}
	if schema == nil {
		schema = d.outputByName(input)
	}
	if schema == nil {
		return nil
	}
	vs, _, err := d.variants(schema)
	if err != nil {
		return nil
	}
	out := map[string]json.RawMessage{}
	for _, v := range vs {
		for k, raw := range v.props {
			out[k] = raw
		}
	}
	return out
}

// outputByName finds, for documents without a result path, the schema
// named like the input schema with "Output" for "Input": the one the
// input's $ref names, else the first such pair by name, so that a
// document with several pairs always reduces the same way.
func (d *document) outputByName(input json.RawMessage) json.RawMessage {
	var ref struct {
		Ref string `json:"$ref"`
	}
	lenient(input, &ref)
	if name, ok := strings.CutPrefix(ref.Ref, "#/components/schemas/"); ok {
		if base, ok := strings.CutSuffix(name, "Input"); ok {
			if out, ok := d.schemas[base+"Output"]; ok {
				return out
			}
		}
	}
	names := make([]string, 0, len(d.schemas))
	for name := range d.schemas {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		if base, ok := strings.CutSuffix(name, "Input"); ok {
			if out, ok := d.schemas[base+"Output"]; ok {
				return out
			}
		}
	}
	return nil
}
