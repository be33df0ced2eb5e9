package fal

import (
	"bufio"
	"bytes"
	"errors"
	"io"
)

// Event is one server-sent event. Comment events (lines starting with ':')
// are reported so that callers can treat them as keep-alives.
type Event struct {
	Name    string
	Data    []byte // data lines joined with "\n"; only valid until the next Next call
	Comment bool
}

// ErrLineTooLong means an SSE line exceeded the reader's cap.
var ErrLineTooLong = errors.New("sse: line too long")

// SSEReader parses a text/event-stream body incrementally.
type SSEReader struct {
	r       *bufio.Reader
	maxLine int
	data    []byte
	line    []byte
}

// NewSSEReader reads events from r; maxLine caps one line (a data line may
// hold a whole base64 image, so callers choose).
func NewSSEReader(r io.Reader, maxLine int) *SSEReader {
	return newSSEReaderSize(r, sseBufferSize, maxLine)
}

// newSSEReaderSize is NewSSEReader with a read buffer of size bytes.
func newSSEReaderSize(r io.Reader, size, maxLine int) *SSEReader {
	return &SSEReader{r: bufio.NewReaderSize(r, size), maxLine: maxLine}
}

// sseBufferSize is the read buffer of one stream. It is kept small because
// every image job in flight holds a status stream open for its whole
// generation time (thousands at once under load), and longer lines are
// read in pieces by readLine anyway.
const sseBufferSize = 4 << 10

// statusBufferSize is the read buffer of a job's status stream, which
// every job in flight holds for its whole generation time: fal's status
// events are a few hundred bytes, and a longer one is read in pieces.
const statusBufferSize = 512

// Next returns the next event. At the end of the stream it returns io.EOF;
// an event not closed by a blank line before EOF is still returned, as the
// data it carries was sent in full.
//
// An event's only data line is returned where it was read, not copied,
// when the line that ends the event is in the read buffer already (fal
// writes an event at once), so that a stream of such events (a status
// stream, held by every image job in flight) keeps no data buffer.
func (s *SSEReader) Next() (Event, error) {
	s.data = s.data[:0]
	var ev Event
	var only []byte // the event's one data line so far, in place
	hasData := false
	for {
		if only != nil && !s.nextLineBuffered() {
			// Reading on could move the line in the read buffer.
			s.data = append(s.data, only...)
			only = nil
		}
		line, err := s.readLine()
		if err != nil {
			if err == io.EOF && (hasData || ev.Name != "") {
				ev.Data = s.eventData(only)
				return ev, nil
			}
			return Event{}, err
		}
		if len(line) == 0 {
			if hasData || ev.Name != "" {
				ev.Data = s.eventData(only)
				return ev, nil
			}
			continue
		}
		if line[0] == ':' {
			if !hasData && ev.Name == "" {
				return Event{Comment: true}, nil
			}
			continue
		}
		field, value := line, []byte(nil)
		if i := bytes.IndexByte(line, ':'); i >= 0 {
			field, value = line[:i], line[i+1:]
			if len(value) > 0 && value[0] == ' ' {
				value = value[1:]
			}
		}
		switch string(field) {
		case "data":
			switch {
			case !hasData && value != nil:
				only = value
			case !hasData:
			default:
				s.data = append(append(append(s.data, only...), '\n'), value...)
				only = nil
			}
			hasData = true
		case "event":
			ev.Name = string(value)
		}
	}
}

// eventData is the data of the event read: its one data line in place,
// or the lines gathered in s.data.
func (s *SSEReader) eventData(only []byte) []byte {
	if only != nil {
		return only
	}
	return s.data
}

// nextLineBuffered reports whether the end of the next line is in the
// read buffer already, so that reading the line moves nothing there.
func (s *SSEReader) nextLineBuffered() bool {
	b, _ := s.r.Peek(s.r.Buffered())
	return bytes.IndexByte(b, '\n') >= 0
}

// readLine returns one line without its terminator (\n or \r\n), valid
// until the next read. A line that fits the read buffer is returned in
// place; only a longer one is gathered in s.line, so that a stream of
// short events (a status stream) keeps no second buffer.
func (s *SSEReader) readLine() ([]byte, error) {
	chunk, err := s.r.ReadSlice('\n')
	if err == nil && len(chunk) <= s.maxLine {
		return trimEOL(chunk), nil
	}
	s.line = s.line[:0]
	for {
		s.line = append(s.line, chunk...)
		if len(s.line) > s.maxLine {
			return nil, ErrLineTooLong
		}
		if err == nil {
			return trimEOL(s.line), nil
		}
		if err != bufio.ErrBufferFull {
			if err == io.EOF && len(s.line) > 0 {
				return trimEOL(s.line), nil
			}
			return nil, err
		}
		chunk, err = s.r.ReadSlice('\n')
	}
}

func trimEOL(b []byte) []byte {
	b = bytes.TrimSuffix(b, []byte("\n"))
	return bytes.TrimSuffix(b, []byte("\r"))
}
