package fleet

import (
	"context"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// Each fal key's jobs across the fleet (KEY_CONCURRENCY) are leases in a
// sorted set keyslots:<tag>, scored by when they expire on Redis's clock.
// A replica renews the leases of its running jobs every third of the
// lease TTL and removes each when its job ends, so that the slots of a
// replica that died come back within one TTL.

// DefaultLeaseTTL is how long a fal key slot stays taken after the replica
// holding it stopped renewing it.
const DefaultLeaseTTL = 10 * time.Second

// acquireScript drops expired leases and adds one if fewer than the
// maximum remain. KEYS[1] the key's leases; ARGV[1] the maximum,
// ARGV[2] the TTL in milliseconds, ARGV[3] the new lease. 1 when taken.
var acquireScript = redis.NewScript(`
local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
local ttl = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[1]) then
  return 0
end
redis.call('ZADD', KEYS[1], now + ttl, ARGV[3])
redis.call('PEXPIRE', KEYS[1], 2 * ttl)
return 1
`)

// renewScript extends the leases still present (a lease released or
// expired meanwhile is not brought back). KEYS[1] the key's leases;
// ARGV[1] the TTL in milliseconds, ARGV[2...] the leases.
var renewScript = `
local t = redis.call('TIME')
local ttl = tonumber(ARGV[1])
local expiry = t[1] * 1000 + math.floor(t[2] / 1000) + ttl
for i = 2, #ARGV do
  redis.call('ZADD', KEYS[1], 'XX', expiry, ARGV[i])
end
redis.call('PEXPIRE', KEYS[1], 2 * ttl)
return 1
`

// KeySlots counts fal key slots across the fleet; it is the pool's
// fal.KeySlots.
type KeySlots struct {
	f    *Fleet
	ttl  time.Duration
	next atomic.Uint64

	mu   sync.Mutex
	held map[string]string // lease → its set, for renewal
}

// NewKeySlots counts slots through f with leases of the given TTL
// (DefaultLeaseTTL when 0), renewed until the fleet closes.
func NewKeySlots(f *Fleet, ttl time.Duration) *KeySlots {
	if ttl <= 0 {
		ttl = DefaultLeaseTTL
	}
	s := &KeySlots{f: f, ttl: ttl, held: map[string]string{}}
	go f.every(ttl/3, s.renew)
	return s
}

// TryAcquire takes a lease on one of max slots of the key tagged tag in
// one round trip. err is set when Redis cannot be reached.
func (s *KeySlots) TryAcquire(tag string, max int) (release func(), ok bool, err error) {
	set := s.f.Key("keyslots:" + tag)
	lease := s.f.id + ":" + strconv.FormatUint(s.next.Add(1), 10)
	err = s.f.Do(context.Background(), func(ctx context.Context, c *redis.Client) error {
		n, err := acquireScript.Run(ctx, c, []string{set}, max, s.ttl.Milliseconds(), lease).Int()
		ok = n == 1
		return err
	})
	if err != nil || !ok {
		return nil, false, err
	}
	s.mu.Lock()
	s.held[lease] = set
	s.mu.Unlock()
	return func() { s.release(set, lease) }, true, nil
}

// Share is this replica's part of max while Redis cannot be reached.
func (s *KeySlots) Share(max int) int { return s.f.Share(max) }

// release removes a lease; one that cannot be removed now expires.
func (s *KeySlots) release(set, lease string) {
	s.mu.Lock()
	delete(s.held, lease)
	s.mu.Unlock()
	_ = s.f.Do(context.Background(), func(ctx context.Context, c *redis.Client) error {
		return c.ZRem(ctx, set, lease).Err()
	})
}

// renew extends every lease this replica holds, in one pipelined call.
func (s *KeySlots) renew() {
	bySet := map[string][]any{}
	s.mu.Lock()
	for lease, set := range s.held {
		bySet[set] = append(bySet[set], lease)
	}
	s.mu.Unlock()
	if len(bySet) == 0 {
		return
	}
	_ = s.f.Do(context.Background(), func(ctx context.Context, c *redis.Client) error {
		_, err := c.Pipelined(ctx, func(p redis.Pipeliner) error {
			for set, leases := range bySet {
				p.Eval(ctx, renewScript, []string{set}, append([]any{s.ttl.Milliseconds()}, leases...)...)
			}
			return nil
		})
		return err
	})
}
