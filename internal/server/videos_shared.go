package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/falproxy/falproxy/internal/store"
	"github.com/falproxy/falproxy/internal/video"
)

// sharedVideos are the video records in the database replicas share, so
// that a video created through one is listed, with its whole prompt, by
// all, and one deleted through one is gone from all. Videos are indexed
// for videoIndexAge, without the in-process bound on their count: the age
// bounds the table, whose expired rows the store purges.
type sharedVideos struct {
	db *store.Store
}

func (sh *sharedVideos) add(ctx context.Context, v video.Video, owner tenant, now time.Time) error {
	body, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encoding the video: %w", err)
	}
	return sh.db.AddVideo(ctx, v.ID, store.HashOf(owner), body, now, now.Add(videoIndexAge))
}

func (sh *sharedVideos) get(ctx context.Context, id string, now time.Time) (videoRecord, error) {
	row, err := sh.db.Video(ctx, id, now)
	if errors.Is(err, store.ErrNotFound) {
		return videoRecord{}, nil
	}
	if err != nil || row.Deleted {
		return videoRecord{deleted: row.Deleted}, err
	}
	v, err := decodeIndexed(row)
	return videoRecord{last: v, indexed: err == nil}, err
}

func (sh *sharedVideos) update(ctx context.Context, v video.Video) error {
	body, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encoding the video: %w", err)
	}
	return sh.db.UpdateVideo(ctx, v.ID, body)
}

func (sh *sharedVideos) remove(ctx context.Context, id string, owner tenant, created, expires, now time.Time) error {
	return sh.db.DeleteVideo(ctx, id, store.HashOf(owner), created, expires, now)
}

func (sh *sharedVideos) page(ctx context.Context, owner tenant, after string, limit int, asc bool, now time.Time) ([]video.Video, bool, error) {
	rows, more, err := sh.db.VideoPage(ctx, store.HashOf(owner), after, limit, asc, now)
	if errors.Is(err, store.ErrNotFound) {
		return nil, false, nil // the cursor has left the index
	}
	if err != nil {
		return nil, false, err
	}
	out := make([]video.Video, len(rows))
	for i, row := range rows {
		if out[i], err = decodeIndexed(row); err != nil {
			return nil, false, err
		}
	}
	return out, more, nil
}

// decodeIndexed is the video an index row holds.
func decodeIndexed(row store.IndexedVideo) (video.Video, error) {
	var v video.Video
	if err := json.Unmarshal(row.Body, &v); err != nil {
		return video.Video{}, fmt.Errorf("decoding the indexed video %s: %w", row.ID, err)
	}
	return v, nil
}
