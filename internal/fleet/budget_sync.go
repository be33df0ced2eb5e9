// Writing this replica's budget counts to Redis, and writing them all
// back after Redis was unreachable or lost its data (see budget.go).

package fleet

import (
	"context"

	"github.com/redis/go-redis/v9"
)

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
