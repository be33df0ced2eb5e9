package openai

import (
	"bytes"
	"mime/multipart"
	"net/http"
	"reflect"
	"testing"
)

const tinyPNG = "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00"

// form encodes (name, filename, data) triples as a multipart body;
// filename "" makes a text field.
func form(t *testing.T, parts ...[3]string) *multipart.Reader {
	t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	for _, p := range parts {
		if p[1] == "" {
			if err := w.WriteField(p[0], p[2]); err != nil {
				t.Fatal(err)
			}
			continue
		}
		fw, err := w.CreateFormFile(p[0], p[1])
		if err != nil {
			t.Fatal(err)
		}
		_, _ = fw.Write([]byte(p[2]))
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return multipart.NewReader(&buf, w.Boundary())
}

// TestEditFormMatchesJSON checks that a multipart edit and a JSON one
// carrying the same fields decode into the same request, the files as
// sniffed, named Files.
func TestEditFormMatchesJSON(t *testing.T) {
	fromJSON, e := DecodeImageEdit([]byte(`{"prompt":"p","model":"m","n":2,"seed":-9,"stream":false,
		"size":"1024x1024","output_compression":50,"images":[{"image_url":"https://a/1.png"}]}`))
	if e != nil {
		t.Fatal(e)
	}
	fromForm, e := DecodeImageEditForm(form(t,
		[3]string{"image[]", "a.bin", tinyPNG}, [3]string{"prompt", "", "p"}, [3]string{"model", "", "m"},
		[3]string{"n", "", " 2"}, [3]string{"seed", "", "-9"}, [3]string{"stream", "", "false"},
		[3]string{"size", "", "1024x1024"}, [3]string{"output_compression", "", "50"},
		[3]string{"mask", "m.bin", tinyPNG}, [3]string{"guidance_scale", "", "3.5"},
	), FormLimits{MaxBodyBytes: 1 << 20, MaxFileBytes: 1 << 10})
	if e != nil {
		t.Fatal(e)
	}
	if !reflect.DeepEqual(fromForm.ImageGenerationRequest, fromJSON.ImageGenerationRequest) {
		t.Errorf("form %+v\njson %+v", fromForm.ImageGenerationRequest, fromJSON.ImageGenerationRequest)
	}
	want := File{Name: "image-1.png", ContentType: "image/png", Data: []byte(tinyPNG)}
	if len(fromForm.Images) != 1 || fromForm.Images[0].File == nil || !reflect.DeepEqual(*fromForm.Images[0].File, want) {
		t.Errorf("images %+v", fromForm.Images)
	}
	if m := fromForm.Mask; m == nil || m.File == nil || m.File.Name != "mask.png" {
		t.Errorf("mask %+v", m)
	}
	if !reflect.DeepEqual(fromForm.Text, map[string]string{"guidance_scale": "3.5"}) {
		t.Errorf("text %v", fromForm.Text)
	}
}

func TestEditFormFileCap(t *testing.T) {
	_, e := DecodeImageEditForm(form(t, [3]string{"image", "a.png", tinyPNG}), FormLimits{MaxBodyBytes: 1 << 20, MaxFileBytes: 8})
	if e == nil || e.Status != http.StatusRequestEntityTooLarge || e.Param != "image" || e.Code != "file_too_large" {
		t.Fatalf("error %+v", e)
	}
}
