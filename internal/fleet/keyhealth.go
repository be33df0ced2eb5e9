package fleet

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// A fal key's rest (a cooldown after 429, a quarantine after 401/403) is
// kept in Redis under keyhealth:<tag>, expiring when the rest ends, and
// published on the keyhealth channel. Every replica applies what it hears
// at once, and reloads all its keys' rests every heartbeat and when Redis
// answers again, since a subscription misses what is published while its
// connection is down.

// restRecord is one rest as stored and published. A zero UntilMS says
// the key is accepted again.
type restRecord struct {
	Tag      string `json:"tag"`
	UntilMS  int64  `json:"until_ms"`
	Reason   string `json:"reason,omitempty"`
	Rejected bool   `json:"rejected,omitempty"`
	From     string `json:"from"` // the replica that found it
}

// RestApplier is the pool whose keys' rests are shared (fal.Pool).
type RestApplier interface {
	KeyTags() []string
	ApplyRest(tag string, until time.Time, reason string, rejected bool)
	ForgetRest(tag string) // a quarantine from another replica the fleet no longer holds
}

// restScript stores a rest unless a longer one is stored already, or
// for a recovery deletes a stored quarantine (a recovery ends no rate
// limit: that passes by itself), and publishes it; one round trip.
// KEYS[1] the rest's key; ARGV[1] the channel, ARGV[2] the record,
// ARGV[3] its end in Unix milliseconds (0 for a recovery).
var restScript = redis.NewScript(`
local untilMS = tonumber(ARGV[3])
if untilMS == 0 then
  local cur = redis.call('GET', KEYS[1])
  if cur and cjson.decode(cur).rejected then
    redis.call('DEL', KEYS[1])
  end
else
  local cur = redis.call('GET', KEYS[1])
  if cur and cjson.decode(cur).until_ms >= untilMS then
    return 0
  end
  redis.call('SET', KEYS[1], ARGV[2], 'PXAT', untilMS)
end
redis.call('PUBLISH', ARGV[1], ARGV[2])
return 1
`)

// KeyHealth shares fal key health through the fleet's Redis. It is the
// pool's fal.KeyHealthSharer; Follow makes it apply the other replicas'
// findings to the pool.
type KeyHealth struct {
	f *Fleet

	// noReload leaves the rests to the subscription alone, so that tests
	// can tell it works by itself.
	noReload bool

	mu      sync.Mutex
	pool    RestApplier
	pending map[string]restRecord // by tag: found while Redis was down, written when it answers
}

// NewKeyHealth shares key health through f.
func NewKeyHealth(f *Fleet) *KeyHealth {
	h := &KeyHealth{f: f, pending: map[string]restRecord{}}
	f.OnUp(h.resume)
	return h
}

func (h *KeyHealth) channel() string           { return h.f.key("keyhealth") }
func (h *KeyHealth) restKey(tag string) string { return h.f.key("keyhealth:" + tag) }

// Rested writes and publishes a rest this replica found. While Redis is
// unreachable the key rests here alone, and the rest is written when
// Redis answers again if it has not ended by then.
func (h *KeyHealth) Rested(tag string, until time.Time, reason string, rejected bool) {
	rec := restRecord{Tag: tag, Reason: reason, Rejected: rejected, From: h.f.id}
	if !until.IsZero() {
		rec.UntilMS = until.UnixMilli()
	}
	if err := h.write(context.Background(), rec); err != nil {
		h.mu.Lock()
		h.pending[tag] = rec
		h.mu.Unlock()
	}
}

func (h *KeyHealth) write(ctx context.Context, rec restRecord) error {
	b, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	return h.f.do(ctx, func(ctx context.Context, c *redis.Client) error {
		return restScript.Run(ctx, c, []string{h.restKey(rec.Tag)}, h.channel(), b, rec.UntilMS).Err()
	})
}

// Follow applies to pool every rest another replica finds, from now until
// the fleet closes: within the heartbeat interval at worst, and at once
// while the subscription is connected.
func (h *KeyHealth) Follow(pool RestApplier) {
	h.mu.Lock()
	h.pool = pool
	h.mu.Unlock()
	sub := h.f.rdb.Subscribe(context.Background(), h.channel())
	h.reload(context.Background())
	h.f.spawn(func() { h.listen(sub) })
	if !h.noReload {
		h.f.spawn(func() { h.f.every(HeartbeatEvery, func() { h.reload(context.Background()) }) })
	}
}

// listen applies the published rests until the fleet closes.
func (h *KeyHealth) listen(sub *redis.PubSub) {
	defer sub.Close()
	msgs := sub.Channel()
	for {
		select {
		case <-h.f.stop:
			return
		case m, ok := <-msgs:
			if !ok {
				return
			}
			var rec restRecord
			if json.Unmarshal([]byte(m.Payload), &rec) == nil {
				h.apply(rec)
			}
		}
	}
}

// reload reads the rests of all the pool's keys in one MGET and applies
// them, and forgets the other replicas' quarantines that are gone: each
// heartbeat interval, for what the subscription missed.
func (h *KeyHealth) reload(ctx context.Context) {
	h.mu.Lock()
	pool := h.pool
	h.mu.Unlock()
	if pool == nil {
		return
	}
	tags := pool.KeyTags()
	keys := make([]string, len(tags))
	for i, tag := range tags {
		keys[i] = h.restKey(tag)
	}
	var vals []any
	err := h.f.do(ctx, func(ctx context.Context, c *redis.Client) error {
		var err error
		vals, err = c.MGet(ctx, keys...).Result()
		return err
	})
	if err != nil {
		return
	}
	for i, v := range vals {
		s, ok := v.(string)
		var rec restRecord
		switch {
		case v == nil:
			pool.ForgetRest(tags[i])
		case ok && json.Unmarshal([]byte(s), &rec) == nil:
			h.apply(rec)
		}
	}
}

// apply hands another replica's rest to the pool.
func (h *KeyHealth) apply(rec restRecord) {
	h.mu.Lock()
	pool := h.pool
	h.mu.Unlock()
	if pool == nil || rec.From == h.f.id {
		return
	}
	var until time.Time
	if rec.UntilMS != 0 {
		until = time.UnixMilli(rec.UntilMS)
	}
	pool.ApplyRest(rec.Tag, until, rec.Reason, rec.Rejected)
}

// resume runs when Redis answers again: it writes the rests found during
// the outage that still last (Redis may have restarted empty); the next
// reload brings the other replicas'.
func (h *KeyHealth) resume(ctx context.Context) {
	h.mu.Lock()
	pending := h.pending
	h.pending = map[string]restRecord{}
	h.mu.Unlock()
	now := time.Now().UnixMilli()
	for _, rec := range pending {
		if rec.UntilMS != 0 && rec.UntilMS <= now {
			continue
		}
		b, err := json.Marshal(rec)
		if err != nil {
			continue
		}
		// Do refuses while Redis is still marked down, which it is
		// until the OnUp functions have run: talk to Redis directly.
		ctx, cancel := context.WithTimeout(ctx, commandTimeout)
		err = restScript.Run(ctx, h.f.rdb, []string{h.restKey(rec.Tag)}, h.channel(), b, rec.UntilMS).Err()
		cancel()
		if err != nil && !errors.Is(err, redis.Nil) {
			h.mu.Lock()
			if _, newer := h.pending[rec.Tag]; !newer {
				h.pending[rec.Tag] = rec
			}
			h.mu.Unlock()
		}
	}
}
