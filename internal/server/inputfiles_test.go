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
