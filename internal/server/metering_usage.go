package server

import (
	"bytes"
	"encoding/json"
)

// usageTail is how much of the end of an answer is kept to read its
// token usage: the usage object closes a JSON answer and is in the last
// events of a stream.
const usageTail = 16 << 10

// tailRecorder keeps the end of what a handler wrote, for the token
// usage the answer reports.
type tailRecorder struct {
	*statusRecorder
	keep bool // false: the answer is not read, nothing is kept
	tail []byte
}

func (t *tailRecorder) Write(b []byte) (int, error) {
	n, err := t.statusRecorder.Write(b)
	if !t.keep {
		return n, err
	}
	b = b[max(0, n-usageTail):n]
	t.tail = append(t.tail, b...)
	if over := len(t.tail) - usageTail; over > 0 {
		t.tail = append(t.tail[:0], t.tail[over:]...)
	}
	return n, err
}

// reportedTokens reads the last "usage" object of an answer (chat
// completions, responses or embeddings, whole or streamed): its total, or
// the sum of its parts.
func reportedTokens(answer []byte) (int, bool) {
	var u struct {
		TotalTokens      int `json:"total_tokens"`
		PromptTokens     int `json:"prompt_tokens"`
		CompletionTokens int `json:"completion_tokens"`
		InputTokens      int `json:"input_tokens"`
		OutputTokens     int `json:"output_tokens"`
	}
	if !lastField(answer, "usage", &u) {
		return 0, false
	}
	if u.TotalTokens > 0 {
		return u.TotalTokens, true
	}
	sum := u.PromptTokens + u.CompletionTokens + u.InputTokens + u.OutputTokens
	return sum, sum > 0
}

// reportedDuration reads the last "duration" of an answer: the seconds
// of audio a verbose transcription covers.
func reportedDuration(answer []byte) (float64, bool) {
	var secs float64
	return secs, lastField(answer, "duration", &secs) && secs > 0
}

// lastField decodes the value of the last field called name in a JSON
// answer or event stream into v.
func lastField(answer []byte, name string, v any) bool {
	key := []byte(`"` + name + `"`)
	i := bytes.LastIndex(answer, key)
	if i < 0 {
		return false
	}
	rest := answer[i+len(key):]
	colon := bytes.IndexByte(rest, ':')
	if colon < 0 {
		return false
	}
	return json.NewDecoder(bytes.NewReader(rest[colon+1:])).Decode(v) == nil
}
