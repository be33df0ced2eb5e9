package server

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/falproxy/falproxy/internal/falschema"
	"github.com/falproxy/falproxy/internal/openai"
	"github.com/falproxy/falproxy/internal/pricing"
	"github.com/falproxy/falproxy/internal/registry"
	"github.com/falproxy/falproxy/internal/video"
)

// remixRequest is the body of POST /v1/videos/{id}/remix.
type remixRequest struct {
	Prompt string `json:"prompt"`
}

// handleRemixVideo serves POST /v1/videos/{id}/remix: the model's remix
// endpoint runs on the fal video id of the first job's result.
func (s *Server) handleRemixVideo(w http.ResponseWriter, r *http.Request) {
	id, ref, key, rec, ok := s.requestedVideo(w, r)
	if !ok {
		return
	}
	body, e := s.readBody(w, r)
	if e != nil {
		writeError(w, e)
		return
	}
	var req remixRequest
	if err := json.Unmarshal(body, &req); err != nil {
		writeError(w, openai.InvalidRequest("", "invalid_json", "The body must be a JSON object with a prompt."))
		return
	}
	if strings.TrimSpace(req.Prompt) == "" {
		writeError(w, openai.InvalidRequest("prompt", "missing_required_parameter", "Missing required parameter: 'prompt'."))
		return
	}
	m, e := s.videos.model(ref.Model)
	if e != nil {
		writeError(w, e)
		return
	}
	ctx, cancel := s.modelContext(r, m.Alias)
	defer cancel()
	endpoint, caps, e := s.remixEndpoint(ctx, m)
	if e == nil {
		// A remix is as long as its source video, at the remix endpoint's
		// price.
		if secs, err := strconv.ParseFloat(ref.Seconds, 64); err == nil {
			s.remeasure(ctx, func(m *pricing.Measures) { m.Seconds = secs })
		}
		e = s.admitModel(ctx, m.Alias, endpoint)
	}
	if e != nil {
		writeError(w, e)
		return
	}
	st, e := s.videoStatus(ctx, id, ref, key, rec, false)
	if e != nil {
		writeError(w, e)
		return
	}
	if st.video.Status != video.Completed || st.output.VideoID == "" {
		writeError(w, videoNotReady(st.video.Status))
		return
	}
	remix := video.Ref{Endpoint: endpoint, Model: m.Alias, Seconds: ref.Seconds, Size: ref.Size, RemixedFrom: id, Prompt: req.Prompt}
	s.submitVideo(ctx, w, r, remix, video.RemixInput(req.Prompt, st.output.VideoID, caps))
}

// remixEndpoint is the model's remix endpoint (see remixCandidate) with
// its capabilities; a model without one cannot remix.
func (s *Server) remixEndpoint(ctx context.Context, m registry.VideoModel) (string, *falschema.Capabilities, *openai.Error) {
	endpoint, configured := remixCandidate(m)
	if endpoint == "" {
		return "", nil, cannotRemix(m.Alias)
	}
	caps, err := s.opt.Schemas.Get(ctx, endpoint)
	switch {
	case err == nil:
		return endpoint, caps, nil
	case errors.Is(err, falschema.ErrUnknownEndpoint) && !configured:
		return "", nil, cannotRemix(m.Alias)
	}
	return "", nil, s.schemaFailure(ctx, err)
}

// cannotRemix is the 400 for a model without a remix endpoint.
func cannotRemix(alias string) *openai.Error {
	return openai.InvalidRequest("model", "model_not_supported",
		"The model `%s` cannot remix: fal has no remix endpoint for it (set one in VIDEO_MODELS if it has).", alias)
}
