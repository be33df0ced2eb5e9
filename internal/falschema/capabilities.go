package falschema

import "encoding/json"

// Capabilities is what falproxy knows about one fal endpoint's input. It is
// derived from the endpoint's OpenAPI document by Reduce, is small and
// JSON-serialisable, and is shared read-only between requests: callers must
// not modify it.
type Capabilities struct {
	Endpoint string `json:"endpoint"`
	// Fields holds every declared input property. The mapper sends only
	// fields listed here, and passes client extras through only when named
	// here.
	Fields   map[string]Field `json:"fields"`
	Required []string         `json:"required,omitempty"`

	Prompt        bool                `json:"prompt"`                  // has "prompt"
	Seed          bool                `json:"seed"`                    // has "seed"
	SyncMode      bool                `json:"sync_mode"`               // has "sync_mode"
	SafetyChecker bool                `json:"safety_checker"`          // has "enable_safety_checker"
	NumImages     *IntRange           `json:"num_images,omitempty"`    // nil: no "num_images" field
	OutputFormat  *EnumField          `json:"output_format,omitempty"` // "output_format" or "format"
	Size          SizeSpec            `json:"size"`                    // how the model takes a size
	ImageInput    *ImageInput         `json:"image_input,omitempty"`   // nil: the model takes no input image
	Enums         map[string][]string `json:"enums,omitempty"`         // string enum members per field

	// Audio describes a text-to-speech or speech-to-text endpoint; nil
	// for every other.
	Audio *Audio `json:"audio,omitempty"`
	// Video reports that the endpoint's output holds a video.
	Video bool `json:"video,omitempty"`
}

// Field describes one declared input property after $ref, allOf, anyOf and
// oneOf are resolved. Alternatives are merged: Types is their union, Enum the
// union of their enumerations, and the bounds the widest they allow.
type Field struct {
	// Types lists the JSON types accepted ("array", "boolean", "integer",
	// "number", "object", "string"), sorted. Empty means any type.
	Types []string `json:"types,omitempty"`
	// Enum lists the enumerated values (null excluded). Open reports that
	// some alternative also accepts values outside Enum, for example
	// image_size taking a preset name or a {width, height} object.
	Enum     []any           `json:"enum,omitempty"`
	Open     bool            `json:"open,omitempty"`
	Min      *float64        `json:"min,omitempty"` // inclusive lower bound, if any
	Max      *float64        `json:"max,omitempty"` // inclusive upper bound, if any
	ExclMin  bool            `json:"excl_min,omitempty"`
	ExclMax  bool            `json:"excl_max,omitempty"`
	Multiple float64         `json:"multiple,omitempty"` // multipleOf, 0 if none
	Default  json.RawMessage `json:"default,omitempty"`
	Nullable bool            `json:"nullable,omitempty"`
}

// IntRange is an inclusive integer range. Max 0 means no declared maximum.
type IntRange struct {
	Min int `json:"min"`
	Max int `json:"max,omitempty"`
}

// EnumField names a string field and the values it allows. Open means the
// field also takes strings outside Values (or declares no enumeration).
type EnumField struct {
	Field  string   `json:"field"`
	Values []string `json:"values,omitempty"`
	Open   bool     `json:"open,omitempty"`
}

// ImageInput describes how an edit model takes its input images.
type ImageInput struct {
	// Field is "image_url" (one image) or "image_urls" (a list).
	Field string `json:"field"`
	// Multiple reports a list field.
	Multiple bool `json:"multiple"`
	// MaxImages is the declared maxItems of a list field; 0 if none.
	MaxImages int `json:"max_images,omitempty"`
	// Required reports that the schema requires the image field: the model
	// edits only and cannot generate from a prompt alone.
	Required bool `json:"required"`
	// MaskField is the mask input ("mask_url"), empty if the model takes none.
	MaskField    string `json:"mask_field,omitempty"`
	MaskRequired bool   `json:"mask_required,omitempty"`
}

// SizeKind names the way a model takes its output size.
type SizeKind string

// The size families found in fal's image models.
const (
	// SizeNone: the model has no size control.
	SizeNone SizeKind = "none"
	// SizeImageSize: an "image_size" field taking preset names and/or a
	// {width, height} object.
	SizeImageSize SizeKind = "image_size"
	// SizeWidthHeight: separate integer "width" and "height" fields.
	SizeWidthHeight SizeKind = "width_height"
	// SizeAspectRatio: an "aspect_ratio" field ("16:9", ...).
	SizeAspectRatio SizeKind = "aspect_ratio"
	// SizePixels: a field of "WxH" strings ("1024x1536"), as gpt-image-1's
	// image_size.
	SizePixels SizeKind = "pixels"
	// SizeResolution: only a "resolution" tier field (1K, 2K, ...).
	SizeResolution SizeKind = "resolution"
)

// SizeSpec describes how a model takes a size. Bounds are zero when the
// schema declares none.
type SizeSpec struct {
	Kind SizeKind `json:"kind"`
	// Field carries the size: "image_size", "size" or "aspect_ratio"; empty
	// for SizeWidthHeight (which uses "width" and "height") and SizeNone.
	Field string `json:"field,omitempty"`
	// Object reports that Field accepts a {width, height} object.
	Object bool `json:"object,omitempty"`
	// Presets are the named values of Field (square_hd, auto, auto_2K, ...).
	Presets []string `json:"presets,omitempty"`
	// Pixels are the "WxH" values of Field. FreePixels means any "WxH"
	// string is accepted.
	Pixels     []string `json:"pixels,omitempty"`
	FreePixels bool     `json:"free_pixels,omitempty"`
	// AspectRatios are the enumerated aspect_ratio values; FreeAspect means
	// any "W:H" string is accepted as well.
	AspectRatios []string `json:"aspect_ratios,omitempty"`
	FreeAspect   bool     `json:"free_aspect,omitempty"`
	// Resolution is the "resolution" tier field (1K, 2K, ...), used on top
	// of any of the kinds above.
	Resolution *EnumField `json:"resolution,omitempty"`
	// Pixel bounds for width and height and the multiple both must be,
	// from minimum/maximum/exclusive*/multipleOf or from the field's
	// description ("between 1024 and 4096", "a multiple of 8").
	MinW     int `json:"min_w,omitempty"`
	MaxW     int `json:"max_w,omitempty"`
	MinH     int `json:"min_h,omitempty"`
	MaxH     int `json:"max_h,omitempty"`
	Multiple int `json:"multiple,omitempty"`
}
