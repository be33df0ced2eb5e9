package server

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"strconv"

	"github.com/falproxy/falproxy/internal/audio"
	"github.com/falproxy/falproxy/internal/fal"
	"github.com/falproxy/falproxy/internal/falschema"
	"github.com/falproxy/falproxy/internal/media"
	"github.com/falproxy/falproxy/internal/openai"
)

// voiceHeader reports the voice fal spoke with when it is not the one the
// client named (an OpenAI voice mapped to the model's, or its default).
const voiceHeader = "X-Falproxy-Voice"

// errNotAudio means a speech result is not audio by its first bytes.
var errNotAudio = errors.New("fal's result is not audio")

// handleSpeech serves POST /v1/audio/speech: the model's TTS job runs on
// fal's queue, and its audio is streamed from fal's CDN to the client as
// it arrives (see streamSpeech), labelled with the type its first bytes
// show.
func (s *Server) handleSpeech(w http.ResponseWriter, r *http.Request) {
	body, e := s.readBody(w, r)
	if e != nil {
		writeError(w, e)
		return
	}
	req, e := openai.DecodeSpeech(body)
	if e != nil {
		writeError(w, e)
		return
	}
	ctx, cancel := s.audioContext(r, req.Model)
	defer cancel()
	ctx, alias, endpoint, spec, e := s.audioJob(ctx, req.Model, falschema.Speaks)
	if e != nil {
		writeError(w, e)
		return
	}
	plan, e := audio.PlanSpeech(req, spec, alias)
	if e != nil {
		writeError(w, e)
		return
	}
	out, err := s.runFal(ctx, endpoint, plan.Input, nil)
	if err != nil {
		s.failAudio(ctx, w, r, err, spec)
		return
	}
	speech, err := audio.ParseSpeech(out)
	if err != nil {
		s.log.Warn("fal's output has no audio", "request_id", infoFrom(ctx).ID, "endpoint", endpoint, "err", err)
		s.failAudio(ctx, w, r, &fal.Error{Op: fal.OpResult, Status: http.StatusOK, Detail: "fal's output has no audio"}, spec)
		return
	}
	if speech.Inline != nil {
		s.writeAudio(ctx, w, r, &fal.Download{Body: io.NopCloser(bytes.NewReader(speech.Inline)), ContentLength: int64(len(speech.Inline))}, spec, plan)
		return
	}
	dl, err := s.streamSpeech(r.Context(), speech.URL)
	if err != nil {
		s.failAudio(ctx, w, r, err, spec)
		return
	}
	s.writeAudio(ctx, w, r, dl, spec, plan)
}

// streamSpeech opens fal's audio file as media, not as an image: a long
// speech has no size cap and no whole-download deadline (neither the
// image downloader's nor the job's), only the idle timeout, and it ends
// when the client leaves. Asked for no range, Stream answers only with a
// whole file (200) or an error.
func (s *Server) streamSpeech(ctx context.Context, url string) (*fal.Download, error) {
	resp, err := s.opt.Downloader.Stream(ctx, url, "")
	if err != nil {
		return nil, err
	}
	return &fal.Download{Body: resp.Body, ContentType: resp.Header.Get("Content-Type"), ContentLength: resp.ContentLength}, nil
}

// failAudio answers a failed audio job, naming in a fal 422 the OpenAI
// field the rejected input came from; a client that left gets nothing.
func (s *Server) failAudio(ctx context.Context, w http.ResponseWriter, r *http.Request, err error, spec *falschema.Audio) {
	if r.Context().Err() != nil {
		return
	}
	writeError(w, s.failUpstreamAs(ctx, err, func(falField string) string { return audio.Param(spec, falField) }))
}

// writeAudio streams an audio download to the client: its first bytes
// are read to name the type (a CDN's label is not trusted, and a WAV must
// not go out as audio/mpeg), then every chunk is passed on and flushed as
// it arrives. After the header is sent a failure can only cut the body.
// Raw PCM has no signature: it is taken for what it is only when the
// model was asked for pcm and the bytes are binary, not text. A voice
// other than the one asked for is reported in voiceHeader.
func (s *Server) writeAudio(ctx context.Context, w http.ResponseWriter, r *http.Request, dl *fal.Download, spec *falschema.Audio, plan *audio.SpeechPlan) {
	defer dl.Body.Close()
	head := make([]byte, media.SniffLen)
	n, err := io.ReadFull(dl.Body, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		s.failAudio(ctx, w, r, downloadError(err), spec)
		return
	}
	head = head[:n]
	ct := media.SniffAudio(head)
	if ct == "" && plan.Format == "pcm" && len(head) > 0 && http.DetectContentType(head) == "application/octet-stream" {
		ct = "audio/pcm"
	}
	if ct == "" {
		s.failAudio(ctx, w, r, errNotAudio, spec)
		return
	}
	h := w.Header()
	h.Set("Content-Type", ct)
	if plan.Mapped {
		h.Set(voiceHeader, plan.Voice)
	}
	if dl.ContentLength > 0 {
		h.Set("Content-Length", strconv.FormatInt(dl.ContentLength, 10))
	}
	w.WriteHeader(http.StatusOK)
	fw := flushWriter{w: w, rc: http.NewResponseController(w)}
	_, err = fw.Write(head)
	if err == nil {
		_, err = io.Copy(fw, dl.Body)
	}
	switch {
	case err == nil:
	case r.Context().Err() != nil:
		cutShort(r.Context())
	default:
		s.log.Warn("streaming fal's audio broke off", "request_id", infoFrom(ctx).ID, "err", s.opt.Redact(err.Error()))
	}
}

// downloadError makes a failed read of a download a fal download error.
func downloadError(err error) error {
	if _, ok := errors.AsType[*fal.Error](err); ok {
		return err
	}
	return &fal.Error{Op: fal.OpDownload, Err: err}
}

// flushWriter flushes every write, so that audio reaches the client as
// fal's CDN sends it.
type flushWriter struct {
	w  io.Writer
	rc *http.ResponseController
}

func (f flushWriter) Write(p []byte) (int, error) {
	n, err := f.w.Write(p)
	if err == nil {
		err = f.rc.Flush()
	}
	return n, err
}
