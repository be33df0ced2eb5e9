package server

import (
	"context"
	"errors"
	"net/http"
	"reflect"
	"time"

	"github.com/falproxy/falproxy/internal/fal"
	"github.com/falproxy/falproxy/internal/openai"
	"github.com/falproxy/falproxy/internal/video"
)

// videoSeen is a video as fal reports it now, with its result when it
// has completed.
type videoSeen struct {
	video  video.Video
	output *video.Output
}

// handleGetVideo serves GET /v1/videos/{id}, asking fal for the status
// each time.
func (s *Server) handleGetVideo(w http.ResponseWriter, r *http.Request) {
	id, ref, key, rec, ok := s.requestedVideo(w, r)
	if !ok {
		return
	}
	ctx, cancel := s.jobContext(r)
	defer cancel()
	st, e := s.videoStatus(ctx, id, ref, key, rec, true)
	if e != nil {
		writeError(w, e)
		return
	}
	writeJSON(w, http.StatusOK, st.video)
}

// videoStatus asks fal where the job stands: queued (progress 0),
// running (progress from its logs, or from the time passed; withLogs asks
// fal for them, which only GET needs), or finished, when the result says
// whether it failed and which files it made. A finished result is kept
// (see videoResults) and asked of fal only once. rec is the video's
// record, read by the caller.
func (s *Server) videoStatus(ctx context.Context, id string, ref *video.Ref, key *fal.Key, rec videoRecord, withLogs bool) (*videoSeen, *openai.Error) {
	seen := &videoSeen{video: video.New(id, ref)}
	v := &seen.video
	if rec.indexed {
		v.Prompt = rec.last.Prompt
	}
	expires := s.videos.expires(ref).Unix()
	v.ExpiresAt = &expires
	if done, ok := s.videos.results.get(id); ok {
		done.fill(seen)
		s.keepSeen(ctx, rec, *v)
		return seen, nil
	}
	job := s.opt.Fal.Resume(ref.Endpoint, ref.RequestID, key)
	st, err := s.opt.Fal.Progress(ctx, job, withLogs)
	if err != nil {
		return nil, s.failVideoLookup(ctx, err)
	}
	switch st.Status.Status {
	case "IN_QUEUE":
		v.Status = video.Queued
	case "IN_PROGRESS":
		v.Status = video.InProgress
		logs := make([]string, len(st.Logs))
		for i, l := range st.Logs {
			logs[i] = l.Message
		}
		v.Progress = video.Progress(logs, time.Since(time.Unix(ref.CreatedAt, 0)))
	default:
		done, e := s.videoResult(ctx, job)
		if e != nil {
			return nil, e
		}
		if done.unbilled {
			s.refundVideo(ctx, sessionFrom(ctx), ref)
		}
		s.videos.results.add(id, done).fill(seen)
	}
	s.keepSeen(ctx, rec, *v)
	return seen, nil
}

// keepSeen keeps in the index what was last seen of an indexed video, for
// the list, when it differs from its record. One that cannot be kept is
// logged, unless the request was cancelled: the list shows the status
// seen before, and refreshes an unfinished one.
func (s *Server) keepSeen(ctx context.Context, rec videoRecord, v video.Video) {
	if !rec.indexed || reflect.DeepEqual(rec.last, v) {
		return
	}
	if err := s.videos.records.update(ctx, v); err != nil && ctx.Err() == nil {
		s.log.Error("the video index could not be updated", "request_id", infoFrom(ctx).ID, "error", err.Error())
	}
}

// videoResult reads a completed job's result: the files, or why it
// failed.
func (s *Server) videoResult(ctx context.Context, job *fal.Job) (*finishedVideo, *openai.Error) {
	done := &finishedVideo{completedAt: time.Now().Unix()}
	body, err := s.opt.Fal.Result(ctx, job)
	if fe, ok := errors.AsType[*fal.Error](err); ok && fe.JobFailed {
		done.failure, done.unbilled = videoFailure(fe), true
		return done, nil
	}
	if err != nil {
		return nil, s.failVideoLookup(ctx, err)
	}
	out, ok := video.ParseOutput(body)
	if !ok {
		done.failure = &video.Error{Code: "upstream_no_video", Message: "fal's result holds no video."}
		return done, nil
	}
	done.output = out
	return done, nil
}

