package server

import (
	"cmp"
	"context"
	"net/http"
	"slices"

	"github.com/falproxy/falproxy/internal/falschema"
	"github.com/falproxy/falproxy/internal/images"
	"github.com/falproxy/falproxy/internal/openai"
)

// handleImageEdit serves POST /v1/images/edits, multipart or JSON. The
// input images reach fal inline or through fal storage (see falURLs), the
// model's edit endpoint runs as a generation does, and the answer has the
// same url or b64_json form.
func (s *Server) handleImageEdit(w http.ResponseWriter, r *http.Request) {
	in, e := s.readEdit(w, r)
	if e != nil {
		writeError(w, e)
		return
	}
	if in.req.Stream {
		writeError(w, openai.InvalidRequest("stream", "unsupported_value",
			"Streaming image edits are not supported; send the request without stream=true."))
		return
	}
	ri := infoFrom(r.Context())
	ctx, cancel := s.jobContext(r)
	defer cancel()

	alias, endpoint, caps, e := s.editModel(ctx, in.req.Model)
	if e != nil {
		writeError(w, e)
		return
	}
	ri.set(alias, "")
	ctx = s.withPriority(ctx, alias)
	in.req.ResponseFormat = defaultResponseFormat(alias, in.req.ResponseFormat)
	if in.text != nil {
		if in.req.Extra, e = typedExtras(in.text, caps); e != nil {
			writeError(w, e)
			return
		}
	}
	// Check and plan the whole request before uploading anything; only
	// the image URLs are filled in afterwards.
	prepared, e := images.PrepareEdit(&in.req, len(in.images), in.mask != nil, caps, s.planOptions())
	if e != nil {
		writeError(w, e)
		return
	}
	urls, e := s.inputURLs(ctx, r, in.all(), "An input image")
	if urls == nil {
		if e != nil {
			writeError(w, e)
		}
		return
	}
	plan := prepared.Build(urls)
	s.runImagePlan(ctx, w, r, endpoint, in.req.Prompt, plan)
}

// editModel resolves the model of an edit and checks that it takes an
// input image. Without a model, the first configured image model that can
// edit is used (see defaultEditModel).
func (s *Server) editModel(ctx context.Context, model string) (string, string, *falschema.Capabilities, *openai.Error) {
	if model == "" {
		return s.defaultEditModel(ctx)
	}
	alias, endpoint, e := s.models.imageEndpoint(model)
	if e != nil {
		return "", "", nil, e
	}
	caps, err := s.schema(ctx, alias, endpoint)
	if err != nil {
		return "", "", nil, s.schemaError(ctx, alias, err)
	}
	if caps.ImageInput == nil {
		return "", "", nil, openai.InvalidRequest("model", "model_not_supported",
			"The model `%s` does not edit images: it takes no input image. Use /v1/images/generations for it, or choose an edit model.", alias)
	}
	return alias, endpoint, caps, nil
}

// defaultEditModel picks the model for an edit that names none: the
// default image model if it edits, else the first configured image model
// whose schema takes an input image. The usual default is often a
// text-to-image model, which cannot edit. A schema that cannot be fetched
// is passed over, and reported only if no model qualifies.
func (s *Server) defaultEditModel(ctx context.Context) (string, string, *falschema.Capabilities, *openai.Error) {
	candidates := []string{s.models.defaultImage}
	for _, m := range s.opt.ImageModels {
		if !slices.Contains(candidates, m.Alias) {
			candidates = append(candidates, m.Alias)
		}
	}
	var failed error
	for _, alias := range candidates {
		endpoint, ok := s.models.images[alias]
		if !ok {
			continue
		}
		caps, err := s.opt.Schemas.Get(ctx, endpoint)
		if err != nil {
			if ctx.Err() != nil {
				return "", "", nil, s.schemaFailure(ctx, err)
			}
			failed = cmp.Or(failed, err)
			continue
		}
		if caps.ImageInput != nil {
			return alias, endpoint, caps, nil
		}
	}
	if failed != nil {
		return "", "", nil, s.schemaFailure(ctx, failed)
	}
	return "", "", nil, openai.InvalidRequest("model", "model_not_supported",
		"None of the configured image models edits images; name an edit model in 'model'.")
}
