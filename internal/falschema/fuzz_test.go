package falschema

import (
	"encoding/json"
	"testing"

	"github.com/falproxy/falproxy/internal/falschema/schematest"
)

// FuzzReduce checks that no document makes Reduce panic or hang, and that
// every success is a usable, serialisable value. The committed corpus in
// testdata/fuzz/FuzzReduce holds small edge cases; the project's test
// documents are added as seeds here.
func FuzzReduce(f *testing.F) {
	for _, c := range schematest.Cases() {
		f.Add(c.Doc, c.Endpoint)
	}
	f.Fuzz(func(t *testing.T, doc []byte, endpoint string) {
		caps, err := Reduce(doc, endpoint)
		if err != nil {
			if caps != nil {
				t.Fatal("error with a non-nil result")
			}
			return
		}
		if caps.Fields == nil || caps.Size.Kind == "" {
			t.Fatalf("incomplete capabilities: %+v", caps)
		}
		if _, err := json.Marshal(caps); err != nil {
			t.Fatalf("capabilities do not serialise: %v", err)
		}
		if r := caps.NumImages; r != nil && (r.Min < 1 || r.Max != 0 && r.Max < r.Min) {
			t.Fatalf("bad num_images range %+v", r)
		}
		s := caps.Size
		for _, v := range []int{s.MinW, s.MaxW, s.MinH, s.MaxH, s.Multiple} {
			if v < 0 || v > maxInt {
				t.Fatalf("size bound out of range: %+v", s)
			}
		}
		if s.MaxW > 0 && s.MinW > s.MaxW || s.MaxH > 0 && s.MinH > s.MaxH {
			t.Fatalf("contradictory size bounds: %+v", s)
		}
		if in := caps.ImageInput; in != nil {
			if _, ok := caps.Fields[in.Field]; !ok {
				t.Fatalf("image input %q is not a declared field", in.Field)
			}
		}
	})
}
