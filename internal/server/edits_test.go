package server_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io"
	"math/rand/v2"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"

	oai "github.com/openai/openai-go/v3"

	"github.com/falproxy/falproxy/internal/falfake"
	"github.com/falproxy/falproxy/internal/registry"
	"github.com/falproxy/falproxy/internal/server"
)

// editModels are the emulator's edit endpoints under the aliases these
// tests use; "kontext" is already in the harness.
var editModels = []registry.ImageModel{
	{Alias: "seedream-edit", Endpoint: "fal-ai/bytedance/seedream/v4/edit"},
	{Alias: "fill", Endpoint: "fal-ai/flux-pro/v1/fill"},
	{Alias: "gpt-image-edit", Endpoint: "fal-ai/gpt-image-1/edit-image"},
}

// newEditHarness is the harness with the edit models added and opts
// applied to the server options.
func newEditHarness(t *testing.T, opts func(*server.Options)) *harness {
	return newHarness(t, func(s *setup) {
		s.server.ImageModels = append(s.server.ImageModels, editModels...)
		if opts != nil {
			opts(&s.server)
		}
	})
}

// testImage draws a w×h picture. Noise makes it incompressible, so its
// encoded size is about 4·w·h bytes whatever the encoder.
func testImage(w, h int, noise bool) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	rng := rand.New(rand.NewPCG(uint64(w), uint64(h)))
	for y := range h {
		for x := range w {
			c := color.NRGBA{uint8(x * 255 / w), uint8(y * 255 / h), 128, 255}
			if noise {
				c = color.NRGBA{uint8(rng.Uint32()), uint8(rng.Uint32()), uint8(rng.Uint32()), uint8(rng.Uint32())}
			}
			img.SetNRGBA(x, y, c)
		}
	}
	return img
}

func pngFile(t *testing.T, w, h int, noise bool) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, testImage(w, h, noise)); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func jpegFile(t *testing.T, w, h int) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, testImage(w, h, false), nil); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func gifFile(t *testing.T, w, h int) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := gif.Encode(&buf, testImage(w, h, false), nil); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func dataURI(mime string, b []byte) string {
	return "data:" + mime + ";base64," + base64.StdEncoding.EncodeToString(b)
}

// onlyInput returns the input of the one fal job the request should have
// made, failing if there was not exactly one.
func (h *harness) onlyInput() map[string]any {
	h.t.Helper()
	in := h.falInputs()
	if len(in) != 1 {
		h.t.Fatalf("fal received %d jobs, want 1", len(in))
	}
	return in[0]
}

// fetch downloads a URL the proxy answered with.
func (h *harness) fetch(u string) []byte {
	h.t.Helper()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		h.t.Fatal(err)
	}
	code, _, b := h.do(req)
	if code != http.StatusOK {
		h.t.Fatalf("GET %s: %d", u, code)
	}
	return b
}

