package media

import "testing"

func TestSniff(t *testing.T) {
	tests := []struct {
		head string
		want string
	}{
		{"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "image/png"},
		{"\xff\xd8\xff\xe0\x00\x10JFIF", "image/jpeg"},
		{"RIFF\x24\x00\x00\x00WEBPVP8 ", "image/webp"},
		{"GIF89a\x01\x00", "image/gif"},
		{"\x00\x00\x00\x1cftypavif\x00\x00\x00\x00", "image/avif"},
		{"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00", "image/heic"},
		{`<svg xmlns="http://www.w3.org/2000/svg"/>`, "image/svg+xml"},
		{"\xef\xbb\xbf<?xml version=\"1.0\"?>\n<!-- made by a model -->\n<svg></svg>", "image/svg+xml"},
		{"<html><body>Service unavailable</body></html>", ""},
		{`{"detail":"Not Found"}`, ""},
		{"<?xml version=\"1.0\"?><error>denied</error>", ""},
		{"\x00\x00\x00\x18ftypmp42", ""},
		{"BM", ""},
		{"BM\x36\x00\x0c\x00\x00\x00\x00\x00\x36\x00\x00\x00\x28\x00\x00\x00", "image/bmp"},
		{"BMP conversion failed: out of memory", ""},
		{"", ""},
	}
	for _, tt := range tests {
		if got := Sniff([]byte(tt.head)); got != tt.want {
			t.Errorf("Sniff(%q) = %q, want %q", tt.head, got, tt.want)
		}
	}
}
