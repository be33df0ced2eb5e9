package fal

import (
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

func readEvents(t *testing.T, in string, maxLine int) ([]Event, error) {
	t.Helper()
	rd := NewSSEReader(strings.NewReader(in), maxLine)
	var out []Event
	for {
		ev, err := rd.Next()
		if err != nil {
			if err == io.EOF {
				return out, nil
			}
			return out, err
		}
		ev.Data = append([]byte(nil), ev.Data...)
		out = append(out, ev)
	}
}

func TestSSEReader(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []Event
	}{
		{"one event", "data: {\"a\":1}\n\n", []Event{{Data: []byte(`{"a":1}`)}}},
		{"crlf and no space", "data:x\r\n\r\n", []Event{{Data: []byte("x")}}},
		{"multi-line data", "data: a\ndata: b\n\n", []Event{{Data: []byte("a\nb")}}},
		{"named event", "event: status\ndata: 1\n\n", []Event{{Name: "status", Data: []byte("1")}}},
		{"comment keep-alive", ": ping\n\ndata: 2\n\n", []Event{{Comment: true}, {Data: []byte("2")}}},
		{"last event without blank line", "data: 1\n\ndata: 2", []Event{{Data: []byte("1")}, {Data: []byte("2")}}},
		{"ignored fields", "id: 7\nretry: 10\ndata: z\n\n", []Event{{Data: []byte("z")}}},
		{"blank lines only", "\n\n\n", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := readEvents(t, tt.in, 1<<10)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %d events %+v, want %d", len(got), got, len(tt.want))
			}
			for i := range got {
				if got[i].Name != tt.want[i].Name || string(got[i].Data) != string(tt.want[i].Data) || got[i].Comment != tt.want[i].Comment {
					t.Errorf("event %d = %+v, want %+v", i, got[i], tt.want[i])
				}
			}
		})
	}
}

func TestSSEReaderLineCap(t *testing.T) {
	_, err := readEvents(t, "data: "+strings.Repeat("x", 100)+"\n\n", 50)
	if !errors.Is(err, ErrLineTooLong) {
		t.Fatalf("err = %v, want ErrLineTooLong", err)
	}
}

// TestSSEReaderLongerThanBuffer reads lines longer than the read buffer,
// as a status stream's small buffer meets an event with logs: they arrive
// whole, and the cap still counts the whole line.
func TestSSEReaderLongerThanBuffer(t *testing.T) {
	long := strings.Repeat("x", 100)
	in := "event: " + long + "\ndata: " + long + "\r\ndata: b\n\n: " + long + "\n\ndata: " + long
	rd := newSSEReaderSize(strings.NewReader(in), 16, 1<<10)
	want := []Event{{Name: long, Data: []byte(long + "\nb")}, {Comment: true}, {Data: []byte(long)}}
	for i, w := range want {
		ev, err := rd.Next()
		if err != nil {
			t.Fatalf("event %d: %v", i, err)
		}
		if ev.Name != w.Name || string(ev.Data) != string(w.Data) || ev.Comment != w.Comment {
			t.Errorf("event %d = %+v, want %+v", i, ev, w)
		}
	}
	if _, err := rd.Next(); err != io.EOF {
		t.Errorf("after the last event: %v, want EOF", err)
	}
	rd = newSSEReaderSize(strings.NewReader("data: "+long+"\n\n"), 16, 50)
	if _, err := rd.Next(); !errors.Is(err, ErrLineTooLong) {
		t.Errorf("a line over the cap read in pieces: %v, want ErrLineTooLong", err)
	}
}

func FuzzSSEReader(f *testing.F) {
	for _, s := range []string{"data: a\n\n", ": c\n\ndata: b\ndata: c\n\n", "event: x\r\ndata: y\r\n\r\n", "data", "\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		rd := NewSSEReader(strings.NewReader(in), 256)
		// A small buffer reads the same events, lines in pieces, and so
		// does a stream that arrives a byte at a time, whose events'
		// ends are never in the buffer with their data.
		small := newSSEReaderSize(strings.NewReader(in), 16, 256)
		trickled := NewSSEReader(iotest.OneByteReader(strings.NewReader(in)), 256)
		for i := 0; i < len(in)+2; i++ {
			ev, err := rd.Next()
			for name, other := range map[string]*SSEReader{"a 16-byte buffer": small, "a byte at a time": trickled} {
				oev, oerr := other.Next()
				if (err == nil) != (oerr == nil) || ev.Name != oev.Name || string(ev.Data) != string(oev.Data) || ev.Comment != oev.Comment {
					t.Fatalf("with %s: %+v, %v; want %+v, %v", name, oev, oerr, ev, err)
				}
			}
			if err != nil {
				return
			}
			if len(ev.Data) > len(in) {
				t.Fatalf("data longer than input: %q", ev.Data)
			}
		}
		t.Fatalf("reader did not reach the end of %q", in)
	})
}

// TestSSEReaderKeepsNoDataBuffer: events of one data line that arrive
// whole (as fal writes its status events) are returned in place, so a
// status stream waiting for its next event holds no copy of the last.
func TestSSEReaderKeepsNoDataBuffer(t *testing.T) {
	in := `data: {"status":"IN_QUEUE","queue_position":3}` + "\n\n" + `data: {"status":"IN_PROGRESS"}` + "\n\n"
	rd := newSSEReaderSize(strings.NewReader(in), statusBufferSize, 1<<20)
	for _, want := range []string{`{"status":"IN_QUEUE","queue_position":3}`, `{"status":"IN_PROGRESS"}`} {
		ev, err := rd.Next()
		if err != nil || string(ev.Data) != want {
			t.Fatalf("read %q, %v; want %q", ev.Data, err, want)
		}
		if cap(rd.data) != 0 {
			t.Errorf("the reader keeps a %d-byte data buffer after an event of one line", cap(rd.data))
		}
	}
}
