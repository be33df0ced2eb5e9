package server

import (
	"context"
	"time"

	"github.com/falproxy/falproxy/internal/video"
)

// videoRecords remember what a video's id cannot carry: the index behind
// GET /v1/videos and the whole prompt, and the ids deleted, which still
// open. In process (localVideos) they hold the videos created and deleted
// through this process; in the database replicas share (sharedVideos),
// those of every replica. The errors are the database's.
type videoRecords interface {
	// add indexes a new video of the client key whose SHA-256 is owner
	// (hashed once, by authenticate).
	add(ctx context.Context, v video.Video, owner tenant, now time.Time) error
	// get returns what the records hold of video id: the video as last
	// seen, unless it is past the index's age, and whether it was
	// deleted, one read for both.
	get(ctx context.Context, id string, now time.Time) (videoRecord, error)
	// update keeps what was last seen of an indexed video.
	update(ctx context.Context, v video.Video) error
	// remove takes video id of owner, created at created, out of the
	// index and remembers it as deleted until expires.
	remove(ctx context.Context, id string, owner tenant, created, expires, now time.Time) error
	// page lists owner's videos, newest first (oldest first with
	// asc), after the video after, at most limit; more reports that
	// others follow. A cursor that has left the index lists nothing.
	page(ctx context.Context, owner tenant, after string, limit int, asc bool, now time.Time) (out []video.Video, more bool, err error)
}

// videoRecord is what the records hold of one video: the video as last
// seen when it is indexed, and whether it was deleted (and the deletion
// has not expired).
type videoRecord struct {
	last    video.Video
	indexed bool
	deleted bool
}

// localVideos are the video records of this process, bounded in count
// and age; they never fail.
type localVideos struct {
	index      *videoIndex
	deletedIDs *deletedVideos
}

func newLocalVideos() *localVideos {
	return &localVideos{index: newVideoIndex(videoIndexSize, videoIndexAge), deletedIDs: newDeletedVideos(deletedVideosSize)}
}

func (l *localVideos) add(_ context.Context, v video.Video, owner tenant, now time.Time) error {
	l.index.add(v, owner, now)
	return nil
}

func (l *localVideos) get(_ context.Context, id string, now time.Time) (videoRecord, error) {
	known, ok := l.index.get(id, now)
	return videoRecord{last: known.last, indexed: ok, deleted: l.deletedIDs.has(id, now)}, nil
}

func (l *localVideos) update(_ context.Context, v video.Video) error {
	l.index.update(v)
	return nil
}

func (l *localVideos) remove(_ context.Context, id string, _ tenant, _, expires, now time.Time) error {
	l.deletedIDs.add(id, expires, now)
	l.index.remove(id)
	return nil
}

func (l *localVideos) page(_ context.Context, owner tenant, after string, limit int, asc bool, now time.Time) ([]video.Video, bool, error) {
	out, more := l.index.page(owner, after, limit, asc, now)
	return out, more, nil
}
