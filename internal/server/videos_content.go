package server

import (
	"io"
	"net/http"

	"github.com/falproxy/falproxy/internal/openai"
	"github.com/falproxy/falproxy/internal/video"
)

// passedHeaders are the headers of fal's CDN answer that reach the client:
// what the bytes are, how many, and which part of the file they are.
var passedHeaders = []string{"Content-Type", "Content-Length", "Content-Range", "Accept-Ranges", "Last-Modified", "ETag"}

// handleVideoContent serves GET /v1/videos/{id}/content?variant=: the
// variant's file, streamed from fal's CDN as it arrives, with the
// client's Range passed through so that players can seek.
func (s *Server) handleVideoContent(w http.ResponseWriter, r *http.Request) {
	variant := r.URL.Query().Get("variant")
	if variant == "" {
		variant = "video"
	}
	if !video.IsVariant(variant) {
		writeError(w, openai.InvalidRequest("variant", "invalid_value", "Invalid 'variant': expected video, thumbnail or spritesheet."))
		return
	}
	id, ref, key, rec, ok := s.requestedVideo(w, r)
	if !ok {
		return
	}
	ctx, cancel := s.jobContext(r)
	st, e := s.videoStatus(ctx, id, ref, key, rec, false)
	cancel()
	if e != nil {
		writeError(w, e)
		return
	}
	if st.video.Status != video.Completed {
		writeError(w, videoNotReady(st.video.Status))
		return
	}
	url, ok := st.output.URLs[variant]
	if !ok {
		writeError(w, &openai.Error{Status: http.StatusNotFound, Type: openai.TypeInvalidRequest, Code: "variant_not_found", Param: "variant", NoRetry: true,
			Message: "This model made no " + variant + " for the video."})
		return
	}
	// No REQUEST_TIMEOUT here: a long video to a slow client may take
	// longer; the download ends only when fal's CDN falls silent.
	method := http.MethodGet
	if r.Method == http.MethodHead {
		method = http.MethodHead
	}
	resp, err := s.opt.Downloader.StreamMethod(r.Context(), method, url, r.Header.Get("Range"))
	if err != nil {
		writeError(w, s.failUpstream(r.Context(), err))
		return
	}
	defer resp.Body.Close()
	for _, h := range passedHeaders {
		if v := resp.Header.Get(h); v != "" {
			w.Header().Set(h, v)
		}
	}
	w.WriteHeader(resp.StatusCode)
	if r.Method == http.MethodHead {
		return
	}
	if _, err := io.Copy(w, resp.Body); err != nil && r.Context().Err() != nil {
		cutShort(r.Context())
	}
}
