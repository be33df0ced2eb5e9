package responses

import (
	"container/list"
	"crypto/sha256"
	"encoding/json"
	"sync"
	"time"
)

// StoreLimits bound what a Store keeps: at most Count responses and Bytes
// of them, each for at most Age. The oldest go first.
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
	mu     sync.Mutex
	limits StoreLimits
	now    func() time.Time
	byID   map[string]*list.Element
	order  list.List // of *entry, oldest at the front
	bytes  int64
}

type entry struct {
	id     string
	owner  [32]byte
	at     time.Time
	size   int64
	stored Stored
}

// NewStore returns an empty store with the given limits.
func NewStore(limits StoreLimits) *Store {
	return &Store{limits: limits, now: time.Now, byID: map[string]*list.Element{}}
}

// owner is the digest under which a key's responses are kept, so that the
// store holds no access key.
func owner(key string) [32]byte { return sha256.Sum256([]byte(key)) }

// Put keeps s for key, evicting the oldest responses past the limits. A
// turn larger than the byte limit on its own is not kept.
func (st *Store) Put(key string, s Stored) {
	b, err := json.Marshal(s)
	if err != nil || int64(len(b)) > st.limits.Bytes {
		return
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	e := &entry{id: s.Response.ID, owner: owner(key), at: st.now(), size: int64(len(b)), stored: s}
	st.byID[e.id] = st.order.PushBack(e)
	st.bytes += e.size
	for st.order.Len() > st.limits.Count || st.bytes > st.limits.Bytes {
		st.remove(st.order.Front())
	}
}

// Get returns the response id kept for key, if it is there and not older
// than the age limit.
func (st *Store) Get(key, id string) (Stored, bool) {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.expire()
	return st.get(owner(key), id)
}

func (st *Store) get(owner [32]byte, id string) (Stored, bool) {
	el, ok := st.byID[id]
	if !ok || el.Value.(*entry).owner != owner {
		return Stored{}, false
	}
	return el.Value.(*entry).stored, true
}

// History is the conversation that led to response id, and its output:
// each turn's input items and then its output as input items, oldest
// first, rebuilt from the response's chain of previous responses. It
// reports false when id, or any turn before it, is no longer kept (older
// turns go first): a conversation with its start missing would mislead
// the model. The chain is at most as long as the store holds entries.
func (st *Store) History(key, id string) ([]Item, bool) {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.expire()
	var chain []Stored
	for k := owner(key); id != "" && len(chain) <= st.order.Len(); {
		s, ok := st.get(k, id)
		if !ok {
			return nil, false
		}
		chain = append(chain, s)
		id = s.ParentID
	}
	var items []Item
	for i := len(chain) - 1; i >= 0; i-- {
		items = append(append(items, chain[i].Items...), InputItems(chain[i].Response.Output)...)
	}
	return items, true
}

// expire drops the responses past the age limit.
func (st *Store) expire() {
	cutoff := st.now().Add(-st.limits.Age)
	for el := st.order.Front(); el != nil && el.Value.(*entry).at.Before(cutoff); el = st.order.Front() {
		st.remove(el)
	}
}

func (st *Store) remove(el *list.Element) {
	e := st.order.Remove(el).(*entry)
	delete(st.byID, e.id)
	st.bytes -= e.size
}
