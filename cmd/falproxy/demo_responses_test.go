package main

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestDemoResponsesAndEmbeddings sends the banner's Responses and
// embeddings requests to the demo: both are served from the emulator, and
// the banner exports EMBEDDING_MODELS.
func TestDemoResponsesAndEmbeddings(t *testing.T) {
	r, vars := startDemo(t, map[string]string{})
	if vars["EMBEDDING_MODELS"] != demoEmbeddingModels {
		t.Errorf("the banner exports EMBEDDING_MODELS=%q", vars["EMBEDDING_MODELS"])
	}
	for _, tt := range []struct{ path, body, want string }{
		{"/v1/responses", `{"model":"openai/gpt-4o","input":"Hello"}`, `"object":"response"`},
		{"/v1/embeddings", `{"model":"text-embedding-3-small","input":"Hello"}`, `"object":"embedding"`},
	} {
		if !strings.Contains(r.stdout.String(), tt.path) {
			t.Errorf("the banner does not show %s", tt.path)
		}
		req, _ := http.NewRequest(http.MethodPost, r.base+tt.path, strings.NewReader(tt.body))
		req.Header.Set("Authorization", "Bearer "+vars["KEY"])
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !json.Valid(b) || !strings.Contains(string(b), tt.want) {
			t.Errorf("%s: %d %s", tt.path, resp.StatusCode, b)
		}
	}
}
