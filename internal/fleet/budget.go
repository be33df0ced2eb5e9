package fleet

import (
	"context"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/falproxy/falproxy/internal/teams"
)

// How a key's budget holds across replicas. The store holds the spend of
// written ledger rows; every replica reads it (Budget.Spent) now and then.
// What no read of the store shows lives in one Redis hash per key:
//
//   - r:<replica> and u:<replica>: each replica's reservations of running
//     requests and its settled spend not yet written to the ledger;
//   - stored: a counter of all spend moved from unstored to the store,
//     with a short history of its past values (storedHistory), so that a
//     replica that read the store can tell what was stored after its read.
//
// A reservation counts Budget.Spent + stored since the read + every
// replica's unstored and reserved, atomically with adding its estimate.
// A read of the store is taken to have happened loadMargin before the
// replica reports it (Loaded), so that spend stored while the read ran is
// counted twice for a moment rather than not at all.

const (
	// loadMargin bounds how long before Loaded a replica's read of the
	// store may have started: longer than teams' load timeout (2 s).
	loadMargin = 5 * time.Second
	// storedHistory is how long past values of the stored counter are
	// kept: longer than loadMargin, with room for a slow Loaded.
	storedHistory = 30 * time.Second
	// spendIdle is how long a key's budget hash outlives its last change:
	// a running replica's counts of it are back to zero within seconds
	// (its requests end, its ledger rows are written), so what is left
	// after a day belonged to a replica that was killed.
	spendIdle = 24 * time.Hour
)

// spendState is this replica's side of the budget hashes.
type spendState struct {
	// synced is false after a budget update Redis may have missed, until
	// this replica's counts are written back; meanwhile budgets use the
	// local share.
	synced bool
	keys   map[string]*keySpend
	holds  map[*teams.Reservation]hold
}

func newSpendState() spendState {
	return spendState{synced: true, keys: make(map[string]*keySpend), holds: make(map[*teams.Reservation]hold)}
}

// keySpend is this replica's part of one key's budget.
type keySpend struct {
	reserved, unstored int64 // as in this replica's r: and u: fields
	pendingStored      int64 // stored while Redis could not be told
	// base and epoch are the stored counter as of this replica's last
	// read of the store, and the life of the hash it belongs to: a hash
	// created since (Redis restarted, or the key was idle) counts all of
	// its stored counter.
	base  string
	epoch string
	// beyond is what Redis last reported committed beyond the store (all
	// replicas' stored-since-read, unstored and reserved), for the local
	// share of the remaining budget.
	beyond int64
}

type hold struct {
	keyID    string
	estimate int64
}

func (l *Limits) keySpend(keyID string) *keySpend {
	s := l.spend.keys[keyID]
	if s == nil {
		s = &keySpend{}
		l.spend.keys[keyID] = s
	}
	return s
}

func (l *Limits) spendKeys(keyID string) []string {
	return []string{l.f.key("spend:" + keyID), l.f.key("stored:" + keyID)}
}

// reserveScript checks a reservation against the hard budget (ARGV[1] =
// 1) and takes it. It answers {taken, committed beyond the store, epoch}.
var reserveScript = redis.NewScript(`
local reserved, unstored, stored, epoch = 0, 0, 0, false
local vals = redis.call('HGETALL', KEYS[1])
for i = 1, #vals, 2 do
  local f, v = vals[i], vals[i + 1]
  local kind = string.sub(f, 1, 2)
  if kind == 'r:' then reserved = reserved + tonumber(v)
  elseif kind == 'u:' then unstored = unstored + tonumber(v)
  elseif f == 'stored' then stored = tonumber(v)
  elseif f == 'epoch' then epoch = v end
end
if not epoch then
  epoch = ARGV[8]
  redis.call('HSET', KEYS[1], 'epoch', epoch)
end
local since = stored
if epoch == ARGV[7] then since = math.max(stored - (tonumber(ARGV[6]) or 0), 0) end
local beyond = since + unstored + reserved
local committed = tonumber(ARGV[3]) + beyond
local limit, estimate = tonumber(ARGV[2]), tonumber(ARGV[4])
if ARGV[1] == '1' and (committed + estimate > limit or (estimate == 0 and committed >= limit)) then
  return {0, beyond, epoch}
end
redis.call('HINCRBY', KEYS[1], 'r:' .. ARGV[5], ARGV[4])
redis.call('PEXPIRE', KEYS[1], ARGV[9])
return {1, beyond, epoch}
`)

