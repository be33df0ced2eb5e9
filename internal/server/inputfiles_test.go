package server_test

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"testing"

	oai "github.com/openai/openai-go/v3"

	"github.com/falproxy/falproxy/internal/falfake"
)

// TestInputFilesWithoutStorage sends, on each route that takes input
// files, a file above INLINE_LIMIT to a falproxy without fal storage: the
// client gets a 500 that says why and tells SDKs not to retry (the
// configuration will not change between attempts), and fal gets no job.
func TestInputFilesWithoutStorage(t *testing.T) {
	h := newHarness(t, withVideos(0), withAudio, func(s *setup) {
		s.noStorage = true
		s.server.InlineLimit = -1
	})
	ctx := context.Background()
	img := pngFile(t, 64, 36, false)
	for name, call := range map[string]struct {
		send func() error
		says string
	}{
		"edit": {func() error {
			_, err := h.sdk.Images.Edit(ctx, oai.ImageEditParams{Model: "kontext", Prompt: "paint it",
				Image: oai.ImageEditParamsImageUnion{OfFile: oai.File(bytes.NewReader(img), "in.png", "image/png")}})
			return err
		}, "An input image is too large"},
		"video": {func() error {
			_, err := h.sdk.Videos.New(ctx, oai.VideoNewParams{Prompt: "the fox runs", Model: "sora-2",
				InputReference: oai.VideoNewParamsInputReferenceUnion{OfFile: oai.File(bytes.NewReader(img), "fox.png", "image/png")}})
			return err
		}, "The input image is too large"},
		"transcription": {func() error {
			_, err := h.sdk.Audio.Transcriptions.New(ctx, oai.AudioTranscriptionNewParams{Model: "whisper-1",
				File: oai.File(bytes.NewReader(falfake.ToneWAV(500, 440)), "a.wav", "audio/wav")})
			return err
		}, "The recording is too large"},
	} {
		t.Run(name, func(t *testing.T) {
			err := call.send()
			apiErr, ok := err.(*oai.Error)
			if !ok || apiErr.StatusCode != http.StatusInternalServerError || !strings.Contains(apiErr.Message, call.says) ||
				apiErr.Response.Header.Get("X-Should-Retry") != "false" {
				t.Fatalf("error %v", err)
			}
			if strings.Contains(apiErr.Message, "http") {
				t.Errorf("the message names a URL: %s", apiErr.Message)
			}
		})
	}
	if jobs := h.fake.Jobs(); len(jobs) != 0 {
		t.Errorf("fal got jobs: %+v", jobs)
	}
}

// TestFileRoutesBodyTypes: the routes that take files answer a body of
// another type, and a multipart body without a boundary, alike, saying
// which body types they take; fal gets nothing.
func TestFileRoutesBodyTypes(t *testing.T) {
	h := newHarness(t, withVideos(0), withAudio)
	for route, takes := range map[string]string{
		"/v1/images/edits":         "or application/json",
		"/v1/videos":               "or application/json",
		"/v1/audio/transcriptions": "(as the OpenAI SDKs send);",
	} {
		for contentType, code := range map[string]string{"text/plain": "unsupported_content_type", "multipart/form-data": "invalid_multipart"} {
			req, _ := http.NewRequest(http.MethodPost, h.url+route, strings.NewReader("model=x"))
			req.Header.Set("Authorization", "Bearer "+accessKey)
			req.Header.Set("Content-Type", contentType)
			status, hdr, body := h.do(req)
			e := decodeError(t, body)
			if status != http.StatusBadRequest || deref(e.Code) != code || hdr.Get("X-Should-Retry") != "false" {
				t.Errorf("%s with %s: %d %v %s", route, contentType, status, hdr, body)
			}
			if code == "unsupported_content_type" && !strings.Contains(e.Message, takes) {
				t.Errorf("%s: %s", route, e.Message)
			}
		}
	}
	if n := len(h.fake.Received()); n != 0 {
		t.Errorf("fal received %d calls", n)
	}
}
