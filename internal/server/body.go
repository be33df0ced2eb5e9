package server

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"

	"github.com/falproxy/falproxy/internal/openai"
)

// bufferBody reads the whole request body, capped at MaxBodyBytes and
// bounded in time by BodyReadTimeout, before the request may wait for an
// admission slot. A client that uploads slowly then holds a connection,
// never one of the MAX_INFLIGHT slots, and a trickling body is cut off
// instead of being waited for as long as it pleases. The handler reads the
// buffered copy.
func (s *Server) bufferBody(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rc := http.NewResponseController(w)
		_ = rc.SetReadDeadline(time.Now().Add(s.opt.BodyReadTimeout))
		body, err := readAllSized(http.MaxBytesReader(w, r.Body, s.opt.MaxBodyBytes), r.ContentLength, s.opt.MaxBodyBytes)
		if err != nil {
			// The deadline stays: net/http would otherwise wait for the
			// rest of the body before answering, for as long as the client
			// trickles. Past it, the answer goes out and the connection
			// is closed.
			writeError(w, s.bodyReadError(err))
			return
		}
		// The deadline must not outlive the body: the server keeps reading
		// the connection to notice a client that hangs up, and a deadline
		// passing then would look like one.
		_ = rc.SetReadDeadline(time.Time{})
		r.Body = &bufferedBody{Reader: bytes.NewReader(body), bytes: body}
		next.ServeHTTP(w, r)
	})
}

// readAllSized is io.ReadAll for a body that announces its length (size,
// -1 when unknown) and may be at most max bytes long: such a body is read
// into one buffer of its length, with a byte to spare to see its end,
// where io.ReadAll starts at 512 bytes and grows by copies. The body is
// kept for the whole request, which for an image waits on fal for
// seconds, a thousand at a time under load. Only a small body is sized
// in advance (up to presizedBody): a length is a client's word, and a
// large one announced by a client that then sends nothing must not cost
// its size at once. fal.readResponse sizes fal's answers the same way but
// trusts their length whole (fal is the proxy's own upstream, and a
// result carries images of megabytes), so the two stay apart.
func readAllSized(r io.Reader, size, max int64) ([]byte, error) {
	if size < 0 || size >= max || size > presizedBody {
		return io.ReadAll(r)
	}
	b := make([]byte, 0, size+1)
	for {
		n, err := r.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err == io.EOF {
			return b, nil
		}
		if err != nil {
			return b, err
		}
		if len(b) == cap(b) { // longer than announced: let append grow it
			b = append(b, 0)[:len(b)]
		}
	}
}

// presizedBody is the largest announced length readAllSized allocates
// before the bytes arrive: more than any chat or image request's JSON.
const presizedBody = 64 << 10

// bufferedBody is a request body bufferBody has read whole; readBody hands
// its bytes over as they are instead of copying them again.
type bufferedBody struct {
	*bytes.Reader
	bytes []byte
}

func (*bufferedBody) Close() error { return nil }

// bodyReadError explains a body that could not be read: over
// MaxBodyBytes (413), slower than BodyReadTimeout (408), or cut off.
func (s *Server) bodyReadError(err error) *openai.Error {
	if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
		return s.bodyTooLarge()
	}
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return &openai.Error{
			Status:  http.StatusRequestTimeout,
			Message: fmt.Sprintf("The request body did not arrive within %s (BODY_READ_TIMEOUT).", s.opt.BodyReadTimeout),
			Type:    openai.TypeInvalidRequest,
			Code:    "request_timeout",
		}
	}
	return openai.InvalidRequest("", "invalid_body", "The request body could not be read: the connection broke off before its end.")
}
