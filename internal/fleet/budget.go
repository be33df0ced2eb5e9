package fleet

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/falproxy/falproxy/internal/teams"
)

// How a key's budget holds across replicas. The store holds the spend of
// written ledger rows; every replica reads it (Budget.Spent) now and then.
// What no read of the store shows lives in one Redis hash per key and
// budget period, spend:<key>:<period start>, so that it ends with its
// period. Each replica has its fields there:
//
//   - r: and u:, its reservations of running requests and its settled
//     spend not yet written to the ledger, written as absolute values
//     with a generation (g:) taken with them: Redis keeps the newest, so a
//     write that arrives late, races another of the same replica or is
//     sent again after an outage never counts a change twice, and a hash
//     that Redis lost is whole again at the replica's next write;
//   - p:, the reservations Redis took that the replica had not yet filed
//     when it last wrote r:, added by the reservation script itself so
//     that concurrent reservations of one replica see each other; a
//     write takes out of p: what it moved into r: (the growth of f:, all
//     the estimates filed so far), and a replica with no reservation on
//     its way, none taken since the write's generation (q:), empties it;
//   - m:, the spend it moved to the store so far: the hash's stored
//     counter grows by the growth of m:, and keeps a short history of
//     its past values (storedHistory), so that a replica that read the
//     store can tell what was stored after its read.
//
// f: and m: count from a start generation written with them, which a
// replica changes when it counts the key afresh (a new period, or after
// forgetting an idle key).
//
// A reservation counts Budget.Spent + stored since the read + every
// replica's r:, p: and u:, atomically with adding its estimate; the
// fields of replicas gone from the fleet are dropped first. A replica
// reports a read of the store (Loaded) before it runs it, and the mark is
// taken loadMargin earlier still, so that spend stored while the read
// ran is counted twice for a moment rather than not at all.

const (
	// loadMargin backdates the mark of a read of the store: teams calls
	// Loaded before its read, so the margin is only a safety for a caller
	// that reports a read it began earlier, up to teams' load timeout (2 s).
	loadMargin = 5 * time.Second
	// storedHistory is how long past values of the stored counter are
	// kept: longer than loadMargin, with room for a slow Loaded.
	storedHistory = 30 * time.Second
	// spendIdle is how long a key's budget hash outlives its last change.
	spendIdle = 24 * time.Hour
)

// spendState is this replica's side of the budget hashes.
type spendState struct {
	// synced is false after a budget update Redis may have missed, until
	// this replica's counts are written back; meanwhile budgets use the
	// local share.
	synced bool
	gen    int64 // the last generation taken for Redis
	keys   map[string]*keySpend
	holds  map[*teams.Reservation]hold
}

func newSpendState() spendState {
	return spendState{synced: true, keys: make(map[string]*keySpend), holds: make(map[*teams.Reservation]hold)}
}

// keySpend is this replica's part of one key's budget.
type keySpend struct {
	// hash and history are the Redis keys of the budget period this
	// replica last reserved in; its counts go there.
	hash, history string
	reserved      int64 // filed reservations, as in r:
	unstored      int64 // as in u:
	filed, moved  int64 // as in f: and m:, since generation start
	start         int64
	inFlight      int // reservations sent to Redis and not yet filed
	held          int // filed reservations not yet settled
	// beyond is what Redis last reported committed beyond the store (all
	// replicas' stored-since-read, unstored and reserved), for the local
	// share of the remaining budget.
	beyond int64
	// used notes a reservation since the last prune: an entry holding
	// nothing is dropped once it has gone unused for a whole tick.
	used bool
}

type hold struct {
	keyID    string
	estimate int64
}

// spendWrite is this replica's fields of a key's hash, taken under l.mu.
type spendWrite struct {
	hash, history                                string
	gen, reserved, unstored, filed, moved, start int64
	quiet                                        bool // no reservation on its way
}

