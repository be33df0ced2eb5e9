package server

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/falproxy/falproxy/internal/falschema"
	"github.com/falproxy/falproxy/internal/openai"
)

// schemaRetryAfter is the pause suggested after a schema fetch that failed
// in a passing way (fal answered 5xx, or could not be reached).
const schemaRetryAfter = 2 * time.Second

// schemaError explains a schema that could not be had. A raw endpoint id
// the client typed (ALLOW_ANY_ENDPOINT) that fal does not know is the
// client's mistake: 404, as for an unknown model.
func (s *Server) schemaError(ctx context.Context, alias string, err error) *openai.Error {
	if _, configured := s.models.images[alias]; !configured && errors.Is(err, falschema.ErrUnknownEndpoint) {
		return openai.ModelNotFound(alias)
	}
	return s.schemaFailure(ctx, err)
}

// schemaFailure maps a failed schema fetch for a configured model, and
// logs the failure in full under the request id.
func (s *Server) schemaFailure(ctx context.Context, err error) *openai.Error {
	e := schemaFetchError(ctx, err)
	s.log.Warn("fal schema unavailable", "request_id", infoFrom(ctx).ID, "code", e.Code, "err", s.opt.Redact(err.Error()))
	return e
}

// schemaFetchError gives every failed schema fetch a code and retry
// advice: no retry where fal's answer will not change by itself (unknown
// endpoint, refused access, a document falproxy cannot use), a short
// Retry-After where it may (fal answered 5xx or could not be reached).
func schemaFetchError(ctx context.Context, err error) *openai.Error {
	unavailable := func(msg string) *openai.Error {
		return &openai.Error{Status: http.StatusBadGateway, Message: msg, Type: openai.TypeUpstream, Code: "schema_unavailable", NoRetry: true}
	}
	status := falschema.HTTPStatus(err)
	if limit, ok := errors.AsType[*falschema.LookupLimitError](err); ok {
		return &openai.Error{Status: http.StatusServiceUnavailable,
			Message: "Too many models falproxy has not seen before were asked for in the last minute; try again shortly.",
			Type:    openai.TypeServer, Code: "model_lookups_throttled", RetryAfter: limit.RetryAfter}
	}
	switch {
	case shuttingDown(ctx):
		return shutdownError()
	case ctx.Err() != nil:
		return &openai.Error{Status: http.StatusGatewayTimeout, Message: "fal's schema for this model did not arrive within the request timeout; no job was started.",
			Type: openai.TypeTimeout, Code: "timeout", RetryAfter: schemaRetryAfter}
	case errors.Is(err, falschema.ErrUnknownEndpoint):
		return &openai.Error{Status: http.StatusBadGateway, Message: "fal has no schema for this model's endpoint; check SUPPORTED_MODELS.",
			Type: openai.TypeUpstream, Code: "unknown_endpoint", NoRetry: true}
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		return &openai.Error{Status: http.StatusBadGateway,
			Message: "fal refused access to this model's schema (HTTP " + strconv.Itoa(status) + "). Check AI_KEYS, the fal account and FAL_OPENAPI_URL.",
			Type:    openai.TypeUpstream, Code: "fal_auth_failed", NoRetry: true}
	case errors.Is(err, falschema.ErrTooLarge):
		return unavailable("fal's schema for this model is larger than falproxy accepts.")
	case status >= 400 && status < 500:
		return unavailable("fal refused to serve this model's schema (HTTP " + strconv.Itoa(status) + ").")
	case status >= 500, isNetworkError(err):
		e := unavailable("fal's schema for this model could not be fetched just now; try again shortly.")
		e.NoRetry, e.RetryAfter = false, schemaRetryAfter
		return e
	}
	return unavailable("fal's schema for this model could not be read.")
}

// isNetworkError reports a failure to reach fal or a connection that broke
// off, as opposed to an answer falproxy could not use.
func isNetworkError(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, io.ErrUnexpectedEOF)
}
