package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// KeptResponse is one response kept for previous_response_id and GET
// /v1/responses/{id}: its owner (the hash of the access key that made it),
// the response it continued ("" for none) and its JSON body, which the
// store does not read.
type KeptResponse struct {
	ID        string
	Owner     string
	ParentID  string
	Body      []byte
	CreatedAt time.Time
	ExpiresAt time.Time
}

// PutResponse keeps r, replacing a response of the same id.
func (s *Store) PutResponse(ctx context.Context, r KeptResponse) error {
	_, err := s.exec(ctx, `INSERT INTO responses (id, owner, parent_id, body, size, created_at, expires_at) VALUES (`+placeholders(7)+`)
		ON CONFLICT (id) DO UPDATE SET owner = excluded.owner, parent_id = excluded.parent_id, body = excluded.body,
		size = excluded.size, created_at = excluded.created_at, expires_at = excluded.expires_at`,
		r.ID, r.Owner, r.ParentID, string(r.Body), len(r.Body), r.CreatedAt.UnixMilli(), r.ExpiresAt.UnixMilli())
	if err != nil {
		return fmt.Errorf("keeping the response: %w", err)
	}
	return nil
}

// ResponseChain is response id of owner and the responses it continued,
// newest first, at most depth of them, as long as each is kept and has not
// expired at now. It is ErrNotFound when id itself is not kept; a chain
// whose last response names a parent was cut short by a missing turn.
func (s *Store) ResponseChain(ctx context.Context, owner, id string, depth int, now time.Time) ([]KeptResponse, error) {
	at := now.UnixMilli()
	rows, err := s.query(ctx, `WITH RECURSIVE chain (id, parent_id, body, created_at, expires_at, depth) AS (
			SELECT id, parent_id, body, created_at, expires_at, 1 FROM responses WHERE id = ? AND owner = ? AND expires_at > ?
			UNION ALL
			SELECT r.id, r.parent_id, r.body, r.created_at, r.expires_at, c.depth + 1 FROM responses r JOIN chain c ON r.id = c.parent_id
			WHERE r.owner = ? AND r.expires_at > ? AND c.depth < ?)
		SELECT id, parent_id, body, created_at, expires_at FROM chain ORDER BY depth`, id, owner, at, owner, at, depth)
	if err != nil {
		return nil, fmt.Errorf("reading the responses: %w", err)
	}
	defer rows.Close()
	var chain []KeptResponse
	for rows.Next() {
		r := KeptResponse{Owner: owner}
		var body string
		var created, expires int64
		if err := rows.Scan(&r.ID, &r.ParentID, &body, &created, &expires); err != nil {
			return nil, fmt.Errorf("reading the responses: %w", err)
		}
		r.Body, r.CreatedAt, r.ExpiresAt = []byte(body), time.UnixMilli(created), time.UnixMilli(expires)
		chain = append(chain, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading the responses: %w", err)
	}
	if len(chain) == 0 {
		return nil, ErrNotFound
	}
	return chain, nil
}

// DeleteResponse forgets response id of owner, reporting ErrNotFound when
// owner had no such response kept at now.
func (s *Store) DeleteResponse(ctx context.Context, owner, id string, now time.Time) error {
	res, err := s.exec(ctx, `DELETE FROM responses WHERE id = ? AND owner = ? AND expires_at > ?`, id, owner, now.UnixMilli())
	return changedOne(res, err, "forgetting the response")
}

// PurgeResponses removes at most limit responses expired at now, so that
// one purge is a bounded amount of work, and returns how many went.
func (s *Store) PurgeResponses(ctx context.Context, now time.Time, limit int) (int64, error) {
	return s.purge(ctx, "responses", now, limit)
}

// purge removes at most limit rows of table expired at now.
func (s *Store) purge(ctx context.Context, table string, now time.Time, limit int) (int64, error) {
	res, err := s.exec(ctx, `DELETE FROM `+table+` WHERE id IN (SELECT id FROM `+table+` WHERE expires_at <= ? LIMIT ?)`, now.UnixMilli(), limit)
	if err != nil {
		return 0, fmt.Errorf("purging expired %s: %w", table, err)
	}
	return res.RowsAffected()
}

// changedOne is the error of a statement that had to change one row:
// ErrNotFound when it changed none.
func changedOne(res sql.Result, err error, what string) error {
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if n == 0 {
		return ErrNotFound
	}
	return nil
}
