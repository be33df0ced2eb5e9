package fal

import (
	"context"
	"net/http"
	"time"
)

// probePath is a status read of a request id that cannot exist: fal
// answers 404 to a valid key and 401/403 to a refused one, and nothing is
// run or billed.
const probePath = "/fal-ai/flux/requests/00000000-0000-0000-0000-000000000000/status"

// RecheckKeys probes every quarantined key each interval, until ctx ends,
// and puts back those fal accepts again (a topped-up account, a key that
// was briefly revoked), so that they need not wait out the quarantine.
func (c *Client) RecheckKeys(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			c.recheckOnce(ctx)
		}
	}
}

func (c *Client) recheckOnce(ctx context.Context) {
	for _, k := range c.opt.Pool.quarantined() {
		ok, err := c.probe(ctx, k)
		if err != nil {
			c.log.Debug("fal key re-check failed", "key", k.ID(), "err", err)
			continue
		}
		if ok {
			c.opt.Pool.reinstate(k)
			c.log.Info("fal key accepted again, back in rotation", "key", k.ID())
		}
	}
}

// probe reports whether fal accepts k now.
func (c *Client) probe(ctx context.Context, k *Key) (bool, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := c.newRequest(ctx, http.MethodGet, c.opt.QueueURL+probePath, k, nil)
	if err != nil {
		return false, err
	}
	resp, err := c.send(req)
	if err != nil {
		return false, err
	}
	resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		return false, nil
	case resp.StatusCode >= 500:
		return false, &Error{Op: OpStatus, Status: resp.StatusCode, Detail: "key re-check inconclusive"}
	}
	return true, nil
}
