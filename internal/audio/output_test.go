package audio

import (
	"bytes"
	"testing"
)

func TestParseSpeech(t *testing.T) {
	wav := []byte("RIFF\x04\x00\x00\x00WAVE")
	tests := []struct {
		body   string
		url    string
		inline []byte
	}{
		{`{"audio":{"url":"https://v3.fal.media/files/a/speech.mp3"}}`, "https://v3.fal.media/files/a/speech.mp3", nil},
		{`{"audio":{"url":"524946460400000057415645"},"duration_ms":1}`, "", wav},
		{`{"audio":{"url":"data:audio/wav;base64,UklGRgQAAABXQVZF"}}`, "", wav},
	}
	for _, tt := range tests {
		out, err := ParseSpeech([]byte(tt.body))
		if err != nil {
			t.Errorf("%s: %v", tt.body, err)
			continue
		}
		if out.URL != tt.url || !bytes.Equal(out.Inline, tt.inline) {
			t.Errorf("%s: got %+v", tt.body, out)
		}
	}
	for _, bad := range []string{`{}`, `{"audio":{"url":"not hex"}}`, `{"audio":{"url":"data:audio/wav,abc"}}`, `[]`} {
		if _, err := ParseSpeech([]byte(bad)); err == nil {
			t.Errorf("%s: no error", bad)
		}
	}
}
