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

// Stored is one kept response: the conversation items that led to it
// (input of this and earlier turns, oldest first) and the response itself.
type Stored struct {
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
// response larger than the byte limit on its own is not kept.
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
	el, ok := st.byID[id]
	if !ok {
		return Stored{}, false
	}
	e := el.Value.(*entry)
	if e.owner != owner(key) {
		return Stored{}, false
	}
	return e.stored, true
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
