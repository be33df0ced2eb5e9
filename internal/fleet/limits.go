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

// LimitsOptions configure Limits.
type LimitsOptions struct {
	// LeaseTTL is how long a virtual key's concurrency slot stays taken
	// without its replica renewing it, as fal key slots (default
	// DefaultLeaseTTL): a replica killed mid-request frees its slots
	// within it. Live leases are renewed every third of it.
	LeaseTTL time.Duration
}

// Limits implements teams.Limits in the fleet's Redis, so that a virtual
// key's request rate, concurrency and budget hold across every replica.
// While Redis is unreachable each limit falls back to this replica's
// Share of it, kept in process; the budget to its share of what was left
// (see budget.go). With REDIS_REQUIRED a limit Redis cannot check refuses
// instead.
type Limits struct {
	f        *Fleet
	local    *teams.LocalLimits // the fallback, and this replica's own counts
	leaseTTL time.Duration
	seq      atomic.Uint64 // makes request and lease ids unique
	fallback atomic.Uint64 // limit calls made locally because Redis failed

	mu     sync.Mutex
	leases map[string]string // live lease id → its key's lease set
	spend  spendState        // budget bookkeeping, guarded by mu

	// beforeSend, when set by a test, runs before budget counts are sent.
	beforeSend func()
}

// NewLimits returns limits shared through f, whose leases are renewed
// until f closes.
func NewLimits(f *Fleet, opt LimitsOptions) *Limits {
	if opt.LeaseTTL <= 0 {
		opt.LeaseTTL = DefaultLeaseTTL
	}
	l := &Limits{f: f, local: teams.NewLocalLimits(), leaseTTL: opt.LeaseTTL, leases: make(map[string]string),
		spend: newSpendState()}
	f.OnUp(l.resume)
	go f.every(l.leaseTTL/3, l.tick)
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
	if err := l.f.Do(context.Background(), fn); err != nil {
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
func (l *Limits) AllowRequest(keyID string, rpm int, now time.Time) (time.Duration, bool) {
	if rpm <= 0 {
		return 0, true
	}
	var wait int64
	if l.shared(func(ctx context.Context, c *redis.Client) (err error) {
		wait, err = windowScript.Run(ctx, c, []string{l.f.Key("rpm:" + keyID)}, rpm, l.id()).Int64()
		return err
	}) {
		if wait == 0 {
			l.local.AllowRequest(keyID, rpm, now) // counts it; the shared minute decided
		}
		return time.Duration(wait) * time.Microsecond, wait == 0
	}
	if l.f.Required() {
		return time.Second, false
	}
	return l.local.AllowRequest(keyID, l.f.Share(rpm), now)
}

// leaseRenewScript pushes the expiry of leases (KEYS[i] holds ARGV[i]) a TTL
// (the last ARGV) past Redis's clock, in one call for all of them. With
// the next to last ARGV '1' a lease missing from its set is taken again:
// after an outage its request is still running and must count, and Redis
// may have lost it. Otherwise a missing lease stays gone, since it may
// have been released while the renewal was on its way.
var leaseRenewScript = redis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ttl = tonumber(ARGV[#ARGV])
local mode = 'XX'
if ARGV[#ARGV - 1] == '1' then mode = 'GT' end
for i, key in ipairs(KEYS) do
  redis.call('ZADD', key, mode, now + ttl, ARGV[i])
  redis.call('PEXPIRE', key, 2 * ttl)
end
return #KEYS
`)

// Acquire implements teams.Limits with leases that expire unless renewed,
// taken as fal key slots are (acquireScript).
// The request also counts in process, so that the fallback share applies
// to every request running here when Redis goes away.
func (l *Limits) Acquire(keyID string, max int) (func(), bool) {
	if max <= 0 {
		return func() {}, true
	}
	set, lease := l.f.Key("leases:"+keyID), l.id()
	var taken int64
	var releaseLocal func()
	ok := false
	if l.shared(func(ctx context.Context, c *redis.Client) (err error) {
		taken, err = acquireScript.Run(ctx, c, []string{set}, max, l.leaseTTL.Milliseconds(), lease).Int64()
		return err
	}) {
		if taken == 0 {
			return nil, false
		}
		releaseLocal, ok = l.local.Acquire(keyID, 0)
	} else if l.f.Required() {
		return nil, false
	} else {
		releaseLocal, ok = l.local.Acquire(keyID, l.f.Share(max))
	}
	if !ok {
		return nil, false
	}
	l.mu.Lock()
	l.leases[lease] = set
	l.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			releaseLocal()
			l.mu.Lock()
			delete(l.leases, lease)
			l.mu.Unlock()
			// A release Redis misses expires with the TTL.
			_ = l.f.Do(context.Background(), func(ctx context.Context, c *redis.Client) error {
				return c.ZRem(ctx, set, lease).Err()
			})
		})
	}, true
}

// tick runs every third of the lease TTL, so that leases outlive a
// renewal that fails once: it renews the live leases and writes back
// budget counts Redis may have missed.
func (l *Limits) tick() {
	_ = l.f.Do(context.Background(), func(ctx context.Context, c *redis.Client) error { return l.renew(ctx, c, false) })
	if l.f.Up() {
		l.resync(context.Background(), l.f.rdb)
	}
}

// renew renews every live lease of this replica in one round trip; with
// retake, leases Redis lacks are taken again.
func (l *Limits) renew(ctx context.Context, c *redis.Client, retake bool) error {
	l.mu.Lock()
	keys := make([]string, 0, len(l.leases))
	args := make([]any, 0, len(l.leases)+1)
	for lease, set := range l.leases {
		keys = append(keys, set)
		args = append(args, lease)
	}
	l.mu.Unlock()
	if len(keys) == 0 {
		return nil
	}
	return leaseRenewScript.Run(ctx, c, keys, append(args, flag(retake), l.leaseTTL.Milliseconds())...).Err()
}

// resume runs when Redis answers again after an outage: the leases of the
// requests still running are taken again (Redis may have lost them) and
// this replica's budget counts written back, before shared limits apply.
func (l *Limits) resume(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, l.f.opt.Timeout)
	defer cancel()
	_ = l.renew(ctx, l.f.rdb, true)
	l.unsync() // Redis may have lost counts no command of this replica failed on
	l.resync(ctx, l.f.rdb)
}
