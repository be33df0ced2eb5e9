package images

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
	"unsafe"

	"github.com/falproxy/falproxy/internal/openai"
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
	out.Prompt = outputString(o.Prompt) // a non-string prompt is ignored
	out.RevisedPrompt = outputString(o.RevisedPrompt)
	return out, nil
}

// outputString is the value of raw when it is a JSON string, else "".
func outputString(raw json.RawMessage) string {
	if s, ok := openai.PlainString(raw); ok {
		return s
	}
	var s string
	_ = json.Unmarshal(raw, &s)
	return s
}

// imageList decodes an array of images, a single image, or null; images
// without a usable URL are dropped.
type imageList []Image

func (l *imageList) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) == 0 || bytes.Equal(b, []byte("null")):
		return nil
	case b[0] == '[':
		// Each element is decoded in place (listItem), not first copied
		// out as raw JSON: with sync_mode an element holds a whole image.
		var items []listItem
		if err := json.Unmarshal(b, &items); err != nil {
			return err
		}
		for _, it := range items {
			if usableURL(it.URL) {
				*l = append(*l, Image(it))
			}
		}
		return nil
	}
	img, err := decodeImage(b)
	if err != nil {
		return fmt.Errorf("image 0: %w", err)
	}
	if usableURL(img.URL) {
		*l = append(*l, img)
	}
	return nil
}

// usableURL accepts what a client can fetch or decode: an http(s) URL or a
// data: URI. Anything else in fal's answer is not an image.
func usableURL(u string) bool {
	scheme, _, ok := strings.Cut(u, ":")
	if !ok {
		return false
	}
	switch strings.ToLower(scheme) {
	case "http", "https", "data":
		return true
	}
	return false
}

// listItem is one element of an image array.
type listItem Image

func (it *listItem) UnmarshalJSON(b []byte) error {
	img, err := decodeImage(b)
	*it = listItem(img)
	return err
}

// decodeImage reads one image object or a bare URL string. Sizes written
// as non-integral or absurd numbers are ignored.
func decodeImage(b json.RawMessage) (Image, error) {
	if len(b) > 0 && b[0] == '"' {
		var u inputString
		err := u.UnmarshalJSON(b)
		return Image{URL: string(u)}, err
	}
	var f struct {
		URL         inputString `json:"url"`
		Width       float64     `json:"width"`
		Height      float64     `json:"height"`
		ContentType string      `json:"content_type"`
		FileName    string      `json:"file_name"`
	}
	if err := json.Unmarshal(b, &f); err != nil {
		return Image{}, err
	}
	return Image{URL: string(f.URL), Width: dimension(f.Width), Height: dimension(f.Height), ContentType: f.ContentType, FileName: f.FileName}, nil
}

// inputString decodes a JSON string without copying it when it holds no
// escapes: the string then shares the bytes of fal's output. A sync_mode
// result carries each image as one base64 string of several megabytes;
// sharing it keeps a single copy of the image in memory between fal's
// answer and the client's. The output buffer is never written after it is
// read, which is what makes sharing safe: internal/fal hands out a fresh
// buffer per result and never reuses it (see fal's readResponse), and
// callers of ParseOutput must not write to raw afterwards.
// TestParsedOutputSurvivesNextResult guards the fal side of that rule.
type inputString string

func (s *inputString) UnmarshalJSON(b []byte) error {
	if len(b) >= 2 && b[0] == '"' && b[len(b)-1] == '"' && bytes.IndexByte(b, '\\') < 0 && len(b) > 1024 {
		if body := b[1 : len(b)-1]; utf8.Valid(body) {
			// Safe only because body is never rewritten; see above.
			*s = inputString(unsafe.String(&body[0], len(body)))
			return nil
		}
	}
	if v, ok := openai.PlainString(b); ok {
		*s = inputString(v)
		return nil
	}
	var v string
	err := json.Unmarshal(b, &v)
	*s = inputString(v)
	return err
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
