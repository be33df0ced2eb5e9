package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	"github.com/falproxy/falproxy/internal/fal"
	"github.com/falproxy/falproxy/internal/openai"
)

// upstreamError translates a failure of a fal call into what the client
// should see. It never returns a 500: every case is either the client's
// mistake (4xx), fal's failure (502/503), or time (504). Its messages never
// carry Go errors or upstream URLs; failUpstream logs those.
func upstreamError(err error) *openai.Error {
	fe, isFal := errors.AsType[*fal.Error](err)
	switch {
	case isFal && fe.Op == fal.OpDownload && errors.Is(err, context.DeadlineExceeded):
		return &openai.Error{
			Status:  http.StatusGatewayTimeout,
			Message: "fal finished the job, but downloading its image did not finish within the time allowed.",
			Type:    openai.TypeTimeout,
			Code:    "timeout",
			NoRetry: true,
		}
	case errors.Is(err, context.DeadlineExceeded):
		return &openai.Error{
			Status:  http.StatusGatewayTimeout,
			Message: "fal did not finish within the request timeout; the job was cancelled.",
			Type:    openai.TypeTimeout,
			Code:    "timeout",
			NoRetry: true,
		}
	case errors.Is(err, errNotAnImage):
		return &openai.Error{Status: http.StatusBadGateway, Message: "fal's result is not an image.",
			Type: openai.TypeUpstream, Code: "upstream_not_an_image", NoRetry: true}
	case errors.Is(err, errNotAudio):
		return &openai.Error{Status: http.StatusBadGateway, Message: "fal's result is not audio.",
			Type: openai.TypeUpstream, Code: "upstream_not_audio", NoRetry: true}
	case !isFal:
		return &openai.Error{Status: http.StatusBadGateway, Message: "The call to fal failed.", Type: openai.TypeUpstream, Code: "upstream_error"}
	}
	return falCallError(fe)
}

// falCallError maps a failed fal call by what fal answered.
func falCallError(fe *fal.Error) *openai.Error {
	switch {
	case errors.Is(fe.Err, fal.ErrKeysRejected):
		return &openai.Error{Status: http.StatusBadGateway,
			Message: "fal rejected every configured key, and they are set aside. Check AI_KEYS and the fal account's balance.",
			Type:    openai.TypeUpstream, Code: "fal_auth_failed", NoRetry: true}
	case errors.Is(fe.Err, fal.ErrNoKey):
		msg := "Every fal key is busy or resting after rate limiting; try again later."
		if fe.Detail != "" {
			msg = fe.Detail + "; try again later."
		}
		return &openai.Error{Status: http.StatusServiceUnavailable, Message: msg, Type: openai.TypeServer,
			Code: "fal_keys_unavailable", RetryAfter: max(fe.RetryAfter, 1e9)}
	case fe.Status == http.StatusUnprocessableEntity:
		return validationError(fe)
	case fe.JobFailed:
		return jobError(fe)
	case fe.Status == http.StatusUnauthorized || fe.Status == http.StatusForbidden:
		return &openai.Error{Status: http.StatusBadGateway,
			Message: fmt.Sprintf("fal rejected every configured key (HTTP %d: %s). Check AI_KEYS and the fal account's balance.", fe.Status, falText(fe)),
			Type:    openai.TypeUpstream, Code: "fal_auth_failed", NoRetry: true}
	case fe.Status == http.StatusTooManyRequests:
		return &openai.Error{Status: http.StatusServiceUnavailable,
			Message: "fal is rate limiting every configured key: " + falText(fe),
			Type:    openai.TypeServer, Code: "fal_rate_limited", RetryAfter: max(fe.RetryAfter, 1e9)}
	case fe.Status == http.StatusNotFound && (fe.Op == fal.OpSubmit || fe.Op == fal.OpRun):
		return &openai.Error{Status: http.StatusBadGateway, Message: "fal does not know this endpoint: " + falText(fe),
			Type: openai.TypeUpstream, Code: "unknown_endpoint", NoRetry: true}
	case errors.Is(fe.Err, fal.ErrTooLarge):
		return &openai.Error{Status: http.StatusBadGateway, Message: "fal's answer exceeded the size limit.",
			Type: openai.TypeUpstream, Code: "upstream_too_large", NoRetry: true}
	case errors.Is(fe.Err, fal.ErrForbiddenTarget):
		return &openai.Error{Status: http.StatusBadGateway,
			Message: "fal's result points at an address falproxy does not download from (a private, loopback or link-local address, or a scheme other than http and https).",
			Type:    openai.TypeUpstream, Code: "upstream_media_refused", NoRetry: true}
	case fe.Status == 0:
		return &openai.Error{Status: http.StatusBadGateway, Message: "fal could not be reached or broke the connection (" + fe.Op + ").",
			Type: openai.TypeUpstream, Code: "upstream_unreachable"}
	case fe.Status >= 400 && fe.Status < 500:
		return &openai.Error{Status: http.StatusBadGateway, Message: fmt.Sprintf("fal answered HTTP %d to %s: %s", fe.Status, fe.Op, falText(fe)),
			Type: openai.TypeUpstream, Code: "upstream_error", NoRetry: true}
	default:
		return &openai.Error{Status: http.StatusBadGateway, Message: fmt.Sprintf("fal failed (HTTP %d): %s", fe.Status, falText(fe)),
			Type: openai.TypeUpstream, Code: "upstream_error"}
	}
}