// storedScript moves ARGV[1] micro-dollars of this replica's unstored
// spend (field ARGV[2]) to the stored counter and notes the counter's
// value before, at Redis's time, in the history.
var storedScript = redis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
redis.call('HSETNX', KEYS[1], 'epoch', ARGV[4])
local before = redis.call('HGET', KEYS[1], 'stored') or '0'
redis.call('HINCRBY', KEYS[1], ARGV[2], ARGV[3])
redis.call('HINCRBY', KEYS[1], 'stored', ARGV[1])
redis.call('ZADD', KEYS[2], now, before .. ':' .. ARGV[5])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now - tonumber(ARGV[7]) * 1000)
redis.call('PEXPIRE', KEYS[1], ARGV[6])
redis.call('PEXPIRE', KEYS[2], ARGV[7])
return 1
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

// Reserve implements teams.Limits: the budget check and the reservation
// are one atomic script over every replica's counts. While Redis cannot
// be asked, a hard budget allows this replica its share of what was left:
// (limit − spent) ÷ replicas, where spent is the store's spend as last
// read plus what Redis last reported committed beyond it.
func (l *Limits) Reserve(keyID string, b teams.Budget, estimate int64) (*teams.Reservation, bool) {
	l.mu.Lock()
	s := l.keySpend(keyID)
	synced, base, epoch := l.spend.synced, s.base, s.epoch
	l.mu.Unlock()
	check := b.Limit >= 0 && b.HardStop
	if synced {
		var res []any
		if l.shared(func(ctx context.Context, c *redis.Client) (err error) {
			res, err = reserveScript.Run(ctx, c, l.spendKeys(keyID), flag(check), b.Limit, b.Spent, estimate,
				l.f.id, base, epoch, l.id(), spendIdle.Milliseconds()).Slice()
			return err
		}) {
			taken, _ := res[0].(int64)
			beyond, _ := res[1].(int64)
			l.mu.Lock()
			s.beyond = beyond
			l.mu.Unlock()
			if taken == 0 {
				return nil, false
			}
			r, _ := l.local.Reserve(keyID, teams.Budget{Limit: -1}, estimate)
			l.hold(r, keyID, estimate)
			return r, true
		}
		l.unsync()
	} else {
		l.fallback.Add(1)
	}
	local := b
	if check {
		l.mu.Lock()
		spent := b.Spent + s.beyond
		l.mu.Unlock()
		local = teams.Budget{Limit: spent + max(b.Limit-spent, 0)/int64(l.f.Replicas()), Spent: spent, HardStop: true}
	}
	r, ok := l.local.Reserve(keyID, local, estimate)
	if !ok {
		return nil, false
	}
	l.hold(r, keyID, estimate)
	return r, true
}

// hold files a reservation of this replica's.
func (l *Limits) hold(r *teams.Reservation, keyID string, estimate int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.spend.holds[r] = hold{keyID: keyID, estimate: estimate}
	l.keySpend(keyID).reserved += estimate
}

// Settle implements teams.Limits: the estimate leaves this replica's
// reserved count and the actual cost enters its unstored one, in one
// transaction. A second settle does nothing.
func (l *Limits) Settle(r *teams.Reservation, actual int64) {
	l.mu.Lock()
	h, ok := l.spend.holds[r]
	delete(l.spend.holds, r)
	if ok {
		s := l.keySpend(h.keyID)
		s.reserved -= h.estimate
		s.unstored += actual
	}
	synced := l.spend.synced
	l.mu.Unlock()
	l.local.Settle(r, actual)
	if !ok || !synced {
		return
	}
	hash := l.spendKeys(h.keyID)[0]
	if !l.shared(func(ctx context.Context, c *redis.Client) error {
		_, err := c.TxPipelined(ctx, func(p redis.Pipeliner) error {
			p.HIncrBy(ctx, hash, "r:"+l.f.id, -h.estimate)
			p.HIncrBy(ctx, hash, "u:"+l.f.id, actual)
			p.PExpire(ctx, hash, spendIdle)
			return nil
		})
		return err
	}) {
		l.unsync()
	}
}

