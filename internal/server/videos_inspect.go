package server

import (
	"context"
	"errors"
	"strings"

	"github.com/falproxy/falproxy/internal/falschema"
	"github.com/falproxy/falproxy/internal/registry"
	"github.com/falproxy/falproxy/internal/video"
)

// VideoModelInfo is what falproxy knows of a video model at fal: each of
// its endpoints with a summary of its schema. GET /v1/models/{model}
// returns it as "fal"; `falproxy models` and `falproxy check` print it.
type VideoModelInfo struct {
	Kind      registry.Kind       `json:"kind"`
	Alias     string              `json:"alias,omitempty"`
	Endpoints []VideoEndpointInfo `json:"endpoints"`
	// Remix is the endpoint remixes run on, "" when the model cannot remix.
	Remix string `json:"remix,omitempty"`
}

// VideoEndpointInfo is one endpoint of a video model.
type VideoEndpointInfo struct {
	Role         string             `json:"role"` // text-to-video, image-to-video or remix
	Endpoint     string             `json:"endpoint"`
	Capabilities *video.Description `json:"capabilities,omitempty"`
	Error        string             `json:"error,omitempty"`
}

// remixCandidate is the endpoint a model's remixes would run on: the
// configured one, or <family>/video-to-video/remix next to its
// text-to-video endpoint, which serves only if fal has it ("" when the
// text endpoint is not named so).
func remixCandidate(m registry.VideoModel) (endpoint string, configured bool) {
	if m.Remix != "" {
		return m.Remix, true
	}
	if family, ok := strings.CutSuffix(m.Text, "/text-to-video"); ok {
		return family + "/video-to-video/remix", false
	}
	return "", false
}

// InspectVideo fetches the schemas of m's endpoints through store and
// summarises them; a failed fetch is put in its endpoint's Error in the
// words word chooses for the caller's reader (an operator sees the cause,
// an HTTP client words). A remix endpoint looked for next to the
// text-to-video one that fal does not have is no error: the model cannot
// remix.
func InspectVideo(ctx context.Context, store *falschema.Store, m registry.VideoModel, word func(error) string) VideoModelInfo {
	info := VideoModelInfo{Kind: registry.Video, Alias: m.Alias}
	add := func(role, endpoint string) *falschema.Capabilities {
		e := VideoEndpointInfo{Role: role, Endpoint: endpoint}
		caps, err := store.Get(ctx, endpoint)
		if err == nil {
			e.Capabilities = video.Describe(caps)
		} else {
			e.Error = word(err)
		}
		info.Endpoints = append(info.Endpoints, e)
		return caps
	}
	add("text-to-video", m.Text)
	if m.Image != "" {
		add("image-to-video", m.Image)
	}
	remix, configured := remixCandidate(m)
	if remix == "" {
		return info
	}
	if !configured {
		if _, err := store.Get(ctx, remix); errors.Is(err, falschema.ErrUnknownEndpoint) {
			return info
		}
	}
	if add("remix", remix) != nil {
		info.Remix = remix
	}
	return info
}

// inspectVideo is InspectVideo for GET /v1/models/{model}, with failures
// in words for an HTTP client.
func (s *Server) inspectVideo(ctx context.Context, alias string) VideoModelInfo {
	info := InspectVideo(ctx, s.opt.Schemas, s.videos.models[alias], func(err error) string {
		return s.schemaFailure(ctx, err).Message
	})
	info.Alias = ""
	return info
}
