package openai

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
)

// DecodeObject parses a JSON object body into its top-level fields. It
// rejects trailing data after the object and anything that is not an
// object, with a 400 a client can act on.
func DecodeObject(body []byte) (map[string]json.RawMessage, *Error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	var fields map[string]json.RawMessage
	if err := dec.Decode(&fields); err != nil {
		var ute *json.UnmarshalTypeError
		if errors.As(err, &ute) || errors.Is(err, io.EOF) {
			return nil, InvalidRequest("", "invalid_json", "The request body must be a JSON object.")
		}
		return nil, InvalidRequest("", "invalid_json", "The request body is not valid JSON%s.", syntaxOffset(err))
	}
	if fields == nil {
		return nil, InvalidRequest("", "invalid_json", "The request body must be a JSON object.")
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, InvalidRequest("", "invalid_json", "The request body has data after the JSON object.")
	}
	return fields, nil
}

// field decodes one raw field into dst, treating null as "not given".
// A wrong type is a 400 naming the field.
func field(fields map[string]json.RawMessage, name string, dst any, want string) *Error {
	raw, ok := fields[name]
	if !ok || bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
		return nil
	}
	if p, ok := dst.(*string); ok {
		if s, ok := PlainString(raw); ok {
			*p = s
			return nil
		}
	}
	if err := json.Unmarshal(raw, dst); err != nil {
		return InvalidRequest(name, "invalid_type", "Invalid type for '%s': expected %s.", name, want)
	}
	return nil
}

// DecodeImageGeneration parses the body of POST /v1/images/generations.
// Known fields are type-checked; the rest are kept in Extra.
func DecodeImageGeneration(body []byte) (*ImageGenerationRequest, *Error) {
	fields, e := DecodeObject(body)
	if e != nil {
		return nil, e
	}
	return decodeGeneration(fields)
}

// decodeGeneration reads the generation fields out of a decoded body; the
// fields it does not know are left in Extra.
func decodeGeneration(fields map[string]json.RawMessage) (*ImageGenerationRequest, *Error) {
	req := &ImageGenerationRequest{}
	for _, s := range generationFields(req) {
		if e := field(fields, s.name, s.dst, s.want); e != nil {
			return nil, e
		}
		delete(fields, s.name)
	}
	if len(fields) > 0 {
		req.Extra = fields
	}
	return req, nil
}

// fieldSpec is one known request field: its name, where it is stored and
// the JSON it takes, in words for errors.
type fieldSpec struct {
	name string
	dst  any
	want string
}

// generationFields lists the fields every image request shares, bound to
// req. JSON and multipart bodies are both decoded from this one list. It
// is an array, not a slice, so that it stays on the caller's stack rather
// than being made on the heap for every request.
func generationFields(req *ImageGenerationRequest) [14]fieldSpec {
	return [...]fieldSpec{
		{"prompt", &req.Prompt, "a string"},
		{"model", &req.Model, "a string"},
		{"n", &req.N, "an integer"},
		{"size", &req.Size, "a string"},
		{"quality", &req.Quality, "a string"},
		{"style", &req.Style, "a string"},
		{"response_format", &req.ResponseFormat, "a string"},
		{"output_format", &req.OutputFormat, "a string"},
		{"output_compression", &req.OutputCompression, "an integer"},
		{"background", &req.Background, "a string"},
		{"moderation", &req.Moderation, "a string"},
		{"user", &req.User, "a string"},
		{"stream", &req.Stream, "a boolean"},
		{"seed", &req.Seed, "an integer"},
	}
}

// syntaxOffset says where a JSON syntax error is (" (at byte 12)"), or
// nothing: the decoder's own message names Go's view of the input.
func syntaxOffset(err error) string {
	if se, ok := errors.AsType[*json.SyntaxError](err); ok {
		return fmt.Sprintf(" (at byte %d)", se.Offset)
	}
	return ""
}

// jsonKind names in words the JSON a Go type decodes from, for an error
// about a field of the wrong type ("a string", "an array").
func jsonKind(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Pointer:
		return jsonKind(t.Elem())
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Struct, reflect.Map:
		return "an object"
	}
	return "another type"
}
