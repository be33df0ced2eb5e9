package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"
)

// TestDemoAudio: the demo speaks with tts-1 and transcribes that speech
// with whisper-1, as its banner's curl lines do, and exports AUDIO_MODELS.
func TestDemoAudio(t *testing.T) {
	r, vars := startDemo(t, map[string]string{})
	if vars["AUDIO_MODELS"] != demoAudioModels || !strings.Contains(r.stdout.String(), "/v1/audio/speech") {
		t.Fatalf("the banner shows no audio:\n%s", r.stdout)
	}
	ctx := context.Background()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, r.base+"/v1/audio/speech",
		strings.NewReader(`{"model":"tts-1","input":"Hello from fal","voice":"alloy"}`))
	req.Header.Set("Authorization", "Bearer "+vars["KEY"])
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	speech, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "audio/wav" {
		t.Fatalf("speech: %d %v", resp.StatusCode, resp.Header)
	}

	status, answer, err := r.transcribe(ctx, vars["KEY"], speech)
	var out struct{ Text string }
	if err != nil || json.Unmarshal(answer, &out) != nil || !strings.HasPrefix(out.Text, fmt.Sprintf("Heard %d bytes.", len(speech))) {
		t.Fatalf("transcription: %d %s %v", status, answer, err)
	}
}

// transcribe sends audio to whisper-1 as a client's upload, with key.
func (r *running) transcribe(ctx context.Context, key string, audio []byte) (int, []byte, error) {
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	_ = mw.WriteField("model", "whisper-1")
	fw, _ := mw.CreateFormFile("file", "speech.wav")
	_, _ = fw.Write(audio)
	_ = mw.Close()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, r.base+"/v1/audio/transcriptions", &body)
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(resp.Body)
	return resp.StatusCode, answer, err
}
