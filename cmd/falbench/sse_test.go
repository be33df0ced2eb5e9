package main

import (
	"errors"
	"io"
	"strings"
	"testing"
)

func TestReadEvents(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		stopAt  string
		want    []string
		wantErr error
	}{
		{"events and comments", ": ping\n\ndata: {\"a\":1}\n\ndata: [DONE]\n\n", "[DONE]", []string{`{"a":1}`, "[DONE]"}, nil},
		{"CRLF and no space", "data:x\r\n\r\ndata: y\r\n\r\n", "y", []string{"x", "y"}, nil},
		{"multi-line data", "data: a\ndata: b\n\n", "a\nb", []string{"a\nb"}, nil},
		{"stream ends before stop", "data: a\n\ndata: b", "never", []string{"a", "b"}, io.ErrUnexpectedEOF},
		{"other fields ignored", "event: status\nid: 3\ndata: z\n\n", "z", []string{"z"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			err := readEvents(strings.NewReader(tt.in), func(d []byte) (bool, error) {
				got = append(got, string(d))
				return string(d) == tt.stopAt, nil
			})
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("error %v, want %v", err, tt.wantErr)
			}
			if strings.Join(got, "|") != strings.Join(tt.want, "|") {
				t.Errorf("events %q, want %q", got, tt.want)
			}
		})
	}
}

func TestReadEventsPassesCallbackError(t *testing.T) {
	boom := errors.New("boom")
	err := readEvents(strings.NewReader("data: a\n\n"), func([]byte) (bool, error) { return false, boom })
	if !errors.Is(err, boom) {
		t.Errorf("error %v, want %v", err, boom)
	}
}
