package server

import "github.com/falproxy/falproxy/internal/images"

// parseOutput is images.ParseOutput run on a goroutine of its own, a
// panic passed on to the caller. Decoding fal's result (encoding/json's
// reflection) goes deeper than anything else a request does: on the
// request's goroutine it doubled that goroutine's stack, from 8 to 16 KiB,
// which the runtime keeps for the rest of the request and the life of its
// connection, and a thousand jobs completing together held 5 MiB more for
// it. A goroutine that ends gives its stack back at once, for the next
// one to reuse.
func parseOutput(body []byte) (*images.Output, error) {
	done := make(chan parsedOutput, 1)
	go readOutput(body, done)
	r := <-done
	if r.panic != nil {
		panic(r.panic)
	}
	return r.out, r.err
}

type parsedOutput struct {
	out   *images.Output
	err   error
	panic any
}

func readOutput(body []byte, done chan<- parsedOutput) {
	defer func() {
		if p := recover(); p != nil {
			done <- parsedOutput{panic: p}
		}
	}()
	out, err := images.ParseOutput(body)
	done <- parsedOutput{out: out, err: err}
}
