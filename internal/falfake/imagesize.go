package falfake

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// size is an image's dimensions in pixels.
type size struct{ W, H int }

// maxPixels caps generated images (4096×4096, the largest any built-in
// model makes); a bigger request fails with image_too_large.
const maxPixels = 4096 * 4096

// defaultSide is the size of an ImageSize dimension left out, as fal's
// ImageSize declares, and of outputs with no size information.
const defaultSide = 512

// presetSize maps fal's image_size names to pixels.
func presetSize(name string) (size, bool) {
	switch name {
	case "square_hd":
		return size{1024, 1024}, true
	case "square":
		return size{512, 512}, true
	case "portrait_4_3":
		return size{768, 1024}, true
	case "portrait_16_9":
		return size{576, 1024}, true
	case "landscape_4_3":
		return size{1024, 768}, true
	case "landscape_16_9":
		return size{1024, 576}, true
	case "auto_2K":
		return size{2048, 2048}, true
	case "auto_4K":
		return size{4096, 4096}, true
	}
	return size{}, false
}

// imageSize reads the output size from an input, following whichever size
// family the model declares: width+height, image_size (object, preset or
// WxH pixel string), or aspect_ratio with an optional resolution tier. Edit
// models without a size choice keep the input image's size (fromInput).
// field names the input field the size came from, for error locations.
func (m *model) imageSize(in node, fromInput func() (size, bool)) (sz size, field string, err error) {
	inputOr := func(def size) size {
		if s, ok := fromInput(); ok {
			return s
		}
		return def
	}
	switch {
	case m.has("width") && m.has("height"):
		return size{intOf(m.param(in, "width"), defaultSide), intOf(m.param(in, "height"), defaultSide)}, "width", nil
	case m.has("image_size"):
		sz, err := sizeFromImageSize(m.param(in, "image_size"), inputOr)
		return sz, "image_size", err
	case m.has("aspect_ratio"):
		ratio, _ := m.param(in, "aspect_ratio").(string)
		if ratio == "" {
			return inputOr(size{1024, 1024}), "aspect_ratio", nil
		}
		long := 1024
		if m.param(in, "resolution") == "2K" {
			long = 2048
		}
		sz, err := sizeFromAspect(ratio, long)
		return sz, "aspect_ratio", err
	}
	return inputOr(size{1024, 1024}), "", nil
}

// sizeFromImageSize reads an image_size value: {width, height}, a preset,
// "auto" (the input's size, else 1024²) or a WIDTHxHEIGHT string.
func sizeFromImageSize(v any, inputOr func(size) size) (size, error) {
	switch x := v.(type) {
	case node:
		return size{intOf(x["width"], defaultSide), intOf(x["height"], defaultSide)}, nil
	case string:
		if x == "auto" {
			return inputOr(size{1024, 1024}), nil
		}
		if sz, ok := presetSize(x); ok {
			return sz, nil
		}
		ws, hs, ok := strings.Cut(x, "x")
		w, err1 := strconv.Atoi(ws)
		h, err2 := strconv.Atoi(hs)
		if ok && err1 == nil && err2 == nil && w > 0 && h > 0 {
			return size{w, h}, nil
		}
		return size{}, fmt.Errorf("unknown image size %q", x)
	case nil:
		return size{1024, 1024}, nil
	}
	return size{}, fmt.Errorf("unsupported image size %v", v)
}

// sizeFromAspect turns "W:H" into pixels whose long side is long, with the
// short side rounded to a multiple of 8.
func sizeFromAspect(ratio string, long int) (size, error) {
	ws, hs, ok := strings.Cut(ratio, ":")
	w, err1 := strconv.ParseFloat(strings.TrimSpace(ws), 64)
	h, err2 := strconv.ParseFloat(strings.TrimSpace(hs), 64)
	if !ok || err1 != nil || err2 != nil || !(w > 0) || !(h > 0) || math.IsInf(w, 0) || math.IsInf(h, 0) {
		return size{}, fmt.Errorf("invalid aspect ratio %q, expected W:H", ratio)
	}
	short := func(x float64) int { return max(8, int(math.Round(x/8))*8) }
	if w >= h {
		return size{long, short(float64(long) * h / w)}, nil
	}
	return size{short(float64(long) * w / h), long}, nil
}

// intOf reads a JSON integer, or def when v is absent or not one.
func intOf(v any, def int) int {
	n, ok := v.(json.Number)
	if !ok {
		return def
	}
	if i, err := n.Int64(); err == nil {
		return int(i)
	}
	if f, err := n.Float64(); err == nil {
		return int(f)
	}
	return def
}
