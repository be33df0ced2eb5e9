package fal

import (
	"errors"
	"io"
	"strings"
	"testing"
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

func FuzzSSEReader(f *testing.F) {
	for _, s := range []string{"data: a\n\n", ": c\n\ndata: b\ndata: c\n\n", "event: x\r\ndata: y\r\n\r\n", "data", "\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		rd := NewSSEReader(strings.NewReader(in), 256)
		for i := 0; i < len(in)+2; i++ {
			ev, err := rd.Next()
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
