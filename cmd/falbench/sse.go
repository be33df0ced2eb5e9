package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
)

// readEvents calls fn with the data of every server-sent event in r, in
// order, until fn says stop or the stream ends. Comments are skipped and
// multi-line data is joined with "\n", as the SSE rules say. The data
// slice is reused: it is valid only during the call.
func readEvents(r io.Reader, fn func(data []byte) (stop bool, err error)) error {
	br := bufio.NewReaderSize(r, 64<<10)
	var data []byte
	have := false
	for {
		line, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			return fmt.Errorf("event line longer than %d bytes", br.Size())
		}
		if err != nil && len(line) == 0 {
			if errors.Is(err, io.EOF) {
				return io.ErrUnexpectedEOF
			}
			return err
		}
		line = bytes.TrimRight(line, "\r\n")
		switch {
		case len(line) == 0:
			if have {
				stop, ferr := fn(data)
				if ferr != nil || stop {
					return ferr
				}
			}
			data, have = data[:0], false
		case line[0] == ':':
		case bytes.HasPrefix(line, []byte("data:")):
			v := bytes.TrimPrefix(line[5:], []byte(" "))
			if have {
				data = append(data, '\n')
			}
			data, have = append(data, v...), true
		}
		if err != nil {
			if errors.Is(err, io.EOF) {
				return io.ErrUnexpectedEOF
			}
			return err
		}
	}
}
