package server

import (
	"container/list"
	"crypto/sha256"
	"sync"
	"time"

	"github.com/falproxy/falproxy/internal/video"
)

// finishedVideo is what a finished job leaves: its files or why it failed,
// and when this process first saw it finished. It never changes at fal, so
// once read it is kept, and a download or a seek asks fal nothing more.
type finishedVideo struct {
	output      *video.Output // nil when the job failed
	failure     *video.Error
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
// whoever created them and on whichever replica: unlike the index, which
// holds only this process's videos, it serves any id that opens here.
type videoResults struct {
	mu    sync.Mutex
	max   int
	byID  map[string]*list.Element
	order *list.List // most recently used first; values are *resultEntry
}

type resultEntry struct {
	id       string
	finished *finishedVideo
}

func newVideoResults(max int) *videoResults {
	return &videoResults{max: max, byID: map[string]*list.Element{}, order: list.New()}
}

// get returns the finished result of id, if kept.
func (c *videoResults) get(id string) (*finishedVideo, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.byID[id]
	if !ok {
		return nil, false
	}
	c.order.MoveToFront(e)
	return e.Value.(*resultEntry).finished, true
}

// add keeps f for id and returns what is kept: the first result seen
// wins, so that two requests racing on one job report one completed_at.
func (c *videoResults) add(id string, f *finishedVideo) *finishedVideo {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.byID[id]; ok {
		c.order.MoveToFront(e)
		return e.Value.(*resultEntry).finished
	}
	c.byID[id] = c.order.PushFront(&resultEntry{id: id, finished: f})
	for c.order.Len() > c.max {
		oldest := c.order.Back()
		c.order.Remove(oldest)
		delete(c.byID, oldest.Value.(*resultEntry).id)
	}
	return f
}

// remove forgets the result of id.
func (c *videoResults) remove(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.byID[id]; ok {
		c.order.Remove(e)
		delete(c.byID, id)
	}
}

// deletedVideosSize bounds the deleted ids remembered: 40 bytes each.
const deletedVideosSize = 100_000

// deletedVideos remembers the ids deleted through this process until they
// expire, so that a deleted video stays deleted here although its id still
// opens. Another replica does not see it until a shared store exists.
type deletedVideos struct {
	mu    sync.Mutex
	max   int
	until map[[32]byte]time.Time
	order [][32]byte // oldest deletion first
}

func newDeletedVideos(max int) *deletedVideos {
	return &deletedVideos{max: max, until: map[[32]byte]time.Time{}}
}

// add records that id was deleted and needs remembering until expires,
// forgetting the oldest deletions beyond the bound and the expired ones.
func (d *deletedVideos) add(id string, expires, now time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	h := sha256.Sum256([]byte(id))
	if _, ok := d.until[h]; !ok {
		d.order = append(d.order, h)
	}
	d.until[h] = expires
	drop := 0
	for ; drop < len(d.order); drop++ {
		first := d.order[drop]
		if len(d.order)-drop <= d.max && d.until[first].After(now) {
			break
		}
		delete(d.until, first)
	}
	d.order = d.order[drop:]
}

// has reports whether id was deleted and has not yet expired.
func (d *deletedVideos) has(id string, now time.Time) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	until, ok := d.until[sha256.Sum256([]byte(id))]
	return ok && until.After(now)
}
