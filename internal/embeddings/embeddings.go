// Package embeddings is the pure translation of OpenAI's POST
// /v1/embeddings onto fal's OpenAI-compatible embeddings route: the
// request's checks and allow-listed fields, and the answer rewritten for
// the client (its model name, the encoding it asked for, usage).
package embeddings

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"math"
	"slices"
	"unicode/utf8"

	"github.com/falproxy/falproxy/internal/chat"
	"github.com/falproxy/falproxy/internal/openai"
)

// maxInputs bounds the inputs of one request, as OpenAI does.
const maxInputs = 2048

// forwarded are the fields sent on to fal; any other (provider routing,
// fallback model lists) is dropped, so no model outside EMBEDDING_MODELS
// can be reached.
var forwarded = []string{"model", "input", "encoding_format", "dimensions", "user"}

// Request is the part of an embeddings request falproxy checks.
type Request struct {
	Model          string
	EncodingFormat string // "float" or "base64"; "" is float
	// Fields are the body's top-level fields as sent.
	Fields map[string]json.RawMessage
	// InputChars counts the characters of text inputs and InputTokens
	// the token ids of token inputs, for the usage reported when fal
	// reports none: token ids are counted exactly, text is estimated.
	InputChars, InputTokens int
}

// Decode parses and checks an embeddings request: model, an input that is a
// non-empty string, array of strings, array of token ids or array of such
// arrays, encoding_format float or base64, and a positive dimensions.
func Decode(body []byte) (*Request, *openai.Error) {
	fields, e := openai.DecodeObject(body)
	if e != nil {
		return nil, e
	}
	req := &Request{Fields: fields}
	if json.Unmarshal(fields["model"], &req.Model) != nil || req.Model == "" {
		return nil, openai.InvalidRequest("model", "missing_required_parameter", "Missing required parameter: 'model' (a string).")
	}
	raw, ok := fields["input"]
	if !ok {
		return nil, openai.InvalidRequest("input", "missing_required_parameter", "Missing required parameter: 'input'.")
	}
	if req.InputChars, req.InputTokens, e = checkInput(raw); e != nil {
		return nil, e
	}
	if f, ok := fields["encoding_format"]; ok && string(f) != "null" {
		if json.Unmarshal(f, &req.EncodingFormat) != nil || req.EncodingFormat != "float" && req.EncodingFormat != "base64" {
			return nil, openai.InvalidRequest("encoding_format", "invalid_value", "'encoding_format' must be float or base64.")
		}
	}
	if d, ok := fields["dimensions"]; ok && string(d) != "null" {
		var n int
		if json.Unmarshal(d, &n) != nil || n < 1 {
			return nil, openai.InvalidRequest("dimensions", "invalid_value", "'dimensions' must be a positive integer.")
		}
	}
	return req, nil
}

// checkInput accepts the four forms of input and returns the characters of
// its text and the number of its token ids.
func checkInput(raw json.RawMessage) (chars, tokenCount int, e *openai.Error) {
	bad := openai.InvalidRequest("input", "invalid_value",
		"'input' must be a non-empty string, an array of up to %d non-empty strings, an array of token ids or an array of such arrays.", maxInputs)
	var s string
	if json.Unmarshal(raw, &s) == nil {
		if s == "" {
			return 0, 0, bad
		}
		return utf8.RuneCountInString(s), 0, nil
	}
	var list []json.RawMessage
	if json.Unmarshal(raw, &list) != nil || len(list) == 0 || len(list) > maxInputs {
		return 0, 0, bad
	}
	var tokens []int
	if json.Unmarshal(raw, &tokens) == nil {
		return 0, len(tokens), nil
	}
	for _, item := range list {
		if json.Unmarshal(item, &s) == nil && s != "" {
			chars += utf8.RuneCountInString(s)
			continue
		}
		if json.Unmarshal(item, &tokens) != nil || len(tokens) == 0 {
			return 0, 0, bad
		}
		tokenCount += len(tokens)
	}
	return chars, tokenCount, nil
}

// Body is the body sent to fal: the forwarded fields with the fal model
// id. dropped lists the fields left out, sorted, for the log.
func Body(req *Request, falModel string) (body []byte, dropped []string, err error) {
	out, dropped := chat.SplitFields(req.Fields, func(name string) bool { return slices.Contains(forwarded, name) })
	if out["model"], err = json.Marshal(falModel); err != nil {
		return nil, nil, err
	}
	body, err = json.Marshal(out)
	return body, dropped, err
}

// answer is fal's answer as far as it is rewritten.
type answer struct {
	Object string            `json:"object"`
	Data   []json.RawMessage `json:"data"`
	Model  string            `json:"model"`
	Usage  *usage            `json:"usage"`
}

type usage struct {
	PromptTokens int `json:"prompt_tokens"`
	TotalTokens  int `json:"total_tokens"`
}

// Answer rewrites fal's answer for the client: model is the alias req
// named, each embedding comes in the encoding asked for (fal's base64 as it is;
// floats asked for as base64 become little-endian float32 base64, as
// OpenAI sends them, and base64 asked for as floats is decoded), and usage
// is fal's or, when it reports none, the token ids of token inputs plus
// chat's estimate for the text (a quarter of its characters).
func Answer(body []byte, req *Request) ([]byte, error) {
	var a answer
	if err := json.Unmarshal(body, &a); err != nil {
		return nil, err
	}
	a.Object, a.Model = "list", req.Model
	for i, raw := range a.Data {
		var d map[string]json.RawMessage
		if err := json.Unmarshal(raw, &d); err != nil {
			return nil, err
		}
		v, err := encode(d["embedding"], req.EncodingFormat == "base64")
		if err != nil {
			return nil, err
		}
		d["embedding"] = v
		if a.Data[i], err = json.Marshal(d); err != nil {
			return nil, err
		}
	}
	if a.Data == nil {
		a.Data = []json.RawMessage{}
	}
	if a.Usage == nil || a.Usage.TotalTokens == 0 {
		n := req.InputTokens + chat.EstimateUsage(req.InputChars, 0).PromptTokens
		a.Usage = &usage{PromptTokens: n, TotalTokens: n}
	}
	return json.Marshal(a)
}

// encode returns an embedding as base64 or as floats, converting fal's
// form where it differs.
func encode(raw json.RawMessage, asBase64 bool) (json.RawMessage, error) {
	isString := len(bytes.TrimSpace(raw)) > 0 && bytes.TrimSpace(raw)[0] == '"'
	switch {
	case asBase64 && !isString:
		var floats []float64
		if err := json.Unmarshal(raw, &floats); err != nil {
			return nil, err
		}
		b := make([]byte, 0, 4*len(floats))
		for _, f := range floats {
			b = binary.LittleEndian.AppendUint32(b, math.Float32bits(float32(f)))
		}
		return json.Marshal(base64.StdEncoding.EncodeToString(b))
	case !asBase64 && isString:
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, err
		}
		b, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			return nil, err
		}
		floats := make([]float32, len(b)/4)
		for i := range floats {
			floats[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
		}
		return json.Marshal(floats)
	}
	return raw, nil
}