func TestSDKEditsOneImageOnKontext(t *testing.T) {
	h := newEditHarness(t, nil)
	photo := pngFile(t, 64, 48, false)
	res, err := h.sdk.Images.Edit(context.Background(), oai.ImageEditParams{
		Model:  "kontext",
		Prompt: "paint the sky green",
		Image:  oai.ImageEditParamsImageUnion{OfFile: bytes.NewReader(photo)},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Data) != 1 || res.Data[0].URL == "" || res.Data[0].B64JSON != "" {
		t.Fatalf("response %s", res.RawJSON())
	}
	if cfg := decodeImage(t, h.fetch(res.Data[0].URL)); cfg.Width != 64 || cfg.Height != 48 {
		t.Errorf("edited image is %dx%d, want the input's 64x48", cfg.Width, cfg.Height)
	}

	in := h.onlyInput()
	if in["image_url"] != dataURI("image/png", photo) || in["prompt"] != "paint the sky green" {
		t.Errorf("fal input %.200v", in)
	}
	// OpenAI's edit default size is 1024x1024, but fal edit models follow
	// the input: no size is sent unless the client asks for one.
	for _, f := range []string{"aspect_ratio", "image_size", "image_urls"} {
		if _, ok := in[f]; ok {
			t.Errorf("fal input has %s: %v", f, in[f])
		}
	}
	if j := h.fake.Jobs()[0]; j.Endpoint != "fal-ai/flux-pro/kontext" {
		t.Errorf("job ran on %s", j.Endpoint)
	}
	if c := h.fake.Counts(); c.Uploads != 0 || c.UploadPuts != 0 {
		t.Errorf("a small image was uploaded: %+v", c)
	}
}

func TestSDKEditsSeveralImagesOnSeedream(t *testing.T) {
	h := newEditHarness(t, nil)
	files := [][]byte{pngFile(t, 40, 30, false), jpegFile(t, 32, 32), gifFile(t, 20, 10)}
	params := oai.ImageEditParams{
		Model:  "seedream-edit",
		Prompt: "put the three together",
		Image: oai.ImageEditParamsImageUnion{OfFileArray: []io.Reader{
			bytes.NewReader(files[0]), bytes.NewReader(files[1]), bytes.NewReader(files[2]),
		}},
		N: oai.Int(2),
	}
	// Model-specific fields travel as multipart text (the SDK writes string
	// extras only) and are typed from the model's schema: max_images is an
	// integer there.
	params.SetExtraFields(map[string]any{"max_images": "2", "not_a_seedream_field": "x"})
	res, err := h.sdk.Images.Edit(context.Background(), params)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Data) != 2 {
		t.Fatalf("got %d images: %s", len(res.Data), res.RawJSON())
	}

	in := h.onlyInput()
	want := []any{dataURI("image/png", files[0]), dataURI("image/jpeg", files[1]), dataURI("image/gif", files[2])}
	got, _ := in["image_urls"].([]any)
	if len(got) != len(want) {
		t.Fatalf("image_urls has %d entries, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("image_urls[%d] = %.60v..., want %.60v...", i, got[i], want[i])
		}
	}
	if in["num_images"] != 2.0 || in["max_images"] != 2.0 {
		t.Errorf("num_images %v max_images %#v", in["num_images"], in["max_images"])
	}
	if _, ok := in["image_size"]; ok {
		t.Errorf("image_size sent without a size: %v", in["image_size"])
	}
	if _, ok := in["not_a_seedream_field"]; ok {
		t.Error("a field the model does not declare reached fal")
	}
}

func TestSDKEditsWithMask(t *testing.T) {
	photo, mask := pngFile(t, 48, 48, false), pngFile(t, 48, 48, true)
	tests := []struct {
		name   string
		params oai.ImageEditParams
		extra  map[string]any
		field  string // the model's image field
		want   map[string]any
	}{
		{
			name:   "flux fill",
			params: oai.ImageEditParams{Model: "fill", OutputFormat: oai.ImageEditParamsOutputFormatPNG},
			extra:  map[string]any{"enhance_prompt": "true", "safety_tolerance": "5"},
			field:  "image_url",
			// enhance_prompt is a boolean, safety_tolerance a string enum.
			want: map[string]any{"enhance_prompt": true, "safety_tolerance": "5", "output_format": "png"},
		},
		{
			name: "gpt-image edit",
			params: oai.ImageEditParams{Model: "gpt-image-edit", Size: oai.ImageEditParamsSize1024x1024,
				Quality: oai.ImageEditParamsQualityHigh, Background: oai.ImageEditParamsBackgroundOpaque,
				InputFidelity: oai.ImageEditParamsInputFidelityHigh},
			field: "image_urls",
			want:  map[string]any{"image_size": "1024x1024", "quality": "high", "background": "opaque"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newEditHarness(t, nil)
			p := tt.params
			p.Prompt = "replace the masked part with a window"
			p.Image = oai.ImageEditParamsImageUnion{OfFile: bytes.NewReader(photo)}
			p.Mask = bytes.NewReader(mask)
			p.ResponseFormat = oai.ImageEditParamsResponseFormatB64JSON
			if tt.extra != nil {
				p.SetExtraFields(tt.extra)
			}
			res, err := h.sdk.Images.Edit(context.Background(), p)
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Data) != 1 || res.Data[0].URL != "" {
				t.Fatalf("response %.300s", res.RawJSON())
			}
			raw, err := base64.StdEncoding.DecodeString(res.Data[0].B64JSON)
			if err != nil {
				t.Fatal(err)
			}
			decodeImage(t, raw)

			in := h.onlyInput()
			img := in[tt.field]
			if list, ok := img.([]any); ok && len(list) == 1 {
				img = list[0]
			}
			if img != dataURI("image/png", photo) || in["mask_url"] != dataURI("image/png", mask) {
				t.Errorf("image %.60v... mask %.60v...", img, in["mask_url"])
			}
			for k, v := range tt.want {
				if in[k] != v {
					t.Errorf("%s = %#v, want %#v", k, in[k], v)
				}
			}
			if _, ok := in["input_fidelity"]; ok {
				t.Error("input_fidelity sent to a model that does not declare it")
			}
		})
	}
}

