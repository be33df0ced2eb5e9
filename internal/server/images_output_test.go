package server_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	oai "github.com/openai/openai-go/v3"

	"github.com/falproxy/falproxy/internal/fal"
	"github.com/falproxy/falproxy/internal/falfake"
)

// imagesBody decodes the data of an images response.
func imagesBody(t *testing.T, body []byte) []oai.Image {
	t.Helper()
	var res struct{ Data []oai.Image }
	if err := json.Unmarshal(body, &res); err != nil {
		t.Fatalf("not an images response (%v): %.300s", err, body)
	}
	return res.Data
}

// TestOutputCappedToRequest: a model answering far more images than asked
// must not make falproxy return (or download) them.
func TestOutputCappedToRequest(t *testing.T) {
	h := newHarness(t, func(s *setup) { s.fake.ExtraImages = 1999 })
	tests := []struct {
		body   string
		images int
		jobs   int
	}{
		{`{"model":"flux-dev","prompt":"a cat"}`, 1, 1},
		{`{"model":"flux-dev","prompt":"a cat","n":6}`, 6, 2}, // jobs of 4 and 2
		{`{"model":"recraft","prompt":"a cat","n":2}`, 2, 2},  // no num_images: one job per image
	}
	for _, tt := range tests {
		h.fake.Reset()
		code, _, body := h.post(context.Background(), "/v1/images/generations", tt.body)
		if code != http.StatusOK {
			t.Fatalf("%s: status %d: %.300s", tt.body, code, body)
		}
		if data := imagesBody(t, body); len(data) != tt.images {
			t.Fatalf("%s: %d images, want %d", tt.body, len(data), tt.images)
		}
		if n := len(h.fake.Jobs()); n != tt.jobs {
			t.Fatalf("%s: %d jobs, want %d", tt.body, n, tt.jobs)
		}
	}
}

// TestB64OutputCappedToRequest: the same with b64_json, by download and by
// fal's sync_mode: only the images asked for are downloaded or encoded.
func TestB64OutputCappedToRequest(t *testing.T) {
	h := newHarness(t, func(s *setup) { s.fake.ExtraImages = 3 })
	code, _, body := h.post(context.Background(), "/v1/images/generations", `{"model":"recraft","prompt":"a fox","size":"256x256","response_format":"b64_json"}`)
	if code != http.StatusOK || len(imagesBody(t, body)) != 1 {
		t.Fatalf("status %d: %.300s", code, body)
	}
	if c := h.fake.Counts(); c.CDN != 1 {
		t.Fatalf("%d downloads for one image asked", c.CDN)
	}
	code, _, body = h.post(context.Background(), "/v1/images/generations", `{"model":"flux-dev","prompt":"a fox","n":2,"size":"256x256","response_format":"b64_json"}`)
	if code != http.StatusOK {
		t.Fatalf("status %d: %.300s", code, body)
	}
	if data := imagesBody(t, body); len(data) != 2 || data[0].B64JSON == "" {
		t.Fatalf("%d images, want 2", len(data))
	}
}

// TestResultThatIsNotAnImage: what fal hands back as the image is checked
// by its bytes, whatever its label: a downloaded page and a data URI of
// text are both a 502 naming the problem.
func TestResultThatIsNotAnImage(t *testing.T) {
	h := newHarness(t)
	page := "<html><body>Service unavailable</body></html>"
	tests := []struct {
		name  string
		fault falfake.Fault
		body  string
	}{
		{"downloaded page labelled image/png", falfake.Fault{Op: falfake.OpCDN, Status: http.StatusOK, ContentType: "image/png", Body: page},
			`{"model":"recraft","prompt":"p","response_format":"b64_json"}`},
		{"data URI of text", falfake.Fault{Op: falfake.OpResult, Status: http.StatusOK,
			Body: `{"images":[{"url":"data:image/png;base64,` + base64.StdEncoding.EncodeToString([]byte(page)) + `","content_type":"image/png"}]}`},
			`{"model":"flux-dev","prompt":"p","response_format":"b64_json"}`},
		{"streamed data URI of text", falfake.Fault{Op: falfake.OpResult, Status: http.StatusOK,
			Body: `{"images":[{"url":"data:image/png;base64,` + base64.StdEncoding.EncodeToString([]byte(page)) + `"}]}`},
			`{"model":"flux-dev","prompt":"p","stream":true}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h.fake.Reset()
			h.fake.Inject(tt.fault)
			code, hdr, body := h.post(context.Background(), "/v1/images/generations", tt.body)
			if strings.Contains(tt.body, `"stream":true`) {
				if code != http.StatusOK || !bytes.Contains(body, []byte("event: error")) || !bytes.Contains(body, []byte("upstream_not_an_image")) || bytes.Contains(body, []byte("b64_json")) {
					t.Fatalf("status %d: %.300s", code, body)
				}
				return
			}
			if code != http.StatusBadGateway || hdr.Get("X-Should-Retry") != "false" {
				t.Fatalf("status %d, x-should-retry %q: %.300s", code, hdr.Get("X-Should-Retry"), body)
			}
			if e := checkMessage(t, body); deref(e.Code) != "upstream_not_an_image" {
				t.Fatalf("code %q: %s", deref(e.Code), e.Message)
			}
		})
	}
}

// TestRefusedDownloadIsNamed: a result on an address the downloader
// refuses is reported as such, not as fal being unreachable.
func TestRefusedDownloadIsNamed(t *testing.T) {
	h := newHarness(t, func(s *setup) { s.server.Downloader = fal.NewDownloader(fal.DownloaderOptions{}) })
	code, hdr, body := h.post(context.Background(), "/v1/images/generations", `{"model":"recraft","prompt":"p","response_format":"b64_json"}`)
	if code != http.StatusBadGateway || hdr.Get("X-Should-Retry") != "false" {
		t.Fatalf("status %d, x-should-retry %q: %.300s", code, hdr.Get("X-Should-Retry"), body)
	}
	e := checkMessage(t, body)
	if deref(e.Code) != "upstream_media_refused" || strings.Contains(e.Message, "reached") {
		t.Fatalf("code %q: %s", deref(e.Code), e.Message)
	}
	if c := h.fake.Counts(); c.CDN != 0 || len(h.fake.Jobs()) != 1 {
		t.Fatalf("counts %+v: the refused address was fetched, or the job ran more than once", c)
	}
}

// TestSlowDownloadAfterJobDone: the job completed and only the download of
// its image ran out of time; the answer says so and claims no cancel.
func TestSlowDownloadAfterJobDone(t *testing.T) {
	h := newHarness(t, func(s *setup) { s.server.RequestTimeout = 500 * time.Millisecond })
	h.fake.Inject(falfake.Fault{Op: falfake.OpCDN, Delay: time.Minute})
	code, _, body := h.post(context.Background(), "/v1/images/generations", `{"model":"recraft","prompt":"p","response_format":"b64_json"}`)
	if code != http.StatusGatewayTimeout {
		t.Fatalf("status %d: %.300s", code, body)
	}
	e := checkMessage(t, body)
	if deref(e.Code) != "timeout" || strings.Contains(e.Message, "cancel") || !strings.Contains(e.Message, "download") {
		t.Fatalf("code %q: %s", deref(e.Code), e.Message)
	}
	jobs := h.fake.Jobs()
	if len(jobs) != 1 || jobs[0].Cancelled || h.fake.Counts().Cancels != 0 {
		t.Fatalf("jobs %+v, cancels %d: a completed job was cancelled", jobs, h.fake.Counts().Cancels)
	}
}
