package media

import "bytes"

// SniffAudio names the audio format of data from its first bytes
// ("audio/wav", "audio/mpeg", "audio/flac", "audio/ogg", "audio/aac",
// "audio/mp4" or "audio/webm"), or "" when they are not audio falproxy
// knows. It is apart from Sniff, which answers for images only, so that a
// sound is never taken for an image nor the reverse.
func SniffAudio(head []byte) string {
	head = head[:min(len(head), SniffLen)]
	switch {
	case len(head) >= 12 && bytes.Equal(head[:4], []byte("RIFF")) && bytes.Equal(head[8:12], []byte("WAVE")):
		return "audio/wav"
	case bytes.HasPrefix(head, []byte("fLaC")):
		return "audio/flac"
	case bytes.HasPrefix(head, []byte("OggS")):
		return "audio/ogg"
	case bytes.HasPrefix(head, []byte("ID3")):
		return "audio/mpeg"
	case bytes.HasPrefix(head, []byte("\x1a\x45\xdf\xa3")):
		return "audio/webm"
	case isAudioBrand(isoBrand(head)):
		return "audio/mp4"
	case len(head) >= 2 && head[0] == 0xff && head[1]&0xf6 == 0xf0:
		return "audio/aac" // ADTS: sync word, layer 0
	case len(head) >= 2 && head[0] == 0xff && head[1]&0xe0 == 0xe0 && head[1]&0x06 != 0:
		return "audio/mpeg" // an MPEG audio frame: sync word, a layer
	}
	return ""
}

// isAudioBrand recognises the ISO-BMFF brands an audio file (m4a, or an
// mp4 with sound, which speech models read as well) is made with.
func isAudioBrand(brand string) bool {
	switch brand {
	case "M4A ", "M4B ", "mp41", "mp42", "isom", "iso2", "dash":
		return true
	}
	return false
}
