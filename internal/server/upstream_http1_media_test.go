package server_test

import (
	"bytes"
	"context"
	"net/http"
	"testing"

	oai "github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/responses"

	"github.com/falproxy/falproxy/internal/falfake"
)

// TestHTTP1UpstreamMedia runs the media routes against a fal upstream that
// speaks HTTP/1.1 only: a video from submit to a ranged download, speech
// streamed from the CDN, a recording uploaded and transcribed, a Responses
// stream on fal's own responses route, and embeddings. Every call fal
// received must have been HTTP/1.1.
func TestHTTP1UpstreamMedia(t *testing.T) {
	http1 := func(s *setup) { s.http1 = true }
	ctx := context.Background()

	t.Run("video", func(t *testing.T) {
		h := newHarness(t, http1, withVideos(0))
		created, err := h.sdk.Videos.New(ctx, oai.VideoNewParams{Prompt: "a fox", Model: "sora-2", Seconds: "4"})
		if err != nil {
			t.Fatal(err)
		}
		if v := pollVideo(t, h.sdk, created.ID); v.Status != oai.VideoStatusCompleted {
			t.Fatalf("video %s", v.RawJSON())
		}
		want := falfake.VideoAsset("sample.mp4")
		if got := downloadVideo(t, h.sdk, created.ID, oai.VideoDownloadContentParams{}); !bytes.Equal(got, want) {
			t.Fatalf("download: %d bytes, want fal's %d", len(got), len(want))
		}
		req, _ := http.NewRequest(http.MethodGet, h.url+"/v1/videos/"+created.ID+"/content", nil)
		req.Header.Set("Authorization", "Bearer "+accessKey)
		req.Header.Set("Range", "bytes=10-19")
		if status, _, part := h.do(req); status != http.StatusPartialContent || !bytes.Equal(part, want[10:20]) {
			t.Fatalf("range: %d, %d bytes", status, len(part))
		}
		h.assertHTTP1()
	})

	t.Run("audio", func(t *testing.T) {
		h := newHarness(t, http1, withAudio, func(s *setup) { s.server.InlineLimit = 1000 })
		hdr, wav := h.speak(oai.AudioSpeechNewParams{Model: "tts-1", Input: "hello", Voice: oai.AudioSpeechNewParamsVoiceUnion{OfString: oai.String("alloy")}})
		if hdr.Get("Content-Type") != "audio/wav" || len(wav) == 0 {
			t.Fatalf("speech: %q, %d bytes", hdr.Get("Content-Type"), len(wav))
		}
		res, err := h.sdk.Audio.Transcriptions.New(ctx, oai.AudioTranscriptionNewParams{File: bytes.NewReader(wav), Model: "whisper-1"})
		if err != nil || res.Text != heard(wav) {
			t.Fatalf("transcription: %v %q", err, res.Text)
		}
		if c := h.fake.Counts(); c.UploadPuts != 1 || c.CDN < 1 {
			t.Fatalf("fal saw %+v, want an upload and a CDN read", c)
		}
		h.assertHTTP1()
	})

	t.Run("responses and embeddings", func(t *testing.T) {
		h := newHarness(t, http1, withResponsesPassthrough, withEmbeddings)
		stream := h.sdk.Responses.NewStreaming(ctx, responses.ResponseNewParams{
			Model: "gpt-4o",
			Input: responses.ResponseNewParamsInputUnion{OfString: oai.String("tell me about tides")},
		})
		got := readResponseStream(t, stream)
		if err := stream.Err(); err != nil || got.final.Status != "completed" {
			t.Fatalf("stream: %v, status %q", err, got.final.Status)
		}
		emb, err := h.sdk.Embeddings.New(ctx, oai.EmbeddingNewParams{
			Model: "text-embedding-3-small",
			Input: oai.EmbeddingNewParamsInputUnion{OfString: oai.String("a lighthouse")},
		})
		if err != nil || len(emb.Data) != 1 || len(emb.Data[0].Embedding) == 0 {
			t.Fatalf("embeddings: %v", err)
		}
		h.assertHTTP1()
	})
}