// Stored implements teams.Limits: the ledger holds micros more of the
// key's spend, which moves from this replica's unstored count to the
// stored counter every replica compares its read of the store with.
func (l *Limits) Stored(keyID string, micros int64) {
	l.local.Stored(keyID, micros)
	l.mu.Lock()
	s := l.keySpend(keyID)
	s.unstored -= micros
	synced := l.spend.synced
	if !synced {
		s.pendingStored += micros
	}
	l.mu.Unlock()
	if !synced {
		return
	}
	if !l.shared(func(ctx context.Context, c *redis.Client) error {
		return l.runStored(ctx, c, keyID, micros)
	}) {
		l.mu.Lock()
		s.pendingStored += micros
		l.mu.Unlock()
		l.unsync()
	}
}

func (l *Limits) runStored(ctx context.Context, c redis.Scripter, keyID string, micros int64) error {
	return storedScript.Run(ctx, c, l.spendKeys(keyID), micros, "u:"+l.f.id, -micros, l.id(), l.id(),
		spendIdle.Milliseconds(), storedHistory.Milliseconds()).Err()
}

// Loaded implements teams.Limits: it notes the stored counter as of
// loadMargin ago, when the read of the store that just ended had at the
// latest begun. Without an answer the next reservation counts the whole
// counter, which over-counts until the next read.
func (l *Limits) Loaded(keyID string) {
	l.local.Loaded(keyID)
	var res []any
	ok := l.shared(func(ctx context.Context, c *redis.Client) (err error) {
		res, err = loadedScript.Run(ctx, c, l.spendKeys(keyID), loadMargin.Microseconds(), l.id(), spendIdle.Milliseconds()).Slice()
		return err
	})
	l.mu.Lock()
	defer l.mu.Unlock()
	s := l.keySpend(keyID)
	s.base, s.epoch = "0", ""
	if ok && len(res) == 2 {
		s.base, _ = res[0].(string)
		s.epoch, _ = res[1].(string)
	}
}

// unsync notes that Redis may lack this replica's latest budget counts.
func (l *Limits) unsync() {
	l.mu.Lock()
	l.spend.synced = false
	l.mu.Unlock()
}

// resync writes this replica's budget counts back to Redis after they may
// have been missed: absolute values of its own fields, and the spend
// stored meanwhile added to the stored counters. Budgets stay local until
// it succeeds.
func (l *Limits) resync(ctx context.Context, c *redis.Client) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.spend.synced {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, commandTimeout)
	defer cancel()
	_, err := c.Pipelined(ctx, func(p redis.Pipeliner) error {
		for keyID, s := range l.spend.keys {
			keys := l.spendKeys(keyID)
			p.HSet(ctx, keys[0], "r:"+l.f.id, s.reserved, "u:"+l.f.id, s.unstored+s.pendingStored)
			if s.pendingStored != 0 {
				// Eval, not EvalSha: a restarted Redis has no scripts.
				storedScript.Eval(ctx, p, keys, s.pendingStored, "u:"+l.f.id, -s.pendingStored, l.id(), l.id(),
					spendIdle.Milliseconds(), storedHistory.Milliseconds())
			}
			p.PExpire(ctx, keys[0], spendIdle)
		}
		return nil
	})
	if err != nil {
		return
	}
	for _, s := range l.spend.keys {
		s.pendingStored = 0
	}
	l.spend.synced = true
}

func flag(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

var _ teams.Limits = (*Limits)(nil)
