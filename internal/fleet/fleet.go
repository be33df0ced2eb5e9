// Package fleet links the replicas of falproxy through one Redis (or
// Valkey). What must hold across the whole fleet lives there: fal key
// health, each virtual key's request rate, concurrency leases and budget
// reservations, and each fal key's concurrency. When Redis cannot be
// reached, each replica falls back to its share of the fleet's limits
// (see Share) until Redis answers again.
package fleet

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// How the link to Redis behaves.
const (
	// commandTimeout bounds one Redis command: on loopback or in one
	// data centre a command takes well under a millisecond, but a loaded
	// machine can hold one for a few hundred. Only the calls made while
	// Redis hangs wait this long: the first failures mark it unreachable
	// and the next calls fall back at once.
	commandTimeout = time.Second
	// failuresDown is how many request calls in a row must fail before
	// Redis counts as unreachable; a single slow or failed call falls back
	// alone.
	failuresDown = 2
	// poolSize is the connections kept to Redis: enough for the requests
	// of a busy replica, each one short round trip. A call that finds
	// them all busy falls back alone; it says nothing of Redis.
	poolSize = 64
	// HeartbeatEvery is how often a replica announces itself and checks
	// that Redis answers; it is also how soon shared limits resume after
	// an outage.
	HeartbeatEvery = time.Second
	// replicaTTL is how long a replica that stopped announcing itself is
	// still counted in the fleet.
	replicaTTL = 5 * HeartbeatEvery
)

// Options configure a Fleet.
type Options struct {
	URL string // redis://, rediss:// or unix://, as go-redis parses it
	// Required refuses to start, and refuses requests that need shared
	// state, while Redis is unreachable, instead of falling back to local
	// limits.
	Required bool
	// Replicas is the smallest fleet each replica assumes for its share
	// of the limits while Redis is unreachable; more replicas last seen
	// through Redis count instead. 0 assumes none but this one before a
	// heartbeat has counted the fleet.
	Replicas int
	// LeaseTTL is how long a concurrency slot (a virtual key's or a fal
	// key's) stays taken after the replica holding it stopped renewing
	// it (default DefaultLeaseTTL): a replica killed mid-request frees
	// its slots within it. Live leases are renewed every third of it.
	LeaseTTL time.Duration
	Logger   *slog.Logger
}

// Fleet is this replica's link to the Redis the fleet shares. Its methods
// are safe for concurrent use.
type Fleet struct {
	rdb      *redis.Client
	opt      Options
	id       string // this replica, in the heartbeat set
	addr     string // Redis's address, for messages (never the password)
	log      *slog.Logger
	up       atomic.Bool
	closed   atomic.Bool
	seen     atomic.Int64  // replicas counted at the last heartbeat; 0 before the first
	failures atomic.Int32  // request calls failed in a row
	errors   atomic.Uint64 // failed calls, for the metrics
	epoch    string        // Redis's data generation at the last heartbeat; heartbeat only
	// leases are the concurrency slots this replica holds, virtual keys'
	// and fal keys' alike, renewed together in one call per period.
	leases *leaseSet

	mu        sync.Mutex
	downSince time.Time
	onUp      []func(context.Context)

	stop      chan struct{}
	wg        sync.WaitGroup // the background goroutines, which Close waits for
	closeOnce sync.Once
}

// errUnavailable is returned instead of a command while Redis is known to
// be unreachable, so that a request does not wait for a timeout.
var errUnavailable = errors.New("redis is unreachable")

// Open connects to Redis and starts the heartbeat and the renewal of the
// replica's leases (see leaseSet). A Redis that does not answer is an
// error only with Required; otherwise the fleet starts with local limits
// and switches to shared ones when Redis answers.
func Open(ctx context.Context, opt Options) (*Fleet, error) {
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	ro, err := clientOptions(opt.URL)
	if err != nil {
		return nil, err
	}
	routeClientLogs(opt.Logger)
	ro.PoolSize, ro.MinIdleConns = poolSize, 4
	f := &Fleet{rdb: redis.NewClient(ro), opt: opt, id: replicaID(), addr: ro.Addr, log: opt.Logger,
		stop: make(chan struct{})}
	if _, err := f.beat(ctx); err != nil {
		if opt.Required {
			_ = f.rdb.Close()
			return nil, fmt.Errorf("REDIS_REQUIRED is true and Redis at %s does not answer: %w", f.addr, err)
		}
		f.markDown(err)
	} else {
		f.up.Store(true)
	}
	f.leases = newLeaseSet(f, opt.LeaseTTL)
	f.spawn(f.heartbeat)
	return f, nil
}

