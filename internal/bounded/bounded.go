// Package bounded keeps values in process, bounded in count, in bytes and
// in time, for the state falproxy holds between requests (stored
// responses, the videos created here, their finished results, the ids
// deleted here). Every operation is O(1) but a walk; expired entries go
// when read, and from the oldest end as entries are added, so that memory
// stays within the bounds whatever the traffic.
package bounded

import (
	"container/list"
	"crypto/sha256"
	"sync"
	"time"
)

// Limits bound a Store: at most Count entries (0: no bound) and Bytes of
// the sizes given to Put (0: no bound). Beyond them the first in order
// goes: the oldest added or, with Recency, the least recently read.
type Limits struct {
	Count   int
	Bytes   int64
	Recency bool
}

// Store holds values by key, in the order they were added (or read, with
// Limits.Recency). It is safe for concurrent use.
type Store[K comparable, V any] struct {
	mu    sync.Mutex
	lim   Limits
	byKey map[K]*list.Element
	order list.List // of *entry[K, V], first to go at the front
	bytes int64
}

type entry[K comparable, V any] struct {
	key     K
	value   V
	size    int64
	expires time.Time // zero: never
}

// New returns an empty store with the given limits.
func New[K comparable, V any](lim Limits) *Store[K, V] {
	return &Store[K, V]{lim: lim, byKey: map[K]*list.Element{}}
}

// Put keeps v under k, sized size, until expires (zero: until evicted),
// replacing what k held and making it the newest entry. Then it evicts
// past the limits, and the expired entries at the oldest end. A value
// larger than the byte limit on its own is not kept.
func (s *Store[K, V]) Put(k K, v V, size int64, expires, now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.put(k, v, size, expires, now)
}

func (s *Store[K, V]) put(k K, v V, size int64, expires, now time.Time) {
	if el, ok := s.byKey[k]; ok {
		s.remove(el)
	}
	if s.lim.Bytes > 0 && size > s.lim.Bytes {
		return
	}
	s.byKey[k] = s.order.PushBack(&entry[K, V]{key: k, value: v, size: size, expires: expires})
	s.bytes += size
	for s.order.Len() > 0 && (s.lim.Count > 0 && s.order.Len() > s.lim.Count || s.lim.Bytes > 0 && s.bytes > s.lim.Bytes) {
		s.remove(s.order.Front())
	}
	s.dropExpired(now)
}

// Get returns the value under k unless it has expired at now; with
// Limits.Recency the entry becomes the most recently used. Expired entries
// at the oldest end are dropped.
func (s *Store[K, V]) Get(k K, now time.Time) (V, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	el, ok := s.use(k, now)
	if !ok {
		var none V
		return none, false
	}
	return el.Value.(*entry[K, V]).value, true
}

// Keep keeps v under k as Put does, unless k holds a live value: then it
// keeps that one, as used now. It returns the value k holds, so that of
// two callers racing on one key both go on with the first value kept.
func (s *Store[K, V]) Keep(k K, v V, size int64, expires, now time.Time) V {
	s.mu.Lock()
	defer s.mu.Unlock()
	if el, ok := s.use(k, now); ok {
		return el.Value.(*entry[K, V]).value
	}
	s.put(k, v, size, expires, now)
	return v
}

// Update calls change on the value under k, if the store holds it,
// without changing its place.
func (s *Store[K, V]) Update(k K, change func(*V)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if el, ok := s.byKey[k]; ok {
		change(&el.Value.(*entry[K, V]).value)
	}
}

// Remove forgets k.
func (s *Store[K, V]) Remove(k K) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if el, ok := s.byKey[k]; ok {
		s.remove(el)
	}
}

// Len is the number of entries held, expired ones not yet dropped
// included.
func (s *Store[K, V]) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.order.Len()
}

// Walk calls visit with the live entries in order, newest first (oldest
// first with oldestFirst), starting after the key after when it is not
// the zero key, until visit returns false. It reports false when after
// is not held. visit must not call the store.
func (s *Store[K, V]) Walk(after K, oldestFirst bool, now time.Time, visit func(K, V) bool) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.dropExpired(now)
	next := (*list.Element).Prev
	el := s.order.Back()
	if oldestFirst {
		next, el = (*list.Element).Next, s.order.Front()
	}
	var zero K
	if after != zero {
		at, ok := s.live(after, now)
		if !ok {
			return false
		}
		el = next(at)
	}
	for ; el != nil; el = next(el) {
		e := el.Value.(*entry[K, V])
		if e.expired(now) {
			continue
		}
		if !visit(e.key, e.value) {
			break
		}
	}
	return true
}

// use is the live element of k, made the most recently used with
// Limits.Recency. The expired entries at the oldest end go first.
func (s *Store[K, V]) use(k K, now time.Time) (*list.Element, bool) {
	s.dropExpired(now)
	el, ok := s.live(k, now)
	if ok && s.lim.Recency {
		s.order.MoveToBack(el)
	}
	return el, ok
}

// live is the element of k, dropped and not reported when it has expired.
func (s *Store[K, V]) live(k K, now time.Time) (*list.Element, bool) {
	el, ok := s.byKey[k]
	if !ok {
		return nil, false
	}
	if el.Value.(*entry[K, V]).expired(now) {
		s.remove(el)
		return nil, false
	}
	return el, true
}

// dropExpired drops the expired entries at the oldest end; one that
// expires before an older one goes when read or evicted.
func (s *Store[K, V]) dropExpired(now time.Time) {
	for el := s.order.Front(); el != nil && el.Value.(*entry[K, V]).expired(now); el = s.order.Front() {
		s.remove(el)
	}
}

func (s *Store[K, V]) remove(el *list.Element) {
	e := s.order.Remove(el).(*entry[K, V])
	delete(s.byKey, e.key)
	s.bytes -= e.size
}

func (e *entry[K, V]) expired(now time.Time) bool {
	return !e.expires.IsZero() && !now.Before(e.expires)
}

// Owner is the digest under which a store keeps what belongs to an access
// key, so that no store holds the key itself.
func Owner(accessKey string) [32]byte { return sha256.Sum256([]byte(accessKey)) }