// write takes the key's current counts for Redis with a new generation;
// l.mu is held.
func (l *Limits) write(s *keySpend) spendWrite {
	l.spend.gen++
	return spendWrite{hash: s.hash, history: s.history, gen: l.spend.gen, reserved: s.reserved, unstored: s.unstored,
		filed: s.filed, moved: s.moved, start: s.start, quiet: s.inFlight == 0}
}

func (l *Limits) keySpend(keyID string) *keySpend {
	s := l.spend.keys[keyID]
	if s == nil {
		s = &keySpend{}
		l.spend.keys[keyID] = s
	}
	return s
}

// spendKeys are the hash and stored history of a key's budget period.
func (l *Limits) spendKeys(keyID string, period time.Time) (hash, history string) {
	start := "0"
	if !period.IsZero() {
		start = strconv.FormatInt(period.Unix(), 10)
	}
	return l.f.key("spend:" + keyID + ":" + start), l.f.key("stored:" + keyID + ":" + start)
}

// Reserve implements teams.Limits: the budget check and the reservation
// are one atomic script over every replica's counts. While Redis cannot
// be asked, a hard budget allows this replica its share of what was left:
// (limit − spent) ÷ replicas, where spent is the store's spend as last
// read plus what Redis last reported committed beyond it; with
// REDIS_REQUIRED a hard budget is refused, while anything else (a cost
// booked after the fact) is counted here and written back later. A key without a budget has nothing to
// share: only a cost booked to a key this replica already counts (a
// refund) joins its counts.
func (l *Limits) Reserve(keyID string, b teams.Budget, estimate int64) (*teams.Reservation, bool, bool) {
	l.mu.Lock()
	s := l.spend.keys[keyID]
	if b.Limit < 0 && s == nil {
		l.mu.Unlock()
		return l.local.Reserve(keyID, b, estimate)
	}
	if s == nil {
		// Spend this replica settled while the key had no budget is
		// still unstored in its own counts: it joins the new entry, so
		// that Stored moves it out of u: rather than below zero.
		s = l.keySpend(keyID)
		s.unstored = l.local.Unstored(keyID)
	}
	if b.Limit >= 0 {
		if hash, history := l.spendKeys(keyID, b.Period); hash != s.hash {
			// A new period, or the key counted afresh: f: and m: count
			// from here, and the counts go to the period's hash.
			l.spend.gen++
			s.hash, s.history, s.filed, s.moved, s.start = hash, history, 0, 0, l.spend.gen
		}
		s.used = true
	}
	s.inFlight++
	l.spend.gen++
	gen, hash, history, synced := l.spend.gen, s.hash, s.history, l.spend.synced
	l.mu.Unlock()
	check := b.Limit >= 0 && b.HardStop
	if synced {
		var res []any
		if l.shared(func(ctx context.Context, c *redis.Client) (err error) {
			base, epoch, _ := splitMark(b.Mark)
			res, err = reserveScript.Run(ctx, c, []string{hash, history, l.f.key("replicas")}, l.id(), spendIdle.Milliseconds(),
				l.f.id, gen, flag(check), b.Limit, b.Spent, estimate, base, epoch).Slice()
			return err
		}) {
			taken, _ := res[0].(int64)
			beyond, _ := res[1].(int64)
			l.mu.Lock()
			s.beyond = beyond
			l.mu.Unlock()
			if taken == 0 {
				l.file(s, nil, keyID, estimate, false)
				return nil, false, false
			}
			r, _, _ := l.local.Reserve(keyID, teams.Budget{Limit: -1}, estimate)
			l.file(s, r, keyID, estimate, true)
			return r, true, false
		}
		l.unsync()
	} else {
		l.fallback.Add(1)
	}
	if l.f.Required() && check {
		l.file(s, nil, keyID, estimate, false)
		return nil, false, true
	}
	local := b
	if check {
		l.mu.Lock()
		spent := b.Spent + s.beyond
		l.mu.Unlock()
		_, _, localMark := splitMark(b.Mark)
		local = teams.Budget{Limit: spent + max(b.Limit-spent, 0)/int64(l.f.Replicas()), Spent: spent, HardStop: true, Mark: localMark}
	}
	r, ok, _ := l.local.Reserve(keyID, local, estimate)
	if !ok {
		r = nil
	}
	l.file(s, r, keyID, estimate, false)
	return r, ok, false
}

