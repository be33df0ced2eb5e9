package video

import (
	"fmt"
	"slices"

	"github.com/falproxy/falproxy/internal/falschema"
)

// Description summarises how falproxy drives a video endpoint, for
// `falproxy models`, `falproxy check` and GET /v1/models/{model}.
type Description struct {
	// Duration reports a duration field: without one the model picks
	// the length.
	Duration bool `json:"duration"`
	// Durations are the allowed values of the duration field as the
	// schema writes them (4, "8s", "10"); empty for a free field, which
	// takes any number of seconds within MinSeconds and MaxSeconds (nil:
	// unbounded).
	Durations    []string `json:"durations,omitempty"`
	MinSeconds   *float64 `json:"min_seconds,omitempty"`
	MaxSeconds   *float64 `json:"max_seconds,omitempty"`
	AspectRatios []string `json:"aspect_ratios,omitempty"`
	Resolutions  []string `json:"resolutions,omitempty"`
	// ImageField is where input_reference goes; "" when none.
	ImageField string `json:"image_field,omitempty"`
	// Remix reports a remix input (video_id).
	Remix bool `json:"remix,omitempty"`
	// Extras are the other declared fields, which pass through.
	Extras []string `json:"extras,omitempty"`
}

// managed are the fields falproxy fills itself, and "model", which a
// client cannot set: its `model` is the alias.
var managed = map[string]bool{"prompt": true, "duration": true, "aspect_ratio": true, "resolution": true, "video_id": true, "model": true}

// Describe summarises an endpoint's capabilities.
func Describe(caps *falschema.Capabilities) *Description {
	d := &Description{ImageField: imageField(caps)}
	if f, ok := caps.Fields["duration"]; ok {
		d.Duration = true
		for _, v := range f.Enum {
			d.Durations = append(d.Durations, fmt.Sprint(v))
		}
		if len(d.Durations) == 0 {
			d.MinSeconds, d.MaxSeconds = f.Min, f.Max
		}
	}
	d.AspectRatios = caps.Enums["aspect_ratio"]
	d.Resolutions = caps.Enums["resolution"]
	_, d.Remix = caps.Fields["video_id"]
	for name := range caps.Fields {
		if !managed[name] && name != d.ImageField {
			d.Extras = append(d.Extras, name)
		}
	}
	slices.Sort(d.Extras)
	return d
}
