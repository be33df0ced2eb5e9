package fleet

import (
	"context"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// A concurrency slot shared by the fleet (a virtual key's max_concurrent,
// a fal key's KEY_CONCURRENCY) is a lease in a sorted set, scored by when
// it expires on Redis's clock. The replica holding it renews it every
// third of its TTL and removes it when its request ends, so that the
// slots of a replica that died come back within one TTL. When Redis
// answers again after an outage, or after losing its data, the replica
// writes back the leases of the requests it is still running, which must
// count; so does the next renewal for a request admitted on this
// replica's share because its call to Redis failed.

// DefaultLeaseTTL is how long a slot stays taken after the replica
// holding it stopped renewing it.
const DefaultLeaseTTL = 10 * time.Second

// acquireScript drops expired leases and adds one if fewer than the
// maximum remain. KEYS[1] the leases; ARGV[1] the maximum, ARGV[2] the
// TTL in milliseconds, ARGV[3] the new lease. 1 when taken.
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

// renewScript pushes the expiry of leases (KEYS[i] holds ARGV[2i-1]) a
// TTL (the last ARGV) past Redis's clock, in one call for all of them.
// With ARGV[2i] '1' a lease missing from its set is taken (written back);
// otherwise a missing lease stays gone, since it expired or was released
// while the renewal was on its way.
var renewScript = redis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ttl = tonumber(ARGV[#ARGV])
for i, key in ipairs(KEYS) do
  local mode = 'XX'
  if ARGV[2 * i] == '1' then mode = 'GT' end
  redis.call('ZADD', key, mode, now + ttl, ARGV[2 * i - 1])
  redis.call('PEXPIRE', key, 2 * ttl)
end
return #KEYS
`)

// leaseSet is this replica's live leases, whichever sets they are in:
// the fleet holds one, so that one loop renews them all in one call.
type leaseSet struct {
	f   *Fleet
	ttl time.Duration
	seq atomic.Uint64 // makes lease ids unique within this replica

	mu   sync.Mutex
	live map[string]*lease // by id
}

// lease is one live lease of this replica.
type lease struct {
	set     string
	written bool // Redis took it; false for one taken on this replica's share
}

// newLeaseSet keeps leases of the given TTL (DefaultLeaseTTL when 0)
// through f: renewed until f closes, written back whenever Redis answers
// again or has lost its data.
func newLeaseSet(f *Fleet, ttl time.Duration) *leaseSet {
	if ttl <= 0 {
		ttl = DefaultLeaseTTL
	}
	s := &leaseSet{f: f, ttl: ttl, live: map[string]*lease{}}
	f.OnUp(s.restore)
	f.spawn(func() {
		f.every(ttl/3, func() {
			_ = f.do(context.Background(), func(ctx context.Context, c *redis.Client) error { return s.renew(ctx, c, false) })
		})
	})
	return s
}

// acquire takes one of max slots of set in one round trip. err is set
// when Redis could not be asked; release is called once.
func (s *leaseSet) acquire(set string, max int) (release func(), ok bool, err error) {
	id := s.newID()
	var taken int64
	err = s.f.do(context.Background(), func(ctx context.Context, c *redis.Client) (err error) {
		taken, err = acquireScript.Run(ctx, c, []string{set}, max, s.ttl.Milliseconds(), id).Int64()
		return err
	})
	if err != nil || taken == 0 {
		return nil, false, err
	}
	return s.keep(id, &lease{set: set, written: true}), true, nil
}

// hold records a lease of set that Redis could not be asked for (the
// request was admitted on this replica's share), so that the next renewal
// or write-back that reaches Redis counts it there.
func (s *leaseSet) hold(set string) (release func()) {
	return s.keep(s.newID(), &lease{set: set})
}

func (s *leaseSet) newID() string { return s.f.id + ":" + strconv.FormatUint(s.seq.Add(1), 36) }

// keep adds a live lease and returns its release, which runs once.
func (s *leaseSet) keep(id string, l *lease) (release func()) {
	s.mu.Lock()
	s.live[id] = l
	s.mu.Unlock()
	var once sync.Once
	return func() { once.Do(func() { s.release(l.set, id) }) }
}

// release removes a lease; one Redis misses expires with the TTL.
func (s *leaseSet) release(set, id string) {
	s.mu.Lock()
	delete(s.live, id)
	s.mu.Unlock()
	_ = s.f.do(context.Background(), func(ctx context.Context, c *redis.Client) error {
		return c.ZRem(ctx, set, id).Err()
	})
}

// renew renews every live lease in one round trip; with retake all
// leases Redis lacks are written back, otherwise only those it never
// took. A lease released while its write-back was on its way is removed
// again after it, so that its slot does not stay taken for a TTL.
func (s *leaseSet) renew(ctx context.Context, c *redis.Client, retake bool) error {
	s.mu.Lock()
	keys := make([]string, 0, len(s.live))
	ids := make([]string, 0, len(s.live))
	args := make([]any, 0, 2*len(s.live)+1)
	taking := false
	for id, l := range s.live {
		take := retake || !l.written
		taking = taking || take
		keys, ids = append(keys, l.set), append(ids, id)
		args = append(args, id, flag(take))
	}
	s.mu.Unlock()
	if len(keys) == 0 {
		return nil
	}
	if err := renewScript.Run(ctx, c, keys, append(args, s.ttl.Milliseconds())...).Err(); err != nil || !taking {
		return err
	}
	s.mu.Lock()
	gone := map[string][]any{}
	for i, id := range ids {
		if l, ok := s.live[id]; ok {
			l.written = true
		} else {
			gone[keys[i]] = append(gone[keys[i]], id)
		}
	}
	s.mu.Unlock()
	if len(gone) == 0 {
		return nil
	}
	_, err := c.Pipelined(ctx, func(p redis.Pipeliner) error {
		for set, released := range gone {
			p.ZRem(ctx, set, released...)
		}
		return nil
	})
	return err
}

// restore writes back the leases of the requests still running: an
// OnUp function, run before shared limits resume.
func (s *leaseSet) restore(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, commandTimeout)
	defer cancel()
	_ = s.renew(ctx, s.f.rdb, true)
}
