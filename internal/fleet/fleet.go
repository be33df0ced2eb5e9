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

// Defaults for Options.
const (
	// DefaultTimeout bounds one Redis command: on loopback or in one
	// data centre a command takes well under a millisecond, so a Redis
	// that has not answered in this time is treated as unreachable rather
	// than let it hold requests.
	DefaultTimeout = 300 * time.Millisecond
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
	// Replicas is the fleet size each replica assumes for its share of
	// the limits while Redis is unreachable; 0 uses the number of
	// replicas it last saw through Redis.
	Replicas int
	// Prefix starts every Redis key, so that several fleets can share one
	// Redis; default "falproxy:".
	Prefix  string
	Timeout time.Duration // per command; default DefaultTimeout
	Logger  *slog.Logger
}

// Fleet is this replica's link to the Redis the fleet shares. Its methods
// are safe for concurrent use.
type Fleet struct {
	rdb    *redis.Client
	opt    Options
	id     string // this replica, in the heartbeat set
	addr   string // Redis's address, for messages (never the password)
	log    *slog.Logger
	up     atomic.Bool
	seen   atomic.Int64 // replicas counted at the last heartbeat
	errors atomic.Uint64

	mu        sync.Mutex
	lastError string
	downSince time.Time
	onUp      []func(context.Context)

	stop      chan struct{}
	done      chan struct{}
	closeOnce sync.Once
}

// ErrUnavailable is returned instead of a command while Redis is known to
// be unreachable, so that a request does not wait for a timeout.
var ErrUnavailable = errors.New("redis is unreachable")

// Open connects to Redis and starts the heartbeat. A Redis that does not
// answer is an error only with Required; otherwise the fleet starts with
// local limits and switches to shared ones when Redis answers.
func Open(ctx context.Context, opt Options) (*Fleet, error) {
	ro, err := redis.ParseURL(opt.URL)
	if err != nil {
		return nil, fmt.Errorf("REDIS_URL: %w", err)
	}
	if opt.Timeout <= 0 {
		opt.Timeout = DefaultTimeout
	}
	if opt.Prefix == "" {
		opt.Prefix = "falproxy:"
	}
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	ro.DialTimeout, ro.ReadTimeout, ro.WriteTimeout = opt.Timeout, opt.Timeout, opt.Timeout
	ro.PoolTimeout = opt.Timeout
	// A retried command doubles the wait of a request when Redis is down;
	// the heartbeat finds out when it is back.
	ro.MaxRetries = -1
	ro.ContextTimeoutEnabled = true
	f := &Fleet{rdb: redis.NewClient(ro), opt: opt, id: replicaID(), addr: ro.Addr, log: opt.Logger,
		stop: make(chan struct{}), done: make(chan struct{})}
	f.seen.Store(1)
	if err := f.beat(ctx); err != nil {
		if opt.Required {
			_ = f.rdb.Close()
			return nil, fmt.Errorf("REDIS_REQUIRED is true and Redis at %s does not answer: %w", f.addr, err)
		}
		f.markDown(err)
	} else {
		f.up.Store(true)
	}
	go f.heartbeat()
	return f, nil
}

func replicaID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// Key is name under the fleet's prefix.
func (f *Fleet) Key(name string) string { return f.opt.Prefix + name }

// Up reports whether Redis answered the last command.
func (f *Fleet) Up() bool { return f.up.Load() }

// Required reports whether a request must be refused rather than served
// with local limits while Redis is unreachable.
func (f *Fleet) Required() bool { return f.opt.Required }

// Replicas is the fleet size this replica assumes: REPLICAS when set,
// otherwise the replicas seen at the last heartbeat that reached Redis.
func (f *Fleet) Replicas() int {
	if f.opt.Replicas > 0 {
		return f.opt.Replicas
	}
	return int(max(f.seen.Load(), 1))
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

// Do runs one Redis round trip with the fleet's timeout. While Redis is
// known to be down it returns ErrUnavailable at once; a failure other
// than redis.Nil marks Redis down until the heartbeat reaches it again.
func (f *Fleet) Do(ctx context.Context, fn func(context.Context, *redis.Client) error) error {
	if !f.up.Load() {
		return ErrUnavailable
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), f.opt.Timeout)
	defer cancel()
	err := fn(ctx, f.rdb)
	if err != nil && !errors.Is(err, redis.Nil) {
		f.markDown(err)
	}
	return err
}

// OnUp registers fn to run each time Redis answers again after being
// unreachable (and not at start), for state that must be written back.
func (f *Fleet) OnUp(fn func(context.Context)) {
	f.mu.Lock()
	f.onUp = append(f.onUp, fn)
	f.mu.Unlock()
}

// Status is what /health and /metrics show of the link to Redis.
type Status struct {
	Up        bool      `json:"up"`
	Replicas  int       `json:"replicas"`
	Errors    uint64    `json:"errors"`
	DownSince time.Time `json:"down_since,omitzero"`
	LastError string    `json:"last_error,omitempty"`
}

// Status snapshots the link.
func (f *Fleet) Status() Status {
	f.mu.Lock()
	defer f.mu.Unlock()
	s := Status{Up: f.up.Load(), Replicas: f.Replicas(), Errors: f.errors.Load(), LastError: f.lastError}
	if !s.Up {
		s.DownSince = f.downSince
	}
	return s
}

// markDown records a failed command; the first failure of an outage logs
// one warning.
func (f *Fleet) markDown(err error) {
	f.errors.Add(1)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lastError = err.Error()
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
	f.downSince, f.lastError = time.Time{}, ""
	hooks := append([]func(context.Context){}, f.onUp...)
	f.mu.Unlock()
	for _, fn := range hooks {
		fn(ctx)
	}
	f.up.Store(true)
	f.log.Info("Redis answers again; shared limits resume", "addr", f.addr, "after", down.String())
}

// beat announces this replica and counts the fleet, in one round trip.
func (f *Fleet) beat(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, f.opt.Timeout)
	defer cancel()
	now := time.Now()
	set := f.Key("replicas")
	var count *redis.IntCmd
	_, err := f.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		p.ZAdd(ctx, set, redis.Z{Score: float64(now.UnixMilli()), Member: f.id})
		p.ZRemRangeByScore(ctx, set, "-inf", fmt.Sprint(now.Add(-replicaTTL).UnixMilli()))
		p.PExpire(ctx, set, 2*replicaTTL)
		count = p.ZCard(ctx, set)
		return nil
	})
	if err != nil {
		return err
	}
	f.seen.Store(max(count.Val(), 1))
	return nil
}

func (f *Fleet) heartbeat() {
	defer close(f.done)
	f.every(HeartbeatEvery, func() {
		ctx := context.Background()
		if err := f.beat(ctx); err != nil {
			f.markDown(err)
			return
		}
		f.markUp(ctx)
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

// Close stops the heartbeat, takes this replica out of the fleet's count
// and closes the connections. Closing twice does nothing more.
func (f *Fleet) Close() error {
	var err error
	f.closeOnce.Do(func() {
		close(f.stop)
		<-f.done
		if f.up.Load() {
			ctx, cancel := context.WithTimeout(context.Background(), f.opt.Timeout)
			f.rdb.ZRem(ctx, f.Key("replicas"), f.id)
			cancel()
		}
		err = f.rdb.Close()
	})
	return err
}
