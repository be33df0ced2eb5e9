package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// IndexedVideo is one video of the index behind GET /v1/videos: its owner
// (the hash of the access key that created it), when it was created and
// its JSON body as last seen, which the store does not read.
type IndexedVideo struct {
	ID        string
	Owner     string
	CreatedAt time.Time
	Body      []byte
	ExpiresAt time.Time
}

// AddVideo indexes a new video; a video already indexed, or deleted,
// stays as it is.
func (s *Store) AddVideo(ctx context.Context, v IndexedVideo) error {
	_, err := s.exec(ctx, `INSERT INTO videos (id, owner, created_at, body, expires_at) VALUES (`+placeholders(5)+`)
		ON CONFLICT (id) DO NOTHING`, v.ID, v.Owner, v.CreatedAt.UnixMilli(), string(v.Body), v.ExpiresAt.UnixMilli())
	if err != nil {
		return fmt.Errorf("indexing the video: %w", err)
	}
	return nil
}

// Video is the indexed video id, or ErrNotFound when it is not indexed,
// was deleted or has expired at now.
func (s *Store) Video(ctx context.Context, id string, now time.Time) (IndexedVideo, error) {
	rows, err := s.query(ctx, `SELECT id, owner, created_at, body, expires_at FROM videos
		WHERE id = ? AND deleted_at IS NULL AND expires_at > ?`, id, now.UnixMilli())
	if err != nil {
		return IndexedVideo{}, fmt.Errorf("reading the video: %w", err)
	}
	vs, err := scanVideos(rows)
	if err != nil {
		return IndexedVideo{}, err
	}
	if len(vs) == 0 {
		return IndexedVideo{}, ErrNotFound
	}
	return vs[0], nil
}

// UpdateVideo keeps body as what was last seen of video id, unless it was
// deleted. A body that has not changed writes nothing.
func (s *Store) UpdateVideo(ctx context.Context, id string, body []byte) error {
	if _, err := s.exec(ctx, `UPDATE videos SET body = ? WHERE id = ? AND deleted_at IS NULL AND body <> ?`,
		string(body), id, string(body)); err != nil {
		return fmt.Errorf("updating the video: %w", err)
	}
	return nil
}

// DeleteVideo records that video id, of owner and created at created,
// was deleted at now: it leaves the index, and VideoDeleted reports it
// until expires.
func (s *Store) DeleteVideo(ctx context.Context, id, owner string, created, expires, now time.Time) error {
	_, err := s.exec(ctx, `INSERT INTO videos (id, owner, created_at, body, deleted_at, expires_at) VALUES (?, ?, ?, '', ?, ?)
		ON CONFLICT (id) DO UPDATE SET deleted_at = excluded.deleted_at, expires_at = excluded.expires_at`,
		id, owner, created.UnixMilli(), now.UnixMilli(), expires.UnixMilli())
	if err != nil {
		return fmt.Errorf("recording the deletion: %w", err)
	}
	return nil
}

// VideoDeleted reports whether video id was deleted and the deletion has
// not expired at now.
func (s *Store) VideoDeleted(ctx context.Context, id string, now time.Time) (bool, error) {
	var n int
	err := s.queryRow(ctx, `SELECT COUNT(*) FROM videos WHERE id = ? AND deleted_at IS NOT NULL AND expires_at > ?`,
		id, now.UnixMilli()).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("reading the deletions: %w", err)
	}
	return n > 0, nil
}

// VideoPage lists owner's videos live at now, newest first (oldest first
// with asc), after the video after when it is not "", at most limit; more
// reports that others follow. It is ErrNotFound when after is not one of
// owner's listed videos.
func (s *Store) VideoPage(ctx context.Context, owner, after string, limit int, asc bool, now time.Time) (page []IndexedVideo, more bool, err error) {
	at := now.UnixMilli()
	where, args := `owner = ? AND deleted_at IS NULL AND expires_at > ?`, []any{owner, at}
	cmp, order := "<", "DESC"
	if asc {
		cmp, order = ">", "ASC"
	}
	if after != "" {
		var created int64
		err := s.queryRow(ctx, `SELECT created_at FROM videos WHERE id = ? AND `+where, append([]any{after}, args...)...).Scan(&created)
		if errors.Is(err, sql.ErrNoRows) {
			return nil, false, ErrNotFound
		}
		if err != nil {
			return nil, false, fmt.Errorf("reading the videos: %w", err)
		}
		where += ` AND (created_at ` + cmp + ` ? OR (created_at = ? AND id ` + cmp + ` ?))`
		args = append(args, created, created, after)
	}
	rows, err := s.query(ctx, `SELECT id, owner, created_at, body, expires_at FROM videos WHERE `+where+
		` ORDER BY created_at `+order+`, id `+order+` LIMIT ?`, append(args, limit+1)...)
	if err != nil {
		return nil, false, fmt.Errorf("reading the videos: %w", err)
	}
	page, err = scanVideos(rows)
	if err != nil {
		return nil, false, err
	}
	if len(page) > limit {
		return page[:limit], true, nil
	}
	return page, false, nil
}

// PurgeVideos removes at most limit videos and deletions expired at now,
// so that one purge is a bounded amount of work, and returns how many
// went.
func (s *Store) PurgeVideos(ctx context.Context, now time.Time, limit int) (int64, error) {
	return s.purge(ctx, "videos", now, limit)
}

// scanVideos reads and closes rows of id, owner, created_at, body and
// expires_at.
func scanVideos(rows *sql.Rows) ([]IndexedVideo, error) {
	defer rows.Close()
	var out []IndexedVideo
	for rows.Next() {
		var v IndexedVideo
		var body string
		var created, expires int64
		if err := rows.Scan(&v.ID, &v.Owner, &created, &body, &expires); err != nil {
			return nil, fmt.Errorf("reading the videos: %w", err)
		}
		v.Body, v.CreatedAt, v.ExpiresAt = []byte(body), time.UnixMilli(created), time.UnixMilli(expires)
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading the videos: %w", err)
	}
	return out, nil
}