// Ping asks the Redis at url for one answer within timeout, through a
// client set up as Open sets up the fleet's but for its timeouts: a check
// may wait longer than a request would for a Redis that is far or slow.
// go-redis has one logger per process: Ping leaves it to a fleet Open
// made, whose lines it routes, and otherwise drops the client's lines, so
// that a check reports a failure once, in its own words.
func Ping(ctx context.Context, url string, timeout time.Duration) error {
	ro, err := clientOptions(url)
	if err != nil {
		return err
	}
	ro.DialTimeout, ro.ReadTimeout, ro.WriteTimeout, ro.PoolTimeout = timeout, timeout, timeout, timeout
	quietClientLogs()
	c := redis.NewClient(ro)
	defer c.Close()
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	return c.Ping(ctx).Err()
}

// clientOptions parses a REDIS_URL into a client's options with the
// fleet's timeouts and retries.
func clientOptions(url string) (*redis.Options, error) {
	ro, err := redis.ParseURL(url)
	if err != nil {
		// The parser's message quotes the URL, password included.
		return nil, errors.New("REDIS_URL is not a valid redis://, rediss:// or unix:// URL")
	}
	ro.DialTimeout, ro.ReadTimeout, ro.WriteTimeout = commandTimeout, commandTimeout, commandTimeout
	ro.PoolTimeout = commandTimeout
	// A retried command doubles the wait of a request when Redis is down;
	// the heartbeat finds out when it is back.
	ro.MaxRetries = -1
	ro.DialerRetries = 1 // the same for a connection: one attempt
	ro.ContextTimeoutEnabled = true
	return ro, nil
}

func replicaID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// keyPrefix starts every Redis key of the fleet.
const keyPrefix = "falproxy:"

// key is name under the fleet's prefix.
func (f *Fleet) key(name string) string { return keyPrefix + name }

// Up reports whether Redis answered the last command.
func (f *Fleet) Up() bool { return f.up.Load() }

// Required reports whether a request must be refused rather than served
// with local limits while Redis is unreachable.
func (f *Fleet) Required() bool { return f.opt.Required }

// Replicas is the fleet size this replica assumes: the replicas seen at
// the last heartbeat that reached Redis, or REPLICAS when that is more,
// so that a replica that has not counted the fleet yet (it started while
// Redis was down) or saw a part of it takes no more than its share.
func (f *Fleet) Replicas() int {
	return int(max(f.seen.Load(), int64(f.opt.Replicas), 1))
}

// Share is this replica's part of a fleet-wide limit while Redis is
// unreachable: the limit divided by the replicas, rounded down so that the
// fleet together stays within it, but at least 1 so that a small limit
// still serves. Zero and negative limits (no limit) are returned as given.
func (f *Fleet) Share(limit int) int {
	if limit <= 0 {
		return limit
	}
	return max(limit/f.Replicas(), 1)
}

// do runs one Redis round trip with the fleet's timeout. While Redis is
// known to be down it returns errUnavailable at once. A failed call falls
// back alone; failuresDown of them in a row (one with Required) mark
// Redis down until the heartbeat reaches it again. An error Redis answered
// (a script's error, READONLY after a failover) and a pool with no free
// connection say nothing of whether Redis can be reached: they count as
// errors, but do not mark it down; redis.Nil is an answer, not an error.
func (f *Fleet) do(ctx context.Context, fn func(context.Context, *redis.Client) error) error {
	if !f.up.Load() {
		return errUnavailable
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), commandTimeout)
	defer cancel()
	err := fn(ctx, f.rdb)
	var answered redis.Error
	switch {
	case err == nil || errors.Is(err, redis.Nil):
		f.failures.Store(0)
	case errors.As(err, &answered):
		f.failures.Store(0)
		f.errors.Add(1)
	case errors.Is(err, redis.ErrPoolTimeout):
		f.errors.Add(1)
	case f.failures.Add(1) >= failuresDown || f.opt.Required:
		// With REDIS_REQUIRED a failed call refuses its request, and the
		// server answers that with the 503 of a Redis that is down.
		f.markDown(err)
	default:
		f.errors.Add(1)
	}
	return err
}

// spawn runs fn in a goroutine that Close waits for.
func (f *Fleet) spawn(fn func()) {
	f.wg.Add(1)
	go func() {
		defer f.wg.Done()
		fn()
	}()
}

// OnUp registers fn to run each time Redis answers again after being
// unreachable (and not at start), for state that must be written back.
func (f *Fleet) OnUp(fn func(context.Context)) {
	f.mu.Lock()
	f.onUp = append(f.onUp, fn)
	f.mu.Unlock()
}

// Status is what /health shows of the link to Redis.
type Status struct {
	Up        bool      `json:"up"`
	Replicas  int       `json:"replicas"`
	DownSince time.Time `json:"down_since,omitzero"`
}

// Status snapshots the link.
func (f *Fleet) Status() Status {
	f.mu.Lock()
	defer f.mu.Unlock()
	s := Status{Up: f.up.Load(), Replicas: f.Replicas()}
	if !s.Up {
		s.DownSince = f.downSince
	}
	return s
}

