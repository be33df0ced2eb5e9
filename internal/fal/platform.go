package fal

import (
	"context"
	"fmt"
	"io"
	"net/http"
)

// OpPricing names calls to fal's pricing API.
const OpPricing = "pricing"

// maxPlatformAnswer bounds an answer of fal's platform API.
const maxPlatformAnswer = 4 << 20

// PlatformGet GETs a URL of fal's platform API (its pricing API) with the
// pool's keys in turn until one is answered 2xx, and returns that body.
// A key refused here (401, 403, 429) is only skipped, not reported to the
// pool: fal may keep this API to admin keys, and a key without that right
// still runs models.
func (c *Client) PlatformGet(ctx context.Context, url string) ([]byte, error) {
	tried := make(map[*Key]bool)
	var last error
	for {
		k, err := c.waitKey(ctx, OpPricing, tried)
		if err != nil {
			if last != nil {
				return nil, last
			}
			return nil, err
		}
		tried[k] = true
		b, err := c.platformGet(ctx, url, k)
		c.opt.Pool.release(k)
		if err == nil {
			return b, nil
		}
		if fe, ok := err.(*Error); !ok || !keyOrCapacityProblem(fe.Status) {
			return nil, err
		}
		last = err
	}
}

// platformGet makes one GET with key k.
func (c *Client) platformGet(ctx context.Context, url string, k *Key) ([]byte, error) {
	req, err := c.newRequest(ctx, http.MethodGet, url, k, nil)
	if err != nil {
		return nil, &Error{Op: OpPricing, Err: err}
	}
	resp, err := c.send(req)
	if err != nil {
		return nil, &Error{Op: OpPricing, Err: fmt.Errorf("fal's platform API did not answer: %w", err)}
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		return nil, errorFromResponse(OpPricing, resp, b)
	}
	return readResponse(OpPricing, resp, maxPlatformAnswer)
}
