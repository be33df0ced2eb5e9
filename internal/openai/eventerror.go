package openai

import (
	"encoding/json"
	"strconv"
)

// EventError reads the error an error event of a stream carries: a chat
// stream's {"error":{...}} or a Responses stream's "error" event, whose
// message and code sit at its top level. A code that is a number (some
// providers send an HTTP status) is kept as its digits; an event without
// a message gets one in general words. The error is a server error unless
// the event names its type.
func EventError(data []byte) *Error {
	var ev struct {
		eventErrorBody
		Error *eventErrorBody `json:"error"`
	}
	body := &ev.eventErrorBody
	if json.Unmarshal(data, &ev) == nil && ev.Error != nil && ev.Error.Message != "" {
		body = ev.Error
	} else {
		body.Type = "" // at the top level, "type" is the event's: "error"
	}
	e := &Error{Message: body.Message, Type: body.Type, Code: body.code()}
	if e.Message == "" {
		e.Message = "fal's stream reported an error."
	}
	if e.Type == "" {
		e.Type = TypeServer
	}
	return e
}

// eventErrorBody is the part of an error event EventError reads.
type eventErrorBody struct {
	Message string          `json:"message"`
	Type    string          `json:"type"`
	Code    json.RawMessage `json:"code"`
}

// code is the error's code as text: a string as it is, a number as its
// digits, anything else "".
func (b *eventErrorBody) code() string {
	var s string
	if json.Unmarshal(b.Code, &s) == nil {
		return s
	}
	var n json.Number
	if json.Unmarshal(b.Code, &n) == nil {
		if _, err := strconv.ParseFloat(n.String(), 64); err == nil {
			return n.String()
		}
	}
	return ""
}