// Errors counts the Redis calls that failed (the heartbeat's included),
// for the metrics.
func (f *Fleet) Errors() uint64 { return f.errors.Load() }

// markDown records a failed heartbeat, or request calls failing in a row;
// the first of an outage logs one warning. A call failing because the
// fleet closed is no outage.
func (f *Fleet) markDown(err error) {
	if f.closed.Load() {
		return
	}
	f.errors.Add(1)
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.up.Swap(false) || f.downSince.IsZero() {
		f.downSince = time.Now()
		mode := "serving with local limits (each replica its share of " + fmt.Sprint(f.Replicas()) + ")"
		if f.opt.Required {
			mode = "refusing requests that need shared limits (REDIS_REQUIRED=true)"
		}
		f.log.Warn("Redis is unreachable; "+mode, "addr", f.addr, "error", err)
	}
}

// markUp records a heartbeat that reached Redis after an outage and runs
// the OnUp functions.
func (f *Fleet) markUp(ctx context.Context) {
	if f.up.Load() {
		return
	}
	f.mu.Lock()
	down := time.Since(f.downSince).Round(time.Millisecond)
	f.downSince = time.Time{}
	f.mu.Unlock()
	f.runOnUp(ctx)
	f.failures.Store(0)
	f.up.Store(true)
	f.log.Info("Redis answers again; shared limits resume", "addr", f.addr, "after", down.String())
}

// runOnUp runs the OnUp functions, in the order registered.
func (f *Fleet) runOnUp(ctx context.Context) {
	f.mu.Lock()
	hooks := append([]func(context.Context){}, f.onUp...)
	f.mu.Unlock()
	for _, fn := range hooks {
		fn(ctx)
	}
}

// beatScript announces a replica and counts the fleet, on Redis's clock
// so that no replica's clock can drop the others. It also returns the
// data's epoch, a random value the first replica to find none sets:
// another value than the last one seen says Redis lost its data (a
// restart, a failover to an empty replica) even if no command failed.
// Like every key of the fleet it expires, when no replica has beaten for
// twice replicaTTL; a replica that then finds a new one writes back what
// it holds, which is harmless.
// KEYS[1] the replicas' set, KEYS[2] the epoch; ARGV[1] this replica,
// ARGV[2] how long a replica counts without a beat (ms), ARGV[3] a
// fresh epoch.
var beatScript = redis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ttl = tonumber(ARGV[2])
redis.call('ZADD', KEYS[1], now, ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - ttl)
redis.call('PEXPIRE', KEYS[1], 2 * ttl)
local epoch = redis.call('GET', KEYS[2])
if not epoch then
  epoch = ARGV[3]
end
redis.call('SET', KEYS[2], epoch, 'PX', 2 * ttl)
return {redis.call('ZCARD', KEYS[1]), epoch}
`)

// beat announces this replica and counts the fleet, in one round trip.
// lost reports that Redis's data changed epoch since the last beat.
func (f *Fleet) beat(ctx context.Context) (lost bool, err error) {
	ctx, cancel := context.WithTimeout(ctx, commandTimeout)
	defer cancel()
	res, err := beatScript.Run(ctx, f.rdb, []string{f.key("replicas"), f.key("epoch")},
		f.id, replicaTTL.Milliseconds(), replicaID()).Slice()
	if err != nil {
		return false, err
	}
	count, _ := res[0].(int64)
	epoch, _ := res[1].(string)
	f.seen.Store(max(count, 1))
	f.failures.Store(0) // Redis answered: a failed call before is no run
	lost = f.epoch != "" && epoch != f.epoch
	f.epoch = epoch
	return lost, nil
}

func (f *Fleet) heartbeat() {
	f.every(HeartbeatEvery, func() {
		ctx := context.Background()
		lost, err := f.beat(ctx)
		switch {
		case err != nil:
			f.markDown(err)
		case lost && f.up.Load():
			f.log.Warn("Redis lost its data; writing back this replica's shared state", "addr", f.addr)
			f.runOnUp(ctx)
		default:
			f.markUp(ctx)
		}
	})
}

// every runs fn every interval d until the fleet closes.
func (f *Fleet) every(d time.Duration, fn func()) {
	t := time.NewTicker(d)
	defer t.Stop()
	for {
		select {
		case <-f.stop:
			return
		case <-t.C:
			fn()
		}
	}
}

// Close stops the heartbeat and the renewals, waiting for them, takes this replica out of the fleet's count
// and closes the connections. Closing twice does nothing more.
func (f *Fleet) Close() error {
	var err error
	f.closeOnce.Do(func() {
		close(f.stop)
		f.wg.Wait()
		f.closed.Store(true)
		if f.up.Swap(false) {
			ctx, cancel := context.WithTimeout(context.Background(), commandTimeout)
			f.rdb.ZRem(ctx, f.key("replicas"), f.id)
			cancel()
		}
		err = f.rdb.Close()
	})
	return err
}
