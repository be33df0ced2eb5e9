package server

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestLoggableShortensDataURIsAndRedacts(t *testing.T) {
	s := &Server{opt: Options{Redact: func(v string) string { return strings.ReplaceAll(v, "sekret", "[redacted]") }}}
	payload := `{"image_url":"data:image/png;base64,` + strings.Repeat("QUJD", 100) + `","prompt":"sekret cat","mask_url":"data:image/png;base64,AAAA"}`
	got := s.loggable([]byte(payload))
	want := `{"image_url":"data:image/png;base64,…(400 base64 chars)","prompt":"[redacted] cat","mask_url":"data:image/png;base64,AAAA"}`
	if got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
}

func TestLoggableBoundsStringsAndStripsURLCredentials(t *testing.T) {
	long := strings.Repeat("é", 300)
	tests := []struct {
		name, payload, want string
	}{
		{"long string", `{"prompt":"` + long + `"}`, `{"prompt":"` + long[:2*256] + `…(44 more)"}`},
		{"string at the bound", `{"prompt":"` + long[:2*256] + `"}`, `{"prompt":"` + long[:2*256] + `"}`},
		{"url credentials", `{"image_url":"https://user:pa%40ss@cdn.example.com/a.png"}`, `{"image_url":"https://cdn.example.com/a.png"}`},
		{"credentials inside text", `{"prompt":"see http://bob:hunter2@10.0.0.1:8080/x and ftp://anon@files.example.org"}`,
			`{"prompt":"see http://10.0.0.1:8080/x and ftp://files.example.org"}`},
		{"an @ after the host stays", `{"prompt":"https://example.com/u?mail=a@b.c"}`, `{"prompt":"https://example.com/u?mail=a@b.c"}`},
		{"escapes kept", `{"prompt":"a \"quoted\" <tag> & \\n line"}`, `{"prompt":"a \"quoted\" <tag> & \\n line"}`},
		{"arrays and numbers", `{"image_urls":["https://u:p@h/1.png"],"seed":42}`, `{"image_urls":["https://h/1.png"],"seed":42}`},
	}
	s := &Server{opt: Options{Redact: func(v string) string { return v }}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := s.loggable([]byte(tt.payload)); got != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
}

func TestLoggableBoundsThePayload(t *testing.T) {
	s := &Server{opt: Options{Redact: func(v string) string { return v }}}
	var b strings.Builder
	b.WriteString(`{"image_urls":[`)
	for i := range 200 {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`"https://example.com/` + strings.Repeat("ü", 100) + `.png"`)
	}
	b.WriteString(`]}`)
	got := s.loggable([]byte(b.String()))
	body, note, ok := strings.Cut(got, "…(")
	if !ok || len(body) > maxLoggedPayload || !strings.HasSuffix(note, " more bytes)") || !strings.HasPrefix(got, `{"image_urls":["https://example.com/ü`) {
		t.Fatalf("%d bytes logged, ending %q", len(got), got[max(0, len(got)-40):])
	}
	if !utf8.ValidString(got) {
		t.Errorf("cut inside a character: %q", body[len(body)-8:])
	}
}
