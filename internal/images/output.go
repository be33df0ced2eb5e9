package images

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// ErrNoImage is returned by ParseOutput when fal's output holds no image.
var ErrNoImage = errors.New("fal output has no image")

// Output is what falproxy reads from a fal image model's result.
type Output struct {
	Images []Image
	Seed   *int64 // the seed used, when reported
	// Prompt is the output's "prompt" and RevisedPrompt its
	// "revised_prompt", as the model reports them (empty when absent).
	Prompt        string
	RevisedPrompt string
}

// Image is one output image. URL may be a data: URI (sync_mode).
type Image struct {
	URL         string `json:"url"`
	Width       int    `json:"width,omitempty"`
	Height      int    `json:"height,omitempty"`
	ContentType string `json:"content_type,omitempty"`
	FileName    string `json:"file_name,omitempty"`
}

// ParseOutput reads a fal image output: {"images": [{url, width?, height?,
// content_type?, file_name?}, ...]} or a single {"image": {...}}, plus
// seed, prompt and revised_prompt when present. An image may also be given
// as a bare URL string. Images without a URL are skipped; an output left
// with none is ErrNoImage.
func ParseOutput(raw []byte) (*Output, error) {
	var o struct {
		Images        imageList       `json:"images"`
		Image         imageList       `json:"image"`
		Seed          json.RawMessage `json:"seed"`
		Prompt        json.RawMessage `json:"prompt"`
		RevisedPrompt json.RawMessage `json:"revised_prompt"`
	}
	if err := json.Unmarshal(raw, &o); err != nil {
		return nil, fmt.Errorf("images: reading fal output: %w", err)
	}
	out := &Output{Images: append(o.Images, o.Image...)}
	if len(out.Images) == 0 {
		return nil, ErrNoImage
	}
	out.Seed = parseSeed(o.Seed)
	_ = json.Unmarshal(o.Prompt, &out.Prompt) // a non-string prompt is ignored
	_ = json.Unmarshal(o.RevisedPrompt, &out.RevisedPrompt)
	return out, nil
}

// imageList decodes an array of images, a single image, or null; images
// without a URL are dropped.
type imageList []Image

func (l *imageList) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	var items []json.RawMessage
	switch {
	case len(b) == 0 || bytes.Equal(b, []byte("null")):
		return nil
	case b[0] == '[':
		if err := json.Unmarshal(b, &items); err != nil {
			return err
		}
	default:
		items = []json.RawMessage{b}
	}
	for i, it := range items {
		img, err := decodeImage(it)
		if err != nil {
			return fmt.Errorf("image %d: %w", i, err)
		}
		if img.URL != "" {
			*l = append(*l, img)
		}
	}
	return nil
}

// decodeImage reads one image object or a bare URL string. Sizes written
// as non-integral or absurd numbers are ignored.
func decodeImage(b json.RawMessage) (Image, error) {
	if len(b) > 0 && b[0] == '"' {
		var u string
		err := json.Unmarshal(b, &u)
		return Image{URL: u}, err
	}
	var f struct {
		URL         string  `json:"url"`
		Width       float64 `json:"width"`
		Height      float64 `json:"height"`
		ContentType string  `json:"content_type"`
		FileName    string  `json:"file_name"`
	}
	if err := json.Unmarshal(b, &f); err != nil {
		return Image{}, err
	}
	return Image{URL: f.URL, Width: dimension(f.Width), Height: dimension(f.Height), ContentType: f.ContentType, FileName: f.FileName}, nil
}

func dimension(x float64) int {
	if x < 1 || x > MaxSide*16 || x != math.Trunc(x) {
		return 0
	}
	return int(x)
}

// parseSeed reads an integer seed written as a JSON number or string.
func parseSeed(raw json.RawMessage) *int64 {
	s := strings.Trim(string(bytes.TrimSpace(raw)), `"`)
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return &n
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil && f == math.Trunc(f) && math.Abs(f) < 1<<63 {
		n := int64(f)
		return &n
	}
	return nil
}

// RevisedPrompt is the prompt to report as revised_prompt: the output's
// revised_prompt, else its prompt, but only when it differs from the input
// prompt (ignoring surrounding space). Models that merely echo the prompt
// give "".
func RevisedPrompt(out *Output, input string) string {
	if out == nil {
		return ""
	}
	for _, p := range []string{out.RevisedPrompt, out.Prompt} {
		if t := strings.TrimSpace(p); t != "" && t != strings.TrimSpace(input) {
			return p
		}
	}
	return ""
}

// DataURI splits "data:<type>[;params];base64,<payload>" into the media
// type (without parameters; "" when none is named) and the payload, which
// is a substring of u: nothing is decoded or copied, so fal's base64 can
// be passed on as b64_json. ok is false for anything else, including a
// data URI that is not base64 or has an empty payload. The payload's
// alphabet is not checked.
func DataURI(u string) (mediaType, b64 string, ok bool) {
	const scheme, suffix = "data:", ";base64"
	if len(u) < len(scheme) || !strings.EqualFold(u[:len(scheme)], scheme) {
		return "", "", false
	}
	meta, payload, found := strings.Cut(u[len(scheme):], ",")
	if !found || payload == "" || len(meta) < len(suffix) || !strings.EqualFold(meta[len(meta)-len(suffix):], suffix) {
		return "", "", false
	}
	mediaType, _, _ = strings.Cut(meta[:len(meta)-len(suffix)], ";")
	return strings.TrimSpace(mediaType), payload, true
}
