package server

import (
	"context"
	"net/http"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/falproxy/falproxy/internal/fal"
	"github.com/falproxy/falproxy/internal/falschema"
	"github.com/falproxy/falproxy/internal/images"
	"github.com/falproxy/falproxy/internal/openai"
)

func (s *Server) handleImageGeneration(w http.ResponseWriter, r *http.Request) {
	body, e := s.readBody(w, r)
	if e != nil {
		writeError(w, e)
		return
	}
	req, e := openai.DecodeImageGeneration(body)
	if e != nil {
		writeError(w, e)
		return
	}
	alias, endpoint, e := s.models.imageEndpoint(req.Model)
	if e == nil {
		e = s.admitModel(r.Context(), alias, endpoint)
	}
	if e != nil {
		writeError(w, e)
		return
	}
	ctx, cancel := s.jobContext(r)
	defer cancel()

	caps, err := s.schema(ctx, alias, endpoint)
	if err != nil {
		writeError(w, s.schemaError(ctx, alias, err))
		return
	}
	// Named only once fal knows the endpoint, so that raw ids a client
	// makes up (ALLOW_ANY_ENDPOINT) cannot grow the metrics' model labels.
	infoFrom(r.Context()).set(alias, "")
	ctx = s.withPriority(ctx, alias)
	if !images.CanGenerate(caps) {
		writeError(w, openai.InvalidRequest("model", "model_not_supported",
			"The model `%s` edits images and needs an input image; use /v1/images/edits.", alias))
		return
	}
	if req.Stream {
		// Streamed images arrive as base64 events, as OpenAI sends them.
		req.ResponseFormat = "b64_json"
	}
	req.ResponseFormat = defaultResponseFormat(alias, req.ResponseFormat)
	plan, e := images.PlanGeneration(req, caps, s.planOptions())
	if e != nil {
		writeError(w, e)
		return
	}
	if req.Stream {
		s.streamImagePlan(ctx, w, endpoint, req.Prompt, plan)
		return
	}
	s.runImagePlan(ctx, w, r, endpoint, req.Prompt, plan)
}

// schema returns an image model's capabilities. A raw endpoint id the
// client typed (ALLOW_ANY_ENDPOINT) is looked up under the store's bound on
// new ids, so that made-up ids cannot put a fetch at fal behind every
// request.
func (s *Server) schema(ctx context.Context, alias, endpoint string) (*falschema.Capabilities, error) {
	if _, configured := s.models.images[alias]; !configured {
		return s.opt.Schemas.Lookup(ctx, endpoint)
	}
	return s.opt.Schemas.Get(ctx, endpoint)
}

// defaultResponseFormat is the response_format of a request that gives
// none: b64_json for an alias named like OpenAI's GPT image models
// (gpt-image-*, chatgpt-image-*), which always answer base64 and whose
// clients (the Vercel AI SDK among them) read only b64_json; url, fal's
// own answer, otherwise.
func defaultResponseFormat(alias, format string) string {
	name := strings.ToLower(alias)
	if format == "" && (strings.HasPrefix(name, "gpt-image") || strings.HasPrefix(name, "chatgpt-image")) {
		return "b64_json"
	}
	return format
}

// runImagePlan runs every fal job of a plan concurrently, then answers in
// the form the client asked for. If one job fails the others are stopped
// (and cancelled at fal by the fal client).
func (s *Server) runImagePlan(ctx context.Context, w http.ResponseWriter, r *http.Request, endpoint, prompt string, plan *images.Plan) {
	resp, media, err := s.produceImages(ctx, endpoint, prompt, plan)
	if err != nil {
		if r.Context().Err() != nil {
			return // the client is gone; fal jobs were cancelled
		}
		writeError(w, s.failUpstreamAs(ctx, err, plan.Param))
		return
	}
	if !plan.B64 {
		writeJSON(w, http.StatusOK, resp)
		return
	}
	writeB64Response(w, resp, media)
}

// produceImages runs a plan's jobs and gathers the images: as URLs, or,
// for b64_json, with every image's base64 at hand (fal's own from a data
// URI, or downloaded in full before any byte goes to the client, so that a
// failed download is still a clean error).
func (s *Server) produceImages(ctx context.Context, endpoint, prompt string, plan *images.Plan) (openai.ImagesResponse, []*mediaSource, error) {
	outputs, err := s.runJobs(ctx, endpoint, plan.Inputs, plan.JobImages)
	if err != nil {
		return openai.ImagesResponse{}, nil, err
	}
	return s.gatherImages(ctx, endpoint, prompt, plan, outputs)
}

