package falfake

import (
	"bytes"
	"encoding/base64"
	"image"
	"image/png"
	"io"
	"net/http"
	"strings"
	"testing"
)

// pngBytes encodes a w×h PNG.
func pngBytes(t *testing.T, w, h int) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, image.NewGray(image.Rect(0, 0, w, h))); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// upload runs both upload steps and returns the file URL.
func upload(t *testing.T, f *Fake, c *tclient, name, contentType string, data []byte) string {
	t.Helper()
	r := c.do("POST", f.StorageURL()+"/storage/upload/initiate?storage_type=fal-cdn-v3", map[string]string{"file_name": name, "content_type": contentType})
	if r.status != 200 {
		t.Fatalf("initiate: %d %s", r.status, r.body)
	}
	m := r.json(t)
	up, fileURL := str(m, "upload_url"), str(m, "file_url")
	if !strings.HasPrefix(up, f.StorageURL()+"/") || !strings.HasPrefix(fileURL, f.URL()+"/files/") {
		t.Fatalf("initiate answer %v", m)
	}
	if r := c.withKey("").do("PUT", up, data); r.status != 200 {
		t.Fatalf("PUT: %d %s", r.status, r.body)
	}
	return fileURL
}

func TestUploadThenDownload(t *testing.T) {
	f, c := start(t, Options{})
	data := pngBytes(t, 40, 30)
	fileURL := upload(t, f, c, "../my photo.png", "image/png", data)
	if !strings.HasSuffix(fileURL, "_my_photo.png") {
		t.Errorf("file url %q", fileURL)
	}
	r := c.withKey("").do("GET", fileURL, nil)
	if r.status != 200 || !bytes.Equal(r.body, data) || r.header.Get("Content-Type") != "image/png" {
		t.Errorf("download: %d %q %d bytes", r.status, r.header.Get("Content-Type"), len(r.body))
	}
	if r := c.do("PUT", f.StorageURL()+"/storage/upload/put/unknown", []byte("x")); r.status != 404 {
		t.Errorf("PUT to unknown upload: %d", r.status)
	}
	got := f.Counts()
	if got.Uploads != 1 || got.UploadPuts != 2 || got.CDN != 1 {
		t.Errorf("counts %+v", got)
	}
	if r := c.do("GET", f.URL()+"/files/x/missing.png", nil); r.status != 404 {
		t.Errorf("missing file: %d", r.status)
	}
}

func TestUploadLimit(t *testing.T) {
	f, c := start(t, Options{})
	r := c.do("POST", f.StorageURL()+"/storage/upload/initiate", map[string]string{"file_name": "big.bin"})
	up := str(r.json(t), "upload_url")
	req, _ := http.NewRequest("PUT", up, io.LimitReader(zeros{}, maxBody+1))
	res, err := c.hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("oversized PUT: %d", res.StatusCode)
	}
	if calls := f.Received(); calls[len(calls)-1].BodySize != maxBody || len(calls[len(calls)-1].Body) != maxRecordedBody {
		t.Errorf("recorded %d bytes of %d", len(calls[len(calls)-1].Body), calls[len(calls)-1].BodySize)
	}
}

func TestEditModelInputs(t *testing.T) {
	f, c := start(t, Options{})
	uploaded := upload(t, f, c, "in.png", "image/png", pngBytes(t, 200, 120))
	inline := "data:image/png;base64," + base64.StdEncoding.EncodeToString(pngBytes(t, 64, 48))
	generated := str(c.do("POST", f.RunURL()+"/fal-ai/flux/dev", map[string]any{"prompt": "x", "image_size": map[string]any{"width": 96, "height": 80}}).json(t)["images"].([]any)[0].(map[string]any), "url")
	tests := []struct {
		endpoint string
		input    map[string]any
		code     int
		w, h     int
		errLoc   string
	}{
		{"fal-ai/flux-pro/kontext", map[string]any{"image_url": uploaded}, 200, 200, 120, ""},
		{"fal-ai/flux-pro/kontext", map[string]any{"image_url": uploaded, "aspect_ratio": "1:1"}, 200, 1024, 1024, ""},
		{"fal-ai/flux-pro/v1/fill", map[string]any{"image_url": inline, "mask_url": inline}, 200, 64, 48, ""},
		{"fal-ai/flux-pro/v1/fill", map[string]any{"image_url": generated, "mask_url": "https://example.com/mask.png"}, 200, 96, 80, ""},
		{"fal-ai/bytedance/seedream/v4/edit", map[string]any{"image_urls": []string{uploaded}, "image_size": "auto"}, 200, 200, 120, ""},
		{"fal-ai/gpt-image-1/edit-image", map[string]any{"image_urls": []string{inline}, "image_size": "1024x1024"}, 200, 1024, 1024, ""},
		{"fal-ai/flux-pro/kontext", map[string]any{"image_url": f.URL() + "/files/x/gone_in.png"}, 422, 0, 0, `["body","image_url"]`},
		{"fal-ai/gpt-image-1/edit-image", map[string]any{"image_urls": []string{inline, "ftp://x/y"}}, 422, 0, 0, `["body","image_urls",1]`},
		{"fal-ai/flux-pro/v1/fill", map[string]any{"image_url": "data:image/png;base64,@@@", "mask_url": inline}, 422, 0, 0, `["body","image_url"]`},
	}
	for _, tt := range tests {
		in := map[string]any{"prompt": "edit it"}
		for k, v := range tt.input {
			in[k] = v
		}
		r := c.do("POST", f.RunURL()+"/"+tt.endpoint, in)
		if r.status != tt.code {
			t.Errorf("%s %v: %d %s", tt.endpoint, tt.input, r.status, r.body)
			continue
		}
		if tt.code != 200 {
			if !strings.Contains(string(r.body), `"file_download_error"`) || !strings.Contains(string(r.body), tt.errLoc) {
				t.Errorf("%s: %s", tt.endpoint, r.body)
			}
			continue
		}
		img := r.json(t)["images"].([]any)[0].(map[string]any)
		if img["width"] != float64(tt.w) || img["height"] != float64(tt.h) {
			t.Errorf("%s %v: output %v, want %dx%d", tt.endpoint, tt.input, img, tt.w, tt.h)
		}
	}
}

// zeros is an endless reader of zero bytes.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}
