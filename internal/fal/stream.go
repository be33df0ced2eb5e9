package fal

import (
	"context"
	"io"
	"net/http"
	"time"
)

// Response is a successful answer from a synchronous fal call whose body
// the caller reads (a run result or an SSE stream). Close releases the key.
type Response struct {
	*http.Response
	RequestID string
	key       *Key
	pool      *Pool
	maxBytes  int64 // the client's MaxResultBytes
	closed    bool
}

// ReadAll reads the whole answer, capped at the client's MaxResultBytes
// (ErrTooLarge beyond); a broken connection is an *Error of the call.
func (r *Response) ReadAll() ([]byte, error) {
	return readResponse(OpRun, r.Response, r.maxBytes)
}

// KeyID names the key the call was made with.
func (r *Response) KeyID() string { return r.key.ID() }

// Close closes the body and releases the key's slot.
func (r *Response) Close() error {
	if r.closed {
		return nil
	}
	r.closed = true
	r.pool.release(r.key)
	return r.Body.Close()
}

// Post calls a synchronous fal endpoint (https://fal.run/<path>) with a
// JSON body, failing over between keys until fal accepts the call. accept
// is the Accept header ("" for JSON; "text/event-stream" for streams). The
// path may be an endpoint id, an id plus "/stream", or a route of an
// OpenAI-compatible endpoint such as
// "openrouter/router/openai/v1/chat/completions".
func (c *Client) Post(ctx context.Context, path string, body []byte, accept string) (*Response, error) {
	op := OpRun
	if accept == "text/event-stream" {
		op = OpStream
	}
	var header http.Header
	if accept != "" {
		header = http.Header{"Accept": {accept}}
	}
	t0 := time.Now()
	resp, k, err := c.postFailover(ctx, op, c.opt.RunURL+"/"+path, body, header, false)
	if err != nil {
		return nil, err
	}
	c.opt.Observer.Phase(path, "stream_open", time.Since(t0))
	return &Response{Response: resp, RequestID: resp.Header.Get("X-Fal-Request-Id"), key: k, pool: c.opt.Pool,
		maxBytes: c.opt.MaxResultBytes}, nil
}

// Events returns an SSE reader over a streaming response.
func (r *Response) Events(maxLine int) *SSEReader {
	return NewSSEReader(r.Body, maxLine)
}

var _ io.Closer = (*Response)(nil)
