package video

import (
	"github.com/falproxy/falproxy/internal/falschema"
	"github.com/falproxy/falproxy/internal/images"
	"github.com/falproxy/falproxy/internal/openai"
)

// size sets aspect_ratio (the allowed ratio nearest to the size's, left
// out where the schema has no such field) and resolution (the tier of the
// size's shorter side, as video tiers are named, nearest allowed; left to
// the model's default where the schema enumerates no tiers). Sizes are
// read and matched as for images.
func (p *Plan) size(size string, caps *falschema.Capabilities) *openai.Error {
	if size == "" {
		return nil
	}
	w, h, auto, err := images.ParseSize(size)
	if err != nil || auto {
		return openai.InvalidRequest("size", "invalid_value",
			"Invalid 'size': expected width x height in pixels such as \"1280x720\", got %q.", openai.Echo(size))
	}
	if ar := images.NearestRatio(w, h, caps.Enums["aspect_ratio"]); ar != "" {
		p.Input["aspect_ratio"] = ar
	}
	if res := images.NearestTier(min(w, h), caps.Enums["resolution"], images.ShortSide); res != "" {
		p.Input["resolution"] = res
	}
	return nil
}
