package embeddings

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"math"
	"testing"
)

func TestDecodeRefusals(t *testing.T) {
	for _, tt := range []struct{ body, param string }{
		{`{"input":"x"}`, "model"},
		{`{"model":"m"}`, "input"},
		{`{"model":"m","input":""}`, "input"},
		{`{"model":"m","input":[]}`, "input"},
		{`{"model":"m","input":["a",""]}`, "input"},
		{`{"model":"m","input":[["x"]]}`, "input"},
		{`{"model":"m","input":{"a":1}}`, "input"},
		{`{"model":"m","input":"x","encoding_format":"int8"}`, "encoding_format"},
		{`{"model":"m","input":"x","dimensions":0}`, "dimensions"},
	} {
		if _, e := Decode([]byte(tt.body)); e == nil || e.Status != 400 || e.Param != tt.param {
			t.Errorf("%s: got %v, want a 400 naming %s", tt.body, e, tt.param)
		}
	}
	for _, body := range []string{`{"model":"m","input":"héllo"}`, `{"model":"m","input":["a","b"]}`, `{"model":"m","input":[1,2,3]}`,
		`{"model":"m","input":[[1,2],[3]],"encoding_format":"base64","dimensions":8}`} {
		if _, e := Decode([]byte(body)); e != nil {
			t.Errorf("%s: %v", body, e)
		}
	}
}

// TestBody forwards the OpenAI fields with the fal model id and drops the
// rest.
func TestBody(t *testing.T) {
	req, e := Decode([]byte(`{"model":"small","input":["a"],"encoding_format":"float","dimensions":4,"user":"u","provider":{"order":["x"]},"models":["other"]}`))
	if e != nil {
		t.Fatal(e)
	}
	b, d, err := Body(req, "openai/text-embedding-3-small")
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"dimensions":4,"encoding_format":"float","input":["a"],"model":"openai/text-embedding-3-small","user":"u"}`; string(b) != want {
		t.Errorf("body %s\nwant %s", b, want)
	}
	if len(d) != 2 || d[0] != "models" || d[1] != "provider" {
		t.Errorf("dropped %v", d)
	}
}

// TestAnswerEncodings converts fal's floats to base64 when asked, decodes
// fal's base64 when floats were asked, and estimates missing usage.
func TestAnswerEncodings(t *testing.T) {
	floats := `{"object":"list","model":"openai/x","data":[{"object":"embedding","index":0,"embedding":[0.5,-1.25]}],"usage":{"prompt_tokens":2,"total_tokens":2}}`
	req, _ := Decode([]byte(`{"model":"small","input":"abcdefgh","encoding_format":"base64"}`))
	out, err := Answer([]byte(floats), req)
	if err != nil {
		t.Fatal(err)
	}
	var a struct {
		Model string
		Data  []struct{ Embedding string }
		Usage usage
	}
	if err := json.Unmarshal(out, &a); err != nil {
		t.Fatal(err)
	}
	raw, _ := base64.StdEncoding.DecodeString(a.Data[0].Embedding)
	if a.Model != "small" || len(raw) != 8 || math.Float32frombits(binary.LittleEndian.Uint32(raw[4:])) != -1.25 || a.Usage.TotalTokens != 2 {
		t.Errorf("answer %s", out)
	}

	b64 := `{"data":[{"object":"embedding","index":0,"embedding":"` + a.Data[0].Embedding + `"}]}`
	req, _ = Decode([]byte(`{"model":"small","input":"abcdefgh"}`))
	out, err = Answer([]byte(b64), req)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"object":"list","data":[{"embedding":[0.5,-1.25],"index":0,"object":"embedding"}],"model":"small","usage":{"prompt_tokens":2,"total_tokens":2}}`; string(out) != want {
		t.Errorf("answer %s\nwant %s", out, want)
	}
	if _, err := Answer([]byte(`{"data":[{"embedding":"@@"}]}`), req); err == nil {
		t.Error("broken base64 was read")
	}
}
