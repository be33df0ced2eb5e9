package falschema

import (
	"testing"

	"github.com/falproxy/falproxy/internal/falschema/schematest"
)

// BenchmarkReduce measures the reduction of a typical document (an
// image_size model with ten fields), done once per endpoint per TTL.
func BenchmarkReduce(b *testing.B) {
	c := schematest.Get("test/presets")
	b.ReportAllocs()
	b.SetBytes(int64(len(c.Doc)))
	for b.Loop() {
		if _, err := Reduce(c.Doc, c.Endpoint); err != nil {
			b.Fatal(err)
		}
	}
}
