package store

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"time"
)

// KeptResponse is one response kept for previous_response_id and GET
// /v1/responses/{id}: its owner (the hash of the access key that made it),
// the response it continued ("" for none) and its JSON body, which the
// store does not read.
type KeptResponse struct {
	ID       string
	Owner    string
	ParentID string
	Body     []byte
}

// PutResponse keeps r until expires, replacing a response of the same id,
// and starts a purge of the expired rows when one is due at now.
func (s *Store) PutResponse(ctx context.Context, r KeptResponse, now, expires time.Time) error {
	ctx, cancel := bounded(ctx)
	defer cancel()
	_, err := s.exec(ctx, `INSERT INTO responses (id, owner, parent_id, body, size, expires_at) VALUES (`+placeholders(6)+`)
		ON CONFLICT (id) DO UPDATE SET owner = excluded.owner, parent_id = excluded.parent_id, body = excluded.body,
		size = excluded.size, expires_at = excluded.expires_at`,
		r.ID, r.Owner, r.ParentID, string(r.Body), len(r.Body), expires.UnixMilli())
	if err != nil {
		return fmt.Errorf("keeping the response: %w", err)
	}
	s.purgeSoon(now)
	return nil
}

// ResponseChain is response id of owner and the responses it continued,
// newest first, as long as each is kept and has not expired at now, at
// most depth of them and at most maxBytes of bodies together (0: no
// bound), so that rebuilding a conversation holds a bounded amount of
// memory. It is ErrNotFound when id itself is not kept; a chain whose
// last response names a parent was cut short by a missing turn or a
// bound.
func (s *Store) ResponseChain(ctx context.Context, owner, id string, depth int, maxBytes int64, now time.Time) ([]KeptResponse, error) {
	ctx, cancel := bounded(ctx)
	defer cancel()
	if maxBytes <= 0 {
		maxBytes = math.MaxInt64
	}
	at := now.UnixMilli()
	rows, err := s.query(ctx, `WITH RECURSIVE chain (id, parent_id, body, depth, total) AS (
			SELECT id, parent_id, body, 1, size FROM responses WHERE id = ? AND owner = ? AND expires_at > ? AND size <= ?
			UNION ALL
			SELECT r.id, r.parent_id, r.body, c.depth + 1, c.total + r.size FROM responses r JOIN chain c ON r.id = c.parent_id
			WHERE r.owner = ? AND r.expires_at > ? AND c.depth < ? AND c.total + r.size <= ?)
		SELECT id, parent_id, body FROM chain ORDER BY depth`, id, owner, at, maxBytes, owner, at, depth, maxBytes)
	if err != nil {
		return nil, fmt.Errorf("reading the responses: %w", err)
	}
	defer rows.Close()
	var chain []KeptResponse
	for rows.Next() {
		r := KeptResponse{Owner: owner}
		var body string
		if err := rows.Scan(&r.ID, &r.ParentID, &body); err != nil {
			return nil, fmt.Errorf("reading the responses: %w", err)
		}
		r.Body = []byte(body)
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
	ctx, cancel := bounded(ctx)
	defer cancel()
	res, err := s.exec(ctx, `DELETE FROM responses WHERE id = ? AND owner = ? AND expires_at > ?`, id, owner, now.UnixMilli())
	return changedOne(res, err, "forgetting the response")
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
