package falschema

import (
	"encoding/json"
	"testing"

	"github.com/falproxy/falproxy/internal/falschema/schematest"
)

// audioExpectations are what fal's audio documents reduce to, as JSON of
// the Audio value (bounds and enumerations abridged to what matters).
var audioExpectations = map[string]string{
	"fal-ai/kokoro/american-english": `{"kind":"speech","text":"prompt",
		"voice":{"path":"voice","default":"af_heart"},"speed":{"path":"speed","min":0.1,"max":5}}`,
	"fal-ai/minimax/speech-02-hd": `{"kind":"speech","text":"text","text_max":5000,
		"voice":{"path":"voice_setting.voice_id","default":"Wise_Woman"},
		"speed":{"path":"voice_setting.speed","min":0.5,"max":2},
		"format":{"path":"audio_setting.format","values":["mp3","pcm","flac"],"default":"mp3"},
		"delivery":{"path":"output_format","values":["url","hex"],"default":"hex"},
		"pcm_rate":"audio_setting.sample_rate","pcm_channel":"audio_setting.channel"}`,
	"fal-ai/elevenlabs/tts/multilingual-v2": `{"kind":"speech","text":"text",
		"voice":{"path":"voice","default":"Rachel"},"speed":{"path":"speed","min":0.7,"max":1.2}}`,
	"fal-ai/wizper": `{"kind":"transcription","audio_url":"audio_url",
		"task":{"path":"task","values":["transcribe","translate"],"default":"transcribe"},
		"language":{"path":"language","default":"en","nullable":true},
		"chunk_level":{"path":"chunk_level","default":"segment"}}`,
	"fal-ai/whisper": `{"kind":"transcription","audio_url":"audio_url","prompt":"prompt",
		"task":{"path":"task","values":["transcribe","translate"],"default":"transcribe"},
		"language":{"path":"language","nullable":true},
		"chunk_level":{"path":"chunk_level","values":["none","segment","word"],"default":"segment"}}`,
}

// TestAudioReduction reduces the audio documents, the emulator's copies
// and fal's reference documents, and checks their Audio.
func TestAudioReduction(t *testing.T) {
	for _, dir := range []string{"internal/falfake/schemas", "../shared/fal-schemas/media"} {
		for _, c := range schematest.LoadDir(t, schematest.FindDir(t, dir)) {
			want, isAudio := audioExpectations[c.Endpoint]
			caps, err := Reduce(c.Doc, c.Endpoint)
			if err != nil {
				t.Fatalf("%s: %v", c.Endpoint, err)
			}
			if !isAudio {
				if caps.Audio != nil {
					t.Errorf("%s is not an audio model, got %+v", c.Endpoint, caps.Audio)
				}
				continue
			}
			got, wb := normalJSON(t, abridged(t, caps.Audio)), normalJSON(t, []byte(want))
			if got != wb {
				t.Errorf("%s (%s):\n got %s\nwant %s", c.Endpoint, dir, got, wb)
			}
		}
	}
}

// normalJSON re-encodes JSON with sorted keys, to compare documents.
func normalJSON(t *testing.T, b []byte) string {
	t.Helper()
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	out, _ := json.Marshal(v)
	return string(out)
}

// abridged is the JSON of a, with the voice and language enumerations
// dropped (they are long; TestAudioVoices checks them).
func abridged(t *testing.T, a *Audio) []byte {
	t.Helper()
	c := *a
	for _, f := range []**AudioField{&c.Voice, &c.Language} {
		if *f != nil {
			short := **f
			short.Values = nil
			*f = &short
		}
	}
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestAudioVoices checks the voice and language enumerations kept whole.
func TestAudioVoices(t *testing.T) {
	dir := schematest.FindDir(t, "internal/falfake/schemas")
	for _, c := range schematest.LoadDir(t, dir) {
		caps, err := Reduce(c.Doc, c.Endpoint)
		if err != nil {
			t.Fatal(err)
		}
		switch c.Endpoint {
		case "fal-ai/kokoro/american-english":
			if v := caps.Audio.Voice; len(v.Values) != 20 || !v.Has("af_alloy") || !v.Has("am_onyx") {
				t.Errorf("kokoro voices: %v", v.Values)
			}
		case "fal-ai/minimax/speech-02-hd", "fal-ai/elevenlabs/tts/multilingual-v2":
			if v := caps.Audio.Voice; len(v.Values) != 0 {
				t.Errorf("%s declares no voice list, got %v", c.Endpoint, v.Values)
			}
		case "fal-ai/wizper", "fal-ai/whisper":
			if l := caps.Audio.Language; !l.Has("en") || !l.Has("zh") || len(l.Values) < 90 {
				t.Errorf("%s languages: %v", c.Endpoint, l.Values)
			}
		}
	}
}

// TestAudioNotFromVideo: a video model that also returns its soundtrack
// is not a speech model; the same output without the video is.
func TestAudioNotFromVideo(t *testing.T) {
	doc := func(output string) []byte {
		return []byte(`{"openapi":"3.0.4","components":{"schemas":{
			"File":{"type":"object","properties":{"url":{"type":"string"}}},
			"VInput":{"type":"object","properties":{"prompt":{"type":"string"}}},
			"VOutput":{"type":"object","properties":` + output + `}}},
			"paths":{"/x/v":{"post":{"requestBody":{"content":{"application/json":{"schema":{"$ref":"#/components/schemas/VInput"}}}}}},
			"/x/v/requests/{request_id}":{"get":{"responses":{"200":{"content":{"application/json":{"schema":{"$ref":"#/components/schemas/VOutput"}}}}}}}}}`)
	}
	for output, speaks := range map[string]bool{
		`{"video":{"$ref":"#/components/schemas/File"},"audio":{"$ref":"#/components/schemas/File"}}`: false,
		`{"audio":{"$ref":"#/components/schemas/File"}}`:                                              true,
	} {
		caps, err := Reduce(doc(output), "x/v")
		if err != nil {
			t.Fatal(err)
		}
		if got := caps.Audio != nil && caps.Audio.Kind == Speaks; got != speaks {
			t.Errorf("output %s: speaks = %v, want %v", output, got, speaks)
		}
	}
}

// TestAudioOutputByInputName: a document without a result path and with
// several Input/Output pairs reads the output paired with the schema its
// POST takes, every time, whatever the order of the schemas in memory.
func TestAudioOutputByInputName(t *testing.T) {
	doc := []byte(`{"openapi":"3.0.4","components":{"schemas":{
		"File":{"type":"object","properties":{"url":{"type":"string"}}},
		"AInput":{"type":"object","properties":{"audio_url":{"type":"string"}}},
		"AOutput":{"type":"object","properties":{"text":{"type":"string"}}},
		"BInput":{"type":"object","properties":{"text":{"type":"string"},"voice":{"type":"string"}}},
		"BOutput":{"type":"object","properties":{"audio":{"$ref":"#/components/schemas/File"}}},
		"CInput":{"type":"object","properties":{"prompt":{"type":"string"}}},
		"COutput":{"type":"object","properties":{"images":{"type":"array"}}}}},
		"paths":{"/x/tts":{"post":{"requestBody":{"content":{"application/json":{"schema":{"$ref":"#/components/schemas/BInput"}}}}}}}}`)
	for range 32 {
		caps, err := Reduce(doc, "x/tts")
		if err != nil {
			t.Fatal(err)
		}
		if caps.Audio == nil || caps.Audio.Kind != Speaks || caps.Audio.Text != "text" {
			t.Fatalf("x/tts reduced to %+v, want the speech of BOutput", caps.Audio)
		}
	}
}
