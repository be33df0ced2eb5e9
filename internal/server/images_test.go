package server_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	_ "image/jpeg"
	_ "image/png"
	"net/http"
	"testing"
	"time"

	oai "github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
)

func decodeImage(t *testing.T, b []byte) image.Config {
	t.Helper()
	cfg, _, err := image.DecodeConfig(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("not an image (%d bytes): %v", len(b), err)
	}
	return cfg
}

func TestSDKGeneratesImageURL(t *testing.T) {
	h := newHarness(t)
	res, err := h.sdk.Images.Generate(context.Background(), oai.ImageGenerateParams{
		Model:  "flux-dev",
		Prompt: "a lighthouse at dawn",
		Size:   "1024x768",
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Created == 0 || len(res.Data) != 1 || res.Data[0].URL == "" || res.Data[0].B64JSON != "" {
		t.Fatalf("unexpected response: %s", res.RawJSON())
	}
	req, _ := http.NewRequest(http.MethodGet, res.Data[0].URL, nil)
	_, _, png := h.do(req)
	if cfg := decodeImage(t, png); cfg.Width != 1024 || cfg.Height != 768 {
		t.Fatalf("image is %dx%d, want 1024x768", cfg.Width, cfg.Height)
	}

	inputs := h.falInputs()
	if len(inputs) != 1 || inputs[0]["image_size"] != "landscape_4_3" || inputs[0]["prompt"] != "a lighthouse at dawn" {
		t.Fatalf("fal received %v", inputs)
	}
	if _, ok := inputs[0]["enable_safety_checker"]; !ok {
		t.Fatalf("safety checker setting not sent: %v", inputs[0])
	}
	c := h.fake.Counts()
	if c.Submits != 1 || c.StatusStreams != 1 || c.Results != 1 || c.Status != 0 || c.Cancels != 0 {
		t.Fatalf("upstream calls: %+v; want one submit, one status stream, one result", c)
	}
}

func TestSDKGeneratesB64WithSyncMode(t *testing.T) {
	h := newHarness(t)
	res, err := h.sdk.Images.Generate(context.Background(), oai.ImageGenerateParams{
		Model:          "flux-dev",
		Prompt:         "an otter",
		Size:           oai.ImageGenerateParamsSize1024x1536,
		ResponseFormat: oai.ImageGenerateParamsResponseFormatB64JSON,
		N:              oai.Int(2),
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Data) != 2 {
		t.Fatalf("got %d images", len(res.Data))
	}
	for _, d := range res.Data {
		if d.URL != "" {
			t.Fatalf("url set with b64_json: %s", res.RawJSON())
		}
		png, err := base64.StdEncoding.DecodeString(d.B64JSON)
		if err != nil {
			t.Fatal(err)
		}
		if cfg := decodeImage(t, png); cfg.Width != 1024 || cfg.Height != 1536 {
			t.Fatalf("image is %dx%d", cfg.Width, cfg.Height)
		}
	}
	in := h.falInputs()[0]
	if in["sync_mode"] != true || in["num_images"] != 2.0 {
		t.Fatalf("fal received %v", in)
	}
	if c := h.fake.Counts(); c.CDN != 0 {
		t.Fatalf("downloaded %d images although fal sent data URIs", c.CDN)
	}
}

func TestB64DownloadsWhenModelHasNoSyncMode(t *testing.T) {
	h := newHarness(t)
	code, _, body := h.post(context.Background(), "/v1/images/generations",
		`{"model":"recraft","prompt":"a fox","size":"512x512","response_format":"b64_json"}`)
	if code != http.StatusOK {
		t.Fatalf("status %d: %s", code, body)
	}
	var res struct {
		Data []struct {
			B64 string `json:"b64_json"`
			URL string `json:"url"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &res); err != nil || len(res.Data) != 1 || res.Data[0].URL != "" {
		t.Fatalf("bad body %s (%v)", body, err)
	}
	raw, err := base64.StdEncoding.DecodeString(res.Data[0].B64)
	if err != nil {
		t.Fatal(err)
	}
	if cfg := decodeImage(t, raw); cfg.Width != 512 || cfg.Height != 512 {
		t.Fatalf("image is %dx%d", cfg.Width, cfg.Height)
	}
	if in := h.falInputs()[0]; in["sync_mode"] != nil {
		t.Fatalf("sync_mode sent to a model without it: %v", in)
	}
	if c := h.fake.Counts(); c.CDN != 1 {
		t.Fatalf("CDN downloads = %d, want 1", c.CDN)
	}
}

// TestSizeFamilies checks, model by model, what fal receives for a size.
func TestSizeFamilies(t *testing.T) {
	h := newHarness(t)
	tests := []struct {
		model, size string
		want        map[string]any
		absent      []string
	}{
		{"flux-dev", "1024x1024", map[string]any{"image_size": "square_hd"}, []string{"width", "aspect_ratio"}},
		{"flux-dev", "1200x800", map[string]any{"image_size": map[string]any{"width": 1200.0, "height": 800.0}}, nil},
		{"ultra", "1792x1024", map[string]any{"aspect_ratio": "7:4"}, []string{"image_size"}}, // free string allowed: exact ratio
		{"ideogram", "1024x1792", map[string]any{"aspect_ratio": "9:16"}, []string{"image_size", "num_images"}},
		{"imagen4", "2048x2048", map[string]any{"aspect_ratio": "1:1", "resolution": "2K"}, []string{"image_size"}},
		{"gpt-image-1", "1536x1024", map[string]any{"image_size": "1536x1024"}, []string{"seed"}},
		{"gpt-image-1", "1792x1024", map[string]any{"image_size": "1536x1024"}, nil},
		{"seedream", "auto", map[string]any{"image_size": "auto"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.model+"/"+tt.size, func(t *testing.T) {
			h.fake.Reset()
			code, _, body := h.post(context.Background(), "/v1/images/generations",
				fmt.Sprintf(`{"model":%q,"prompt":"p","size":%q,"seed":7}`, tt.model, tt.size))
			if code != http.StatusOK {
				t.Fatalf("status %d: %s", code, body)
			}
			in := h.falInputs()[0]
			for k, v := range tt.want {
				if fmt.Sprint(in[k]) != fmt.Sprint(v) {
					t.Errorf("%s = %v, want %v (input %v)", k, in[k], v, in)
				}
			}
			for _, k := range tt.absent {
				if _, ok := in[k]; ok {
					t.Errorf("%s sent to a model without it: %v", k, in)
				}
			}
		})
	}
}

func TestNSplitsAcrossJobs(t *testing.T) {
	h := newHarness(t)
	res, err := h.sdk.Images.Generate(context.Background(), oai.ImageGenerateParams{
		Model: "flux-dev", Prompt: "six cats", N: oai.Int(6),
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Data) != 6 {
		t.Fatalf("got %d images, want 6", len(res.Data))
	}
	counts := map[float64]int{}
	for _, in := range h.falInputs() {
		counts[in["num_images"].(float64)]++
	}
	if len(h.fake.Jobs()) != 2 || counts[4] != 1 || counts[2] != 1 {
		t.Fatalf("jobs by num_images: %v, want one of 4 and one of 2", counts)
	}

	h.fake.Reset()
	// A model without num_images gets one job per image.
	if _, err := h.sdk.Images.Generate(context.Background(), oai.ImageGenerateParams{Model: "ideogram", Prompt: "x", N: oai.Int(3)}); err != nil {
		t.Fatal(err)
	}
	if n := len(h.fake.Jobs()); n != 3 {
		t.Fatalf("%d jobs for n=3 on a model without num_images", n)
	}
}

func TestPassThroughDeclaredFields(t *testing.T) {
	h := newHarness(t)
	code, _, body := h.post(context.Background(), "/v1/images/generations",
		`{"model":"flux-dev","prompt":"p","guidance_scale":4.5,"num_inference_steps":20,"made_up_field":1,"moderation":"low"}`)
	if code != http.StatusOK {
		t.Fatalf("status %d: %s", code, body)
	}
	in := h.falInputs()[0]
	if in["guidance_scale"] != 4.5 || in["num_inference_steps"] != 20.0 {
		t.Fatalf("declared fields not passed: %v", in)
	}
	for _, k := range []string{"made_up_field", "moderation", "model"} {
		if _, ok := in[k]; ok {
			t.Fatalf("undeclared %s sent to fal: %v", k, in)
		}
	}
}

func TestSDKErrors(t *testing.T) {
	h := newHarness(t)
	tests := []struct {
		name   string
		params oai.ImageGenerateParams
		status int
		param  string
		code   string
	}{
		{"unknown model", oai.ImageGenerateParams{Model: "nope", Prompt: "p"}, 404, "model", "model_not_found"},
		{"bad size", oai.ImageGenerateParams{Model: "flux-dev", Prompt: "p", Size: "big"}, 400, "size", "invalid_value"},
		{"n too large", oai.ImageGenerateParams{Model: "flux-dev", Prompt: "p", N: oai.Int(11)}, 400, "n", ""},
		{"fal 422 out of range", oai.ImageGenerateParams{Model: "flux-dev", Prompt: "p"}, 400, "num_inference_steps", ""},
		{"content policy", oai.ImageGenerateParams{Model: "flux-dev", Prompt: "[nsfw] p"}, 400, "", "moderation_blocked"},
		{"job failure", oai.ImageGenerateParams{Model: "flux-dev", Prompt: "[fail] p"}, 502, "", "runner_disconnected"},
		{"edit-only model", oai.ImageGenerateParams{Model: "kontext", Prompt: "p"}, 400, "model", "model_not_supported"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var opts []option.RequestOption
			if tt.name == "fal 422 out of range" {
				opts = append(opts, option.WithJSONSet("num_inference_steps", 99))
			}
			_, err := h.sdk.Images.Generate(context.Background(), tt.params, opts...)
			var apiErr *oai.Error
			if !errors.As(err, &apiErr) {
				t.Fatalf("err = %v, want *openai.Error", err)
			}
			if apiErr.StatusCode != tt.status || apiErr.Param != tt.param || (tt.code != "" && apiErr.Code != tt.code) {
				t.Fatalf("got %d param %q code %q (%s), want %d param %q code %q",
					apiErr.StatusCode, apiErr.Param, apiErr.Code, apiErr.Message, tt.status, tt.param, tt.code)
			}
			if tt.status < 500 && apiErr.Response.Header.Get("X-Should-Retry") != "false" {
				t.Fatalf("a %d must say x-should-retry: false", tt.status)
			}
		})
	}
}

func TestBadRequestBodies(t *testing.T) {
	h := newHarness(t, func(s *setup) { s.server.MaxBodyBytes = 1024 })
	tests := []struct {
		name, body string
		status     int
		param      string
	}{
		{"not json", `{"prompt":`, 400, ""},
		{"trailing garbage", `{"prompt":"p"} x`, 400, ""},
		{"array", `["p"]`, 400, ""},
		{"wrong type", `{"prompt":"p","n":"2"}`, 400, "n"},
		{"missing prompt", `{"model":"flux-dev"}`, 400, "prompt"},
		{"bad response_format", `{"prompt":"p","response_format":"gif"}`, 400, "response_format"},
		{"too large", `{"prompt":"` + string(bytes.Repeat([]byte("x"), 2048)) + `"}`, 413, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, hdr, body := h.post(context.Background(), "/v1/images/generations", tt.body)
			if code != tt.status {
				t.Fatalf("status %d, want %d: %s", code, tt.status, body)
			}
			if hdr.Get("Content-Type") != "application/json" {
				t.Fatalf("content type %q", hdr.Get("Content-Type"))
			}
			if e := decodeError(t, body); deref(e.Param) != tt.param {
				t.Fatalf("param %q, want %q (%s)", deref(e.Param), tt.param, e.Message)
			}
		})
	}
	if n := len(h.fake.Jobs()); n != 0 {
		t.Fatalf("%d jobs reached fal from bad requests", n)
	}
}

func TestAllowAnyEndpoint(t *testing.T) {
	body := `{"model":"fal-ai/ideogram/v2","prompt":"p","size":"1024x1024"}`
	closed := newHarness(t)
	if code, _, b := closed.post(context.Background(), "/v1/images/generations", body); code != http.StatusNotFound {
		t.Fatalf("raw endpoint accepted without ALLOW_ANY_ENDPOINT: %d %s", code, b)
	}
	open := newHarness(t, func(s *setup) { s.server.AllowAnyEndpoint = true })
	if code, _, b := open.post(context.Background(), "/v1/images/generations", body); code != http.StatusOK {
		t.Fatalf("raw endpoint refused: %d %s", code, b)
	}
	if j := open.fake.Jobs(); len(j) != 1 || j[0].Endpoint != "fal-ai/ideogram/v2" {
		t.Fatalf("jobs %+v", j)
	}
	// An id fal does not know is the client's mistake, like an unknown model.
	code, _, b := open.post(context.Background(), "/v1/images/generations", `{"model":"fal-ai/no-such-app","prompt":"p"}`)
	if code != http.StatusNotFound || deref(decodeError(t, b).Code) != "model_not_found" {
		t.Fatalf("unknown endpoint: %d %s", code, b)
	}
	if code, _, _ := open.post(context.Background(), "/v1/images/generations", `{"model":"../../etc","prompt":"p"}`); code != http.StatusNotFound {
		t.Fatalf("a path-like model was accepted: %d", code)
	}
}

func TestSDKStreamsImages(t *testing.T) {
	h := newHarness(t)
	stream := h.sdk.Images.GenerateStreaming(context.Background(), oai.ImageGenerateParams{
		Model: "flux-dev", Prompt: "a streamed otter", Size: "512x512", N: oai.Int(2),
	})
	completed := 0
	for stream.Next() {
		ev, ok := stream.Current().AsAny().(oai.ImageGenCompletedEvent)
		if !ok {
			t.Fatalf("unexpected event %T", stream.Current().AsAny())
		}
		png, err := base64.StdEncoding.DecodeString(ev.B64JSON)
		if err != nil {
			t.Fatal(err)
		}
		if cfg := decodeImage(t, png); cfg.Width != 512 || cfg.Height != 512 || ev.OutputFormat != "png" || ev.Size != "512x512" {
			t.Fatalf("event: %dx%d format %q size %q", cfg.Width, cfg.Height, ev.OutputFormat, ev.Size)
		}
		completed++
	}
	if err := stream.Err(); err != nil {
		t.Fatal(err)
	}
	if completed != 2 {
		t.Fatalf("%d completed events, want 2", completed)
	}
	if in := h.falInputs()[0]; in["sync_mode"] != true {
		t.Fatalf("fal input %v: a streamed image should come inline", in)
	}

	// A failure after the stream started arrives as an error event.
	code, hdr, body := h.post(context.Background(), "/v1/images/generations", `{"model":"flux-dev","prompt":"[fail] x","stream":true}`)
	if code != http.StatusOK || hdr.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("status %d, type %q", code, hdr.Get("Content-Type"))
	}
	if !bytes.HasPrefix(body, []byte("event: error\ndata: {\"error\":{")) || !bytes.HasSuffix(body, []byte("\n\n")) {
		t.Fatalf("stream body: %s", body)
	}
}

// TestImageStreamKeepAlive streams an image that fal takes a while to
// make, with a short keep-alive interval: the client receives keep-alive
// comments before the image, at the interval Options.KeepAliveEvery sets.
func TestImageStreamKeepAlive(t *testing.T) {
	h := newHarness(t, func(s *setup) {
		s.fake.GenerationTime = 40 * time.Millisecond
		s.server.KeepAliveEvery = 2 * time.Millisecond
	})
	code, _, body := h.post(context.Background(), "/v1/images/generations", `{"model":"flux-dev","prompt":"a slow otter","stream":true}`)
	first, done := bytes.Index(body, []byte(": keep-alive\n\n")), bytes.Index(body, []byte("event: image_generation.completed\n"))
	if code != http.StatusOK || done < 0 || first < 0 || first > done {
		t.Fatalf("status %d, no keep-alive comment before the image:\n%.300s", code, body)
	}
	if in := h.falInputs(); len(in) != 1 || in[0]["prompt"] != "a slow otter" {
		t.Errorf("fal's jobs: %v", in)
	}
}
