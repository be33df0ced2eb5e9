package fal

import (
	"errors"
	"net"
	"net/http"
	"testing"
)

func TestFailoverDecisions(t *testing.T) {
	dialErr := &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}
	dnsErr := &net.DNSError{Err: "no such host", Name: "queue.fal.run"}
	readErr := &net.OpError{Op: "read", Net: "tcp", Err: errors.New("connection reset")}
	unavailable := &Error{Status: http.StatusServiceUnavailable}
	unreachable := &Error{Err: dialErr}
	rejected := &Error{Status: http.StatusUnauthorized}
	tests := []struct {
		name string
		got  failoverAction
		want failoverAction
	}{
		{"2xx answer, queued", decideAfterAnswer(http.StatusOK, true), accept},
		{"2xx answer, synchronous", decideAfterAnswer(http.StatusAccepted, false), accept},
		{"401 tries another key", decideAfterAnswer(http.StatusUnauthorized, false), nextKey},
		{"403 tries another key", decideAfterAnswer(http.StatusForbidden, true), nextKey},
		{"429 tries another key", decideAfterAnswer(http.StatusTooManyRequests, false), nextKey},
		{"5xx of a submit tries another key", decideAfterAnswer(http.StatusBadGateway, true), nextKey},
		{"5xx of a synchronous call may have run the model", decideAfterAnswer(http.StatusInternalServerError, false), giveUp},
		{"422 is the request's fault", decideAfterAnswer(http.StatusUnprocessableEntity, true), giveUp},
		{"404 is the request's fault", decideAfterAnswer(http.StatusNotFound, false), giveUp},
		{"3xx is not followed", decideAfterAnswer(http.StatusFound, true), giveUp},

		{"refused connection tries another key", decideAfterTransportError(dialErr, false), nextKey},
		{"unknown host tries another key", decideAfterTransportError(dnsErr, false), nextKey},
		{"broken exchange may have reached fal", decideAfterTransportError(readErr, false), giveUp},
		{"caller gone", decideAfterTransportError(dialErr, true), giveUpCancelled},
		{"caller gone wins over a sent body", decideAfterTransportError(readErr, true), giveUpCancelled},

		{"no key before any try", decideWithoutKey(nil, 0), giveUp},
		{"every key met a 5xx: another round", decideWithoutKey(unavailable, 0), nextRound},
		{"every key unreachable: another round", decideWithoutKey(unreachable, 1), nextRound},
		{"rounds used up", decideWithoutKey(unavailable, maxRounds-1), reportLast},
		{"keys rejected: no round", decideWithoutKey(rejected, 0), reportLast},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s: got action %d, want %d", tt.name, tt.got, tt.want)
		}
	}
}
