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

// databaseFailed logs that what failed because the database replicas
// share for responses and videos could not be read or written, and
// returns the answer: 503 with x-should-retry true, never a 404 that
// would tell the client a response or a video is gone when it may not be.
func (s *Server) databaseFailed(ctx context.Context, what string, err error) *openai.Error {
	s.log.Error(what+" failed: the database is unavailable", "request_id", infoFrom(ctx).ID, "error", err.Error())
	return &openai.Error{Status: http.StatusServiceUnavailable, Type: openai.TypeServer, Code: "store_unavailable",
		Message: "falproxy's database is unavailable; try again shortly.", RetryAfter: databaseRetryAfter, Retry: true}
}
