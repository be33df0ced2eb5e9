package server_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/falproxy/falproxy/internal/falfake"
	"github.com/falproxy/falproxy/internal/registry"
	"github.com/falproxy/falproxy/internal/server"
)

// TestEditRejects checks the 4xx answers of bad edits. The harness uploads
// every image (InlineLimit -1), so that the test also proves nothing is
// uploaded, nor any job started, before the request is known to be good.
func TestEditRejects(t *testing.T) {
	h := newEditHarness(t, func(o *server.Options) {
		o.InlineLimit = -1
		o.MaxImageBytes = 12 << 10
		o.MaxBodyBytes = 40 << 10
	})
	small := pngFile(t, 16, 16, false)
	big := pngFile(t, 64, 64, true) // about 16 KiB: over the per-image cap
	medium := pngFile(t, 48, 48, true)
	if len(big) <= 12<<10 || len(medium) >= 12<<10 || 5*len(medium) <= 40<<10 {
		t.Fatalf("test files of %d and %d bytes do not fit the limits", len(big), len(medium))
	}
	text := func(name, v string) formPart { return formPart{name: name, data: []byte(v)} }
	file := func(name string, b []byte) formPart { return formPart{name: name, file: "upload.bin", data: b} }
	form := func(parts ...formPart) func() (string, []byte) {
		return func() (string, []byte) { return multipartBody(t, parts) }
	}
	asJSON := func(body string) func() (string, []byte) {
		return func() (string, []byte) { return "application/json", []byte(body) }
	}
	kontext := []formPart{text("model", "kontext"), text("prompt", "p")}
	with := func(base []formPart, more ...formPart) func() (string, []byte) {
		return form(append(append([]formPart{}, base...), more...)...)
	}

	tests := []struct {
		name    string
		req     func() (string, []byte)
		status  int
		param   string
		code    string
		message string // a fragment the message must hold
	}{
		{"text file as image", with(kontext, file("image", []byte("hello, this is a plain text note\n"))),
			400, "image", "invalid_image_format", "text/plain"},
		{"empty image", with(kontext, file("image", nil)), 400, "image", "invalid_image_format", "empty"},
		{"image over the per-file cap", with(kontext, file("image", big)), 413, "image", "file_too_large", "12288 bytes this server accepts per file"},
		{"mask over the per-file cap", form(text("model", "fill"), text("prompt", "p"), file("image", small), file("mask", big)),
			413, "mask", "file_too_large", ""},
		{"body over the limit", with(kontext, file("image[]", medium), file("image[]", medium), file("image[]", medium), file("image[]", medium), file("image[]", medium)),
			413, "", "request_too_large", ""},
		{"model that cannot edit", form(text("model", "flux-dev"), text("prompt", "p"), file("image", small)),
			400, "model", "model_not_supported", "does not edit images"},
		{"unknown model", form(text("model", "no-such-model"), text("prompt", "p"), file("image", small)),
			404, "model", "model_not_found", ""},
		{"missing prompt", form(text("model", "kontext"), file("image", small)), 400, "prompt", "missing_required_parameter", ""},
		{"blank prompt", form(text("model", "kontext"), text("prompt", "  "), file("image", small)), 400, "prompt", "missing_required_parameter", ""},
		{"no image", form(kontext...), 400, "image", "missing_required_parameter", ""},
		{"streaming", with(kontext, file("image", small), text("stream", "true")), 400, "stream", "unsupported_value", "not supported"},
		{"n not an integer", with(kontext, file("image", small), text("n", "two")), 400, "n", "invalid_type", "integer"},
		{"n out of range", with(kontext, file("image", small), text("n", "11")), 400, "n", "invalid_value", ""},
		{"mask for a model without one", with(kontext, file("image", small), file("mask", small)), 400, "mask", "invalid_value", ""},
		{"two images for a one-image model", with(kontext, file("image[]", small), file("image[]", small)), 400, "image", "invalid_value", "one input image"},
		{"model field of the wrong type", form(text("model", "fill"), text("prompt", "p"), file("image", small), file("mask", small), text("enhance_prompt", "maybe")),
			400, "enhance_prompt", "invalid_type", "boolean"},
		{"unsupported file field", with(kontext, file("image", small), file("markup", small)), 400, "markup", "unsupported_parameter", ""},
		{"prompt given twice", with(kontext, file("image", small), text("prompt", "q")), 400, "prompt", "duplicate_parameter", ""},
		{"bad response_format", with(kontext, file("image", small), text("response_format", "gif")), 400, "response_format", "invalid_value", ""},
		{"JSON file id", asJSON(`{"model":"kontext","prompt":"p","images":[{"file_id":"file-abc"}]}`),
			400, "images[0].file_id", "unsupported_parameter", "image_url"},
		{"JSON ftp URL", asJSON(`{"model":"kontext","prompt":"p","images":[{"image_url":"ftp://host/a.png"}]}`),
			400, "images[0].image_url", "invalid_value", "https"},
		{"JSON data URL not base64", asJSON(`{"model":"kontext","prompt":"p","images":[{"image_url":"data:image/png,abc"}]}`),
			400, "images[0].image_url", "invalid_value", "base64"},
		{"JSON data URL of text", asJSON(`{"model":"kontext","prompt":"p","images":[{"image_url":"data:image/png;base64,aGVsbG8gd29ybGQ="}]}`),
			400, "images[0].image_url", "invalid_image_format", "text/plain"},
		{"JSON data URL over the cap", asJSON(`{"model":"kontext","prompt":"p","images":[{"image_url":"` + dataURI("image/png", big) + `"}]}`),
			413, "images[0].image_url", "file_too_large", ""},
		{"JSON without images", asJSON(`{"model":"kontext","prompt":"p","images":[]}`), 400, "images", "missing_required_parameter", ""},
		{"JSON images of the wrong type", asJSON(`{"model":"kontext","prompt":"p","images":"https://a/b.png"}`), 400, "images", "invalid_type", ""},
		{"JSON mask without URL", asJSON(`{"model":"fill","prompt":"p","images":[{"image_url":"https://a/b.png"}],"mask":{}}`),
			400, "mask.image_url", "missing_required_parameter", ""},
		{"JSON streaming", asJSON(`{"model":"kontext","prompt":"p","stream":true,"images":[{"image_url":"https://a/b.png"}]}`),
			400, "stream", "unsupported_value", ""},
		{"other content type", func() (string, []byte) { return "text/plain", []byte("prompt=p") }, 400, "", "unsupported_content_type", "multipart/form-data"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h.fake.Reset()
			code, body := h.postEdit(tt.req())
			if code != tt.status {
				t.Fatalf("status %d, want %d: %s", code, tt.status, body)
			}
			e := decodeError(t, body)
			if deref(e.Param) != tt.param || deref(e.Code) != tt.code || e.Type != "invalid_request_error" {
				t.Errorf("param %q code %q type %q, want param %q code %q: %s", deref(e.Param), deref(e.Code), e.Type, tt.param, tt.code, e.Message)
			}
			if !strings.Contains(e.Message, tt.message) {
				t.Errorf("message %q lacks %q", e.Message, tt.message)
			}
			if c := h.fake.Counts(); c.Uploads != 0 || c.UploadPuts != 0 || c.Submits != 0 {
				t.Errorf("a rejected edit reached fal: %+v", c)
			}
		})
	}
}

