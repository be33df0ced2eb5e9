package falfake

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io"
	"strconv"
	"strings"
)

// imageSpec fully describes a generated image. It travels inside the CDN
// URL, so images are rendered on download and never held in memory.
type imageSpec struct {
	W, H        int
	Seed        int64
	Index       int
	Format      string // "png" or "jpeg"
	Transparent bool
}

// animal names a CDN folder the way fal's file URLs do.
func animal(n uint64) string {
	names := [...]string{"penguin", "rabbit", "koala", "zebra", "panda", "tiger", "kangaroo", "lion", "otter", "monkey"}
	return names[n%uint64(len(names))]
}

// contentType is the MIME type of the encoded image.
func (s imageSpec) contentType() string { return "image/" + s.Format }

// token encodes the spec into the file-name id.
func (s imageSpec) token() string {
	t := 0
	if s.Transparent {
		t = 1
	}
	return encodeToken(fmt.Sprintf("%d.%d.%d.%d.%d", s.W, s.H, s.Seed, s.Index, t))
}

// encodeToken turns a spec's dotted fields into a URL-safe id.
func encodeToken(fields string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(fields))
}

// path is the CDN path of the image: /files/<animal>/<token>_image.<ext>.
func (s imageSpec) path() string {
	return "/files/" + animal(uint64(s.Seed)+uint64(s.Index)) + "/" + s.token() + "_image." + s.Format
}

// parseImagePath reads a spec back from a CDN path; ok is false for
// anything the emulator did not generate or would not render.
func parseImagePath(p string) (imageSpec, bool) {
	name := p[strings.LastIndex(p, "/")+1:]
	tok, rest, ok := strings.Cut(name, "_image.")
	if !ok || (rest != "png" && rest != "jpeg") {
		return imageSpec{}, false
	}
	raw, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil {
		return imageSpec{}, false
	}
	f := strings.Split(string(raw), ".")
	if len(f) != 5 {
		return imageSpec{}, false
	}
	var n [5]int64
	for i, s := range f {
		if n[i], err = strconv.ParseInt(s, 10, 64); err != nil {
			return imageSpec{}, false
		}
	}
	s := imageSpec{W: int(n[0]), H: int(n[1]), Seed: n[2], Index: int(n[3]), Format: rest, Transparent: n[4] == 1}
	if n[0] <= 0 || n[1] <= 0 || n[0] > maxPixels || n[1] > maxPixels || n[0]*n[1] > maxPixels || n[3] < 0 || n[4] < 0 || n[4] > 1 {
		return imageSpec{}, false
	}
	return s, true
}

// palette derives the image's colours from its seed and index, so the same
// request always gives the same picture and sibling images differ.
func (s imageSpec) palette() color.Palette {
	x := uint64(s.Seed)*0x9E3779B97F4A7C15 + uint64(s.Index+1)*0xBF58476D1CE4E5B9
	x ^= x >> 31
	x *= 0x94D049BB133111EB
	x ^= x >> 29
	bg := color.NRGBA{uint8(x), uint8(x >> 8), uint8(x >> 16), 255}
	fg := color.NRGBA{^bg.R, ^bg.G, ^bg.B, 255}
	if s.Transparent {
		bg.A = 0
	}
	return color.Palette{bg, fg}
}

// render draws diagonal bands of the two palette colours.
func (s imageSpec) render() *image.Paletted {
	img := image.NewPaletted(image.Rect(0, 0, s.W, s.H), s.palette())
	band := max(8, min(s.W, s.H)/8)
	for y := range s.H {
		row := img.Pix[y*img.Stride : y*img.Stride+s.W]
		for x := range row {
			row[x] = uint8(((x + y) / band) & 1)
		}
	}
	return img
}

// encode writes the image in its format.
func (s imageSpec) encode(w io.Writer) error {
	img := s.render()
	if s.Format == "jpeg" {
		return jpeg.Encode(w, img, &jpeg.Options{Quality: 85})
	}
	enc := png.Encoder{CompressionLevel: png.BestSpeed}
	return enc.Encode(w, img)
}

// bytes encodes the image into memory.
func (s imageSpec) bytes() ([]byte, error) {
	var buf bytes.Buffer
	if err := s.encode(&buf); err != nil {
		return nil, fmt.Errorf("encoding %dx%d %s: %w", s.W, s.H, s.Format, err)
	}
	return buf.Bytes(), nil
}

// dataURI is the image inline, as sync_mode returns it.
func (s imageSpec) dataURI() (string, error) {
	b, err := s.bytes()
	if err != nil {
		return "", err
	}
	return "data:" + s.contentType() + ";base64," + base64.StdEncoding.EncodeToString(b), nil
}
