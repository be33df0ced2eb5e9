package video

import (
	"encoding/json"
	"slices"
)

// Output is what falproxy reads of a video endpoint's result.
type Output struct {
	// URLs of the variants fal produced, by OpenAI's variant name:
	// "video", "thumbnail", "spritesheet".
	URLs map[string]string
	// VideoID is the id fal's remix endpoints take (Sora's video_id).
	VideoID string
}

// variants are OpenAI's content variants, each a File field of the same
// name in fal's output.
var variants = []string{"video", "thumbnail", "spritesheet"}

// IsVariant reports whether v names a content variant.
func IsVariant(v string) bool { return slices.Contains(variants, v) }

// ParseOutput reads a video result. A variant counts only with a URL.
func ParseOutput(body []byte) (*Output, bool) {
	var raw map[string]json.RawMessage
	if json.Unmarshal(body, &raw) != nil {
		return nil, false
	}
	out := &Output{URLs: map[string]string{}}
	for _, name := range variants {
		var f struct {
			URL string `json:"url"`
		}
		if json.Unmarshal(raw[name], &f) == nil && f.URL != "" {
			out.URLs[name] = f.URL
		}
	}
	_ = json.Unmarshal(raw["video_id"], &out.VideoID)
	return out, out.URLs["video"] != ""
}
