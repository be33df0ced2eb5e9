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

// createLua makes sure the hash (KEYS[1]) exists with an epoch (ARGV[1])
// and keeps it alive (ARGV[2] ms): a new hash gets its TTL at once, so
// that no path leaves one without.
const createLua = `
redis.call('HSETNX', KEYS[1], 'epoch', ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
`

// writeScript writes a replica's fields (ARGV[3] replica, [4]
// generation, [5] r:, [6] u:, [7] f:, [8] m:, [9] their start
// generation, [10] 1 when none of its reservations is on its way, [11]
// the history's TTL in ms) unless a newer generation is there already.
// The stored history is KEYS[2].
var writeScript = redis.NewScript(createLua + `
local id, gen = ARGV[3], tonumber(ARGV[4])
local function field(name) return redis.call('HGET', KEYS[1], name .. id) end
if gen <= tonumber(field('g:') or '0') then return 0 end
-- a counter since ARGV[9]: what it was at the last write, 0 if it started since
local function prior(name)
  local start, was = string.match(field(name) or '', '^(%-?%d+):(%-?%d+)$')
  if start == ARGV[9] then return tonumber(was) end
  return 0
end
local filed, moved = tonumber(ARGV[7]), tonumber(ARGV[8])
local pending = math.max(tonumber(field('p:') or '0') - (filed - prior('f:')), 0)
if ARGV[10] == '1' and tonumber(field('q:') or '0') < gen then pending = 0 end
local grown = moved - prior('m:')
if grown ~= 0 then
  local t = redis.call('TIME')
  local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
  local before = redis.call('HGET', KEYS[1], 'stored') or '0'
  redis.call('HINCRBY', KEYS[1], 'stored', grown)
  redis.call('ZADD', KEYS[2], now, before .. ':' .. id .. ':' .. ARGV[4])
  redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now - tonumber(ARGV[11]) * 1000)
  redis.call('PEXPIRE', KEYS[2], ARGV[11])
end
redis.call('HSET', KEYS[1], 'g:' .. id, ARGV[4], 'r:' .. id, math.max(tonumber(ARGV[5]), 0), 'u:' .. id, ARGV[6],
  'p:' .. id, pending, 'f:' .. id, ARGV[9] .. ':' .. filed, 'm:' .. id, ARGV[9] .. ':' .. moved)
return 1
`)

// reserveScript drops the fields of replicas no longer in the fleet
// (KEYS[3], which the heartbeat keeps), sums every replica's r:, p: and
// u: and checks them against the hard budget (ARGV[5] = 1, limit
// ARGV[6], spent ARGV[7] as of the read that noted the stored counter
// ARGV[9] in epoch ARGV[10]). Taken, the estimate (ARGV[8]) joins the
// replica's (ARGV[3]) p:, and q: notes the reservation's generation
// (ARGV[4]). It answers {taken, committed beyond the store, epoch}.
var reserveScript = redis.NewScript(createLua + `
local id = ARGV[3]
if redis.call('EXISTS', KEYS[3]) == 1 then
  for _, f in ipairs(redis.call('HKEYS', KEYS[1])) do
    local replica = string.match(f, '^%a:(.+)$')
    if replica and replica ~= id and not redis.call('ZSCORE', KEYS[3], replica) then
      redis.call('HDEL', KEYS[1], f)
    end
  end
end
local beyond, stored, epoch = 0, 0, ''
local vals = redis.call('HGETALL', KEYS[1])
for i = 1, #vals, 2 do
  local f, v = vals[i], vals[i + 1]
  local kind = string.sub(f, 1, 2)
  if kind == 'r:' or kind == 'p:' or kind == 'u:' then beyond = beyond + tonumber(v)
  elseif f == 'stored' then stored = tonumber(v)
  elseif f == 'epoch' then epoch = v end
end
local since = stored
if epoch == ARGV[10] then since = math.max(stored - (tonumber(ARGV[9]) or 0), 0) end
beyond = beyond + since
local committed = tonumber(ARGV[7]) + beyond
local limit, estimate = tonumber(ARGV[6]), tonumber(ARGV[8])
if ARGV[5] == '1' and (committed + estimate > limit or (estimate == 0 and committed >= limit)) then
  return {0, beyond, epoch}
end
redis.call('HINCRBY', KEYS[1], 'p:' .. id, estimate)
if tonumber(redis.call('HGET', KEYS[1], 'q:' .. id) or '0') < tonumber(ARGV[4]) then
  redis.call('HSET', KEYS[1], 'q:' .. id, ARGV[4])
end
return {1, beyond, epoch}
`)

