package images

import (
	"encoding/json"
	"testing"

	"github.com/falproxy/falproxy/internal/falschema"
	"github.com/falproxy/falproxy/internal/falschema/schematest"
	"github.com/falproxy/falproxy/internal/openai"
)

// capsFor reduces the project's test document for endpoint.
func capsFor(tb testing.TB, endpoint string) *falschema.Capabilities {
	tb.Helper()
	c := schematest.Get(endpoint)
	caps, err := falschema.Reduce(c.Doc, c.Endpoint)
	if err != nil {
		tb.Fatal(err)
	}
	return caps
}

func intp(n int) *int      { return &n }
func seedp(n int64) *int64 { return &n }
func num(s string) any     { return json.Number(s) }
func extras(kv map[string]string) map[string]json.RawMessage {
	out := make(map[string]json.RawMessage, len(kv))
	for k, v := range kv {
		out[k] = json.RawMessage(v)
	}
	return out
}

// checkError asserts a 400 invalid_request_error about param that the SDKs
// must not retry.
func checkError(t *testing.T, e *openai.Error, param, code string) {
	t.Helper()
	switch {
	case e == nil:
		t.Fatalf("no error; want 400 on %q", param)
	case e.Status != 400 || e.Type != openai.TypeInvalidRequest || !e.NoRetry:
		t.Errorf("error %+v: want status 400, invalid_request_error, NoRetry", e)
	case e.Param != param || code != "" && e.Code != code:
		t.Errorf("error on param %q code %q, want %q %q (%s)", e.Param, e.Code, param, code, e.Message)
	}
}
