package server

import (
	"context"
	"mime/multipart"
	"net/http"
	"strconv"
	"time"

	"github.com/falproxy/falproxy/internal/openai"
	"github.com/falproxy/falproxy/internal/pricing"
	"github.com/falproxy/falproxy/internal/video"
)

// handleCreateVideo serves POST /v1/videos, multipart (as the SDKs send
// it) or JSON. It submits the job to fal's queue and answers the Video at
// once; the job holds a key slot only while it is submitted, since fal
// queues it after that.
func (s *Server) handleCreateVideo(w http.ResponseWriter, r *http.Request) {
	req, e := s.readVideoRequest(w, r)
	if e != nil {
		writeError(w, e)
		return
	}
	m, e := s.videos.model(req.Model)
	if e != nil {
		writeError(w, e)
		return
	}
	endpoint := m.Text
	if req.Image != nil {
		if m.Image == "" {
			writeError(w, openai.InvalidRequest("input_reference", "unsupported_parameter",
				"The model `%s` has no image-to-video endpoint configured; send the request without input_reference.", m.Alias))
			return
		}
		endpoint = m.Image
	}
	ctx, cancel := s.modelContext(r, m.Alias)
	defer cancel()
	caps, err := s.opt.Schemas.Get(ctx, endpoint)
	if err != nil {
		writeError(w, s.schemaFailure(ctx, err))
		return
	}
	extra := req.Extra
	if req.Text != nil {
		if extra, e = typedExtras(req.Text, caps); e != nil {
			writeError(w, e)
			return
		}
	}
	plan, e := video.PlanInput(req, extra, caps)
	if e == nil {
		// Priced at the length fal will make, which the plan knows.
		if secs, err := strconv.ParseFloat(plan.Seconds, 64); err == nil {
			s.remeasure(r.Context(), func(m *pricing.Measures) { m.Seconds = secs })
		}
		e = s.admitModel(r.Context(), m.Alias, endpoint)
	}
	if e != nil {
		writeError(w, e)
		return
	}
	if req.Image != nil {
		url, e := s.inputImageURL(ctx, r, *req.Image)
		if url == "" {
			if e != nil {
				writeError(w, e)
			}
			return
		}
		plan.Input[plan.ImageField] = url
	}
	ref := video.Ref{Endpoint: endpoint, Model: m.Alias, Seconds: plan.Seconds, Size: req.Size, Prompt: req.Prompt}
	s.submitVideo(ctx, w, r, ref, plan.Input)
}

// readVideoRequest reads a video request in either of its formats.
func (s *Server) readVideoRequest(w http.ResponseWriter, r *http.Request) (*video.Request, *openai.Error) {
	decodeForm := func(mr *multipart.Reader, lim openai.FormLimits) (*video.Request, *openai.Error) {
		form, e := openai.DecodeVideoForm(mr, lim)
		if e != nil {
			return nil, e
		}
		return video.FromForm(form)
	}
	return readForm(s, w, r, "Videos", decodeForm, video.DecodeJSON, s.opt.MaxImageBytes)
}

// inputImageURL is the URL of the input image for fal: inline as a data:
// URI when small (INLINE_LIMIT), uploaded to fal storage otherwise, or the
// client's own URL. It is "" with no error when the client is gone.
func (s *Server) inputImageURL(ctx context.Context, r *http.Request, ref openai.ImageRef) (string, *openai.Error) {
	img, e := s.refImage(ref, "input_reference.image_url", "input-reference")
	if e != nil {
		return "", e
	}
	urls, e := s.inputURLs(ctx, r, []editImage{img}, "The input image")
	if urls == nil {
		return "", e
	}
	return urls[0], nil
}

// submitVideo puts a video job on fal's queue and answers its Video: the
// id seals ref with fal's request id, the submitting key's tag and the
// caller's access tag.
func (s *Server) submitVideo(ctx context.Context, w http.ResponseWriter, r *http.Request, ref video.Ref, input map[string]any) {
	body, err := s.falInput(ctx, ref.Endpoint, input)
	if err != nil {
		writeError(w, openai.ServerError("encoding fal's input failed"))
		return
	}
	// fal may accept the job while the client leaves: the submit ends
	// only with the request timeout, not with the client, so that the
	// job is known and can be cancelled rather than run and be billed
	// with no one to fetch it.
	submitCtx, cancel := detached(ctx)
	defer cancel()
	job, err := s.opt.Fal.Submit(submitCtx, ref.Endpoint, body)
	if err != nil {
		if r.Context().Err() == nil {
			writeError(w, s.failUpstreamAs(ctx, err, video.Param))
		}
		return
	}
	job.Release() // fal queues the job from here on
	if r.Context().Err() != nil {
		s.opt.Fal.Cancel(job)
		return
	}
	infoFrom(r.Context()).set("", job.RequestID)
	accessKey := bearer(r)
	key := s.videos.signingKey(job.Key())
	now := time.Now()
	ref.RequestID, ref.KeyTag, ref.AccessTag, ref.CreatedAt = job.RequestID, job.Key().Tag(), key.AccessTag(accessKey), now.Unix()
	ref.Charged = submitCharge(ctx)
	id := video.Seal(ref, key)
	v := video.New(id, &ref)
	v.Prompt = ref.Prompt // whole, where the id carries it cut
	if err := s.videos.records.add(ctx, v, infoFrom(ctx).tenant, now); err != nil {
		s.log.Error("the video could not be indexed", "request_id", infoFrom(ctx).ID, "error", err.Error())
	}
	writeJSON(w, http.StatusOK, v)
}

// detached is ctx, with its values and deadline, that does not end when
// ctx is cancelled.
func detached(ctx context.Context) (context.Context, context.CancelFunc) {
	if deadline, ok := ctx.Deadline(); ok {
		return context.WithDeadline(context.WithoutCancel(ctx), deadline)
	}
	return context.WithCancel(context.WithoutCancel(ctx))
}
