package images

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"unsafe"
)

func TestParseOutput(t *testing.T) {
	tests := []struct {
		name string
		raw  string
		want Output
	}{
		{
			name: "flux-style output",
			raw: `{"images":[{"url":"https://v3.fal.media/files/a.jpg","width":1024,"height":768,"content_type":"image/jpeg"}],
				"timings":{"inference":2.5},"seed":123,"has_nsfw_concepts":[false],"prompt":"a cat"}`,
			want: Output{Images: []Image{{URL: "https://v3.fal.media/files/a.jpg", Width: 1024, Height: 768, ContentType: "image/jpeg"}},
				Seed: seedp(123), Prompt: "a cat"},
		},
		{
			name: "several images, some without a usable URL",
			raw:  `{"images":[{"url":"https://cdn.example/u1","file_name":"one.png"},{"content_type":"image/png"},{"url":"nope"},{"url":"file:///etc/passwd"},{"url":"https://cdn.example/u2"}]}`,
			want: Output{Images: []Image{{URL: "https://cdn.example/u1", FileName: "one.png"}, {URL: "https://cdn.example/u2"}}},
		},
		{
			name: "single image object",
			raw:  `{"image":{"url":"data:image/png;base64,iVBO","width":512.0,"height":512},"revised_prompt":"a cat, detailed"}`,
			want: Output{Images: []Image{{URL: "data:image/png;base64,iVBO", Width: 512, Height: 512}}, RevisedPrompt: "a cat, detailed"},
		},
		{
			name: "bare URL strings",
			raw:  `{"images":["https://cdn.example/u1","https://cdn.example/u2"],"image":"https://cdn.example/u3"}`,
			want: Output{Images: []Image{{URL: "https://cdn.example/u1"}, {URL: "https://cdn.example/u2"}, {URL: "https://cdn.example/u3"}}},
		},
		{
			name: "odd numbers and types are ignored",
			raw:  `{"images":[{"url":"https://cdn.example/u","width":1024.5,"height":-3}],"seed":"42","prompt":{"text":"x"}}`,
			want: Output{Images: []Image{{URL: "https://cdn.example/u"}}, Seed: seedp(42)},
		},
		{
			name: "seed as a float",
			raw:  `{"images":[{"url":"https://cdn.example/u"}],"seed":1e3}`,
			want: Output{Images: []Image{{URL: "https://cdn.example/u"}}, Seed: seedp(1000)},
		},
		{
			name: "seed that is not an integer",
			raw:  `{"images":[{"url":"https://cdn.example/u"}],"seed":1.5}`,
			want: Output{Images: []Image{{URL: "https://cdn.example/u"}}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseOutput([]byte(tt.raw))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(*got, tt.want) {
				t.Errorf("got  %+v\nwant %+v", *got, tt.want)
			}
		})
	}
}

func TestParseOutputErrors(t *testing.T) {
	tests := []struct {
		raw     string
		noImage bool
	}{
		{`{"seed":1}`, true},
		{`{"images":[]}`, true},
		{`{"images":[{"url":""}]}`, true},
		{`{"images":null,"image":null}`, true},
		{`null`, true},
		{`[]`, false},
		{`<html>`, false},
		{`{"images":5}`, false},
		{`{"images":[{"url":5}]}`, false},
	}
	for _, tt := range tests {
		out, err := ParseOutput([]byte(tt.raw))
		if err == nil {
			t.Errorf("%s: no error, got %+v", tt.raw, out)
			continue
		}
		if errors.Is(err, ErrNoImage) != tt.noImage {
			t.Errorf("%s: error %v, ErrNoImage expected %v", tt.raw, err, tt.noImage)
		}
	}
}

func TestRevisedPrompt(t *testing.T) {
	tests := []struct {
		out   *Output
		input string
		want  string
	}{
		{&Output{Prompt: "a cat"}, "a cat", ""},
		{&Output{Prompt: "a cat "}, " a cat", ""},
		{&Output{Prompt: "a fluffy cat on a sofa"}, "a cat", "a fluffy cat on a sofa"},
		{&Output{RevisedPrompt: "a cat, oil painting", Prompt: "a cat"}, "a cat", "a cat, oil painting"},
		{&Output{RevisedPrompt: "a cat", Prompt: "expanded"}, "a cat", "expanded"},
		{&Output{}, "a cat", ""},
		{nil, "a cat", ""},
	}
	for _, tt := range tests {
		if got := RevisedPrompt(tt.out, tt.input); got != tt.want {
			t.Errorf("RevisedPrompt(%+v, %q) = %q, want %q", tt.out, tt.input, got, tt.want)
		}
	}
}

func TestDataURI(t *testing.T) {
	tests := []struct {
		in, mediaType, b64 string
		ok                 bool
	}{
		{"data:image/png;base64,iVBORw0KGgo=", "image/png", "iVBORw0KGgo=", true},
		{"DATA:image/jpeg;BASE64,/9j/4AAQ", "image/jpeg", "/9j/4AAQ", true},
		{"data:image/webp;name=x.webp;base64,UklGR", "image/webp", "UklGR", true},
		{"data:;base64,AAAA", "", "AAAA", true},
		{"data:image/png,raw-bytes", "", "", false},
		{"data:image/png;base64,", "", "", false},
		{"data:image/png;base64", "", "", false},
		{"https://v3.fal.media/files/a.png", "", "", false},
		{"", "", "", false},
		{"data", "", "", false},
	}
	for _, tt := range tests {
		mt, b64, ok := DataURI(tt.in)
		if mt != tt.mediaType || b64 != tt.b64 || ok != tt.ok {
			t.Errorf("DataURI(%q) = %q, %q, %v; want %q, %q, %v", tt.in, mt, b64, ok, tt.mediaType, tt.b64, tt.ok)
		}
	}
}

// TestDataURIDoesNotCopy checks that the payload shares the URI's memory,
// so that multi-megabyte images are not duplicated.
func TestDataURIDoesNotCopy(t *testing.T) {
	u := "data:image/png;base64," + strings.Repeat("A", 1<<20)
	_, b64, ok := DataURI(u)
	if !ok || len(b64) != 1<<20 {
		t.Fatal("not split")
	}
	if unsafe.StringData(b64) != unsafe.StringData(u[len(u)-len(b64):]) {
		t.Error("payload was copied")
	}
}

// TestParseOutputSharesLargeDataURIs: a sync_mode image is not copied out
// of fal's answer, so the proxy holds one copy of it.
func TestParseOutputSharesLargeDataURIs(t *testing.T) {
	payload := strings.Repeat("QUJD", 1<<12)
	raw := []byte(`{"images":[{"url":"data:image/png;base64,` + payload + `","width":8,"height":8}]}`)
	out, err := ParseOutput(raw)
	if err != nil {
		t.Fatal(err)
	}
	u := out.Images[0].URL
	start := uintptr(unsafe.Pointer(&raw[0]))
	at := uintptr(unsafe.Pointer(unsafe.StringData(u)))
	if at < start || at >= start+uintptr(len(raw)) {
		t.Fatal("the data URI was copied out of the answer")
	}
	if _, b64, ok := DataURI(u); !ok || b64 != payload {
		t.Fatal("the shared URL does not hold the payload")
	}
	// A string with escapes is decoded, not shared.
	out, err = ParseOutput([]byte(`{"images":[{"url":"https:\/\/cdn.example\/` + payload + `.png"}]}`))
	if err != nil || !strings.HasPrefix(out.Images[0].URL, "https://cdn.example/") {
		t.Fatalf("escaped url: %v %q", err, out.Images[0].URL[:30])
	}
}
