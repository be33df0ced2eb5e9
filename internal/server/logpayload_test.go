package server

import (
	"strings"
	"testing"
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
