package server

import (
	"slices"
	"sync"
	"time"

	"github.com/falproxy/falproxy/internal/video"
)

// The index keeps the videos created through this process, for GET
// /v1/videos and for what an id cannot carry (the whole prompt). It is
// bounded in count and age; ids work without it.
const (
	videoIndexSize = 10_000
	videoIndexAge  = 7 * 24 * time.Hour
)

// indexedVideo is one video of the index.
type indexedVideo struct {
	owner   [32]byte
	created time.Time
	last    video.Video // as last seen
}

// videoIndex holds videos by id and in the order they were created.
type videoIndex struct {
	mu     sync.Mutex
	byID   map[string]*indexedVideo
	order  []string // oldest first
	max    int
	maxAge time.Duration
}

func newVideoIndex(max int, maxAge time.Duration) *videoIndex {
	return &videoIndex{byID: map[string]*indexedVideo{}, max: max, maxAge: maxAge}
}

// add records a new video, dropping the oldest beyond the bounds.
func (x *videoIndex) add(v video.Video, owner [32]byte, now time.Time) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.byID[v.ID] = &indexedVideo{owner: owner, created: now, last: v}
	x.order = append(x.order, v.ID)
	x.prune(now)
}

// prune drops the oldest videos beyond the bounds. Each id of order is in
// byID: remove takes both out together.
func (x *videoIndex) prune(now time.Time) {
	drop := 0
	for drop < len(x.order) && (len(x.order)-drop > x.max || !x.fresh(x.byID[x.order[drop]], now)) {
		delete(x.byID, x.order[drop])
		drop++
	}
	x.order = x.order[drop:]
}

// fresh reports whether e is within the index's age.
func (x *videoIndex) fresh(e *indexedVideo, now time.Time) bool {
	return now.Sub(e.created) <= x.maxAge
}

// get returns a copy of the indexed video, unless it is past the age.
func (x *videoIndex) get(id string, now time.Time) (indexedVideo, bool) {
	x.mu.Lock()
	defer x.mu.Unlock()
	e, ok := x.byID[id]
	if !ok || !x.fresh(e, now) {
		return indexedVideo{}, false
	}
	return *e, true
}

// update keeps what was last seen of a video.
func (x *videoIndex) update(v video.Video) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if e, ok := x.byID[v.ID]; ok {
		e.last = v
	}
}

// remove forgets a deleted video.
func (x *videoIndex) remove(id string) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if _, ok := x.byID[id]; ok {
		delete(x.byID, id)
		x.order = slices.DeleteFunc(x.order, func(s string) bool { return s == id })
	}
}

// page lists an owner's videos, newest first (or oldest first with asc),
// starting after the id after, at most limit; more reports that others
// follow.
func (x *videoIndex) page(owner [32]byte, after string, limit int, asc bool, now time.Time) (out []video.Video, more bool) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.prune(now) // no video past the age is listed, even with no new one added
	ids := slices.Clone(x.order)
	if !asc {
		slices.Reverse(ids)
	}
	if after != "" {
		i := slices.Index(ids, after)
		if i < 0 {
			return nil, false // the cursor has left the index
		}
		ids = ids[i+1:]
	}
	for _, id := range ids {
		e := x.byID[id]
		if e.owner != owner {
			continue
		}
		if len(out) == limit {
			return out, true
		}
		out = append(out, e.last)
	}
	return out, false
}