func TestEditUploadsLargeImageToStorage(t *testing.T) {
	h := newEditHarness(t, func(o *server.Options) { o.InlineLimit = 8 << 10 })
	photo := pngFile(t, 64, 64, true) // about 16 KiB: over the inline limit
	mask := pngFile(t, 64, 64, false) // small: stays inline
	if len(photo) <= 8<<10 || len(mask) > 8<<10 {
		t.Fatalf("test files of %d and %d bytes do not straddle the limit", len(photo), len(mask))
	}
	res, err := h.sdk.Images.Edit(context.Background(), oai.ImageEditParams{
		Model:  "fill",
		Prompt: "a door",
		Image:  oai.ImageEditParamsImageUnion{OfFileArray: []io.Reader{bytes.NewReader(photo)}},
		Mask:   bytes.NewReader(mask),
	})
	if err != nil {
		t.Fatal(err)
	}
	if cfg := decodeImage(t, h.fetch(res.Data[0].URL)); cfg.Width != 64 || cfg.Height != 64 {
		t.Errorf("edited image is %dx%d: fal did not read the uploaded input", cfg.Width, cfg.Height)
	}

	c := h.fake.Counts()
	if c.Uploads != 1 || c.UploadPuts != 1 {
		t.Fatalf("uploads %d, PUTs %d; want one of each", c.Uploads, c.UploadPuts)
	}
	in := h.onlyInput()
	fileURL, _ := in["image_url"].(string)
	if !strings.HasPrefix(fileURL, h.fake.URL()+"/files/") {
		t.Fatalf("image_url %.80q is not the uploaded file", fileURL)
	}
	if !bytes.Equal(h.fetch(fileURL), photo) {
		t.Error("the uploaded file differs from the client's image")
	}
	if in["mask_url"] != dataURI("image/png", mask) {
		t.Errorf("mask_url %.60v", in["mask_url"])
	}
	for _, call := range h.fake.Received() {
		if call.Op != falfake.OpUpload {
			continue
		}
		var body map[string]string
		if err := json.Unmarshal(call.Body, &body); err != nil || body["content_type"] != "image/png" || !strings.HasSuffix(body["file_name"], ".png") {
			t.Errorf("upload initiation body %s", call.Body)
		}
	}
}

// multipartBody builds a form from parts: a part with a file name is a
// file; fields keep their order.
type formPart struct {
	name, file string
	data       []byte
}

