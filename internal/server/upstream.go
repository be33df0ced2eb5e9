package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/falproxy/falproxy/internal/fal"
	"github.com/falproxy/falproxy/internal/falschema"
	"github.com/falproxy/falproxy/internal/openai"
)

// sizeFields are fal inputs derived from OpenAI fields; a fal validation
// error on one of them is reported against the OpenAI name the client sent.
var sizeFields = map[string]string{
	"image_size":    "size",
	"width":         "size",
	"height":        "size",
	"aspect_ratio":  "size",
	"resolution":    "size",
	"num_images":    "n",
	"format":        "output_format",
	"output_format": "output_format",
	"image_url":     "image",
	"image_urls":    "image",
	"mask_url":      "mask",
}

// upstreamError translates a failure of a fal call into what the client
// should see. It never returns a 500: every case is either the client's
// mistake (4xx), fal's failure (502/503), or time (504).
func upstreamError(err error) *openai.Error {
	if errors.Is(err, context.DeadlineExceeded) {
		return &openai.Error{
			Status:  http.StatusGatewayTimeout,
			Message: "fal did not finish within the request timeout; the job was cancelled.",
			Type:    openai.TypeTimeout,
			Code:    "timeout",
			NoRetry: true,
		}
	}
	if errors.Is(err, falschema.ErrUnknownEndpoint) {
		return &openai.Error{
			Status:  http.StatusBadGateway,
			Message: "fal has no schema for this model's endpoint: " + err.Error(),
			Type:    openai.TypeUpstream,
			Code:    "unknown_endpoint",
			NoRetry: true,
		}
	}
	var fe *fal.Error
	if !errors.As(err, &fe) {
		return &openai.Error{Status: http.StatusBadGateway, Message: "fal call failed: " + err.Error(), Type: openai.TypeUpstream}
	}
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
			Message: fmt.Sprintf("fal rejected every configured key (HTTP %d: %s). Check AI_KEYS and the fal account's balance.", fe.Status, fe.Message()),
			Type:    openai.TypeUpstream, Code: "fal_auth_failed", NoRetry: true}
	case fe.Status == http.StatusTooManyRequests:
		return &openai.Error{Status: http.StatusServiceUnavailable,
			Message: "fal is rate limiting every configured key: " + fe.Message(),
			Type:    openai.TypeServer, Code: "fal_rate_limited", RetryAfter: max(fe.RetryAfter, 1e9)}
	case fe.Status == http.StatusNotFound && fe.Op == fal.OpSubmit || fe.Op == fal.OpRun && fe.Status == http.StatusNotFound:
		return &openai.Error{Status: http.StatusBadGateway, Message: "fal does not know this endpoint: " + fe.Message(),
			Type: openai.TypeUpstream, Code: "unknown_endpoint", NoRetry: true}
	case errors.Is(fe.Err, fal.ErrTooLarge):
		return &openai.Error{Status: http.StatusBadGateway, Message: "fal's answer exceeded the size limit.",
			Type: openai.TypeUpstream, Code: "upstream_too_large", NoRetry: true}
	case fe.Status == 0:
		return &openai.Error{Status: http.StatusBadGateway, Message: "fal could not be reached or broke the connection (" + fe.Op + ").",
			Type: openai.TypeUpstream, Code: "upstream_unreachable"}
	case fe.Status >= 400 && fe.Status < 500:
		return &openai.Error{Status: http.StatusBadGateway, Message: fmt.Sprintf("fal answered HTTP %d to %s: %s", fe.Status, fe.Op, fe.Message()),
			Type: openai.TypeUpstream, Code: "upstream_error", NoRetry: true}
	default:
		return &openai.Error{Status: http.StatusBadGateway, Message: fmt.Sprintf("fal failed (HTTP %d): %s", fe.Status, fe.Message()),
			Type: openai.TypeUpstream, Code: "upstream_error"}
	}
}

// validationError maps fal's 422 to OpenAI's 400, naming the field.
func validationError(fe *fal.Error) *openai.Error {
	e := openai.InvalidRequest("", "invalid_value", "%s", fe.Message())
	if len(fe.Validation) > 0 {
		v := fe.Validation[0]
		f := v.Field()
		e.Param = f
		if name, ok := sizeFields[f]; ok {
			e.Param = name
		}
		e.Message = fmt.Sprintf("fal rejected the input: %s", fe.Message())
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
	msg := fmt.Sprintf("The fal job failed: %s", fe.Message())
	switch fe.ErrorType {
	case "request_timeout", "startup_timeout", "generation_timeout":
		return &openai.Error{Status: http.StatusGatewayTimeout, Message: msg, Type: openai.TypeTimeout, Code: fe.ErrorType, NoRetry: true}
	case "client_cancelled", "client_disconnected":
		return &openai.Error{Status: http.StatusBadGateway, Message: msg, Type: openai.TypeUpstream, Code: fe.ErrorType, NoRetry: true}
	}
	code := fe.ErrorType
	if code == "" {
		code = "fal_job_failed"
	}
	transient := fe.Status >= 500
	return &openai.Error{Status: http.StatusBadGateway, Message: msg, Type: openai.TypeUpstream, Code: code, NoRetry: !transient}
}
