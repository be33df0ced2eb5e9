// Package pricing knows what fal charges for an endpoint: its unit price
// and unit, from fal's pricing API (cached, refreshed daily) or a local
// prices file, and turns a request's measures into units and a cost.
package pricing

import (
	"math"
	"strconv"
	"strings"
)

// Price is what fal charges for one unit of an endpoint's output.
type Price struct {
	UnitPrice float64 `json:"unit_price"` // USD
	Unit      string  `json:"unit"`       // as fal spells it: "image", "megapixels", "1000 characters", ...
	// InputUnitPrice and OutputUnitPrice, when either is set, price a
	// token unit's input (prompt) and output (completion) tokens apart,
	// as LLMs are billed; UnitPrice then does not apply.
	InputUnitPrice  float64 `json:"input_unit_price,omitempty"`
	OutputUnitPrice float64 `json:"output_unit_price,omitempty"`
}

// Measures are what a request consumes or produces, in the quantities
// fal's units are made of; zero fields are not known (yet).
type Measures struct {
	Images     int
	Megapixels float64 // of all images together
	Seconds    float64 // of video or audio
	Characters int
	Tokens     int
	// OutputTokens are those of Tokens the model wrote; the rest are
	// its input.
	OutputTokens int
}

// measure names the quantity a unit counts, scale how many of them one
// unit holds ("1000 characters": characters, 1000).
type measure struct {
	quantity string
	scale    float64
}

// parseUnit reads fal's unit strings: "image", "megapixel", "second",
// "video second", "minute", "1000 characters", "1M tokens", "per token" ...
// An unknown unit reports false: its cost is not made up.
func parseUnit(unit string) (measure, bool) {
	u := strings.ToLower(strings.TrimSpace(unit))
	u = strings.TrimPrefix(u, "per ")
	scale := 1.0
	if f := strings.Fields(u); len(f) > 1 {
		if n, ok := parseCount(f[0]); ok {
			scale, u = n, strings.Join(f[1:], " ")
		}
	}
	u = strings.TrimSuffix(strings.ReplaceAll(u, "_", " "), "s")
	switch u {
	case "image", "output image", "generated image":
		return measure{"image", scale}, true
	case "megapixel", "mp", "image megapixel":
		return measure{"megapixel", scale}, true
	case "second", "video second", "audio second", "sec":
		return measure{"second", scale}, true
	case "minute", "audio minute", "video minute", "min":
		return measure{"second", scale * 60}, true
	case "character", "k character":
		if u == "k character" {
			scale *= 1000
		}
		return measure{"character", scale}, true
	case "token", "m token", "k token", "million token":
		switch u {
		case "m token", "million token":
			scale *= 1e6
		case "k token":
			scale *= 1e3
		}
		return measure{"token", scale}, true
	}
	return measure{}, false
}

// parseCount reads "1000", "1k", "1m".
func parseCount(s string) (float64, bool) {
	mult := 1.0
	switch {
	case strings.HasSuffix(s, "k"):
		mult, s = 1e3, strings.TrimSuffix(s, "k")
	case strings.HasSuffix(s, "m"):
		mult, s = 1e6, strings.TrimSuffix(s, "m")
	}
	n, err := strconv.ParseFloat(s, 64)
	if err != nil || n <= 0 {
		return 0, false
	}
	return n * mult, true
}

// Units is how many of the price's units the measures come to; false when
// the unit is unknown or the measure it counts is not known.
func (p Price) Units(m Measures) (float64, bool) {
	ms, ok := parseUnit(p.Unit)
	if !ok {
		return 0, false
	}
	var q float64
	switch ms.quantity {
	case "image":
		q = float64(m.Images)
	case "megapixel":
		q = m.Megapixels
	case "second":
		q = m.Seconds
	case "character":
		q = float64(m.Characters)
	case "token":
		q = float64(m.Tokens)
	}
	return q / ms.scale, true
}

// CostMicros is the price of units in micro-dollars, rounded to the
// nearest micro-dollar.
func (p Price) CostMicros(units float64) int64 {
	return int64(math.Round(units * p.UnitPrice * 1e6))
}

// Cost is the units measures come to and their price in micro-dollars,
// input and output tokens at their own rates when the price has them;
// false as for Units.
func (p Price) Cost(m Measures) (units float64, micros int64, ok bool) {
	units, ok = p.Units(m)
	if !ok {
		return 0, 0, false
	}
	if p.InputUnitPrice == 0 && p.OutputUnitPrice == 0 || m.Tokens == 0 {
		return units, p.CostMicros(units), true
	}
	out := float64(min(m.OutputTokens, m.Tokens)) / float64(m.Tokens) * units
	return units, int64(math.Round(((units-out)*p.InputUnitPrice + out*p.OutputUnitPrice) * 1e6)), true
}

// Natural is the measure a request is counted in when its price is not
// known: the first known of images, seconds, characters and tokens, in
// its own unit.
func (m Measures) Natural() (float64, string) {
	switch {
	case m.Images > 0:
		return float64(m.Images), "image"
	case m.Seconds > 0:
		return m.Seconds, "second"
	case m.Characters > 0:
		return float64(m.Characters), "character"
	case m.Tokens > 0:
		return float64(m.Tokens), "token"
	}
	return 0, ""
}
