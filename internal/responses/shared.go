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
// is not kept. The count and byte limits bound the conversation read back
// into memory rather than the table: the age bounds the table, whose
// expired rows the store purges. It is safe for concurrent use.
type Shared struct {
	db     *store.Store
	limits StoreLimits
	now    func() time.Time
}

// NewShared returns the responses kept in db, with the given limits.
func NewShared(db *store.Store, limits StoreLimits) *Shared {
	return &Shared{db: db, limits: limits, now: time.Now}
}

// Put keeps s for key.
func (sh *Shared) Put(ctx context.Context, key string, s Stored) error {
	b, err := json.Marshal(s)
	if err != nil {
		return fmt.Errorf("encoding the response: %w", err)
	}
	if sh.limits.Bytes > 0 && int64(len(b)) > sh.limits.Bytes {
		return nil
	}
	now := sh.now()
	return sh.db.PutResponse(ctx, store.KeptResponse{ID: s.Response.ID, Owner: key, ParentID: s.ParentID, Body: b},
		now, now.Add(sh.limits.Age))
}

// Get returns response id, if key has it kept.
func (sh *Shared) Get(ctx context.Context, key, id string) (Stored, bool, error) {
	chain, ok, err := sh.chain(ctx, key, id, 1, 0)
	if !ok {
		return Stored{}, false, err
	}
	return chain[0], true, nil
}

// History is the conversation that led to response id and its output,
// read in one query; false when id, or any turn before it, is no longer
// kept (see Store.History), or when the turns together are more than the
// limits' Count or Bytes, which a Store would not hold either.
func (sh *Shared) History(ctx context.Context, key, id string) ([]Item, bool, error) {
	depth := sh.limits.Count
	if depth <= 0 {
		depth = maxTurns
	}
	chain, ok, err := sh.chain(ctx, key, id, depth, sh.limits.Bytes)
	if !ok || chain[len(chain)-1].ParentID != "" { // a turn is missing, or the chain is too long or too large
		return nil, false, err
	}
	return conversation(chain), true, nil
}

// Delete forgets response id of key, reporting whether key had it.
func (sh *Shared) Delete(ctx context.Context, key, id string) (bool, error) {
	err := sh.db.DeleteResponse(ctx, key, id, sh.now())
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

// chain reads response id of key and at most depth-1 of the responses
// before it, newest first, at most maxBytes of them together (0: no
// bound).
func (sh *Shared) chain(ctx context.Context, key, id string, depth int, maxBytes int64) ([]Stored, bool, error) {
	rows, err := sh.db.ResponseChain(ctx, key, id, depth, maxBytes, sh.now())
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