// videoFailure is the error of a job fal ran and failed, mapped as any
// failed fal call is (see falCallError): a content-policy block, input fal
// refused, named in OpenAI's words, or the error type of a runner failure.
func videoFailure(fe *fal.Error) *video.Error {
	e := falCallError(fe)
	if e.Param != "" {
		return &video.Error{Code: e.Code, Message: "fal rejected the input '" + video.Param(e.Param) + "': " + falText(fe)}
	}
	return &video.Error{Code: e.Code, Message: e.Message}
}

// failVideoLookup maps a failed status or result call. fal forgets jobs
// after a while, and answers 404 for them: the video is gone.
func (s *Server) failVideoLookup(ctx context.Context, err error) *openai.Error {
	if fe, ok := errors.AsType[*fal.Error](err); ok && fe.Status == http.StatusNotFound {
		return s.logUpstream(ctx, err, videoNotFound())
	}
	return s.failUpstream(ctx, err)
}

// handleDeleteVideo serves DELETE /v1/videos/{id}: the video leaves the
// index and its id is remembered as deleted, so that falproxy (every
// replica, with a shared database) answers 404 for it from then on; then
// the job is cancelled at fal unless it is known to have finished (in the
// background, retried until fal confirms it). A deletion that cannot be
// recorded is a 503 that cancels nothing.
func (s *Server) handleDeleteVideo(w http.ResponseWriter, r *http.Request) {
	id, ref, key, _, ok := s.requestedVideo(w, r)
	if !ok {
		return
	}
	if err := s.videos.records.remove(r.Context(), id, infoFrom(r.Context()).tenant, time.Unix(ref.CreatedAt, 0), s.videos.expires(ref), time.Now()); err != nil {
		writeError(w, s.databaseFailed(r.Context(), "recording a deleted video", err))
		return
	}
	if _, finished := s.videos.results.get(id); !finished {
		job := s.opt.Fal.Resume(ref.Endpoint, ref.RequestID, key)
		job.OnCancelSettled = s.refundIfStopped(r.Context(), ref)
		s.opt.Fal.Cancel(job)
	}
	s.videos.results.remove(id)
	writeJSON(w, http.StatusOK, video.Deleted{ID: id, Object: "video.deleted", Deleted: true})
}

// videoPage is the body of GET /v1/videos.
type videoPage struct {
	Object  string        `json:"object"` // always "list"
	Data    []video.Video `json:"data"`
	FirstID *string       `json:"first_id"`
	LastID  *string       `json:"last_id"`
	HasMore bool          `json:"has_more"`
}

// Page sizes of GET /v1/videos.
const (
	defaultVideoPage = 20
	maxVideoPage     = 100
)

// handleListVideos serves GET /v1/videos from the index: the caller's
// videos created through this process (every replica, with a shared
// database), the unfinished ones of the page with their status asked of
// fal (see refreshUnfinished).
func (s *Server) handleListVideos(w http.ResponseWriter, r *http.Request) {
	lq, e := readListQuery(r, defaultVideoPage, maxVideoPage)
	if e != nil {
		writeError(w, e)
		return
	}
	data, more, err := s.videos.records.page(r.Context(), infoFrom(r.Context()).tenant, lq.After, lq.Limit, lq.Asc, time.Now())
	if err != nil {
		writeError(w, s.databaseFailed(r.Context(), "listing the videos", err))
		return
	}
	s.refreshUnfinished(r, data)
	page := videoPage{Object: "list", Data: data, HasMore: more}
	if page.Data == nil {
		page.Data = []video.Video{}
	}
	if len(data) > 0 {
		page.FirstID, page.LastID = &data[0].ID, &data[len(data)-1].ID
	}
	writeJSON(w, http.StatusOK, page)
}
