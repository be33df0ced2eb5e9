package falfake

import "net/http"

// falError is what fal answers for one error_type.
type falError struct {
	status int
	msg    string
	// request marks fal's request-level errors (fal-api.md §6): they show in
	// the queue status as error/error_type and the result body is
	// {"detail": msg, "error_type": type}. Model errors are 422-style
	// detail lists and stay out of the status.
	request bool
}

// errorOf maps a fal error_type to its HTTP status and message. Unknown
// types are treated as a model's internal failure (500).
func errorOf(errorType string) falError {
	switch errorType {
	case "request_timeout":
		return falError{http.StatusGatewayTimeout, "Request timed out", true}
	case "startup_timeout":
		return falError{http.StatusGatewayTimeout, "Runner did not start in time", true}
	case "runner_scheduling_failure":
		return falError{http.StatusServiceUnavailable, "Could not schedule a runner", true}
	case "runner_connection_timeout":
		return falError{http.StatusServiceUnavailable, "Connection to the runner timed out", true}
	case "runner_disconnected":
		return falError{http.StatusServiceUnavailable, "Runner disconnected", true}
	case "runner_connection_refused":
		return falError{http.StatusServiceUnavailable, "Runner refused the connection", true}
	case "runner_connection_error":
		return falError{http.StatusServiceUnavailable, "Runner connection error", true}
	case "runner_incomplete_response":
		return falError{http.StatusBadGateway, "Runner sent an incomplete response", true}
	case "runner_server_error":
		return falError{http.StatusInternalServerError, "Runner server error", true}
	case "client_disconnected":
		return falError{statusClientClosed, "Client disconnected", true}
	case "client_cancelled":
		return falError{statusClientClosed, "Request cancelled by the client", true}
	case "bad_request":
		return falError{http.StatusBadRequest, "Bad request", true}
	case "internal_error":
		return falError{http.StatusInternalServerError, "Internal error", true}
	case "content_policy_violation":
		return falError{http.StatusUnprocessableEntity, "The content was flagged by a content checker.", false}
	case "image_too_large":
		return falError{http.StatusUnprocessableEntity, "The image is too large.", false}
	case "generation_timeout":
		return falError{http.StatusGatewayTimeout, "Generation timed out", false}
	case "downstream_service_error":
		return falError{http.StatusBadGateway, "A downstream service failed", false}
	case "downstream_service_unavailable":
		return falError{http.StatusServiceUnavailable, "A downstream service is unavailable", false}
	}
	return falError{http.StatusInternalServerError, "Internal server error", false}
}

// statusClientClosed is the non-standard 499 fal uses for client_* errors.
const statusClientClosed = 499
