package images

import (
	"math"
	"regexp"
	"strconv"
	"strings"
)

// candidate is an enumerated size value with the pixel (or ratio) width and
// height it stands for.
type candidate struct {
	value string
	w, h  float64
}

// nearest returns the candidate closest to w×h in aspect ratio, measured as
// |log(w/h) − log(cw/ch)| so that 2:1 and 1:2 are equally far from 1:1.
// Ties go to the candidate closest in area, then to the first listed.
func nearest(w, h float64, cands []candidate) (candidate, bool) {
	const eps = 1e-9
	best, found := candidate{}, false
	var bestRatio, bestArea float64
	for _, c := range cands {
		if c.w <= 0 || c.h <= 0 {
			continue
		}
		r := math.Abs(logRatio(w, h) - logRatio(c.w, c.h))
		a := math.Abs(math.Log(w*h) - math.Log(c.w*c.h))
		if !found || r < bestRatio-eps || math.Abs(r-bestRatio) <= eps && a < bestArea-eps {
			best, bestRatio, bestArea, found = c, r, a, true
		}
	}
	return best, found
}

func logRatio(w, h float64) float64 { return math.Log(w / h) }

// parseRatio reads "W:H" with positive (possibly decimal) numbers.
func parseRatio(s string) (float64, float64, bool) {
	a, b, ok := strings.Cut(s, ":")
	if !ok {
		return 0, 0, false
	}
	w, err1 := strconv.ParseFloat(strings.TrimSpace(a), 64)
	h, err2 := strconv.ParseFloat(strings.TrimSpace(b), 64)
	if err1 != nil || err2 != nil || !(w > 0) || !(h > 0) || math.IsInf(w, 0) || math.IsInf(h, 0) {
		return 0, 0, false
	}
	return w, h, true
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// tierRe matches resolution tiers: "1K", "0.5K", "2k", "1080p", "1024".
var tierRe = regexp.MustCompile(`^(\d{1,5}(?:\.\d{1,3})?)\s*([kKpP]?)$`)

// TierSide says which side of a frame a resolution tier is matched by.
type TierSide int

// The sides: image tiers ("1K", "2K") name the long side; video tiers
// ("720p", "4k") the short side, the height of a landscape frame.
const (
	LongSide TierSide = iota
	ShortSide
)

// tierSide is the nominal long side of a resolution tier: nK is n×1024
// pixels, np (a video-style height) is the long side of a 16:9 frame of
// that height, a bare number is itself. For ShortSide it is the short side
// of a 16:9 frame: np is n, and 4K is 2160 as video names it.
func tierSide(t string, by TierSide) (float64, bool) {
	m := tierRe.FindStringSubmatch(strings.TrimSpace(t))
	if m == nil {
		return 0, false
	}
	v, _ := strconv.ParseFloat(m[1], 64)
	switch unit := strings.ToLower(m[2]); {
	case unit == "k" && by == ShortSide:
		v *= 540 // 4k is 3840x2160, 2k 1920x1080 or near
	case unit == "k":
		v *= 1024
	case unit == "p" && by == LongSide:
		v = math.Round(v * 16 / 9)
	}
	return v, v > 0
}

// NearestTier picks the tier whose nominal side (see TierSide) is nearest
// to side; ties go to the larger tier, so the frame is not smaller than
// asked.
func NearestTier(side int, tiers []string, by TierSide) string {
	best, bestSide, bestDist := "", 0.0, math.Inf(1)
	for _, t := range tiers {
		s, ok := tierSide(t, by)
		if !ok {
			continue
		}
		d := math.Abs(s - float64(side))
		if d < bestDist || d == bestDist && s > bestSide {
			best, bestSide, bestDist = t, s, d
		}
	}
	return best
}

// NearestRatio picks the "W:H" value of ratios nearest to w×h in aspect
// (see nearest); "" when none parses.
func NearestRatio(w, h int, ratios []string) string {
	c, _ := nearest(float64(w), float64(h), ratioCandidates(ratios))
	return c.value
}

// ratioCandidates are the "W:H" values of ratios that parse.
func ratioCandidates(ratios []string) []candidate {
	var cands []candidate
	for _, r := range ratios {
		if rw, rh, ok := parseRatio(r); ok {
			cands = append(cands, candidate{r, rw, rh})
		}
	}
	return cands
}
