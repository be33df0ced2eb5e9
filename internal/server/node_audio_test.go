package server_test

import (
	"encoding/base64"
	"os"
	"path/filepath"
	"testing"

	"github.com/falproxy/falproxy/internal/falfake"
)

// TestNodeAudio runs test/node/audio.mjs: speech, transcriptions in every
// response_format and translation through the openai npm package; then
// checks what fal received from it.
func TestNodeAudio(t *testing.T) {
	h := newHarness(t, withAudio)
	wav := falfake.ToneWAV(1200, 400)
	path := filepath.Join(t.TempDir(), "recording.wav")
	if err := os.WriteFile(path, wav, 0o600); err != nil {
		t.Fatal(err)
	}
	runNodeScript(t, h, "audio.mjs", "SPEECH_MODEL=tts-1", "STT_MODEL=whisper-1", "WORDS_MODEL=whisper-words",
		"WAV_FILE="+path, "HEARD="+heard(wav))

	inputs := h.falInputs()
	if len(inputs) != 7 {
		t.Fatalf("fal received %d jobs, want 7", len(inputs))
	}
	if s := inputs[0]; s["prompt"] != "Hello from the npm package" || s["voice"] != "af_nova" || s["speed"] != 1.25 {
		t.Errorf("speech input %v", s)
	}
	uri := "data:audio/wav;base64," + base64.StdEncoding.EncodeToString(wav)
	for i, in := range inputs[1:] {
		if in["audio_url"] != uri {
			t.Errorf("job %d: the recording did not reach fal intact", i+1)
		}
	}
	if inputs[5]["chunk_level"] != "word" || inputs[6]["task"] != "translate" {
		t.Errorf("verbose and translation inputs: %v / %v", inputs[5]["chunk_level"], inputs[6]["task"])
	}
}
