package server_test

import (
	"bytes"
	"net/http"
	"strings"
	"testing"
)

// TestVideoFormRejects checks the multipart video form's 4xx answers, read
// as edits are: a file part other than input_reference, an input image
// over the per-file cap (413), a field given twice. Nothing reaches fal:
// no job, no upload.
func TestVideoFormRejects(t *testing.T) {
	h := newHarness(t, withVideos(0), func(s *setup) {
		s.server.MaxImageBytes = 4 << 10
		s.server.InlineLimit = -1
	})
	img := pngFile(t, 16, 16, false)
	big := pngFile(t, 64, 64, true)
	base := []formPart{{name: "model", data: []byte("sora-2")}, {name: "prompt", data: []byte("the fox runs")}}
	tests := []struct {
		name        string
		extra       []formPart
		status      int
		param, code string
		message     string
	}{
		{"extra file part", []formPart{{name: "input_reference", file: "fox.png", data: img}, {name: "end_frame", file: "end.png", data: img}},
			400, "end_frame", "unsupported_parameter", "send the image as 'input_reference'"},
		{"input image over the cap", []formPart{{name: "input_reference", file: "fox.png", data: big}},
			413, "input_reference", "file_too_large", "4096 bytes this server accepts per file"},
		{"field given twice", []formPart{{name: "prompt", data: []byte("again")}},
			400, "prompt", "duplicate_parameter", "more than once"},
	}
	for _, tc := range tests {
		ct, body := multipartBody(t, append(append([]formPart{}, base...), tc.extra...))
		req, _ := http.NewRequest(http.MethodPost, h.url+"/v1/videos", bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+accessKey)
		req.Header.Set("Content-Type", ct)
		code, hdr, out := h.do(req)
		e := decodeError(t, out)
		if code != tc.status || deref(e.Param) != tc.param || deref(e.Code) != tc.code || !strings.Contains(e.Message, tc.message) || hdr.Get("X-Should-Retry") != "false" {
			t.Errorf("%s: %d %+v", tc.name, code, e)
		}
	}
	if c := h.fake.Counts(); len(h.fake.Jobs()) != 0 || c.UploadPuts != 0 {
		t.Errorf("fal saw %+v and %d jobs", c, len(h.fake.Jobs()))
	}
}