func multipartBody(t *testing.T, parts []formPart) (string, []byte) {
	t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	for _, p := range parts {
		var dst io.Writer
		var err error
		if p.file != "" {
			dst, err = w.CreateFormFile(p.name, p.file)
		} else {
			dst, err = w.CreateFormField(p.name)
		}
		if err != nil {
			t.Fatal(err)
		}
		if _, err := dst.Write(p.data); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return w.FormDataContentType(), buf.Bytes()
}

// postEdit sends a raw edit request.
func (h *harness) postEdit(contentType string, body []byte) (int, []byte) {
	h.t.Helper()
	req, err := http.NewRequest(http.MethodPost, h.url+"/v1/images/edits", bytes.NewReader(body))
	if err != nil {
		h.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+accessKey)
	req.Header.Set("Content-Type", contentType)
	code, _, b := h.do(req)
	return code, b
}

func TestEditFormAcceptsAnyOrderAndFieldNames(t *testing.T) {
	h := newEditHarness(t, nil)
	a, b := pngFile(t, 16, 16, false), jpegFile(t, 16, 16)
	// Prompt last, images named image and image[1], as some clients do.
	ct, body := multipartBody(t, []formPart{
		{name: "image", file: "a.png", data: a},
		{name: "model", data: []byte("seedream-edit")},
		{name: "image[1]", file: "b.jpg", data: b},
		{name: "seed", data: []byte("42")},
		{name: "prompt", data: []byte("both")},
	})
	code, resp := h.postEdit(ct, body)
	if code != http.StatusOK {
		t.Fatalf("status %d: %s", code, resp)
	}
	in := h.onlyInput()
	urls, _ := in["image_urls"].([]any)
	if len(urls) != 2 || urls[0] != dataURI("image/png", a) || urls[1] != dataURI("image/jpeg", b) || in["seed"] != 42.0 {
		t.Errorf("fal input: %d images, seed %v", len(urls), in["seed"])
	}
}

func TestEditJSONVariant(t *testing.T) {
	photo := pngFile(t, 24, 24, false)
	tests := []struct {
		name  string
		body  string
		field string
		want  string // the image URL fal must receive
	}{
		{
			// A data URL is checked and re-labelled with the sniffed type.
			name:  "data URL",
			body:  `{"model":"kontext","prompt":"p","images":[{"image_url":"` + dataURI("application/octet-stream", photo) + `"}]}`,
			field: "image_url", want: dataURI("image/png", photo),
		},
		{
			name:  "https URL passes as given",
			body:  `{"model":"seedream-edit","prompt":"p","images":[{"image_url":"https://images.example.com/cat.png?v=2"}],"size":"1024x1024"}`,
			field: "image_urls", want: "https://images.example.com/cat.png?v=2",
		},
		{
			name:  "with mask",
			body:  `{"model":"fill","prompt":"p","images":[{"image_url":"https://images.example.com/room.png"}],"mask":{"image_url":"` + dataURI("image/png", photo) + `"}}`,
			field: "image_url", want: "https://images.example.com/room.png",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newEditHarness(t, nil)
			code, _, body := h.post(context.Background(), "/v1/images/edits", tt.body)
			if code != http.StatusOK {
				t.Fatalf("status %d: %s", code, body)
			}
			var res oai.ImagesResponse
			if err := json.Unmarshal(body, &res); err != nil || len(res.Data) != 1 || res.Data[0].URL == "" {
				t.Fatalf("response %s (%v)", body, err)
			}
			in := h.onlyInput()
			got := in[tt.field]
			if list, ok := got.([]any); ok && len(list) == 1 {
				got = list[0]
			}
			if got != tt.want {
				t.Errorf("%s = %.80v, want %.80v", tt.field, got, tt.want)
			}
			if strings.Contains(tt.body, `"mask"`) && in["mask_url"] != dataURI("image/png", photo) {
				t.Errorf("mask_url %.80v", in["mask_url"])
			}
		})
	}
}

func TestEditWithoutModelUsesFirstEditModel(t *testing.T) {
	h := newEditHarness(t, nil) // flux-dev comes first but cannot edit
	ct, body := multipartBody(t, []formPart{
		{name: "prompt", data: []byte("p")},
		{name: "image", file: "a.png", data: pngFile(t, 16, 16, false)},
	})
	if code, resp := h.postEdit(ct, body); code != http.StatusOK {
		t.Fatalf("status %d: %s", code, resp)
	}
	if jobs := h.fake.Jobs(); len(jobs) != 1 || jobs[0].Endpoint != "fal-ai/flux-pro/kontext" {
		t.Fatalf("jobs %+v", jobs)
	}
}
