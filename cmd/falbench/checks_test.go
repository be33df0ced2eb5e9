package main

import (
	"encoding/base64"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestExpectError(t *testing.T) {
	body := func(param, code string) []byte {
		return []byte(`{"error":{"message":"m","type":"invalid_request_error","param":` + param + `,"code":` + code + `}}`)
	}
	tests := []struct {
		name string
		a    answer
		want apiError
		ok   bool
	}{
		{"match", answer{status: 400, body: body(`"num_inference_steps"`, `"invalid_value"`)}, apiError{status: 400, param: "num_inference_steps"}, true},
		{"code checked", answer{status: 502, body: body(`null`, `"runner_disconnected"`)}, apiError{status: 502, code: "runner_disconnected"}, true},
		{"wrong status", answer{status: 500, body: body(`null`, `"runner_disconnected"`)}, apiError{status: 502, code: "runner_disconnected"}, false},
		{"wrong param", answer{status: 400, body: body(`"size"`, `null`)}, apiError{status: 400, param: "n"}, false},
		{"not an error body", answer{status: 400, body: []byte(`{"detail":"x"}`)}, apiError{status: 400}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := expectError(tt.a, tt.want); (err == nil) != tt.ok {
				t.Errorf("expectError = %v, want ok %v", err, tt.ok)
			}
		})
	}
}

func TestAnswerChecks(t *testing.T) {
	img := []byte("\x89PNG fake image bytes")
	b64 := base64.StdEncoding.EncodeToString(img)
	tests := []struct {
		name  string
		check func() error
		ok    bool
	}{
		{"image url", func() error {
			return imageAnswer(answer{status: 200, body: []byte(`{"data":[{"url":"http://x/1.png"}]}`)})
		}, true},
		{"image without url", func() error { return imageAnswer(answer{status: 200, body: []byte(`{"data":[{}]}`)}) }, false},
		{"image error status", func() error { return imageAnswer(answer{status: 502, body: []byte(`{}`)}) }, false},
		{"b64 equal", func() error {
			return b64Image(answer{status: 200, body: []byte(`{"data":[{"b64_json":"` + b64 + `"}]}`)}, img)
		}, true},
		{"b64 differs", func() error {
			return b64Image(answer{status: 200, body: []byte(`{"data":[{"b64_json":"` + b64 + `"}]}`)}, append([]byte("x"), img...))
		}, false},
		{"b64 not base64", func() error { return b64Image(answer{status: 200, body: []byte(`{"data":[{"b64_json":"*"}]}`)}, img) }, false},
		{"chat content", func() error {
			return chatAnswer(answer{status: 200, body: []byte(`{"choices":[{"message":{"content":"hi"}}]}`)})
		}, true},
		{"chat empty", func() error { return chatAnswer(answer{status: 200, body: []byte(`{"choices":[]}`)}) }, false},
		{"fal images", func() error { return falImages(falResult{status: 200, body: []byte(`{"images":[{"url":"u"}]}`)}) }, true},
		{"fal 422", func() error { return falImages(falResult{status: http.StatusUnprocessableEntity, body: []byte(`{}`)}) }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.check(); (err == nil) != tt.ok {
				t.Errorf("check = %v, want ok %v", err, tt.ok)
			}
		})
	}
}

func TestMarkdown(t *testing.T) {
	r := &report{
		header: runHeader{goVersion: "go1.26", nproc: 2, cpu: "cpu", command: "go run ./cmd/falbench -quick", quick: true},
		sections: []section{{num: 3, title: "T", rows: []row{
			{what: "a | b", target: "≤ 1 ms", measured: "0.5 ms", verdict: met},
			{what: "c", measured: "x\ny", verdict: missed},
			{what: "d", verdict: info},
		}, notes: []string{"note"}}},
	}
	md := r.markdown()
	for _, want := range []string{
		"`go run ./cmd/falbench -quick`",
		"### 3. T",
		`| a \| b | – | ≤ 1 ms | 0.5 ms | yes |`,
		"| c | – | – | x y | **no** |",
		"| d | – | – | – | – |",
		"- note",
		"mode quick",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q:\n%s", want, md)
		}
	}
}

func TestSeedModel(t *testing.T) {
	tests := []struct {
		gen      float64 // seconds
		added    float64
		requests int
	}{
		{0.7, 1.3, 3},
		{3, 1, 4},
		{2, 0, 3},
		{90, 0, 47},
	}
	for _, tt := range tests {
		gen := secondsDur(tt.gen)
		if got := seedAdded(gen); got != secondsDur(tt.added) {
			t.Errorf("seedAdded(%v) = %v, want %vs", gen, got, tt.added)
		}
		if got := seedRequests(gen); got != tt.requests {
			t.Errorf("seedRequests(%v) = %d, want %d", gen, got, tt.requests)
		}
	}
}

func secondsDur(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }
