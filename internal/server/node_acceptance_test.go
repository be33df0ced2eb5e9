package server_test

import (
	"testing"
)

// TestNodeAcceptance runs test/node/acceptance.mjs, which drives falproxy
// with the official openai npm package (chat whole and streamed through its
// strict stream helper, images as base64, typed errors), against falproxy
// on the fal emulator.
func TestNodeAcceptance(t *testing.T) {
	h := newHarness(t)
	// The script checks that b64_json holds a PNG, OpenAI's default format;
	// flux-dev's own default on fal is jpeg, so this checks that falproxy
	// asks for PNG when the client names no output_format.
	runNodeScript(t, h, "acceptance.mjs", "CHAT_MODEL=gpt-4o", "IMAGE_MODEL=flux-dev")

	// The script's calls reached fal: a streamed chat, and queued jobs for
	// the whole chat and the image.
	c := h.fake.Counts()
	if c.Streams != 1 || c.ByEndpoint["openrouter/router"] < 2 || c.ByEndpoint["fal-ai/flux/dev"] < 1 {
		t.Errorf("fal calls %+v do not match the script's requests", c)
	}
}
