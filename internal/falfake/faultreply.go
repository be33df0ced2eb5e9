package falfake

import (
	"net/http"
)

// applyFault acts out an HTTP fault. It reports whether the request was
// answered (or abandoned); false means a pure delay, after which the
// request proceeds normally.
func (f *Fake) applyFault(w http.ResponseWriter, c *call, ft Fault) bool {
	if !sleep(c.r.Context(), ft.Delay) {
		return true // the client left or the emulator is closing
	}
	if ft.Drop {
		dropConnection(w)
		return true
	}
	if ft.Status == 0 {
		return false
	}
	body, errorType := faultBody(ft.Status)
	if ft.Body != "" {
		body = ft.Body
	}
	h := w.Header()
	if ft.RetryAfter != "" {
		h.Set("Retry-After", ft.RetryAfter)
	}
	if ft.Status == http.StatusTooManyRequests {
		h.Set("X-Fal-Needs-Retry", "1")
	}
	if ft.Status >= 500 {
		h.Set("X-Fal-Request-Id", c.rid)
	}
	if errorType != "" {
		h.Set("X-Fal-Error-Type", errorType)
	}
	if ft.Status == http.StatusUnauthorized {
		f.rec.addRejected()
	}
	contentType := ft.ContentType
	if contentType == "" {
		contentType = "application/json"
	}
	writeBody(w, ft.Status, contentType, []byte(body))
	return true
}

// faultBody is fal's usual body for an error status, and its error_type if
// it has one (fal-api.md §6).
func faultBody(status int) (body, errorType string) {
	switch status {
	case http.StatusUnauthorized:
		return `{"detail":"` + msgBadKey + `"}`, ""
	case http.StatusForbidden:
		return `{"detail":"User is locked. Reason: Exhausted balance. Top up your balance at fal.ai/dashboard/billing"}`, ""
	case http.StatusNotFound:
		return `{"detail":"Not Found"}`, ""
	case http.StatusUnprocessableEntity:
		return `{"detail":[{"type":"value_error","loc":["body"],"msg":"Value error, invalid input","input":null}]}`, ""
	case http.StatusTooManyRequests:
		const t = "concurrent_requests_limit"
		return `{"detail":"Concurrent requests limit reached","error_type":"` + t + `"}`, t
	case http.StatusInternalServerError:
		return requestErrorBody("internal_error")
	case http.StatusBadGateway:
		return requestErrorBody("runner_incomplete_response")
	case http.StatusServiceUnavailable:
		return requestErrorBody("runner_scheduling_failure")
	case http.StatusGatewayTimeout:
		return requestErrorBody("request_timeout")
	}
	return string(mustJSON(detailMsg(http.StatusText(status)))), ""
}

// requestErrorBody is {"detail", "error_type"} for a request-level error.
func requestErrorBody(errorType string) (string, string) {
	return string(mustJSON(map[string]string{"detail": errorOf(errorType).msg, "error_type": errorType})), errorType
}

// dropConnection closes the connection without an answer.
func dropConnection(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		// Not hijackable (HTTP/2): aborting the handler resets the stream.
		panic(http.ErrAbortHandler)
	}
	_ = conn.Close()
}
