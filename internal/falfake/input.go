package falfake

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
)

// detail is one entry of fal's 422 body {"detail": [...]}, in Pydantic v2's
// shape and wording, which is what fal's model servers answer.
type detail struct {
	Type  string         `json:"type"`
	Loc   []any          `json:"loc"`
	Msg   string         `json:"msg"`
	Input any            `json:"input"`
	Ctx   map[string]any `json:"ctx,omitempty"`
	URL   string         `json:"url,omitempty"`
}

// decodeInput parses a request body as fal's HTTP layer does: it must be one
// JSON object.
func decodeInput(body []byte) (node, []detail) {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, []detail{{Type: "missing", Loc: []any{"body"}, Msg: "Field required"}}
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	err := dec.Decode(&v)
	offset := int64(len(body))
	if se, ok := errors.AsType[*json.SyntaxError](err); ok {
		offset = se.Offset
	}
	if err == nil {
		end := dec.InputOffset()
		if _, tail := dec.Token(); tail != io.EOF {
			err = errors.New("extra data after the JSON value")
			offset = end + int64(len(body[end:])-len(bytes.TrimLeft(body[end:], " \t\r\n")))
		}
	}
	if err != nil {
		return nil, []detail{{
			Type: "json_invalid", Loc: []any{"body", offset}, Msg: "JSON decode error",
			Input: node{}, Ctx: map[string]any{"error": err.Error()},
		}}
	}
	obj, ok := v.(node)
	if !ok {
		return nil, []detail{{
			Type: "model_attributes_type", Loc: []any{"body"},
			Msg: "Input should be a valid dictionary or object to extract fields from", Input: v,
		}}
	}
	return obj, nil
}
