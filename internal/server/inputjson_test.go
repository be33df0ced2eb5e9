package server

import (
	"bytes"
	"encoding/json"
	"math"
	"testing"
)

// encodeInput writes exactly what json.Marshal writes, which is what fal
// received before it existed.
func TestEncodeInputMatchesMarshal(t *testing.T) {
	inputs := []map[string]any{
		nil,
		{},
		{"prompt": "a lighthouse on a cliff at dawn", "image_size": "landscape_4_3", "num_images": 1, "enable_safety_checker": true},
		{"image_size": map[string]any{"width": 1024, "height": 768}, "seed": int64(-42), "sync_mode": false},
		{"prompt": `quotes " and \ and <b> & "ünï" 🚀` + "\n\t\x01\u2028\xff", "k<&>": "v", "ü": 1},
		{"guidance_scale": json.Number("3.50"), "strength": 0.75, "big": 1e21, "list": []any{"a", 1, map[string]any{"z": nil, "a": "<"}}},
		{"raw": json.RawMessage(` { "b" : [1, 2] , "a":"<" } `), "none": nil, "empty": map[string]any(nil), "urls": []string{"https://x/a?b=1&c=2"}},
		{"a": 1, "b": 2, "c": 3, "d": 4, "e": 5, "f": 6, "g": 7, "h": 8, "i": 9, "j": 10, "k": 11, "l": 12, "m": 13, "n": 14, "o": 15, "p": 16, "q": 17, "r": 18},
	}
	for _, in := range inputs {
		want, err := json.Marshal(in)
		if err != nil {
			t.Fatal(err)
		}
		got, err := encodeInput(in)
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("encodeInput(%v) = %s, %v\n want %s", in, got, err, want)
		}
	}
	if _, err := encodeInput(map[string]any{"x": math.NaN()}); err == nil {
		t.Error("a NaN was encoded")
	}
}

// FuzzEncodeInput checks the same on any JSON object: decoded with
// numbers as float64 or json.Number, as fal inputs hold them.
func FuzzEncodeInput(f *testing.F) {
	f.Add([]byte(`{"prompt":"a <b>","n":1,"o":{"w":1024,"h":768},"l":[true,null]}`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		var in map[string]any
		if json.Unmarshal(raw, &in) != nil {
			return
		}
		in["int"], in["nested"] = len(raw), map[string]any{"s": string(raw), "n": -len(raw)}
		want, _ := json.Marshal(in)
		if got, err := encodeInput(in); err != nil || !bytes.Equal(got, want) {
			t.Fatalf("encodeInput = %s, %v\n want %s", got, err, want)
		}
	})
}
