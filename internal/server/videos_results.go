package server

import (
	"crypto/sha256"
	"time"

	"github.com/falproxy/falproxy/internal/bounded"
	"github.com/falproxy/falproxy/internal/video"
)

// finishedVideo is what a finished job leaves: its files or why it failed,
// and when this process first saw it finished. It never changes at fal, so
// once read it is kept, and a download or a seek asks fal nothing more.
type finishedVideo struct {
	output  *video.Output // nil when the job failed
	failure *video.Error
	// unbilled: the job failed at fal, which bills nothing for it; a job
	// fal completed is billed even when its result holds no video.
	unbilled    bool
	completedAt int64
}

// fill puts the finished job into seen.
func (f *finishedVideo) fill(seen *videoSeen) {
	v := &seen.video
	completed := f.completedAt
	v.CompletedAt = &completed
	if f.failure != nil {
		v.Status, v.Error = video.Failed, f.failure
		return
	}
	v.Status, v.Progress, seen.output = video.Completed, 100, f.output
}

// videoResultsSize bounds the finished results kept: a few KB each.
const videoResultsSize = 10_000

// videoResults keeps the most recently used finished results by video id,
// whoever created them and on whichever replica: unlike the index in
// process, which holds only this process's videos, it serves any id that
// opens here.
type videoResults struct {
	results *bounded.Store[string, *finishedVideo]
}

func newVideoResults(max int) *videoResults {
	return &videoResults{results: bounded.New[string, *finishedVideo](bounded.Limits{Count: max, Recency: true})}
}

// get returns the finished result of id, if kept.
func (c *videoResults) get(id string) (*finishedVideo, bool) {
	return c.results.Get(id, time.Now())
}

// add keeps f for id and returns what is kept: the first result seen
// wins, so that two requests racing on one job report one completed_at.
func (c *videoResults) add(id string, f *finishedVideo) *finishedVideo {
	return c.results.Keep(id, f, 0, time.Time{}, time.Now())
}

// remove forgets the result of id.
func (c *videoResults) remove(id string) { c.results.Remove(id) }

// deletedVideosSize bounds the deleted ids remembered: 40 bytes each.
const deletedVideosSize = 100_000

// deletedVideos remembers the ids deleted through this process until they
// expire, so that a deleted video stays deleted here although its id still
// opens. Another replica sees them only through a shared database (see
// sharedVideos). It holds the ids' digests, shorter than the ids.
type deletedVideos struct {
	ids *bounded.Store[[32]byte, struct{}]
}

func newDeletedVideos(max int) *deletedVideos {
	return &deletedVideos{ids: bounded.New[[32]byte, struct{}](bounded.Limits{Count: max})}
}

// add records that id was deleted and needs remembering until expires,
// forgetting the oldest deletions beyond the bound. Videos expire in the
// order they were created, not deleted: an expired deletion goes when
// looked up (see has), or with the oldest ones.
func (d *deletedVideos) add(id string, expires, now time.Time) {
	d.ids.Put(sha256.Sum256([]byte(id)), struct{}{}, 0, expires, now)
}

// has reports whether id was deleted and has not yet expired.
func (d *deletedVideos) has(id string, now time.Time) bool {
	_, ok := d.ids.Get(sha256.Sum256([]byte(id)), now)
	return ok
}
