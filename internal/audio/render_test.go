package audio

import (
	"encoding/json"
	"testing"
)

// knownChunks is fal's output for a short recording, its last end null
// as Whisper sometimes leaves it.
const knownChunks = `{"text":" Hello there. General Kenobi! ","languages":["en"],"chunks":[
	{"timestamp":[0,1.5],"text":" Hello there."},
	{"timestamp":[1.5,3723.0456],"text":" General Kenobi!"}]}`

func TestRender(t *testing.T) {
	tr, err := ParseTranscript([]byte(knownChunks))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct{ format, ct, want string }{
		{"json", "application/json", `{"text":"Hello there. General Kenobi!"}`},
		{"text", "text/plain; charset=utf-8", "Hello there. General Kenobi!\n"},
		{"srt", "text/plain; charset=utf-8", "1\n00:00:00,000 --> 00:00:01,500\nHello there.\n\n2\n00:00:01,500 --> 01:02:03,046\nGeneral Kenobi!\n\n"},
		{"vtt", "text/vtt; charset=utf-8", "WEBVTT\n\n00:00:00.000 --> 00:00:01.500\nHello there.\n\n00:00:01.500 --> 01:02:03.046\nGeneral Kenobi!\n\n"},
	}
	for _, tt := range tests {
		ct, body := Render(tr, tt.format, "transcribe", false)
		if ct != tt.ct || string(body) != tt.want {
			t.Errorf("%s: got %s %q\nwant %s %q", tt.format, ct, body, tt.ct, tt.want)
		}
	}
}

func TestRenderVerbose(t *testing.T) {
	tr, err := ParseTranscript([]byte(knownChunks))
	if err != nil {
		t.Fatal(err)
	}
	_, body := Render(tr, "verbose_json", "transcribe", false)
	want := `{"task":"transcribe","language":"en","duration":3723.0456,"text":"Hello there. General Kenobi!","segments":[
		{"id":0,"seek":0,"start":0,"end":1.5,"text":"Hello there.","tokens":[],"temperature":0,"avg_logprob":0,"compression_ratio":0,"no_speech_prob":0},
		{"id":1,"seek":0,"start":1.5,"end":3723.0456,"text":"General Kenobi!","tokens":[],"temperature":0,"avg_logprob":0,"compression_ratio":0,"no_speech_prob":0}]}`
	if jsonOf(t, json.RawMessage(body)) != jsonOf(t, json.RawMessage(want)) {
		t.Errorf("verbose_json:\n got %s\nwant %s", body, want)
	}
}

// TestRenderWords renders word chunks: words as they came, segments
// joined into sentences, and a null end taken as the start.
func TestRenderWords(t *testing.T) {
	tr, err := ParseTranscript([]byte(`{"text":"Hi there. Bye.","chunks":[
		{"timestamp":[0,0.4],"text":" Hi"},{"timestamp":[0.4,0.9],"text":" there."},{"timestamp":[1.2,null],"text":" Bye."}],
		"inferred_languages":["de"]}`))
	if err != nil {
		t.Fatal(err)
	}
	_, body := Render(tr, "verbose_json", "translate", true)
	var v struct {
		Task     string
		Language string
		Duration float64
		Segments []struct {
			ID         int
			Start, End float64
			Text       string
		}
		Words []struct {
			Word       string
			Start, End float64
		}
	}
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatal(err)
	}
	if v.Task != "translate" || v.Language != "de" || v.Duration != 1.2 || len(v.Words) != 3 || v.Words[2].End != 1.2 {
		t.Errorf("verbose_json with words: %s", body)
	}
	if len(v.Segments) != 2 || v.Segments[0].Text != "Hi there." || v.Segments[0].End != 0.9 || v.Segments[1].ID != 1 || v.Segments[1].Start != 1.2 {
		t.Errorf("segments from words: %+v", v.Segments)
	}
	_, srt := Render(tr, "srt", "translate", true)
	if string(srt) != "1\n00:00:00,000 --> 00:00:00,900\nHi there.\n\n2\n00:00:01,200 --> 00:00:01,200\nBye.\n\n" {
		t.Errorf("srt from words: %q", srt)
	}
	if _, err := ParseTranscript([]byte(`{"chunks":[]}`)); err == nil {
		t.Error("an output without text must be an error")
	}
}
