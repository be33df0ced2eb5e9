package audio

import (
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strings"
)

// SpeechOutput is where a TTS model's audio is: a URL to stream from, or
// bytes the output carried inline.
type SpeechOutput struct {
	URL    string
	Inline []byte
}

// ParseSpeech reads the "audio" file of a TTS model's output. Its url is
// normally a CDN URL; a model asked for hex anyway (MiniMax's default)
// carries the hex-encoded bytes there, and some models a data: URI; both
// are decoded.
func ParseSpeech(body []byte) (*SpeechOutput, error) {
	var out struct {
		Audio *struct {
			URL string `json:"url"`
		} `json:"audio"`
	}
	if err := json.Unmarshal(body, &out); err != nil {
		return nil, err
	}
	if out.Audio == nil || out.Audio.URL == "" {
		return nil, errors.New(`the output has no "audio" file`)
	}
	u := out.Audio.URL
	switch {
	case strings.HasPrefix(u, "https://"), strings.HasPrefix(u, "http://"):
		return &SpeechOutput{URL: u}, nil
	case strings.HasPrefix(u, "data:"):
		_, payload, ok := strings.Cut(u, ";base64,")
		if !ok {
			return nil, errors.New("the audio data URI is not base64")
		}
		b, err := base64.StdEncoding.DecodeString(payload)
		if err != nil {
			return nil, errors.New("the audio data URI is not valid base64")
		}
		return &SpeechOutput{Inline: b}, nil
	}
	b, err := hex.DecodeString(u)
	if err != nil {
		return nil, errors.New("the audio is neither a URL nor hex")
	}
	return &SpeechOutput{Inline: b}, nil
}
