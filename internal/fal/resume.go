package fal

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"slices"
)

// Jobs that outlive the request that submitted them (videos, which clients
// poll for minutes, maybe on another replica or after a restart) are found
// again from what their id carries: the endpoint, fal's request id and a
// tag of the key that submitted them, since fal answers only the
// submitting account. These functions rebuild such a job and follow it.

// keyTagLabel is what a key's tag is derived from.
const keyTagLabel = "falproxy key tag"

// keyTagSize is the length of a key's tag.
const keyTagSize = 8

// Derive is HMAC-SHA256 of label under the key's secret: a value bound to
// this key that reveals nothing about it, the same on every replica and
// after every restart with the same key.
func (k *Key) Derive(label string) []byte {
	m := hmac.New(sha256.New, []byte(k.secret))
	m.Write([]byte(label))
	return m.Sum(nil)
}

// Tag names the key in a job's id without revealing it: the first
// keyTagSize bytes of Derive("falproxy key tag"), derived when the pool is
// built. The caller must not modify it.
func (k *Key) Tag() []byte { return k.tag }

// Keys are the pool's keys, in the order configured.
func (p *Pool) Keys() []*Key { return slices.Clone(p.keys) }

// Resume rebuilds the job fal accepted for endpoint under requestID with
// key k. It holds no key slot: fal queues the job itself, and a job
// followed from another process must not take this one's capacity.
func (c *Client) Resume(endpoint, requestID string, k *Key) *Job {
	j := &Job{Endpoint: endpoint, RequestID: requestID, key: k, pool: c.opt.Pool, done: true}
	c.fillURLs(j)
	return j
}

// LogLine is one line of a job's logs.
type LogLine struct {
	Message string `json:"message"`
}

// StatusWithLogs is a queue status with the job's log lines.
type StatusWithLogs struct {
	Status
	Logs []LogLine `json:"logs"`
}

// Progress asks fal once for the job's status, with its logs when
// withLogs (a model may use them to report how far it has come); a caller
// that needs only to know whether the job finished spares fal the logs.
func (c *Client) Progress(ctx context.Context, j *Job, withLogs bool) (*StatusWithLogs, error) {
	logs := "0"
	if withLogs {
		logs = "1"
	}
	var st StatusWithLogs
	if err := c.readStatus(ctx, j, logs, &st); err != nil {
		return nil, err
	}
	return &st, nil
}

// errCancelRequested is the reason logged for a cancel a caller asked for.
var errCancelRequested = errors.New("cancel requested")

// Cancel stops the job at fal if it is still queued or running. The
// cancel runs in the background and is retried until fal confirms it or
// the job is known to have finished, as for an abandoned job.
func (c *Client) Cancel(j *Job) { c.abandon(j, errCancelRequested) }

// Key is the key the job was submitted with, which alone can follow it.
func (j *Job) Key() *Key { return j.key }
