package server

import (
	"bufio"
	"context"
	"io"
	"net/http/httptest"
	"testing"

	"github.com/falproxy/falproxy/internal/openai"
)

func TestErrorEvent(t *testing.T) {
	tests := []struct {
		name string
		err  *openai.Error
		want string
	}{
		{
			name: "server error",
			err:  openai.ServerError("fal failed: %s", "overloaded"),
			want: `data: {"error":{"message":"fal failed: overloaded","type":"server_error","param":null,"code":null}}` + "\n\n",
		},
		{
			name: "with param and code",
			err:  openai.InvalidRequest("messages", "context_length_exceeded", "too long"),
			want: `data: {"error":{"message":"too long","type":"invalid_request_error","param":"messages","code":"context_length_exceeded"}}` + "\n\n",
		},
		{
			name: "nil",
			want: `data: {"error":{"message":"the upstream stream failed","type":"server_error","param":null,"code":null}}` + "\n\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			out := startSSE(rec, chatEnd, defaultKeepAliveEvery)
			_ = out.fail(tt.err)
			out.close(context.Background(), nil, nil)
			if got := rec.Body.String(); got != tt.want {
				t.Errorf("error event:\n got %q\nwant %q", got, tt.want)
			}
		})
	}
}

// TestStreamEnds checks the framing and the end of each kind of stream:
// events named or not, the end of a complete stream, and an error event
// that is the last event.
func TestStreamEnds(t *testing.T) {
	tests := []struct {
		name  string
		end   streamEnd
		event string
		err   error
		want  string
	}{
		{"chat, complete", chatEnd, "", nil, "data: {\"n\":1}\n\ndata: [DONE]\n\n"},
		{"chat, fal closed early", chatEnd, "", io.EOF, "data: {\"n\":1}\n\ndata: {\"last\":true}\n\ndata: [DONE]\n\n"},
		{"chat, stream broke", chatEnd, "", io.ErrUnexpectedEOF, "data: {\"n\":1}\n\n" +
			`data: {"error":{"message":"fal's stream broke off before its end.","type":"server_error","param":null,"code":"upstream_stream_error"}}` + "\n\n"},
		{"image, complete", imageEnd, "image_generation.completed", nil, "event: image_generation.completed\ndata: {\"n\":1}\n\n"},
		{"image, failed", imageEnd, "image_generation.completed", io.ErrUnexpectedEOF, "event: image_generation.completed\ndata: {\"n\":1}\n\n" +
			"event: error\n" + `data: {"error":{"message":"fal's stream broke off before its end.","type":"server_error","param":null,"code":"upstream_stream_error"}}` + "\n\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			out := startSSE(rec, tt.end, defaultKeepAliveEvery)
			_ = out.sendWith(tt.event, func(bw *bufio.Writer) { bw.WriteString(`{"n":1}`) })
			out.close(context.Background(), tt.err, func() error { return out.data(nil, []byte(`{"last":true}`)) })
			if got := rec.Body.String(); got != tt.want {
				t.Errorf("stream:\n got %q\nwant %q", got, tt.want)
			}
			if ct := rec.Header().Get("Content-Type"); ct != "text/event-stream" {
				t.Errorf("Content-Type %q", ct)
			}
		})
	}
}

// TestSendSplitsLines: a payload that spans lines is sent as one event
// with a data field per line, which a client joins back into the payload.
func TestSendSplitsLines(t *testing.T) {
	rec := httptest.NewRecorder()
	out := startSSE(rec, chatEnd, defaultKeepAliveEvery)
	if err := out.data([]byte("{\n\"n\": 1\n}"), []byte(`{"n":2}`)); err != nil {
		t.Fatal(err)
	}
	if got, want := rec.Body.String(), "data: {\ndata: \"n\": 1\ndata: }\n\ndata: {\"n\":2}\n\n"; got != want {
		t.Errorf("sent %q, want %q", got, want)
	}
}
