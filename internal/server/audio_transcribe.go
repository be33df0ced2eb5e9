package server

import (
	"net/http"
	"strconv"

	"github.com/falproxy/falproxy/internal/audio"
	"github.com/falproxy/falproxy/internal/fal"
	"github.com/falproxy/falproxy/internal/falschema"
	"github.com/falproxy/falproxy/internal/openai"
)

// handleTranscription serves POST /v1/audio/transcriptions.
func (s *Server) handleTranscription(w http.ResponseWriter, r *http.Request) {
	s.transcribe(w, r, false)
}

// handleTranslation serves POST /v1/audio/translations: a transcription
// in English, by the model's task "translate".
func (s *Server) handleTranslation(w http.ResponseWriter, r *http.Request) {
	s.transcribe(w, r, true)
}

// transcribe reads the multipart recording, checks and plans the request
// against the model's schema before anything is uploaded, sends the
// recording to fal unchanged (inline as a data: URI up to InlineLimit,
// else through fal storage), runs the job and renders its chunks in the
// response_format asked for.
func (s *Server) transcribe(w http.ResponseWriter, r *http.Request, translate bool) {
	req, e := s.readTranscription(w, r)
	if e != nil {
		writeError(w, e)
		return
	}
	ctx, cancel := s.audioContext(r, req.Model)
	defer cancel()
	ctx, alias, endpoint, spec, e := s.audioJob(ctx, req.Model, falschema.Transcribes)
	if e != nil {
		writeError(w, e)
		return
	}
	plan, e := audio.PlanTranscription(req, spec, alias, translate)
	if e != nil {
		writeError(w, e)
		return
	}
	// The recording travels as edits' input images do; its name and type
	// come from its bytes.
	urls, e := s.inputURLs(ctx, r, []editImage{fileImage(req.File)}, "The recording")
	if urls == nil {
		if e != nil {
			writeError(w, e)
		}
		return
	}
	plan.Input[spec.AudioURL] = urls[0]
	out, err := s.runFal(ctx, endpoint, plan.Input, transcriptWork)
	if err != nil {
		s.failAudio(ctx, w, r, err, spec)
		return
	}
	t, err := audio.ParseTranscript(out)
	if err != nil {
		s.log.Warn("fal's output has no transcript", "request_id", infoFrom(ctx).ID, "endpoint", endpoint, "err", err)
		s.failAudio(ctx, w, r, &fal.Error{Op: fal.OpResult, Status: http.StatusOK, Detail: "fal's output has no transcript"}, spec)
		return
	}
	reportHeard(ctx, t.Duration())
	ct, body := audio.Render(t, plan.Format, plan.Task, plan.Words)
	w.Header().Set("Content-Type", ct)
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
}

// readTranscription decodes the multipart form the SDKs send, with the
// recording in 'file'.
func (s *Server) readTranscription(w http.ResponseWriter, r *http.Request) (*openai.TranscriptionRequest, *openai.Error) {
	return readForm(s, w, r, "Transcriptions", openai.DecodeTranscriptionForm, nil, openai.MaxAudioFile)
}