func TestEditWithoutModelNeedsAnEditModel(t *testing.T) {
	h := newHarness(t, func(s *setup) {
		s.server.ImageModels = []registry.ImageModel{{Alias: "flux-dev", Endpoint: "fal-ai/flux/dev"}}
	})
	ct, body := multipartBody(t, []formPart{{name: "prompt", data: []byte("p")}, {name: "image", file: "a.png", data: pngFile(t, 8, 8, false)}})
	code, resp := h.postEdit(ct, body)
	if code != http.StatusBadRequest {
		t.Fatalf("status %d: %s", code, resp)
	}
	if e := decodeError(t, resp); deref(e.Param) != "model" || deref(e.Code) != "model_not_supported" {
		t.Fatalf("error %+v", e)
	}
}

func TestEditUploadFailures(t *testing.T) {
	tests := []struct {
		name   string
		fault  falfake.Fault
		status int
		code   string // "" = the edit succeeds
	}{
		{"first key rejected: next key uploads",
			falfake.Fault{Op: falfake.OpUpload, Key: "fal-key-1:secret1", Status: http.StatusUnauthorized}, 200, ""},
		{"every key rejected",
			falfake.Fault{Op: falfake.OpUpload, Status: http.StatusForbidden}, 502, "fal_auth_failed"},
		{"storage refuses the bytes",
			falfake.Fault{Op: falfake.OpUploadPut, Status: http.StatusBadRequest, Body: `{"detail":"bad upload"}`}, 502, "upstream_error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newEditHarness(t, func(o *server.Options) { o.InlineLimit = -1 })
			h.fake.Inject(tt.fault)
			ct, body := multipartBody(t, []formPart{
				{name: "model", data: []byte("kontext")}, {name: "prompt", data: []byte("p")},
				{name: "image", file: "a.png", data: pngFile(t, 8, 8, false)},
			})
			code, resp := h.postEdit(ct, body)
			if code != tt.status {
				t.Fatalf("status %d, want %d: %s", code, tt.status, resp)
			}
			jobs := h.fake.Jobs()
			if tt.code == "" {
				if len(jobs) != 1 || !strings.HasPrefix(h.onlyInput()["image_url"].(string), h.fake.URL()+"/files/") {
					t.Fatalf("jobs %+v", jobs)
				}
				return
			}
			if e := decodeError(t, resp); deref(e.Code) != tt.code {
				t.Errorf("code %q, want %q: %s", deref(e.Code), tt.code, e.Message)
			}
			if len(jobs) != 0 {
				t.Errorf("%d jobs started after a failed upload", len(jobs))
			}
		})
	}
}
