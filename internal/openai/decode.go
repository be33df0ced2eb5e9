package openai

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
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
		return nil, InvalidRequest("", "invalid_json", "The request body is not valid JSON: %v.", err)
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
	type spec struct {
		name string
		dst  any
		want string
	}
	specs := []spec{
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
	for _, s := range specs {
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