// loadedScript answers {stored counter as of ARGV[1] µs ago, epoch}: the
// value before the first change since then, else the current one. A key
// without a hash gets one (epoch ARGV[2]), so that replicas reading the
// store before its first reservation agree on its epoch.
var loadedScript = redis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local epoch = redis.call('HGET', KEYS[1], 'epoch')
if not epoch then
  epoch = ARGV[2]
  redis.call('HSET', KEYS[1], 'epoch', epoch)
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
end
local first = redis.call('ZRANGEBYSCORE', KEYS[2], now - tonumber(ARGV[1]), '+inf', 'LIMIT', 0, 1)
if #first > 0 then
  return {string.match(first[1], '^(%-?%d+):'), epoch}
end
return {redis.call('HGET', KEYS[1], 'stored') or '0', epoch}
`)

// writeArgs are the arguments of writeScript for w.
func (l *Limits) writeArgs(w spendWrite) []any {
	return []any{l.id(), spendIdle.Milliseconds(), l.f.id, w.gen, w.reserved, w.unstored, w.filed, w.moved, w.start,
		flag(w.quiet), storedHistory.Milliseconds()}
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
			base, epoch, _ := strings.Cut(b.Mark, " ")
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
		local = teams.Budget{Limit: spent + max(b.Limit-spent, 0)/int64(l.f.Replicas()), Spent: spent, HardStop: true}
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

// send writes this replica's fields of some hashes in one round trip;
// when it fails they are written back with the rest once Redis answers.
func (l *Limits) send(writes []spendWrite) {
	if l.beforeSend != nil {
		l.beforeSend()
	}
	if !l.shared(func(ctx context.Context, c *redis.Client) error {
		return l.pipeWrites(ctx, c, writes, false)
	}) {
		l.unsync()
	}
}

// pipeWrites sends writes in one pipeline; with eval, the scripts' text
// rather than their hash, for a Redis that may have restarted empty.
func (l *Limits) pipeWrites(ctx context.Context, c *redis.Client, writes []spendWrite, eval bool) error {
	var sent []spendWrite
	for _, w := range writes {
		if w.hash != "" {
			sent = append(sent, w)
		}
	}
	if len(sent) == 0 {
		return nil
	}
	if len(sent) == 1 && !eval {
		return writeScript.Run(ctx, c, []string{sent[0].hash, sent[0].history}, l.writeArgs(sent[0])...).Err()
	}
	_, err := c.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, w := range sent {
			writeScript.Eval(ctx, p, []string{w.hash, w.history}, l.writeArgs(w)...)
		}
		return nil
	})
	return err
}

// Loaded implements teams.Limits: it notes the stored counter as of
// loadMargin ago, before the read of the store about to run begins, and
// answers it as the Mark that Reserve pairs with that read's spend. Without an answer a reservation counts the whole counter,
// which over-counts until the next read.
func (l *Limits) Loaded(keyID string, period time.Time) string {
	l.local.Loaded(keyID, period)
	hash, history := l.spendKeys(keyID, period)
	var res []any
	ok := l.shared(func(ctx context.Context, c *redis.Client) (err error) {
		res, err = loadedScript.Run(ctx, c, []string{hash, history}, loadMargin.Microseconds(), l.id(), spendIdle.Milliseconds()).Slice()
		return err
	})
	if !ok || len(res) != 2 {
		return ""
	}
	base, _ := res[0].(string)
	epoch, _ := res[1].(string)
	return base + " " + epoch
}

// unsync notes that Redis may lack this replica's latest budget counts.
func (l *Limits) unsync() {
	l.mu.Lock()
	l.spend.synced = false
	l.mu.Unlock()
}

// resync writes this replica's budget counts back to Redis after they may
// have been missed, all of them as absolute values, and forgets the keys
// it holds nothing of. The counts are taken under l.mu and sent without
// it; writes made meanwhile go straight to Redis, where the newest
// generation of each hash wins. Budgets stay local until it succeeds.
func (l *Limits) resync(ctx context.Context, c *redis.Client) {
	l.mu.Lock()
	if l.spend.synced {
		l.pruneSpend()
		l.mu.Unlock()
		return
	}
	writes := make([]spendWrite, 0, len(l.spend.keys))
	for _, s := range l.spend.keys {
		writes = append(writes, l.write(s))
	}
	l.spend.synced = true
	l.mu.Unlock()
	if l.beforeSend != nil {
		l.beforeSend()
	}
	ctx, cancel := context.WithTimeout(ctx, commandTimeout)
	defer cancel()
	if l.pipeWrites(ctx, c, writes, true) != nil {
		l.unsync()
	}
}

// pruneSpend drops the keys this replica holds nothing of and has not
// reserved in since the last prune, once Redis has all of their counts;
// l.mu is held. A key counted again later starts a new m: generation.
func (l *Limits) pruneSpend() {
	for keyID, s := range l.spend.keys {
		if s.unstored == 0 && s.inFlight == 0 && s.held == 0 && !s.used {
			delete(l.spend.keys, keyID)
		}
		s.used = false
	}
}

func flag(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

var _ teams.Limits = (*Limits)(nil)
