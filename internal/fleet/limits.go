package fleet

import (
	"context"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/falproxy/falproxy/internal/teams"
)

// Limits implements teams.Limits in the fleet's Redis, so that a virtual
// key's request rate, concurrency and budget hold across every replica.
// While Redis is unreachable each limit falls back to this replica's
// Share of it, kept in process; the budget to its share of what was left
// (see budget.go). With REDIS_REQUIRED a limit Redis cannot check refuses
// instead.
type Limits struct {
	f        *Fleet
	local    *teams.LocalLimits // the fallback, and this replica's own counts
	seq      atomic.Uint64      // makes request ids unique
	fallback atomic.Uint64      // limit calls made locally because Redis failed

	mu    sync.Mutex
	spend spendState // budget bookkeeping, guarded by mu

	// beforeSend, when set by a test, runs before budget counts are sent.
	beforeSend func()
}

// NewLimits returns limits shared through f, whose leases f renews (with
// its fal keys' slots) until it closes.
func NewLimits(f *Fleet) *Limits {
	l := &Limits{f: f, local: teams.NewLocalLimits(), spend: newSpendState()}
	f.OnUp(l.resume)
	f.spawn(func() { f.every(f.leases.ttl/3, l.tick) })
	return l
}

// Fallbacks counts the calls (rate and concurrency checks, budget
// reservations and their bookkeeping) made in process, with local shares,
// because Redis could not be asked.
func (l *Limits) Fallbacks() uint64 { return l.fallback.Load() }

// id is a fresh member id of this replica, for the window and lease sets.
func (l *Limits) id() string { return l.f.id + ":" + strconv.FormatUint(l.seq.Add(1), 36) }

// shared runs one round trip; false (counted) means Redis could not be
// asked and the caller falls back to local limits.
func (l *Limits) shared(fn func(context.Context, *redis.Client) error) bool {
	if err := l.f.do(context.Background(), fn); err != nil {
		l.fallback.Add(1)
		return false
	}
	return true
}

// windowScript counts a request in a key's sliding minute, with Redis's
// clock: the set holds the minute's request times (µs); when it is full
// the answer is how long until its oldest counted request leaves it.
var windowScript = redis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local window = 60000000
local rpm = tonumber(ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local n = redis.call('ZCARD', KEYS[1])
if n >= rpm then
  local oldest = redis.call('ZRANGE', KEYS[1], n - rpm, n - rpm, 'WITHSCORES')
  return math.max(tonumber(oldest[2]) + window - now, 1)
end
redis.call('ZADD', KEYS[1], now, ARGV[2])
redis.call('PEXPIRE', KEYS[1], 61000)
return 0
`)

// AllowRequest implements teams.Limits with an exact sliding minute in
// Redis, in one atomic script. A request allowed there also counts in
// this replica's own minute, so that a fallback to its share starts from
// what it served.
func (l *Limits) AllowRequest(keyID string, rpm int, now time.Time) (time.Duration, bool, bool) {
	if rpm <= 0 {
		return 0, true, false
	}
	var wait int64
	if l.shared(func(ctx context.Context, c *redis.Client) (err error) {
		wait, err = windowScript.Run(ctx, c, []string{l.f.key("rpm:" + keyID)}, rpm, l.id()).Int64()
		return err
	}) {
		if wait == 0 {
			l.local.AllowRequest(keyID, rpm, now) // counts it; the shared minute decided
		}
		return time.Duration(wait) * time.Microsecond, wait == 0, false
	}
	if l.f.Required() {
		return time.Second, false, true
	}
	return l.local.AllowRequest(keyID, l.f.Share(rpm), now)
}

// Acquire implements teams.Limits with leases that expire unless renewed,
// taken as fal key slots are (acquireScript).
// The request also counts in process, so that the fallback share applies
// to every request running here when Redis goes away.
func (l *Limits) Acquire(keyID string, max int) (func(), bool, bool) {
	if max <= 0 {
		return func() {}, true, false
	}
	set := l.f.key("leases:" + keyID)
	release, taken, err := l.f.leases.acquire(set, max)
	if err == nil && !taken {
		return nil, false, false
	}
	if err != nil && l.f.Required() {
		return nil, false, true
	}
	share := 0 // the shared count decided; the request counts here too
	if err != nil {
		l.fallback.Add(1)
		share = l.f.Share(max)
	}
	releaseLocal, ok, _ := l.local.Acquire(keyID, share)
	if !ok {
		return nil, false, false
	}
	if release == nil {
		release = l.f.leases.hold(set) // counted in Redis once it answers
	}
	return func() { releaseLocal(); release() }, true, false
}

// tick runs every third of the lease TTL: it writes back budget counts
// Redis may have missed.
func (l *Limits) tick() {
	if l.f.Up() {
		l.resync(context.Background(), l.f.rdb)
	}
}

// resume runs when Redis answers again after an outage or a loss of its
// data: this replica's budget counts are written back, before shared
// limits apply (the fleet writes the leases back, see leaseSet).
func (l *Limits) resume(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, commandTimeout)
	defer cancel()
	l.unsync() // Redis may have lost counts no command of this replica failed on
	l.resync(ctx, l.f.rdb)
}
