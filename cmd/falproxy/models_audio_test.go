package main

import (
	"strings"
	"testing"
)

// TestModelsAudio describes the demo's audio models: voices, formats and
// speed range of the speech ones, translation, languages and word
// timestamps of the transcription ones; check accepts and counts them.
func TestModelsAudio(t *testing.T) {
	env := testEnv(t, map[string]string{"AUDIO_MODELS": demoAudioModels})
	out, _, err := runCmd(t, env, "models")
	if err != nil {
		t.Fatalf("models: %v\n%s", err, out)
	}
	got := blocks(out)
	for alias, b := range got {
		got[alias] = strings.Join(strings.Fields(b), " ")
	}
	for alias, want := range map[string][]string{
		"tts-1":         {"kind speech", "voices voice: af_heart, af_alloy", "(default af_heart)", "speed speed: 0.1 to 5", "formats the model's own"},
		"tts-1-hd":      {"voice_setting.voice_id: any voice id, default Wise_Woman", "audio_setting.format: mp3, pcm, flac", "voice_setting.speed: 0.5 to 2", "at most 5000 characters"},
		"whisper-1":     {"kind transcription", "translates yes: task translate", "word timestamps no: the model has no word-level chunks", "language: af, am"},
		"whisper-large": {"word timestamps yes: chunk_level word", "prompt yes: sent as prompt"},
	} {
		for _, w := range want {
			if !strings.Contains(got[alias], w) {
				t.Errorf("%s lacks %q in:\n%s", alias, w, got[alias])
			}
		}
	}
	if out, _, err := runCmd(t, env, "check"); err != nil || !strings.Contains(out, "ok: 13 image models, 2 chat models, 4 audio models") {
		t.Errorf("check: %v\n%s", err, out)
	}
}
