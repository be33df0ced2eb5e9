package fal

import (
	"errors"
	"net"
	"net/http"
)

// failoverAction is what postFailover does next after one of its steps.
// The decisions are pure functions of what happened, so that a table test
// covers every branch of the failover without a network.
type failoverAction int

const (
	// accept hands fal's 2xx answer to the caller.
	accept failoverAction = iota
	// giveUp reports this failure: another key could not do better, or
	// fal may have started work that must not be started twice.
	giveUp
	// giveUpCancelled reports ctx.Err(): the caller is gone.
	giveUpCancelled
	// nextKey tries the call again with a key not yet tried.
	nextKey
	// nextRound forgets which keys were tried and, after a pause, goes
	// through them all again: every key met a passing fault.
	nextRound
	// reportLast reports the last failure a key met: no key is left.
	reportLast
)

// maxRounds bounds how many times postFailover goes through the keys when
// fal fails in passing ways.
const maxRounds = 3

// decideAfterAnswer decides on fal's answer of the given status. Only a
// key or capacity problem is worth another key; and a 5xx of a synchronous
// call (not queued) may come after the model ran, so it is reported as it
// is rather than run again.
func decideAfterAnswer(status int, queued bool) failoverAction {
	switch {
	case status >= 200 && status < 300:
		return accept
	case !keyOrCapacityProblem(status), !queued && status >= 500:
		return giveUp
	}
	return nextKey
}

// decideAfterTransportError decides on a call that got no answer. Only an
// error that proves the request never reached fal (see neverSent) allows
// another try: otherwise a job may exist.
func decideAfterTransportError(err error, ctxDone bool) failoverAction {
	switch {
	case ctxDone:
		return giveUpCancelled
	case !neverSent(err):
		return giveUp
	}
	return nextKey
}

// decideWithoutKey decides when no untried key could be taken. last is the
// failure the previous key met (nil before any try) and rounds the rounds
// already gone through the keys again.
func decideWithoutKey(last *Error, rounds int) failoverAction {
	switch {
	case last == nil:
		return giveUp
	case transient(last) && rounds < maxRounds-1:
		return nextRound
	}
	return reportLast
}

// transient reports whether a failure may pass by itself.
func transient(e *Error) bool { return e.Status == 0 || e.Status >= 500 }

// keyOrCapacityProblem tells whether another key (or a later try) may
// succeed where this answer failed.
func keyOrCapacityProblem(status int) bool {
	return status == http.StatusUnauthorized || status == http.StatusForbidden ||
		status == http.StatusTooManyRequests || status >= 500
}

// neverSent reports whether err proves the request never reached fal.
func neverSent(err error) bool {
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return true
	}
	var dns *net.DNSError
	return errors.As(err, &dns)
}
