package server_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
)

// TestDebugLogBoundsPayloads sends a 1 MB prompt that names a URL with
// credentials, with debug logging on: fal must get the prompt whole, and
// the debug line must stay small and carry no credentials.
func TestDebugLogBoundsPayloads(t *testing.T) {
	h := newHarness(t, func(s *setup) { s.server.Debug = true })
	prompt := "a cat from https://alice:hunter2@images.example.com/cat.png " + strings.Repeat("meow ", 200_000)
	code, _, out := h.post(context.Background(), "/v1/images/generations", `{"model":"flux-dev","prompt":"`+prompt+`"}`)
	if code != http.StatusOK {
		t.Fatalf("status %d: %s", code, out)
	}
	if in := h.falInputs(); len(in) != 1 || in[0]["prompt"] != prompt {
		t.Fatalf("fal did not get the whole prompt")
	}
	var line string
	for l := range strings.Lines(h.logs.String()) {
		if strings.Contains(l, `msg="fal input"`) {
			line = l
		}
	}
	if line == "" || len(line) > 10<<10 {
		t.Fatalf("debug line of %d bytes for a 1 MB prompt", len(line))
	}
	if strings.Contains(line, "hunter2") || !strings.Contains(line, "https://images.example.com/cat.png") || !strings.Contains(line, "more)") {
		t.Errorf("debug line keeps credentials or lacks the shortened prompt: %s", line)
	}
}

// TestDebugLogVideoInput: the input of a video job is logged in debug
// mode as an image job's is.
func TestDebugLogVideoInput(t *testing.T) {
	h := newHarness(t, withVideos(0), func(s *setup) { s.server.Debug = true })
	code, _, out := h.post(context.Background(), "/v1/videos", `{"model":"sora-2","prompt":"a fox from https://alice:hunter2@images.example.com/fox.png"}`)
	if code != http.StatusOK {
		t.Fatalf("status %d: %s", code, out)
	}
	var line string
	for l := range strings.Lines(h.logs.String()) {
		if strings.Contains(l, `msg="fal input"`) {
			line = l
		}
	}
	if !strings.Contains(line, "fal-ai/sora-2/text-to-video") || !strings.Contains(line, "a fox from") || strings.Contains(line, "hunter2") {
		t.Errorf("the video's fal input is not logged, or keeps credentials: %q", line)
	}
}