// gatherImages is produceImages once the jobs are done. It is apart so
// that its locals are not on the stack of a request waiting on fal.
func (s *Server) gatherImages(ctx context.Context, endpoint, prompt string, plan *images.Plan, outputs []*images.Output) (openai.ImagesResponse, []*mediaSource, error) {
	if dropped := plan.Keep(outputs); dropped > 0 {
		s.log.Warn("fal answered more images than asked; the extra ones are dropped",
			"request_id", infoFrom(ctx).ID, "endpoint", endpoint, "asked", plan.N, "dropped", dropped)
	}
	var data []openai.Image
	var media []*mediaSource
	for _, out := range outputs {
		revised := images.RevisedPrompt(out, prompt)
		for _, img := range out.Images {
			data = append(data, openai.Image{URL: img.URL, RevisedPrompt: revised})
			media = append(media, &mediaSource{url: img.URL})
		}
	}
	resp := openai.ImagesResponse{Created: time.Now().Unix(), Data: data}
	if !plan.B64 {
		return resp, media, nil
	}
	if err := s.fetchMedia(ctx, media); err != nil {
		return openai.ImagesResponse{}, nil, err
	}
	return resp, media, nil
}

// runJobs runs one fal job per input, concurrently, and returns their
// outputs in order; asked[i] is how many images inputs[i] asks for. The
// first failure stops the others (the fal client cancels their jobs). A
// single job runs on the caller's goroutine.
func (s *Server) runJobs(ctx context.Context, endpoint string, inputs []map[string]any, asked []int) ([]*images.Output, error) {
	outputs := make([]*images.Output, len(inputs))
	if len(inputs) == 1 {
		out, err := s.runJob(ctx, endpoint, inputs[0], asked[0])
		outputs[0] = out
		return outputs, err
	}
	g, gctx := errgroup.WithContext(ctx)
	for i, input := range inputs {
		g.Go(func() (err error) {
			outputs[i], err = s.runJob(gctx, endpoint, input, asked[i])
			return err
		})
	}
	return outputs, g.Wait()
}

// runJob runs one fal job asking for asked images and reads the images of
// its output.
func (s *Server) runJob(ctx context.Context, endpoint string, input map[string]any, asked int) (*images.Output, error) {
	b, err := s.falInput(ctx, endpoint, input)
	if err != nil {
		return nil, err
	}
	// fal bills every image a completed job made, also those the answer
	// drops; when its output is unknown, the images the job asked for.
	body, billed, err := s.runBilled(ctx, endpoint, b, imagesWork(asked))
	if err != nil {
		if billed {
			report(ctx, func(w *falWork) { w.images += asked })
		}
		return nil, err
	}
	return s.jobImages(ctx, endpoint, body, asked)
}

// jobImages reads the images of a completed job's output, asked for asked
// images, and reports what fal bills for it. It is apart from runJob so
// that its locals are not on the stack of a request waiting on fal.
func (s *Server) jobImages(ctx context.Context, endpoint string, body []byte, asked int) (*images.Output, error) {
	out, err := parseOutput(body)
	made := imagesMade(out, asked)
	report(ctx, func(w *falWork) { w.images += made })
	if err != nil {
		s.log.Warn("fal's output has no image", "request_id", infoFrom(ctx).ID, "endpoint", endpoint, "err", err)
		return nil, &fal.Error{Op: fal.OpResult, Status: http.StatusOK, Detail: "fal's output has no image"}
	}
	return out, nil
}

// fetchMedia makes every image's base64 available: data URIs are used as
// they are (fal already encoded them), other URLs are downloaded in full
// before any byte goes to the client, so a failed download is still a clean
// error response.
func (s *Server) fetchMedia(ctx context.Context, media []*mediaSource) error {
	// Inline images first: a bad one fails the request before any
	// download has started.
	var toFetch []*mediaSource
	for _, m := range media {
		_, b64, ok := images.DataURI(m.url)
		if !ok {
			toFetch = append(toFetch, m)
			continue
		}
		if !isBase64Text(b64) {
			return &fal.Error{Op: fal.OpResult, Status: http.StatusOK, Detail: "fal returned a data URI that is not base64"}
		}
		m.b64 = b64
		if err := m.checkImage(); err != nil {
			return err
		}
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(4)
	for _, m := range toFetch {
		g.Go(func() error { return m.download(gctx, s.opt.Downloader) })
	}
	return g.Wait()
}
