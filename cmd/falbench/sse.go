package main

import (
	"errors"
	"io"

	"github.com/falproxy/falproxy/internal/fal"
)

// readEvents calls fn with the data of every server-sent event in r, in
// order, until fn says stop. It reads with the proxy's own SSE reader, so
// both sides of a comparison parse streams alike. A stream that ends
// before fn said stop is io.ErrUnexpectedEOF. The data slice is valid only
// during the call.
func readEvents(r io.Reader, fn func(data []byte) (stop bool, err error)) error {
	rd := fal.NewSSEReader(r, 64<<10)
	for {
		ev, err := rd.Next()
		if errors.Is(err, io.EOF) {
			return io.ErrUnexpectedEOF
		}
		if err != nil {
			return err
		}
		if ev.Comment || len(ev.Data) == 0 {
			continue
		}
		if stop, err := fn(ev.Data); stop || err != nil {
			return err
		}
	}
}
