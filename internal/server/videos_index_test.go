package server

import (
	"testing"
	"time"

	"github.com/falproxy/falproxy/internal/bounded"
	"github.com/falproxy/falproxy/internal/video"
)

// TestVideoIndexForgetsOldVideos: a video past the index's age is neither
// listed nor returned, even when no newer video has been added since.
func TestVideoIndexForgetsOldVideos(t *testing.T) {
	x := newVideoIndex(10, time.Hour)
	owner := bounded.Owner("sk-a")
	t0 := time.Unix(1_700_000_000, 0)
	x.add(video.Video{ID: "video_1"}, owner, t0)
	if got, _ := x.page(owner, "", 10, false, t0.Add(time.Minute)); len(got) != 1 {
		t.Fatalf("a fresh video is not listed: %v", got)
	}
	later := t0.Add(2 * time.Hour)
	if _, ok := x.get("video_1", later); ok {
		t.Error("get returns a video past the age")
	}
	if got, _ := x.page(owner, "", 10, false, later); len(got) != 0 {
		t.Errorf("the list holds a video past the age: %v", got)
	}
}
