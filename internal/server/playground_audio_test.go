package server_test

import (
	"strings"
	"testing"
)

// checkPlaygroundAudio checks what fal received from the playground's
// audio tab: the typed text in the voice mapped from "alloy", a recording
// to transcribe and one to translate, and the WebM the page recorded from
// the microphone.
func checkPlaygroundAudio(t *testing.T, h *harness) {
	t.Helper()
	var spoke, transcribed, translated, recorded bool
	for _, in := range h.falInputs() {
		audio, _ := in["audio_url"].(string)
		switch {
		case in["prompt"] == "Hello from the browser" && in["voice"] == "af_alloy":
			spoke = true
		case strings.HasPrefix(audio, "data:audio/wav;base64,UklGR") && in["task"] == "transcribe":
			transcribed = true
		case strings.HasPrefix(audio, "data:audio/wav;base64,UklGR") && in["task"] == "translate":
			translated = true
		case strings.HasPrefix(audio, "data:audio/webm;base64,GkXfo") && in["task"] == "transcribe":
			recorded = true
		}
	}
	if !spoke || !transcribed || !translated || !recorded {
		t.Errorf("fal received speech %v, transcription %v, translation %v, microphone recording %v from the page", spoke, transcribed, translated, recorded)
	}
}
