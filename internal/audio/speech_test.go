package audio

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/falproxy/falproxy/internal/openai"
)

func ptr(f float64) *float64 { return &f }

// TestPlanSpeech checks what fal receives for (voice, speed,
// response_format) on each TTS model.
func TestPlanSpeech(t *testing.T) {
	const kokoro, minimax, eleven = "fal-ai/kokoro/american-english", "fal-ai/minimax/speech-02-hd", "fal-ai/elevenlabs/tts/multilingual-v2"
	tests := []struct {
		endpoint string
		voice    string
		speed    *float64
		format   string
		want     string // fal input
		mapped   bool
	}{
		{kokoro, "af_bella", nil, "", `{"prompt":"hi","voice":"af_bella"}`, false},
		{kokoro, "alloy", ptr(1.5), "wav", `{"prompt":"hi","voice":"af_alloy","speed":1.5}`, true},
		{kokoro, "onyx", ptr(0.25), "mp3", `{"prompt":"hi","voice":"am_onyx","speed":0.25}`, true},
		{kokoro, "shimmer", ptr(4), "", `{"prompt":"hi","voice":"af_heart","speed":4}`, true},
		{kokoro, "", nil, "", `{"prompt":"hi","voice":"af_heart"}`, true},
		{minimax, "alloy", ptr(4), "flac", `{"text":"hi","voice_setting":{"voice_id":"Wise_Woman","speed":2},"audio_setting":{"format":"flac"},"output_format":"url"}`, true},
		{minimax, "Deep_Voice_Man", ptr(0.25), "", `{"text":"hi","voice_setting":{"voice_id":"Deep_Voice_Man","speed":0.5},"audio_setting":{"format":"mp3"},"output_format":"url"}`, false},
		{minimax, "alloy", nil, "pcm", `{"text":"hi","voice_setting":{"voice_id":"Wise_Woman"},"audio_setting":{"format":"pcm","sample_rate":24000,"channel":1},"output_format":"url"}`, true},
		{minimax, "nova", nil, "wav", `{"text":"hi","voice_setting":{"voice_id":"Wise_Woman"},"output_format":"url"}`, true},
		{eleven, "Aria", ptr(1.1), "opus", `{"text":"hi","voice":"Aria","speed":1.1}`, false},
		{eleven, "echo", ptr(3), "", `{"text":"hi","voice":"Rachel","speed":1.2}`, true},
	}
	for _, tt := range tests {
		a := audioSpec(t, tt.endpoint)
		req := &openai.SpeechRequest{Input: "hi", Voice: tt.voice, Speed: tt.speed, ResponseFormat: tt.format}
		p, e := PlanSpeech(req, a, "tts")
		if e != nil {
			t.Errorf("%s %q: %v", tt.endpoint, tt.voice, e)
			continue
		}
		if got := jsonOf(t, p.Input); got != jsonOf(t, jsonValue(t, tt.want)) {
			t.Errorf("%s voice %q speed %v format %q:\n got %s\nwant %s", tt.endpoint, tt.voice, tt.speed, tt.format, got, tt.want)
		}
		if p.Mapped != tt.mapped {
			t.Errorf("%s voice %q: mapped = %v", tt.endpoint, tt.voice, p.Mapped)
		}
	}
}

func jsonValue(t *testing.T, s string) any {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatalf("bad test JSON %s: %v", s, err)
	}
	return v
}

// TestPlanSpeechRejects checks the 400s: a voice a model with a voice
// list does not have, and text past a model's own limit.
func TestPlanSpeechRejects(t *testing.T) {
	a := audioSpec(t, "fal-ai/kokoro/american-english")
	_, e := PlanSpeech(&openai.SpeechRequest{Input: "hi", Voice: "Rachel"}, a, "tts-1")
	if e == nil || e.Param != "voice" || e.Status != 400 {
		t.Fatalf("unknown voice: %v", e)
	}
	for _, want := range []string{"tts-1", "Rachel", "af_heart"} {
		if !strings.Contains(e.Message, want) {
			t.Errorf("message %q lacks %q", e.Message, want)
		}
	}
	m := audioSpec(t, "fal-ai/minimax/speech-02-hd")
	long := make([]rune, 5001)
	for i := range long {
		long[i] = 'a'
	}
	if _, e := PlanSpeech(&openai.SpeechRequest{Input: string(long)}, m, "tts-1-hd"); e == nil || e.Param != "input" {
		t.Errorf("text over the model's maxLength: %v", e)
	}
}

// TestParam names OpenAI's field for the fal fields of a 422.
func TestParam(t *testing.T) {
	m := audioSpec(t, "fal-ai/minimax/speech-02-hd")
	for fal, want := range map[string]string{"voice_setting.voice_id": "voice", "voice_setting.speed": "speed", "audio_setting.format": "response_format", "text": "input", "pitch": "pitch"} {
		if got := Param(m, fal); got != want {
			t.Errorf("Param(%q) = %q, want %q", fal, got, want)
		}
	}
}
