package video

import (
	"encoding/json"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/falproxy/falproxy/internal/falschema"
	"github.com/falproxy/falproxy/internal/openai"
)

// Plan is fal's input for one video request, read from the endpoint's
// schema: no per-model table.
type Plan struct {
	Input map[string]any
	// Seconds is the length that will be generated, as the Video object
	// reports it ("" when the model has no duration field).
	Seconds string
	// ImageField is where the input image's URL goes (Input lacks it
	// until the caller has made a URL fal can read); "" without an image.
	ImageField string
}

// Param names the request field a fal input field came from, in OpenAI's
// words, for fal's validation errors.
func Param(falField string) string {
	switch {
	case falField == "duration":
		return "seconds"
	case falField == "aspect_ratio", falField == "resolution":
		return "size"
	case isStartImage(falField):
		return "input_reference"
	}
	return falField
}

// PlanInput maps a request onto the capabilities of the endpoint that will
// run it: prompt, seconds to the duration in the type the schema wants,
// size to aspect_ratio and resolution, the input image's field, and the
// extras the schema declares, but for the fields falproxy fills itself
// (see managed). extra holds the client's extras, typed.
func PlanInput(req *Request, extra map[string]json.RawMessage, caps *falschema.Capabilities) (*Plan, *openai.Error) {
	p := &Plan{Input: map[string]any{}}
	if _, ok := caps.Fields["prompt"]; ok {
		p.Input["prompt"] = req.Prompt
	}
	if e := p.duration(req.Seconds, caps); e != nil {
		return nil, e
	}
	if e := p.size(req.Size, caps); e != nil {
		return nil, e
	}
	if req.Image != nil {
		p.ImageField = imageField(caps)
		if p.ImageField == "" {
			return nil, openai.InvalidRequest("input_reference", "unsupported_parameter",
				"This model takes no input image; send the request without input_reference.")
		}
	}
	for name, raw := range extra {
		if _, declared := caps.Fields[name]; !declared || managed[name] || name == p.ImageField {
			continue
		}
		p.Input[name] = raw
	}
	return p, nil
}

// RemixInput is fal's input for a remix: the new prompt and the video id
// of the earlier job's result, where the remix endpoint declares them.
func RemixInput(prompt, falVideoID string, caps *falschema.Capabilities) map[string]any {
	in := map[string]any{}
	if _, ok := caps.Fields["prompt"]; ok {
		in["prompt"] = prompt
	}
	if _, ok := caps.Fields["video_id"]; ok {
		in["video_id"] = falVideoID
	}
	return in
}

// imageField is the field an endpoint takes its starting image in: a
// required image URL field first, else image_url, start_image_url,
// first_frame_url, else any other *image_url field that is not an end
// frame. "" when it takes none.
func imageField(caps *falschema.Capabilities) string {
	for _, name := range caps.Required {
		if isStartImage(name) {
			return name
		}
	}
	for _, name := range []string{"image_url", "start_image_url", "first_frame_url", "first_frame_image_url"} {
		if _, ok := caps.Fields[name]; ok {
			return name
		}
	}
	best := ""
	for name := range caps.Fields {
		if isStartImage(name) && (best == "" || name < best) {
			best = name
		}
	}
	return best
}

// isStartImage reports a field that takes one image URL and is not the
// last frame of the video.
func isStartImage(name string) bool {
	return (strings.HasSuffix(name, "image_url") || name == "first_frame_url") &&
		!strings.HasPrefix(name, "end_") && !strings.HasPrefix(name, "last_")
}

// duration sets the duration field from seconds: the exact value when the
// schema allows it, else the nearest allowed one, in the schema's type
// (8, "8" or "8s"). Without seconds, the model's default is left alone and
// reported. A model without a duration field takes no length: seconds is
// checked but not sent, and the Video's seconds stays "".
func (p *Plan) duration(seconds string, caps *falschema.Capabilities) *openai.Error {
	want := 0.0
	if seconds != "" {
		n, ok := parseSeconds(seconds)
		if !ok {
			return openai.InvalidRequest("seconds", "invalid_value",
				"Invalid 'seconds': expected a whole number of seconds such as \"4\" or \"8\", got %q.", openai.Echo(seconds))
		}
		want = n
	}
	f, ok := caps.Fields["duration"]
	if !ok {
		return nil // the model picks the length, which only its result tells
	}
	if seconds == "" {
		p.Seconds = defaultSeconds(f)
		return nil
	}
	value, used := nearestDuration(f, want)
	p.Input["duration"] = value
	p.Seconds = strconv.FormatFloat(used, 'f', -1, 64)
	return nil
}

// parseSeconds reads "8", "8s" or "8.0" as a positive number of seconds.
func parseSeconds(s string) (float64, bool) {
	s = strings.TrimSuffix(strings.TrimSpace(s), "s")
	n, err := strconv.ParseFloat(s, 64)
	return n, err == nil && n > 0 && n <= 3600 && !math.IsNaN(n)
}

// defaultSeconds is the seconds of a duration field's default, or "".
func defaultSeconds(f falschema.Field) string {
	var v any
	if json.Unmarshal(f.Default, &v) != nil {
		return ""
	}
	if n, ok := enumSeconds(v); ok {
		return strconv.FormatFloat(n, 'f', -1, 64)
	}
	return ""
}

// enumSeconds reads an allowed duration value (4, "4" or "4s").
func enumSeconds(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case string:
		return parseSeconds(x)
	}
	return 0, false
}

// nearestDuration picks the duration value for want seconds: the allowed
// value closest to it (the shorter on a tie), or, for a free field, want
// itself within the field's bounds, written in the field's type.
func nearestDuration(f falschema.Field, want float64) (value any, seconds float64) {
	best, bestDist := any(nil), math.Inf(1)
	for _, v := range f.Enum {
		n, ok := enumSeconds(v)
		if !ok {
			continue
		}
		if d := math.Abs(n - want); d < bestDist || d == bestDist && n < seconds {
			best, bestDist, seconds = v, d, n
		}
	}
	if best != nil {
		return best, seconds
	}
	n := math.Round(want)
	if f.Min != nil {
		n = math.Max(n, math.Ceil(*f.Min))
	}
	if f.Max != nil {
		n = math.Min(n, math.Floor(*f.Max))
	}
	if slices.Contains(f.Types, "integer") || slices.Contains(f.Types, "number") {
		return n, n
	}
	return strconv.FormatFloat(n, 'f', -1, 64), n
}
