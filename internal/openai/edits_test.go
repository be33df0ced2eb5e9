package openai

import (
	"reflect"
	"strings"
	"testing"
)

func TestDecodeImageEdit(t *testing.T) {
	req, e := DecodeImageEdit([]byte(`{
		"prompt": "p", "model": "m", "n": 2, "size": "1024x1024", "input_fidelity": "high",
		"images": [{"image_url": "https://a/1.png"}, {"image_url": "data:image/png;base64,AA=="}],
		"mask": {"image_url": "https://a/m.png"}
	}`))
	if e != nil {
		t.Fatal(e)
	}
	wantImages := []ImageRef{{ImageURL: "https://a/1.png"}, {ImageURL: "data:image/png;base64,AA=="}}
	if !reflect.DeepEqual(req.Images, wantImages) || req.Mask == nil || req.Mask.ImageURL != "https://a/m.png" {
		t.Fatalf("images %+v mask %+v", req.Images, req.Mask)
	}
	if req.Prompt != "p" || req.Model != "m" || *req.N != 2 || req.Size != "1024x1024" {
		t.Fatalf("generation fields %+v", req.ImageGenerationRequest)
	}
	// images and mask are not model extras; input_fidelity is.
	if len(req.Extra) != 1 || string(req.Extra["input_fidelity"]) != `"high"` {
		t.Fatalf("extra %v", req.Extra)
	}
}

func TestDecodeImageEditErrors(t *testing.T) {
	seventeen := "[" + strings.Repeat(`{"image_url":"https://a/b.png"},`, 16) + `{"image_url":"https://a/b.png"}]`
	tests := []struct {
		name, body, param, code string
	}{
		{"not an object", `[]`, "", "invalid_json"},
		{"no images", `{"prompt":"p"}`, "images", "missing_required_parameter"},
		{"null images", `{"prompt":"p","images":null}`, "images", "missing_required_parameter"},
		{"empty images", `{"prompt":"p","images":[]}`, "images", "missing_required_parameter"},
		{"too many images", `{"prompt":"p","images":` + seventeen + `}`, "images", "invalid_value"},
		{"images not an array", `{"prompt":"p","images":{"image_url":"https://a"}}`, "images", "invalid_type"},
		{"url not a string", `{"prompt":"p","images":[{"image_url":5}]}`, "images", "invalid_type"},
		{"file id", `{"prompt":"p","images":[{"image_url":"https://a"},{"file_id":"file-1"}]}`, "images[1].file_id", "unsupported_parameter"},
		{"empty reference", `{"prompt":"p","images":[{}]}`, "images[0].image_url", "missing_required_parameter"},
		{"mask file id", `{"prompt":"p","images":[{"image_url":"https://a"}],"mask":{"file_id":"f"}}`, "mask.file_id", "unsupported_parameter"},
		{"mask not an object", `{"prompt":"p","images":[{"image_url":"https://a"}],"mask":"https://m"}`, "mask", "invalid_type"},
		{"bad generation field", `{"prompt":"p","images":[{"image_url":"https://a"}],"n":"2"}`, "n", "invalid_type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, e := DecodeImageEdit([]byte(tt.body))
			if e == nil {
				t.Fatal("accepted")
			}
			if e.Status != 400 || e.Param != tt.param || e.Code != tt.code {
				t.Fatalf("got %d param %q code %q (%s), want param %q code %q", e.Status, e.Param, e.Code, e.Message, tt.param, tt.code)
			}
		})
	}
}
