package server

import (
	"bytes"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"unicode/utf8"
)

// fuzzBoundary is the boundary every fuzzed body is declared with; the
// seeds use it, mutations may break it.
const fuzzBoundary = "fuzzboundary"

// formSeed builds a multipart body of (name, filename, data) triples;
// filename "" makes a text field.
func formSeed(parts ...[3]string) []byte {
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	_ = w.SetBoundary(fuzzBoundary)
	for _, p := range parts {
		if p[1] != "" {
			fw, _ := w.CreateFormFile(p[0], p[1])
			_, _ = fw.Write([]byte(p[2]))
			continue
		}
		_ = w.WriteField(p[0], p[2])
	}
	_ = w.Close()
	return buf.Bytes()
}

// FuzzEditForm feeds arbitrary multipart bodies to the edit parser: it
// must never panic, must hold the caps on images, and must answer a bad
// body with a short OpenAI error in words.
func FuzzEditForm(f *testing.F) {
	png := "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00"
	f.Add(formSeed([3]string{"image", "a.png", png}, [3]string{"prompt", "", "a cat"}, [3]string{"n", "", "2"}))
	f.Add(formSeed([3]string{"image[]", "a.png", png}, [3]string{"image[]", "b.png", png}, [3]string{"mask", "m.png", png}))
	f.Add(formSeed([3]string{"image[0]", "a.png", png}, [3]string{"seed", "", "-9"}, [3]string{"stream", "", "false"}, [3]string{"guidance_scale", "", "3.5"}))
	f.Add(formSeed([3]string{"prompt", "", "p"}, [3]string{"prompt", "", "q"}))
	f.Add(formSeed([3]string{"n", "", strings.Repeat("9", 200)}, [3]string{"other", "x.bin", "data"}))
	f.Add(formSeed([3]string{"image", "a.txt", "not an image"}))
	f.Add([]byte("--" + fuzzBoundary + "\r\nContent-Disposition: form-data\r\n\r\nx\r\n--" + fuzzBoundary + "--\r\n"))
	f.Add([]byte("--" + fuzzBoundary + "\r\nContent-Disposition: form-data; name=\"prompt\"\r\n\r\ncut short"))
	f.Add([]byte{})

	s := &Server{opt: Options{MaxBodyBytes: 1 << 20, MaxImageBytes: 4 << 10}}
	f.Fuzz(func(t *testing.T, body []byte) {
		r := httptest.NewRequest(http.MethodPost, "/v1/images/edits", bytes.NewReader(body))
		r.Header.Set("Content-Type", "multipart/form-data; boundary="+fuzzBoundary)
		in, e := s.readEdit(httptest.NewRecorder(), r)
		if e != nil {
			if e.Status < 400 || e.Status >= 500 || e.Message == "" {
				t.Fatalf("error %+v", e)
			}
			if n := utf8.RuneCountInString(e.Message); n > 300 || len(e.Param) > 300 {
				t.Fatalf("message of %d characters, param of %d", n, len(e.Param))
			}
			for _, leak := range []string{"multipart:", "EOF", "openai.", "%!"} {
				if strings.Contains(e.Message, leak) {
					t.Fatalf("message carries %q: %s", leak, e.Message)
				}
			}
			return
		}
		if len(in.images) > 16 {
			t.Fatalf("%d images accepted", len(in.images))
		}
		for _, img := range in.all() {
			if int64(len(img.data)) > s.opt.MaxImageBytes || img.mime == "" {
				t.Fatalf("image %s of %d bytes, type %q", img.name, len(img.data), img.mime)
			}
		}
	})
}
