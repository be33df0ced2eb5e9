package server

import (
	"time"

	"github.com/falproxy/falproxy/internal/bounded"
	"github.com/falproxy/falproxy/internal/video"
)

// The index keeps the videos created through this process, for GET
// /v1/videos and for what an id cannot carry (the whole prompt), when no
// database is shared (see videoRecords). It is bounded in count and age;
// ids work without it.
const (
	videoIndexSize = 10_000
	videoIndexAge  = 7 * 24 * time.Hour
)

// indexedVideo is one video of the index.
type indexedVideo struct {
	owner [32]byte
	last  video.Video // as last seen
}

// videoIndex holds videos by id and in the order they were created.
type videoIndex struct {
	videos *bounded.Store[string, indexedVideo]
	maxAge time.Duration
}

func newVideoIndex(max int, maxAge time.Duration) *videoIndex {
	return &videoIndex{videos: bounded.New[string, indexedVideo](bounded.Limits{Count: max}), maxAge: maxAge}
}

// add records a new video, dropping the oldest beyond the bounds.
func (x *videoIndex) add(v video.Video, owner [32]byte, now time.Time) {
	x.videos.Put(v.ID, indexedVideo{owner: owner, last: v}, 0, now.Add(x.maxAge), now)
}

// get returns the indexed video, unless it is past the age.
func (x *videoIndex) get(id string, now time.Time) (indexedVideo, bool) {
	return x.videos.Get(id, now)
}

// update keeps what was last seen of a video.
func (x *videoIndex) update(v video.Video) {
	x.videos.Update(v.ID, func(e *indexedVideo) { e.last = v })
}

// remove forgets a deleted video.
func (x *videoIndex) remove(id string) { x.videos.Remove(id) }

// page lists an owner's videos, newest first (or oldest first with asc),
// starting after the id after, at most limit; more reports that others
// follow. No video past the age is listed, even with no new one added.
func (x *videoIndex) page(owner [32]byte, after string, limit int, asc bool, now time.Time) (out []video.Video, more bool) {
	found := x.videos.Walk(after, asc, now, func(_ string, e indexedVideo) bool {
		if e.owner != owner {
			return true
		}
		if len(out) == limit {
			more = true
			return false
		}
		out = append(out, e.last)
		return true
	})
	if !found {
		return nil, false // the cursor has left the index
	}
	return out, more
}
