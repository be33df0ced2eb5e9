package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// IndexedVideo is one video of the index behind GET /v1/videos: its JSON
// body as last seen, which the store does not read, or, Deleted, a video
// deleted (whose body is "").
type IndexedVideo struct {
	ID      string
	Body    []byte
	Deleted bool
}

// AddVideo indexes a new video of owner, created now, until expires; a
// video already indexed, or deleted, stays as it is. It starts a purge of
// the expired rows when one is due.
func (s *Store) AddVideo(ctx context.Context, id, owner string, body []byte, now, expires time.Time) error {
	ctx, cancel := bounded(ctx)
	defer cancel()
	_, err := s.exec(ctx, `INSERT INTO videos (id, owner, created_at, body, expires_at) VALUES (`+placeholders(5)+`)
		ON CONFLICT (id) DO NOTHING`, id, owner, now.UnixMilli(), string(body), expires.UnixMilli())
	if err != nil {
		return fmt.Errorf("indexing the video: %w", err)
	}
	s.purgeSoon(now)
	return nil
}

// Video is the indexed or deleted video id, or ErrNotFound when it is
// neither, or has expired at now.
func (s *Store) Video(ctx context.Context, id string, now time.Time) (IndexedVideo, error) {
	ctx, cancel := bounded(ctx)
	defer cancel()
	rows, err := s.query(ctx, `SELECT id, body, deleted_at IS NOT NULL FROM videos WHERE id = ? AND expires_at > ?`, id, now.UnixMilli())
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
	ctx, cancel := bounded(ctx)
	defer cancel()
	if _, err := s.exec(ctx, `UPDATE videos SET body = ? WHERE id = ? AND deleted_at IS NULL AND body <> ?`,
		string(body), id, string(body)); err != nil {
		return fmt.Errorf("updating the video: %w", err)
	}
	return nil
}

// DeleteVideo records that video id, of owner and created at created,
// was deleted at now: it leaves the index, and Video reports it deleted
// until expires.
func (s *Store) DeleteVideo(ctx context.Context, id, owner string, created, expires, now time.Time) error {
	ctx, cancel := bounded(ctx)
	defer cancel()
	_, err := s.exec(ctx, `INSERT INTO videos (id, owner, created_at, body, deleted_at, expires_at) VALUES (?, ?, ?, '', ?, ?)
		ON CONFLICT (id) DO UPDATE SET deleted_at = excluded.deleted_at, expires_at = excluded.expires_at`,
		id, owner, created.UnixMilli(), now.UnixMilli(), expires.UnixMilli())
	if err != nil {
		return fmt.Errorf("recording the deletion: %w", err)
	}
	return nil
}

// VideoPage lists owner's videos live at now, newest first (oldest first
// with asc), after the video after when it is not "", at most limit; more
// reports that others follow. It is ErrNotFound when after is not one of
// owner's listed videos.
func (s *Store) VideoPage(ctx context.Context, owner, after string, limit int, asc bool, now time.Time) (page []IndexedVideo, more bool, err error) {
	ctx, cancel := bounded(ctx)
	defer cancel()
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
	rows, err := s.query(ctx, `SELECT id, body, deleted_at IS NOT NULL FROM videos WHERE `+where+
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

// scanVideos reads and closes rows of id, body and whether the video was
// deleted.
func scanVideos(rows *sql.Rows) ([]IndexedVideo, error) {
	defer rows.Close()
	var out []IndexedVideo
	for rows.Next() {
		var v IndexedVideo
		var body string
		if err := rows.Scan(&v.ID, &body, &v.Deleted); err != nil {
			return nil, fmt.Errorf("reading the videos: %w", err)
		}
		v.Body = []byte(body)
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading the videos: %w", err)
	}
	return out, nil
}
