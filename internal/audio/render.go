package audio

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
)

// Chunk is one timestamped piece of a transcript: a segment, or a word
// when the model chunked by word.
type Chunk struct {
	Start, End float64
	Text       string
}

// Transcript is a speech-to-text model's output.
type Transcript struct {
	Text     string
	Chunks   []Chunk
	Language string // the first language fal names; "" if none
}

// ParseTranscript reads fal's output: "text", "chunks" with
// "timestamp": [start, end] (an end may be null: the recording's end),
// and "languages" or "inferred_languages".
func ParseTranscript(body []byte) (*Transcript, error) {
	var out struct {
		Text   *string `json:"text"`
		Chunks []struct {
			Text      string     `json:"text"`
			Timestamp []*float64 `json:"timestamp"`
		} `json:"chunks"`
		Languages         []string `json:"languages"`
		InferredLanguages []string `json:"inferred_languages"`
	}
	if err := json.Unmarshal(body, &out); err != nil {
		return nil, fmt.Errorf("transcript: %w", err)
	}
	if out.Text == nil {
		return nil, errors.New(`transcript: the output has no "text"`)
	}
	t := &Transcript{Text: strings.TrimSpace(*out.Text)}
	for _, c := range out.Chunks {
		var ch Chunk
		ch.Text = strings.TrimSpace(c.Text)
		if len(c.Timestamp) > 0 && c.Timestamp[0] != nil {
			ch.Start = *c.Timestamp[0]
		}
		ch.End = ch.Start
		if len(c.Timestamp) > 1 && c.Timestamp[1] != nil {
			ch.End = max(*c.Timestamp[1], ch.Start)
		}
		t.Chunks = append(t.Chunks, ch)
	}
	if langs := append(out.Languages, out.InferredLanguages...); len(langs) > 0 {
		t.Language = langs[0]
	}
	return t, nil
}

// Duration is the end of the last chunk.
func (t *Transcript) Duration() float64 {
	d := 0.0
	for _, c := range t.Chunks {
		d = max(d, c.End)
	}
	return d
}

// Segments are the transcript's segments: its chunks, or, when the chunks
// are words, the words joined into sentences (split after . ! ? and the
// like).
func (t *Transcript) Segments(words bool) []Chunk {
	if !words {
		return t.Chunks
	}
	var segs []Chunk
	var cur *Chunk
	for _, w := range t.Chunks {
		if cur == nil {
			segs = append(segs, Chunk{Start: w.Start, Text: w.Text})
			cur = &segs[len(segs)-1]
		} else {
			cur.Text += " " + w.Text
		}
		cur.End = w.End
		if strings.ContainsAny(lastRune(w.Text), ".!?。！？") {
			cur = nil
		}
	}
	return segs
}

func lastRune(s string) string {
	r := []rune(s)
	if len(r) == 0 {
		return ""
	}
	return string(r[len(r)-1])
}

// Render writes the transcript in an OpenAI response_format and returns
// its Content-Type. words reports that the chunks are words (verbose_json
// then lists them); task is "transcribe" or "translate".
func Render(t *Transcript, format, task string, words bool) (contentType string, body []byte) {
	switch format {
	case "text":
		return "text/plain; charset=utf-8", []byte(t.Text + "\n")
	case "srt":
		return "text/plain; charset=utf-8", cues(t.Segments(words), "", ",", true)
	case "vtt":
		return "text/vtt; charset=utf-8", cues(t.Segments(words), "WEBVTT\n\n", ".", false)
	case "verbose_json":
		return "application/json", verbose(t, task, words)
	}
	b, _ := json.Marshal(map[string]string{"text": t.Text})
	return "application/json", b
}

// cues writes subtitle cues: numbered from 1 for SRT, with the
// millisecond separator of the format.
func cues(segs []Chunk, header, msSep string, numbered bool) []byte {
	var b strings.Builder
	b.WriteString(header)
	for i, s := range segs {
		if numbered {
			fmt.Fprintf(&b, "%d\n", i+1)
		}
		fmt.Fprintf(&b, "%s --> %s\n%s\n\n", clock(s.Start, msSep), clock(s.End, msSep), s.Text)
	}
	return []byte(b.String())
}

// clock formats seconds as HH:MM:SS<sep>mmm.
func clock(secs float64, sep string) string {
	ms := int64(math.Round(max(secs, 0) * 1000))
	return fmt.Sprintf("%02d:%02d:%02d%s%03d", ms/3600000, ms/60000%60, ms/1000%60, sep, ms%1000)
}

// verboseSegment and verboseWord are verbose_json's entries, with every
// field openai-go's TranscriptionSegment requires; the scores fal does not
// give are zero.
type verboseSegment struct {
	ID               int     `json:"id"`
	Seek             int     `json:"seek"`
	Start            float64 `json:"start"`
	End              float64 `json:"end"`
	Text             string  `json:"text"`
	Tokens           []int   `json:"tokens"`
	Temperature      float64 `json:"temperature"`
	AvgLogprob       float64 `json:"avg_logprob"`
	CompressionRatio float64 `json:"compression_ratio"`
	NoSpeechProb     float64 `json:"no_speech_prob"`
}

type verboseWord struct {
	Word  string  `json:"word"`
	Start float64 `json:"start"`
	End   float64 `json:"end"`
}

func verbose(t *Transcript, task string, words bool) []byte {
	v := struct {
		Task     string           `json:"task"`
		Language string           `json:"language"`
		Duration float64          `json:"duration"`
		Text     string           `json:"text"`
		Segments []verboseSegment `json:"segments"`
		Words    []verboseWord    `json:"words,omitempty"`
	}{Task: task, Language: t.Language, Duration: t.Duration(), Text: t.Text, Segments: []verboseSegment{}}
	for i, s := range t.Segments(words) {
		v.Segments = append(v.Segments, verboseSegment{ID: i, Start: s.Start, End: s.End, Text: s.Text, Tokens: []int{}})
	}
	if words {
		for _, w := range t.Chunks {
			v.Words = append(v.Words, verboseWord{Word: w.Text, Start: w.Start, End: w.End})
		}
	}
	b, _ := json.Marshal(v)
	return b
}
