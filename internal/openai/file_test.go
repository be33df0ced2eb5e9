package openai

import "testing"

func TestIsImageField(t *testing.T) {
	for name, want := range map[string]bool{
		"image": true, "image[]": true, "image[0]": true, "image[15]": true,
		"images": false, "image[x]": false, "image[": false, "mask": false, "foo]": false, "image[-1]": false,
	} {
		if got := isImageField(name); got != want {
			t.Errorf("isImageField(%q) = %v", name, got)
		}
	}
}

func TestSniffImage(t *testing.T) {
	tests := []struct {
		name string
		data []byte
		want string // "" = rejected
	}{
		{"png", []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), "image/png"},
		{"jpeg", []byte("\xff\xd8\xff\xe0\x00\x10JFIF"), "image/jpeg"},
		{"gif", []byte("GIF89a\x01\x00\x01\x00"), "image/gif"},
		{"webp", []byte("RIFF\x24\x00\x00\x00WEBPVP8 "), "image/webp"},
		{"text", []byte("just words"), ""},
		{"pdf", []byte("%PDF-1.7\n"), ""},
		{"empty", nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, e := sniffImage("image", tt.data)
			if got != tt.want || (e != nil) != (tt.want == "") {
				t.Fatalf("sniffImage = %q, %v", got, e)
			}
			if e != nil && (e.Param != "image" || e.Code != "invalid_image_format") {
				t.Fatalf("error %+v", e)
			}
		})
	}
}
