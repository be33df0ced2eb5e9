package server_test

import (
	"context"
	"encoding/json"
	"net/http"
	"reflect"
	"testing"

	oai "github.com/openai/openai-go/v3"

	"github.com/falproxy/falproxy/internal/falfake"
	"github.com/falproxy/falproxy/internal/registry"
)

// withEmbeddings offers one embedding alias.
func withEmbeddings(s *setup) {
	s.server.EmbeddingModels = []registry.EmbeddingModel{{Alias: "text-embedding-3-small", Model: "openai/text-embedding-3-small"}}
}

// TestEmbeddingsFloatAndBase64 asks for the same embeddings through
// openai-go as floats and as base64: both give the same vectors of the
// requested dimensions with fal's usage, and fal received the fal model id
// with the client's fields and nothing else.
func TestEmbeddingsFloatAndBase64(t *testing.T) {
	h := newHarness(t, withEmbeddings)
	ctx := context.Background()
	var vectors [][][]float32 // float32: the precision of both encodings
	for _, format := range []oai.EmbeddingNewParamsEncodingFormat{oai.EmbeddingNewParamsEncodingFormatFloat, oai.EmbeddingNewParamsEncodingFormatBase64} {
		h.fake.Reset()
		res, err := h.sdk.Embeddings.New(ctx, oai.EmbeddingNewParams{
			Model:          "text-embedding-3-small",
			Input:          oai.EmbeddingNewParamsInputUnion{OfArrayOfStrings: []string{"the first text", "a second"}},
			Dimensions:     oai.Int(6),
			EncodingFormat: format,
		})
		if err != nil {
			t.Fatal(err)
		}
		if res.Model != "text-embedding-3-small" || len(res.Data) != 2 || res.Usage.PromptTokens != 5 {
			t.Fatalf("%s: answer %s", format, res.RawJSON())
		}
		var vs [][]float32
		for _, d := range res.Data {
			if len(d.Embedding) != 6 {
				t.Fatalf("%s: vector of %d dimensions", format, len(d.Embedding))
			}
			v := make([]float32, len(d.Embedding))
			for i, x := range d.Embedding {
				v[i] = float32(x)
			}
			vs = append(vs, v)
		}
		vectors = append(vectors, vs)
		got := decodeJSON(t, h.onlyFalCall(falfake.OpEmbed).Body)
		want := decodeJSON(t, []byte(`{"model":"openai/text-embedding-3-small","input":["the first text","a second"],"dimensions":6,"encoding_format":"`+string(format)+`"}`))
		if !reflect.DeepEqual(got, want) {
			t.Errorf("fal received %v\nwant %v", got, want)
		}
	}
	if !reflect.DeepEqual(vectors[0], vectors[1]) {
		t.Errorf("float and base64 vectors differ:\n%v\n%v", vectors[0], vectors[1])
	}
}

// TestEmbeddingsRefusals checks requests refused before fal: an unknown
// model (404), a chat alias on the embeddings route, an empty input.
func TestEmbeddingsRefusals(t *testing.T) {
	h := newHarness(t, withEmbeddings)
	for _, tt := range []struct {
		body   string
		status int
		param  string
	}{
		{`{"model":"nope","input":"x"}`, http.StatusNotFound, "model"},
		{`{"model":"gpt-4o","input":"x"}`, http.StatusNotFound, "model"},
		{`{"model":"text-embedding-3-small","input":""}`, http.StatusBadRequest, "input"},
	} {
		code, _, body := h.post(context.Background(), "/v1/embeddings", tt.body)
		if e := decodeError(t, body); code != tt.status || deref(e.Param) != tt.param {
			t.Errorf("%s: %d %+v", tt.body, code, e)
		}
	}
	if n := len(h.fake.Received()); n != 0 {
		t.Errorf("fal received %d calls", n)
	}
}

// TestEmbeddingsListed lists embedding aliases in /v1/models with their
// kind.
func TestEmbeddingsListed(t *testing.T) {
	h := newHarness(t, withEmbeddings)
	req, _ := http.NewRequest(http.MethodGet, h.url+"/v1/models/text-embedding-3-small", nil)
	req.Header.Set("Authorization", "Bearer "+accessKey)
	code, _, body := h.do(req)
	m := decodeJSON(t, body)
	if fal, _ := m["fal"].(map[string]any); code != http.StatusOK || fal["kind"] != "embedding" || fal["model"] != "openai/text-embedding-3-small" {
		t.Errorf("%d %s", code, body)
	}
	list, err := h.sdk.Models.List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	last := list.Data[len(list.Data)-1]
	if last.ID != "text-embedding-3-small" || last.JSON.ExtraFields["fal"].Raw() != `{"kind":"embedding"}` {
		t.Errorf("last listed model %s %s", last.ID, last.RawJSON())
	}
}

// TestEmbeddingsConvertedAndEstimated puts falproxy in front of a provider
// that answers floats to a base64 request and reports no usage: openai-go,
// which asks for base64, still reads the vectors (falproxy encodes them as
// base64 float32), and usage is estimated: a quarter of the characters of
// text inputs, rounded up, and the exact count of token-id inputs.
func TestEmbeddingsConvertedAndEstimated(t *testing.T) {
	h := newHarness(t, withEmbeddings, func(s *setup) { s.fake.EmbeddingsFloatsNoUsage = true })
	ctx := context.Background()
	res, err := h.sdk.Embeddings.New(ctx, oai.EmbeddingNewParams{
		Model:          "text-embedding-3-small",
		Input:          oai.EmbeddingNewParamsInputUnion{OfArrayOfStrings: []string{"the first text", "a second"}},
		EncodingFormat: oai.EmbeddingNewParamsEncodingFormatBase64,
	})
	if err != nil {
		t.Fatal(err)
	}
	var answer struct {
		Data []struct {
			Embedding any `json:"embedding"`
		} `json:"data"`
	}
	if err := json.Unmarshal([]byte(res.RawJSON()), &answer); err != nil || len(answer.Data) != 2 {
		t.Fatalf("answer %s", res.RawJSON())
	}
	if _, isBase64 := answer.Data[0].Embedding.(string); !isBase64 || len(res.Data[0].Embedding) != 8 {
		t.Errorf("the client asked for base64 and got %s", res.RawJSON())
	}
	if in := decodeJSON(t, h.onlyFalCall(falfake.OpEmbed).Body); in["encoding_format"] != "base64" {
		t.Errorf("fal received %v", in)
	}
	// "the first text" and "a second": 22 characters, 6 tokens.
	if res.Usage.PromptTokens != 6 || res.Usage.TotalTokens != 6 {
		t.Errorf("usage %+v, want the estimate of 6", res.Usage)
	}

	h.fake.Reset()
	res, err = h.sdk.Embeddings.New(ctx, oai.EmbeddingNewParams{
		Model: "text-embedding-3-small",
		Input: oai.EmbeddingNewParamsInputUnion{OfArrayOfTokenArrays: [][]int64{{1, 2, 3}, {4, 5}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Usage.PromptTokens != 5 || res.Usage.TotalTokens != 5 || len(res.Data) != 2 {
		t.Errorf("token inputs: %s, want usage 5", res.RawJSON())
	}
	if in := decodeJSON(t, h.onlyFalCall(falfake.OpEmbed).Body); in["input"] == nil {
		t.Errorf("fal received %v", in)
	}
}
