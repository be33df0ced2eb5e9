package server

import (
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

// TestReadAllSizedFitsTheBody: a body that announces its length is read
// into a buffer of that length (and a byte to see its end), not into
// io.ReadAll's 512 bytes and more, since a request keeps its body while
// it waits on fal; the bytes are those io.ReadAll reads, whatever the
// announced length.
func TestReadAllSizedFitsTheBody(t *testing.T) {
	const max = 1 << 20
	body := `{"model":"flux-dev","prompt":"a lighthouse"}`
	for _, c := range []struct {
		name    string
		size    int64
		maxCap  int
		reading io.Reader
	}{
		{"announced", int64(len(body)), len(body) + 1, strings.NewReader(body)},
		{"announced, a byte at a time", int64(len(body)), len(body) + 1, iotest.OneByteReader(strings.NewReader(body))},
		{"unknown", -1, max, strings.NewReader(body)},
		{"longer than announced", 10, max, strings.NewReader(body)},
		{"announced over the bound", max, max, strings.NewReader(body)},
		// A client's word for a large body buys no buffer of that size
		// before its bytes come.
		{"announced large, sent short", presizedBody + 1, 512, strings.NewReader(body)},
	} {
		b, err := readAllSized(c.reading, c.size, max)
		if err != nil || string(b) != body {
			t.Errorf("%s: read %q, %v; want %q", c.name, b, err, body)
		}
		if cap(b) > c.maxCap {
			t.Errorf("%s: a %d-byte body read into a %d-byte buffer", c.name, len(b), cap(b))
		}
	}
}
