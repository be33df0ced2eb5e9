package server

import (
	"net/http"
	"strings"
	"time"

	"github.com/falproxy/falproxy/internal/fal"
	"github.com/falproxy/falproxy/internal/openai"
	"github.com/falproxy/falproxy/internal/registry"
	"github.com/falproxy/falproxy/internal/video"
)

// videoIDLabel derives a fal key's own signing key for video ids when no
// SIGNING_KEY is configured.
const videoIDLabel = "falproxy video ids"

// videoState is what the video routes share: the models, the keys that
// seal ids, the records of the videos (their index and the ids deleted,
// in process or in the database replicas share) and the finished results
// read.
type videoState struct {
	models  map[string]registry.VideoModel
	first   string       // alias used when a request names no model
	signing []*video.Key // SIGNING_KEY; empty derives a key per fal key
	// falKeys are the fal keys by tag, each with the key it derives for
	// ids, derived once.
	falKeys map[string]falKeyEntry
	records videoRecords
	results *videoResults
	ttl     time.Duration // how long fal keeps the files, for expires_at
}

func newVideoState(opt Options) *videoState {
	v := &videoState{models: map[string]registry.VideoModel{}, results: newVideoResults(videoResultsSize), ttl: opt.MediaTTL}
	if opt.Gate != nil {
		v.records = &sharedVideos{db: opt.Gate.Store()}
	} else {
		v.records = newLocalVideos()
	}
	if v.ttl <= 0 {
		v.ttl = falRetention
	}
	for _, m := range opt.VideoModels {
		v.models[m.Alias] = m
	}
	if len(opt.VideoModels) > 0 {
		v.first = opt.VideoModels[0].Alias
	}
	for _, k := range opt.SigningKeys {
		v.signing = append(v.signing, video.NewKey([]byte(k)))
	}
	v.falKeys = map[string]falKeyEntry{}
	if opt.Fal != nil {
		for _, k := range opt.Fal.Pool().Keys() {
			v.falKeys[string(k.Tag())] = falKeyEntry{fal: k, ids: video.NewKey(k.Derive(videoIDLabel))}
		}
	}
	return v
}

// falKeyEntry is a fal key and the key it derives for video ids.
type falKeyEntry struct {
	fal *fal.Key
	ids *video.Key
}

// model resolves the model of a video request.
func (v *videoState) model(name string) (registry.VideoModel, *openai.Error) {
	if name == "" {
		name = v.first
	}
	m, ok := v.models[name]
	if !ok {
		return m, openai.ModelNotFound(name)
	}
	return m, nil
}

// signingKey is the key that seals the id of a job submitted with k.
func (v *videoState) signingKey(k *fal.Key) *video.Key {
	if len(v.signing) > 0 {
		return v.signing[0]
	}
	return v.falKeys[string(k.Tag())].ids
}

// open reads an id made for accessKey: its Ref and the fal key that can
// follow its job. Any id this process cannot vouch for, or made with
// another access key, is the same 404 (see requestedVideo for the ids
// deleted).
func (v *videoState) open(id, accessKey string) (*video.Ref, *fal.Key, *openai.Error) {
	var falKey *fal.Key // the fal key that can follow the job, looked up once
	ref, key, err := video.Open(id, func(tag []byte) []*video.Key {
		e, ok := v.falKeys[string(tag)]
		if !ok { // the key was removed, or there is no fal client
			return nil
		}
		falKey = e.fal
		if len(v.signing) > 0 {
			return v.signing
		}
		return []*video.Key{e.ids}
	})
	if err != nil || !ref.Owns(key, accessKey) {
		return nil, nil, videoNotFound()
	}
	return ref, falKey, nil
}

// requestedVideo opens the video the request's path names for the
// caller's access key, reads its record and names it in the request's log
// line; a deleted video is the same 404 as one that never was. On failure
// it has answered and ok is false.
func (s *Server) requestedVideo(w http.ResponseWriter, r *http.Request) (id string, ref *video.Ref, key *fal.Key, rec videoRecord, ok bool) {
	id = r.PathValue("id")
	ref, key, e := s.videos.open(id, bearer(r))
	if e == nil {
		var err error
		rec, err = s.videos.records.get(r.Context(), id, time.Now())
		switch {
		case err != nil:
			e = s.databaseFailed(r.Context(), "reading the video's record", err)
		case rec.deleted:
			e = videoNotFound()
		}
	}
	if e != nil {
		writeError(w, e)
		return "", nil, nil, videoRecord{}, false
	}
	infoFrom(r.Context()).set(ref.Model, ref.RequestID)
	return id, ref, key, rec, true
}

// videoNotFound is the 404 of an id that names no video of the caller's.
func videoNotFound() *openai.Error {
	return &openai.Error{Status: http.StatusNotFound, Type: openai.TypeInvalidRequest, Code: "video_not_found", Param: "video_id",
		Message: "No video with this id exists for this API key.", NoRetry: true}
}

// expires is when the files of ref's video are gone from fal's CDN.
func (v *videoState) expires(ref *video.Ref) time.Time {
	return time.Unix(ref.CreatedAt, 0).Add(v.ttl)
}

// videoNotReady is the 409 of content or a remix asked of a video that has
// not completed: the request conflicts with the video's state, and the
// same request succeeds once it has completed (never, once it failed).
func videoNotReady(status video.Status) *openai.Error {
	return &openai.Error{Status: http.StatusConflict, Type: openai.TypeInvalidRequest, Code: "video_not_ready", Param: "video_id", NoRetry: true,
		Message: "This video is " + strings.ReplaceAll(string(status), "_", " ") + "; it can be downloaded or remixed only once it has completed."}
}

// falRetention is how long fal keeps generated media by default ("at least
// 7 days"), for expires_at when MEDIA_TTL is not set.
const falRetention = 7 * 24 * time.Hour