// failUpstream is upstreamError for a request: the failure in full (Go
// error, upstream URL) goes to the log under the request id, and the
// client gets the words of upstreamError.
func (s *Server) failUpstream(ctx context.Context, err error) *openai.Error {
	return s.logUpstream(ctx, err, upstreamError(err))
}

// logUpstream logs a failed fal call in full under the request id and
// returns e, the answer the client gets for it, which carries no detail.
func (s *Server) logUpstream(ctx context.Context, err error, e *openai.Error) *openai.Error {
	level := slog.LevelWarn
	if e.Status < http.StatusInternalServerError {
		level = slog.LevelDebug // the client's own mistake, as fal judged it
	}
	s.log.Log(ctx, level, "fal call failed", "request_id", infoFrom(ctx).ID, "status", e.Status, "code", e.Code, "err", s.opt.Redact(err.Error()))
	return e
}

// failUpstreamAs is failUpstream for a request whose fields fal knows by
// other names: mapParam names, in the request's words, the field the input
// fal rejected came from.
func (s *Server) failUpstreamAs(ctx context.Context, err error, mapParam func(falField string) string) *openai.Error {
	e := s.failUpstream(ctx, err)
	if e.Param != "" {
		e.Param = mapParam(e.Param)
	}
	return e
}

// validationError maps fal's 422 to OpenAI's 400, naming the field.
func validationError(fe *fal.Error) *openai.Error {
	e := openai.InvalidRequest("", "invalid_value", "%s", falText(fe))
	if len(fe.Validation) > 0 {
		v := fe.Validation[0]
		f := v.Field()
		e.Param = openai.Echo(f)
		e.Message = "fal rejected the input: " + falText(fe)
		if v.Type == "content_policy_violation" {
			e.Type = "image_generation_user_error"
			e.Code = "moderation_blocked"
			e.Param = ""
		}
	}
	return e
}

// jobError maps a job that fal ran and failed. Timeouts become 504;
// infrastructure failures 502 with fal's error type as code. Infrastructure
// failures are not billed by fal and may pass on retry, so the SDKs may
// retry them; everything else says x-should-retry: false.
func jobError(fe *fal.Error) *openai.Error {
	msg := "The fal job failed: " + falText(fe)
	code := openai.Echo(fe.ErrorType)
	switch code {
	case "request_timeout", "startup_timeout", "generation_timeout":
		return &openai.Error{Status: http.StatusGatewayTimeout, Message: msg, Type: openai.TypeTimeout, Code: code, NoRetry: true}
	case "client_cancelled", "client_disconnected":
		return &openai.Error{Status: http.StatusBadGateway, Message: msg, Type: openai.TypeUpstream, Code: code, NoRetry: true}
	case "":
		code = "fal_job_failed"
	}
	transient := fe.Status >= 500
	return &openai.Error{Status: http.StatusBadGateway, Message: msg, Type: openai.TypeUpstream, Code: code, NoRetry: !transient}
}

// maxFalText bounds how much of fal's own explanation reaches a client.
const maxFalText = 200

// falText is fal's explanation of a failure, fit for a client: URLs in it
// (of fal's hosts, storage or a result) become "[url]", and it is cut to
// maxFalText characters.
func falText(fe *fal.Error) string {
	msg := fe.Message()
	var b strings.Builder
	for {
		i := indexURL(msg)
		if i < 0 {
			b.WriteString(msg)
			break
		}
		b.WriteString(msg[:i])
		b.WriteString("[url]")
		end := strings.IndexAny(msg[i:], " \t\r\n\"'<>()[]{}")
		if end < 0 {
			break
		}
		msg = msg[i+end:]
	}
	return openai.Clip(b.String(), maxFalText)
}

// indexURL finds the first http:// or https:// in s, in any case.
func indexURL(s string) int {
	lower := strings.ToLower(s)
	i, j := strings.Index(lower, "http://"), strings.Index(lower, "https://")
	if i < 0 || (j >= 0 && j < i) {
		return j
	}
	return i
}
