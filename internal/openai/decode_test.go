package openai

import (
	"encoding/json"
	"net/http"
	"reflect"
	"testing"
)

func TestDecodeImageGeneration(t *testing.T) {
	req, e := DecodeImageGeneration([]byte(`{"prompt":"p","n":2,"size":null,"seed":5,"guidance_scale":3.5,"quality":"hd"}`))
	if e != nil {
		t.Fatal(e)
	}
	if req.Prompt != "p" || *req.N != 2 || req.Size != "" || *req.Seed != 5 || req.Quality != "hd" {
		t.Fatalf("decoded %+v", req)
	}
	if string(req.Extra["guidance_scale"]) != "3.5" || len(req.Extra) != 1 {
		t.Fatalf("extra %v", req.Extra)
	}
	bad := map[string]string{
		`{"prompt":1}`:              "prompt",
		`{"prompt":"p","n":1.5}`:    "n",
		`{"prompt":"p","stream":1}`: "stream",
		`{"prompt":"p"}{}`:          "",
		`[]`:                        "",
		`null`:                      "",
		``:                          "",
	}
	for body, param := range bad {
		_, e := DecodeImageGeneration([]byte(body))
		if e == nil || e.Status != http.StatusBadRequest || e.Param != param {
			t.Errorf("%q: got %v, want a 400 naming %q", body, e, param)
		}
	}
}

func TestDecodeChat(t *testing.T) {
	req, e := DecodeChat([]byte(`{"model":"m","messages":[{"role":"user","content":[{"type":"text","text":"hi"},{"type":"image_url","image_url":"https://x/y.png"}]}],"stream":true,"reasoning_effort":"low"}`))
	if e != nil {
		t.Fatal(e)
	}
	parts := req.Messages[0].Content.Parts
	if !req.Stream || len(parts) != 2 || parts[1].ImageURL.URL != "https://x/y.png" {
		t.Fatalf("decoded %+v", req)
	}
	bad := map[string]string{
		`{"messages":[{"role":"user","content":"x"}]}`: "model",
		`{"model":"m"}`:               "messages",
		`{"model":"m","messages":[]}`: "messages",
		`{"model":"m","messages":[{"role":"user","content":5}]}`: "messages",
		`{"model":"m","messages":"x"}`:                           "messages",
		`{"model":"m","messages":[],"temperature":"hot"}`:        "temperature",
	}
	for body, param := range bad {
		_, e := DecodeChat([]byte(body))
		if e == nil || e.Status != http.StatusBadRequest || e.Param != param {
			t.Errorf("%q: got %v, want a 400 naming %q", body, e, param)
		}
	}
}

func TestErrorBodyShape(t *testing.T) {
	b, err := json.Marshal(ModelNotFound("x"))
	if err != nil {
		t.Fatal(err)
	}
	want := `{"error":{"message":"The model ` + "`x`" + ` does not exist or you do not have access to it.","type":"invalid_request_error","param":"model","code":"model_not_found"}}`
	if string(b) != want {
		t.Fatalf("got %s", b)
	}
	b, _ = json.Marshal(ServerError("boom"))
	if string(b) != `{"error":{"message":"boom","type":"server_error","param":null,"code":null}}` {
		t.Fatalf("nulls: %s", b)
	}
}

// FuzzDecodeRequests checks that no body makes the decoders panic and that
// every refusal is a well-formed 400.
func FuzzDecodeRequests(f *testing.F) {
	for _, s := range []string{
		`{"prompt":"p","n":2,"size":"1024x1024"}`,
		`{"model":"m","messages":[{"role":"user","content":"hi"}]}`,
		`{"model":"m","messages":[{"role":"assistant","content":null,"tool_calls":[{"id":"1","type":"function","function":{"name":"f","arguments":"{}"}}]}]}`,
		`{"prompt":"p"} trailing`, `[1,2]`, `{"n":"x"}`, `{"messages":[{"content":[{"type":"image_url","image_url":{"url":"data:,"}}]}]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		if _, e := DecodeImageGeneration(body); e != nil && (e.Status != http.StatusBadRequest || e.Message == "") {
			t.Fatalf("image decode: %+v", e)
		}
		if _, e := DecodeChat(body); e != nil && (e.Status != http.StatusBadRequest || e.Message == "") {
			t.Fatalf("chat decode: %+v", e)
		}
	})
}

// FuzzDecodeChatOnce holds DecodeChat, which reads a body json.Unmarshal
// took without checking it again, to decoding it as DecodeObject and
// json.Unmarshal do, one after the other: the same request and fields, or
// the same error.
func FuzzDecodeChatOnce(f *testing.F) {
	for _, s := range []string{
		`{"model":"m","messages":[{"role":"user","content":"hi"}],"temperature":0.5,"x":{"y":[1,"<z>"]}}`,
		" { \"model\" : \"m\" ,\n\"messages\" : [ { \"content\" : \"a\\u00e9\" } ] , \"model\" : \"n\" } ",
		`{"model":"m","messages":[{"content":5}]}`, `{"model":"m","messages":[],"n":9}`, `{"model":"m"} {}`,
		`null`, `[1]`, `{"model":"m","messages":[{}],"max_tokens":1e2}`, `{"\u006dodel":"m","messages":[{}]}`, `{"model":"m","messages":[{}]`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		got, gotErr := DecodeChat(body)
		want := &ChatRequest{}
		fields, wantErr := decodeChatFields(body, want)
		if wantErr == nil {
			want.Fields = fields
			wantErr = checkChat(want)
		}
		if wantErr != nil {
			want = nil
		}
		if !reflect.DeepEqual(gotErr, wantErr) || !reflect.DeepEqual(got, want) {
			t.Fatalf("%q:\ngot  %+v %+v\nwant %+v %+v", body, got, gotErr, want, wantErr)
		}
	})
}