// file ends a reservation's way: taken (r not nil), it joins this
// replica's reserved count; taken by the script (inRedis), also its filed
// count, so that the next write moves it from p: to r:.
func (l *Limits) file(s *keySpend, r *teams.Reservation, keyID string, estimate int64, inRedis bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	s.inFlight--
	if r == nil {
		return
	}
	s.reserved += estimate
	if inRedis {
		s.filed += estimate
	}
	s.held++
	l.spend.holds[r] = hold{keyID: keyID, estimate: estimate}
}

// Settle implements teams.Limits: the estimate leaves this replica's
// reserved count and the actual cost enters its unstored one, in one
// write. A second settle, or one of no reservation, does nothing.
func (l *Limits) Settle(r *teams.Reservation, actual int64) {
	if r == nil {
		return
	}
	l.mu.Lock()
	h, ok := l.spend.holds[r]
	var w spendWrite
	if ok {
		delete(l.spend.holds, r)
		s := l.keySpend(h.keyID)
		s.reserved -= h.estimate
		s.held--
		s.unstored += actual
		w = l.write(s)
	}
	synced := l.spend.synced
	l.mu.Unlock()
	l.local.Settle(r, actual)
	if ok && synced {
		l.send([]spendWrite{w})
	}
}

// Stored implements teams.Limits: the ledger holds more of each key's
// spend, which moves from this replica's unstored count to the stored
// counter every replica compares its read of the store with; one round
// trip for all of the keys. Spend of keys this replica does not count
// (keys without a budget) stays local.
func (l *Limits) Stored(spend map[string]int64) {
	l.local.Stored(spend)
	var writes []spendWrite
	l.mu.Lock()
	for keyID, micros := range spend {
		s := l.spend.keys[keyID]
		if s == nil {
			continue
		}
		s.unstored -= micros
		s.moved += micros
		writes = append(writes, l.write(s))
	}
	synced := l.spend.synced
	l.mu.Unlock()
	if synced {
		l.send(writes)
	}
}

// Loaded implements teams.Limits: it notes the stored counter as of
// loadMargin ago, before the read of the store about to run begins, and
// answers it as the Mark that Reserve pairs with that read's spend. Without an answer a reservation counts the whole counter,
// which over-counts until the next read. The mark also carries this
// replica's own mark of the read, for the fallback: with it a reservation
// made while Redis is away counts the spend stored since its own read,
// even after a newer read has begun.
func (l *Limits) Loaded(keyID string, period time.Time) string {
	localMark := l.local.Loaded(keyID, period)
	hash, history := l.spendKeys(keyID, period)
	var res []any
	ok := l.shared(func(ctx context.Context, c *redis.Client) (err error) {
		res, err = loadedScript.Run(ctx, c, []string{hash, history}, loadMargin.Microseconds(), l.id(), spendIdle.Milliseconds()).Slice()
		return err
	})
	var base, epoch string
	if ok && len(res) == 2 {
		base, _ = res[0].(string)
		epoch, _ = res[1].(string)
	}
	return strings.Join([]string{base, epoch, localMark}, " ")
}

// splitMark parts a mark of Loaded into the stored counter and epoch of
// the Redis hash (both empty when Redis did not answer) and the mark of
// this replica's own counts.
func splitMark(mark string) (base, epoch, localMark string) {
	parts := strings.SplitN(mark, " ", 3)
	parts = append(parts, "", "", "")
	return parts[0], parts[1], parts[2]
}

func flag(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

var _ teams.Limits = (*Limits)(nil)
