package falfake

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"strings"
	"testing"
)

// result runs a job and returns its output.
func (c *tclient) result(f *Fake, endpoint string, in map[string]any) map[string]any {
	c.t.Helper()
	sub := c.submit(f, endpoint, in)
	return c.do("GET", str(sub, "response_url"), nil).json(c.t)
}

// TestSpeechModels: the TTS models speak a WAV whose length follows the
// text, on the CDN; MiniMax answers hex by default, as fal does, and raw
// samples when asked for pcm.
func TestSpeechModels(t *testing.T) {
	f, c := start(t, Options{})
	audioOf := func(out map[string]any) (file map[string]any, data []byte) {
		t.Helper()
		file, _ = out["audio"].(map[string]any)
		r := c.do("GET", str(file, "url"), nil)
		if r.status != 200 || r.header.Get("Content-Type") != str(file, "content_type") {
			t.Fatalf("CDN %d %v for %v", r.status, r.header, file)
		}
		return file, r.body
	}
	_, short := audioOf(c.result(f, "fal-ai/kokoro/american-english", map[string]any{"prompt": "hi", "voice": "af_nova"}))
	_, long := audioOf(c.result(f, "fal-ai/kokoro/american-english", map[string]any{"prompt": "hello there", "voice": "af_nova"}))
	if !bytes.HasPrefix(short, []byte("RIFF")) || len(long) <= len(short) {
		t.Errorf("speech of %d and %d bytes", len(short), len(long))
	}

	out := c.result(f, "fal-ai/minimax/speech-02-hd", map[string]any{"text": "hex please"})
	file, _ := out["audio"].(map[string]any)
	data, err := hex.DecodeString(str(file, "url"))
	if err != nil || !bytes.HasPrefix(data, []byte("RIFF")) || out["duration_ms"] == nil {
		t.Errorf("hex speech: %v %.80v", err, out)
	}
	file, pcm := audioOf(c.result(f, "fal-ai/minimax/speech-02-hd", map[string]any{"text": "raw", "output_format": "url",
		"audio_setting": map[string]any{"format": "pcm"}}))
	if str(file, "content_type") != "audio/pcm" || bytes.HasPrefix(pcm, []byte("RIFF")) || len(pcm) == 0 {
		t.Errorf("pcm speech %v, %d bytes", file, len(pcm))
	}
}

// TestTranscriptionModels: the STT models hear the bytes they got, in
// segment or word chunks spanning the recording, and translate on ask.
func TestTranscriptionModels(t *testing.T) {
	f, c := start(t, Options{})
	wav := ToneWAV(2000, 440)
	uri := "data:audio/wav;base64," + base64.StdEncoding.EncodeToString(wav)
	out := c.result(f, "fal-ai/wizper", map[string]any{"audio_url": uri})
	chunks, _ := out["chunks"].([]any)
	if !strings.HasPrefix(str(out, "text"), "Heard 64044 bytes. Digest ") || len(chunks) != 2 || out["languages"] == nil {
		t.Errorf("wizper %v", out)
	}
	last, _ := chunks[len(chunks)-1].(map[string]any)
	if ts, _ := last["timestamp"].([]any); len(ts) != 2 || ts[1] != 2.0 {
		t.Errorf("the last chunk does not end with the recording: %v", last)
	}
	out = c.result(f, "fal-ai/whisper", map[string]any{"audio_url": uri, "chunk_level": "word", "task": "translate"})
	chunks, _ = out["chunks"].([]any)
	if !strings.HasPrefix(str(out, "text"), "Translated: Heard") || len(chunks) != 6 || out["inferred_languages"] == nil {
		t.Errorf("whisper words %v", out)
	}
	sub := c.submit(f, "fal-ai/wizper", map[string]any{"audio_url": f.URL() + "/files/none/missing.wav"})
	if r := c.do("GET", str(sub, "response_url"), nil); r.status != 422 || !strings.Contains(string(r.body), "file_download_error") {
		t.Errorf("a missing recording: %d %s", r.status, r.body)
	}
}
