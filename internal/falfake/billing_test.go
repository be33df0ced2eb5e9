package falfake

import (
	"encoding/base64"
	"math"
	"testing"
	"time"
)

// TestBillCoversEveryUnit: the bill counts a completed job in its price's
// unit (images, megapixels, characters, seconds of video, a remix's
// source's seconds, minutes of audio heard), also when nobody read its
// result, and nothing for a failed or cancelled job.
func TestBillCoversEveryUnit(t *testing.T) {
	f, c := start(t, Options{Prices: map[string]Price{
		"fal-ai/fast-sdxl":                          {0.5, "megapixels"},
		"fal-ai/sora-2/text-to-video":               {0.1, "second"},
		"fal-ai/sora-2/video-to-video/remix":        {0.2, "second"},
		"fal-ai/wizper":                             {0.6, "minute"},
		"fal-ai/flux/dev":                           {1, "image"},
		"fal-ai/kokoro/american-english":            {2, "1000 characters"},
		"fal-ai/kling-video/v2.6/pro/text-to-video": {0.3, "second"},
	}})
	billed := func(want float64) {
		t.Helper()
		if got := f.BillUSD(); math.Abs(got-want) > 1e-9 {
			t.Fatalf("billed %v, want %v", got, want)
		}
	}
	c.result(f, "fal-ai/fast-sdxl", map[string]any{"prompt": "p", "image_size": map[string]any{"width": 1000, "height": 500}, "num_images": 2})
	billed(0.5)
	video := c.result(f, "fal-ai/sora-2/text-to-video", map[string]any{"prompt": "p", "duration": 8})
	billed(0.5 + 0.8)
	c.result(f, "fal-ai/sora-2/video-to-video/remix", map[string]any{"prompt": "p", "video_id": video["video_id"]})
	billed(0.5 + 0.8 + 1.6)
	uri := "data:audio/wav;base64," + base64.StdEncoding.EncodeToString(ToneWAV(3000, 440))
	c.result(f, "fal-ai/wizper", map[string]any{"audio_url": uri})
	billed(2.9 + 0.03)
	c.result(f, "fal-ai/kokoro/american-english", map[string]any{"prompt": "hello", "voice": "af_nova"})
	billed(2.93 + 0.01)

	// Completed, its result never read: billed all the same.
	c.submit(f, "fal-ai/kling-video/v2.6/pro/text-to-video", map[string]any{"prompt": "p", "duration": "10"})
	for f.Jobs()[len(f.Jobs())-1].State != StateCompleted {
		time.Sleep(time.Millisecond)
	}
	billed(2.94 + 3)

	// Failed and cancelled jobs cost nothing.
	c.result(f, "fal-ai/flux/dev", map[string]any{"prompt": "x [fail]"})
	slow, cs := start(t, Options{GenerationTime: time.Hour, Prices: map[string]Price{"fal-ai/flux/dev": {1, "image"}}})
	sub := cs.submit(slow, "fal-ai/flux/dev", map[string]any{"prompt": "p"})
	cs.do("PUT", str(sub, "cancel_url"), nil)
	billed(5.94)
	if got := slow.BillUSD(); got != 0 {
		t.Fatalf("a cancelled job billed %v", got)
	}
}
