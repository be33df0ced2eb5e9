package responses

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/falproxy/falproxy/internal/store"
)

// maxTurns bounds the conversation Shared rebuilds when StoreLimits set
// no count: a chain longer than this is not continued.
const maxTurns = 1000

// Shared keeps responses in the database, so that every replica sharing
// it reads the responses any of them kept. Each is kept for the limits'
// Age and not read after it; a turn larger than the byte limit on its own
// is not kept. The count and total byte limits bound a process's memory
// and do not apply: the age bounds the table, whose expired rows the
// writes purge (see store.PurgeEvery). It is safe for concurrent use.
type Shared struct {
	db     *store.Store
	limits StoreLimits
	now    func() time.Time
	purges store.PurgeClock
}

// NewShared returns the responses kept in db, with the given limits.
func NewShared(db *store.Store, limits StoreLimits) *Shared {
	return &Shared{db: db, limits: limits, now: time.Now}
}

// Put keeps s for key, and purges expired responses when a purge is due.
// A failed purge is tried again at the next one.
func (sh *Shared) Put(ctx context.Context, key string, s Stored) error {
	b, err := json.Marshal(s)
	if err != nil {
		return fmt.Errorf("encoding the response: %w", err)
	}
	if sh.limits.Bytes > 0 && int64(len(b)) > sh.limits.Bytes {
		return nil
	}
	now := sh.now()
	if sh.purges.Due(now) {
		_, _ = sh.db.PurgeResponses(ctx, now, store.PurgeBatch)
	}
	return sh.db.PutResponse(ctx, store.KeptResponse{ID: s.Response.ID, Owner: store.HashKey(key), ParentID: s.ParentID, Body: b,
		CreatedAt: now, ExpiresAt: now.Add(sh.limits.Age)})
}

// Get returns response id, if key has it kept.
func (sh *Shared) Get(ctx context.Context, key, id string) (Stored, bool, error) {
	chain, ok, err := sh.chain(ctx, key, id, 1)
	if !ok {
		return Stored{}, false, err
	}
	return chain[0], true, nil
}

// History is the conversation that led to response id and its output,
// read in one query; false when id, or any turn before it, is no longer
// kept (see Store.History).
func (sh *Shared) History(ctx context.Context, key, id string) ([]Item, bool, error) {
	depth := sh.limits.Count
	if depth <= 0 {
		depth = maxTurns
	}
	chain, ok, err := sh.chain(ctx, key, id, depth)
	if !ok || chain[len(chain)-1].ParentID != "" { // a turn is missing, or the chain is too long
		return nil, false, err
	}
	return conversation(chain), true, nil
}

// Delete forgets response id of key, reporting whether key had it.
func (sh *Shared) Delete(ctx context.Context, key, id string) (bool, error) {
	err := sh.db.DeleteResponse(ctx, store.HashKey(key), id, sh.now())
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

// chain reads response id of key and at most depth-1 of the responses
// before it, newest first.
func (sh *Shared) chain(ctx context.Context, key, id string, depth int) ([]Stored, bool, error) {
	rows, err := sh.db.ResponseChain(ctx, store.HashKey(key), id, depth, sh.now())
	if errors.Is(err, store.ErrNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	chain := make([]Stored, len(rows))
	for i, r := range rows {
		if err := json.Unmarshal(r.Body, &chain[i]); err != nil {
			return nil, false, fmt.Errorf("decoding the kept response %s: %w", r.ID, err)
		}
	}
	return chain, true, nil
}
