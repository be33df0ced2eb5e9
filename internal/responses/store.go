package responses

import (
	"context"
	"encoding/json"
	"time"

	"github.com/falproxy/falproxy/internal/bounded"
)

// StoreLimits bound what a Store keeps: at most Count responses and Bytes
// of them (zero: no bound), each for at most Age. The oldest go first.
type StoreLimits struct {
	Count int
	Bytes int64
	Age   time.Duration
}

// DefaultStoreLimits keep 1,000 responses, 64 MiB, for an hour: enough
// for the turns of an agent's conversation, small enough for any host.
func DefaultStoreLimits() StoreLimits {
	return StoreLimits{Count: 1000, Bytes: 64 << 20, Age: time.Hour}
}

// Stored is one kept response: the response it continued (its
// previous_response_id, "" for none), this turn's input items and the
// response itself. The turns before are their own entries, so that each
// entry holds, and counts against the byte limit, only its own turn.
type Stored struct {
	ParentID string
	Items    []Item
	Response Response
}

// Store keeps responses in process for previous_response_id and GET
// /v1/responses/{id}. Each belongs to the access key that created it;
// asked with another key it does not exist. It is safe for concurrent use.
type Store struct {
	limits  StoreLimits
	now     func() time.Time
	entries *bounded.Store[string, entry]
}

type entry struct {
	owner  [32]byte
	stored Stored
}

// NewStore returns an empty store with the given limits.
func NewStore(limits StoreLimits) *Store {
	return &Store{limits: limits, now: time.Now,
		entries: bounded.New[string, entry](bounded.Limits{Count: limits.Count, Bytes: limits.Bytes})}
}

// Put keeps s for key, evicting the oldest responses past the limits. A
// turn larger than the byte limit on its own is not kept. It never fails.
func (st *Store) Put(_ context.Context, key string, s Stored) error {
	b, err := json.Marshal(s)
	if err != nil {
		return nil
	}
	now := st.now()
	st.entries.Put(s.Response.ID, entry{owner: bounded.Owner(key), stored: s}, int64(len(b)), now.Add(st.limits.Age), now)
	return nil
}

// Get returns the response id kept for key, if it is there and not older
// than the age limit.
func (st *Store) Get(_ context.Context, key, id string) (Stored, bool, error) {
	s, ok := st.get(bounded.Owner(key), id)
	return s, ok, nil
}

func (st *Store) get(owner [32]byte, id string) (Stored, bool) {
	e, ok := st.entries.Get(id, st.now())
	if !ok || e.owner != owner {
		return Stored{}, false
	}
	return e.stored, true
}

// History is the conversation that led to response id, and its output:
// each turn's input items and then its output as input items, oldest
// first, rebuilt from the response's chain of previous responses. It
// reports false when id, or any turn before it, is no longer kept (older
// turns go first): a conversation with its start missing would mislead
// the model. The chain is at most as long as the store holds entries.
func (st *Store) History(_ context.Context, key, id string) ([]Item, bool, error) {
	var chain []Stored
	for k, held := bounded.Owner(key), st.entries.Len(); id != "" && len(chain) <= held; {
		s, ok := st.get(k, id)
		if !ok {
			return nil, false, nil
		}
		chain = append(chain, s)
		id = s.ParentID
	}
	return conversation(chain), true, nil
}

// conversation is the input items of a chain of turns, newest first:
// each turn's input items and then its output as input items, oldest
// first.
func conversation(chain []Stored) []Item {
	var items []Item
	for i := len(chain) - 1; i >= 0; i-- {
		items = append(append(items, chain[i].Items...), InputItems(chain[i].Response.Output)...)
	}
	return items
}

// Delete forgets response id of key, reporting whether key had it. The
// responses that continued it keep their own turns, but a conversation
// through it can no longer be rebuilt (see History).
func (st *Store) Delete(_ context.Context, key, id string) (bool, error) {
	if _, ok := st.get(bounded.Owner(key), id); !ok {
		return false, nil
	}
	st.entries.Remove(id)
	return true, nil
}
