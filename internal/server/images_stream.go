package server

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"

	"github.com/falproxy/falproxy/internal/images"
	"github.com/falproxy/falproxy/internal/openai"
)

// streamImagePlan answers an image request made with stream: true the way
// OpenAI does: server-sent events, one image_generation.completed event
// per image carrying its base64. fal's image models send no partial
// images, so there are no partial events. The stream starts at once and
// carries keep-alive comments while fal works, which also keeps long
// generations alive through proxies that cut silent connections.
func (s *Server) streamImagePlan(ctx context.Context, w http.ResponseWriter, endpoint, prompt string, plan *images.Plan) {
	out := startSSE(w, imageEnd, s.opt.KeepAliveEvery)
	type result struct {
		resp  openai.ImagesResponse
		media []*mediaSource
		err   error
	}
	done := make(chan result, 1)
	go func() {
		resp, media, err := s.produceImages(ctx, endpoint, prompt, plan)
		done <- result{resp, media, err}
	}()
	var res result
	err := keepAliveUntil(ctx, out, done, func(r result) (bool, error) {
		res = r
		return true, nil
	})
	if err != nil {
		// produceImages ends soon after ctx; what its jobs completed
		// must be known before the request's cost is settled.
		res = <-done
	}
	if err == nil && shuttingDown(ctx) {
		err = context.Cause(ctx) // the images came too late to be sent
	}
	switch {
	case err != nil:
		// The client left, the server is shutting down or the request
		// timed out: produceImages cancels the fal jobs, and close
		// tells a client still waiting why the stream ends.
		out.close(ctx, err, nil)
		return
	case res.err != nil:
		_ = out.fail(s.failUpstreamAs(ctx, res.err, plan.Param))
		return
	}
	size := plan.Size
	if size == "" {
		size = "auto"
	}
	for _, m := range res.media {
		err := out.sendWith("image_generation.completed", func(bw *bufio.Writer) {
			writeCompletedEvent(bw, m, res.resp.Created, size)
		})
		if err != nil {
			return
		}
	}
	out.close(ctx, nil, nil)
}

// writeCompletedEvent writes the data of one image_generation.completed
// event, with the fields the SDKs' event type requires.
func writeCompletedEvent(bw *bufio.Writer, m *mediaSource, created int64, size string) {
	bw.WriteString(`{"type":"image_generation.completed","b64_json":"`)
	m.writeBase64(bw)
	bw.WriteString(`","created_at":`)
	bw.WriteString(strconv.FormatInt(created, 10))
	bw.WriteString(`,"size":`)
	writeJSONString(bw, size)
	bw.WriteString(`,"quality":"auto","background":"auto","output_format":`)
	writeJSONString(bw, outputFormat(m.contentType))
	bw.WriteString(`,"usage":{"total_tokens":0,"input_tokens":0,"output_tokens":0,"input_tokens_details":{"text_tokens":0,"image_tokens":0}}}`)
}

func writeJSONString(bw *bufio.Writer, s string) {
	b, _ := json.Marshal(s)
	bw.Write(b)
}

// outputFormat names an image's format from its media type (png when
// unknown, OpenAI's default).
func outputFormat(contentType string) string {
	mt, _, _ := strings.Cut(contentType, ";")
	switch strings.TrimSpace(strings.ToLower(mt)) {
	case "image/jpeg", "image/jpg":
		return "jpeg"
	case "image/webp":
		return "webp"
	}
	return "png"
}
