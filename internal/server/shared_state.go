package server

import (
	"context"
	"net/http"
	"time"

	"github.com/falproxy/falproxy/internal/openai"
)

// databaseRetryAfter is the Retry-After of an answer the database could
// not give.
const databaseRetryAfter = 5 * time.Second

// databaseFailed logs that what failed because the database could not be
// read or written, and returns the answer: 503 with Retry-After, which the
// SDKs retry, never a 404 that would tell the client a response, a video
// or a key is gone when it may not be. A request cancelled (its client
// left, or its own deadline passed) is not the database's failure and is
// not logged.
func (s *Server) databaseFailed(ctx context.Context, what string, err error) *openai.Error {
	if ctx.Err() == nil {
		s.log.Error(what+" failed: the database is unavailable", "request_id", infoFrom(ctx).ID, "error", err.Error())
	}
	return &openai.Error{Status: http.StatusServiceUnavailable, Type: openai.TypeServer, Code: "store_unavailable",
		Message: "falproxy's database is unavailable; try again shortly.", RetryAfter: databaseRetryAfter}
}
