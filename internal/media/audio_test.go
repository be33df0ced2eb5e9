package media

import "testing"

func TestSniffAudio(t *testing.T) {
	tests := []struct {
		name string
		head string
		want string
	}{
		{"wav", "RIFF\x24\x00\x00\x00WAVEfmt ", "audio/wav"},
		{"webp is no sound", "RIFF\x24\x00\x00\x00WEBPVP8 ", ""},
		{"flac", "fLaC\x00\x00\x00\x22", "audio/flac"},
		{"ogg", "OggS\x00\x02", "audio/ogg"},
		{"mp3 with id3", "ID3\x04\x00\x00", "audio/mpeg"},
		{"mp3 frame", "\xff\xfb\x90\x64", "audio/mpeg"},
		{"aac adts", "\xff\xf1\x50\x80", "audio/aac"},
		{"m4a", "\x00\x00\x00\x20ftypM4A \x00\x00", "audio/mp4"},
		{"m4b", "\x00\x00\x00\x20ftypM4B \x00\x00", "audio/mp4"},
		{"mp4 v1", "\x00\x00\x00\x20ftypmp41\x00\x00", "audio/mp4"},
		{"mp4 v2", "\x00\x00\x00\x20ftypmp42\x00\x00", "audio/mp4"},
		{"iso base media", "\x00\x00\x00\x1cftypisom\x00\x00", "audio/mp4"},
		{"avif is no sound", "\x00\x00\x00\x1cftypavif\x00\x00", ""},
		{"quicktime is not known", "\x00\x00\x00\x14ftypqt  \x00\x00", ""},
		{"ftyp cut short", "\x00\x00\x00\x20ftyp", ""},
		{"webm", "\x1a\x45\xdf\xa3\x9f", "audio/webm"},
		{"jpeg is no sound", "\xff\xd8\xff\xe0", ""},
		{"text", "Internal Server Error", ""},
		{"empty", "", ""},
	}
	for _, tt := range tests {
		if got := SniffAudio([]byte(tt.head)); got != tt.want {
			t.Errorf("%s: SniffAudio = %q, want %q", tt.name, got, tt.want)
		}
		if tt.want != "" && Sniff([]byte(tt.head)) != "" {
			t.Errorf("%s: Sniff takes a sound for an image", tt.name)
		}
	}
}
