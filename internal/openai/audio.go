package openai

import (
	"encoding/json"
	"slices"
	"unicode/utf8"
)

// MaxSpeechInput is the most characters OpenAI's speech endpoint reads.
const MaxSpeechInput = 4096

// SpeechRequest is the body of POST /v1/audio/speech.
type SpeechRequest struct {
	Model          string
	Input          string
	Voice          string   // a name, or the id of a {"id": ...} voice object
	ResponseFormat string   // mp3 (default), opus, aac, flac, wav, pcm
	Speed          *float64 // 0.25 to 4
	StreamFormat   string   // audio (default) or sse
}

// SpeechFormats are the response_format values OpenAI's speech takes.
var SpeechFormats = []string{"mp3", "opus", "aac", "flac", "wav", "pcm"}

// DecodeSpeech parses and checks the body of POST /v1/audio/speech as
// OpenAI does: input is required and at most MaxSpeechInput characters,
// voice a string or an object with an id, speed within 0.25 and 4.
func DecodeSpeech(body []byte) (*SpeechRequest, *Error) {
	fields, e := DecodeObject(body)
	if e != nil {
		return nil, e
	}
	req := &SpeechRequest{}
	var instructions string // checked, then dropped: fal's TTS models take none
	for _, s := range []fieldSpec{
		{"model", &req.Model, "a string"},
		{"input", &req.Input, "a string"},
		{"instructions", &instructions, "a string"},
		{"response_format", &req.ResponseFormat, "a string"},
		{"speed", &req.Speed, "a number"},
		{"stream_format", &req.StreamFormat, "a string"},
	} {
		if e := field(fields, s.name, s.dst, s.want); e != nil {
			return nil, e
		}
	}
	if e := decodeVoice(fields["voice"], &req.Voice); e != nil {
		return nil, e
	}
	switch n := utf8.RuneCountInString(req.Input); {
	case n == 0:
		return nil, InvalidRequest("input", "missing_required_parameter", "Missing required parameter: 'input'.")
	case n > MaxSpeechInput:
		return nil, InvalidRequest("input", "string_above_max_length",
			"Invalid 'input': string too long. Expected a string with maximum length %d, but got a string with length %d instead.", MaxSpeechInput, n)
	}
	if req.Speed != nil && (*req.Speed < 0.25 || *req.Speed > 4) {
		return nil, InvalidRequest("speed", "invalid_value", "Invalid 'speed': it must be between 0.25 and 4, got %g.", *req.Speed)
	}
	if req.ResponseFormat != "" && !slices.Contains(SpeechFormats, req.ResponseFormat) {
		return nil, InvalidRequest("response_format", "invalid_value",
			"Invalid 'response_format': %q is not one of mp3, opus, aac, flac, wav, pcm.", Echo(req.ResponseFormat))
	}
	if req.StreamFormat == "sse" {
		return nil, InvalidRequest("stream_format", "unsupported_value",
			"Invalid 'stream_format': this server streams the audio itself; send stream_format \"audio\" or leave it out.")
	}
	return req, nil
}

// decodeVoice reads voice as a name or as a custom voice {"id": ...}.
func decodeVoice(raw json.RawMessage, dst *string) *Error {
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	if json.Unmarshal(raw, dst) == nil {
		return nil
	}
	var obj struct {
		ID string `json:"id"`
	}
	if json.Unmarshal(raw, &obj) == nil && obj.ID != "" {
		*dst = obj.ID
		return nil
	}
	return InvalidRequest("voice", "invalid_type", "Invalid type for 'voice': expected a voice name or an object with an 'id'.")
}

// TranscriptionRequest is a transcription or translation as its multipart
// form carries it.
type TranscriptionRequest struct {
	File           File
	Model          string
	Language       string
	Prompt         string
	ResponseFormat string // json (default), text, srt, verbose_json, vtt
	// Granularities are the timestamp_granularities[] given: segment, word.
	Granularities []string
}

// TranscriptFormats are the response_format values transcription takes.
var TranscriptFormats = []string{"json", "text", "srt", "verbose_json", "vtt"}

// AudioModels is the body of GET /v1/audio/models.
type AudioModels struct {
	Models []AudioModelID `json:"models"`
}

// AudioModelID names one audio model.
type AudioModelID struct {
	ID string `json:"id"`
}

// AudioVoices is the body of GET /v1/audio/voices.
type AudioVoices struct {
	Voices []AudioVoice `json:"voices"`
}

// AudioVoice is one voice a speech model offers.
type AudioVoice struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}
