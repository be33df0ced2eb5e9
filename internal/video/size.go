package video

import (
	"math"
	"strconv"
	"strings"

	"github.com/falproxy/falproxy/internal/falschema"
	"github.com/falproxy/falproxy/internal/openai"
)

// size sets aspect_ratio (the allowed ratio nearest to the size's, left
// out where the schema has no such field) and resolution (the tier of the
// size's shorter side, nearest allowed; left to the model's default where
// the schema enumerates no tiers).
func (p *Plan) size(size string, caps *falschema.Capabilities) *openai.Error {
	if size == "" {
		return nil
	}
	w, h, ok := parseSize(size)
	if !ok {
		return openai.InvalidRequest("size", "invalid_value",
			"Invalid 'size': expected width x height in pixels such as \"1280x720\", got %q.", openai.Echo(size))
	}
	if f, ok := caps.Fields["aspect_ratio"]; ok {
		if ar := nearestRatio(stringEnum(f), float64(w)/float64(h)); ar != "" {
			p.Input["aspect_ratio"] = ar
		}
	}
	if f, ok := caps.Fields["resolution"]; ok {
		if res := nearestTier(stringEnum(f), min(w, h)); res != "" {
			p.Input["resolution"] = res
		}
	}
	return nil
}

// parseSize reads "WxH" with positive sides.
func parseSize(s string) (w, h int, ok bool) {
	ws, hs, found := strings.Cut(strings.ToLower(strings.TrimSpace(s)), "x")
	if !found {
		return 0, 0, false
	}
	w, errW := strconv.Atoi(ws)
	h, errH := strconv.Atoi(hs)
	return w, h, errW == nil && errH == nil && w > 0 && h > 0 && w <= 16384 && h <= 16384
}

// stringEnum is the string members of a field's enumeration.
func stringEnum(f falschema.Field) []string {
	var out []string
	for _, v := range f.Enum {
		if s, ok := v.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

// nearestRatio picks the "W:H" value closest to ratio, compared on a log
// scale so that 16:9 and 9:16 are equally far from 1:1; "" when none
// parses ("auto" is never chosen: the size says what is wanted).
func nearestRatio(values []string, ratio float64) string {
	best, bestDist := "", math.Inf(1)
	for _, v := range values {
		ws, hs, ok := strings.Cut(v, ":")
		if !ok {
			continue
		}
		w, errW := strconv.ParseFloat(ws, 64)
		h, errH := strconv.ParseFloat(hs, 64)
		if errW != nil || errH != nil || w <= 0 || h <= 0 {
			continue
		}
		if d := math.Abs(math.Log(w / h / ratio)); d < bestDist {
			best, bestDist = v, d
		}
	}
	return best
}

// nearestTier picks the resolution tier ("480p", "720p", "1080p", "4k")
// whose short side is closest to side; "" when no value is a tier.
func nearestTier(values []string, side int) string {
	best, bestDist := "", math.Inf(1)
	for _, v := range values {
		lines, ok := tierLines(v)
		if !ok {
			continue
		}
		if d := math.Abs(float64(lines - side)); d < bestDist {
			best, bestDist = v, d
		}
	}
	return best
}

// tierLines reads a tier's short side: "720p" is 720, "4k" 2160, "2k" 1440.
func tierLines(v string) (int, bool) {
	t := strings.ToLower(v)
	switch t {
	case "4k", "2160p":
		return 2160, true
	case "2k", "1440p":
		return 1440, true
	}
	n, err := strconv.Atoi(strings.TrimSuffix(t, "p"))
	return n, err == nil && strings.HasSuffix(t, "p") && n > 0
}
