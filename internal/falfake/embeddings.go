package falfake

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"math"
	"net/http"
	"strings"

	"github.com/falproxy/falproxy/internal/openai"
)

// embeddingsEndpoint is fal's OpenAI-compatible embeddings route of
// openrouter/router.
const embeddingsEndpoint = "openrouter/router/openai/v1/embeddings"

// defaultDimensions is the length of the emulator's vectors when a request
// names no dimensions: short, so that tests read them easily.
const defaultDimensions = 8

// embeddings answers the OpenAI-compatible embeddings route: one vector
// per input, derived from the input's text (the same input always gets the
// same vector), of the requested dimensions, as floats or, with
// encoding_format base64, as little-endian float32 base64. usage counts
// the words of the inputs. Options.EmbeddingsFloatsNoUsage answers floats
// and no usage instead.
func (f *Fake) embeddings(w http.ResponseWriter, c *call) {
	if !f.authorize(w, c) {
		return
	}
	var req struct {
		Model          string          `json:"model"`
		Input          json.RawMessage `json:"input"`
		EncodingFormat string          `json:"encoding_format"`
		Dimensions     int             `json:"dimensions"`
	}
	if json.Unmarshal(c.body, &req) != nil || req.Model == "" || len(req.Input) == 0 {
		writeJSON(w, http.StatusBadRequest, &openai.Error{Message: "model and input are required", Type: openai.TypeInvalidRequest})
		return
	}
	inputs := embeddingInputs(req.Input)
	dims := req.Dimensions
	if dims <= 0 {
		dims = defaultDimensions
	}
	data := make([]map[string]any, len(inputs))
	words := 0
	for i, in := range inputs {
		words += len(strings.Fields(in))
		vec := vectorOf(in, dims)
		var embedding any = vec
		if req.EncodingFormat == "base64" && !f.opts.EmbeddingsFloatsNoUsage {
			b := make([]byte, 0, 4*len(vec))
			for _, v := range vec {
				b = binary.LittleEndian.AppendUint32(b, math.Float32bits(v))
			}
			embedding = base64.StdEncoding.EncodeToString(b)
		}
		data[i] = map[string]any{"object": "embedding", "index": i, "embedding": embedding}
	}
	cost := f.billTokens(c.key, openAIApp, req.Model, words)
	answer := map[string]any{"object": "list", "data": data, "model": req.Model}
	if !f.opts.EmbeddingsFloatsNoUsage {
		answer["usage"] = map[string]any{"prompt_tokens": words, "total_tokens": words, "cost": cost}
	}
	writeJSON(w, http.StatusOK, answer)
}

// embeddingInputs is each input as text: a string, the strings of an
// array, or token arrays written out as their JSON.
func embeddingInputs(raw json.RawMessage) []string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return []string{s}
	}
	var strs []string
	if json.Unmarshal(raw, &strs) == nil {
		return strs
	}
	var tokens []json.RawMessage
	if json.Unmarshal(raw, &tokens) == nil && len(tokens) > 0 && tokens[0][0] == '[' {
		out := make([]string, len(tokens))
		for i, t := range tokens {
			out[i] = string(t)
		}
		return out
	}
	return []string{string(raw)}
}

// vectorOf derives a unit-free vector in [-1, 1) from text's SHA-256.
func vectorOf(text string, dims int) []float32 {
	vec := make([]float32, dims)
	seed := sha256.Sum256([]byte(text))
	for i := range vec {
		if i%16 == 0 && i > 0 {
			seed = sha256.Sum256(seed[:])
		}
		v := binary.LittleEndian.Uint16(seed[2*(i%16):])
		vec[i] = float32(v)/32768 - 1
	}
	return vec
}
