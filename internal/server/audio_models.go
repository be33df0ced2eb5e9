package server

import (
	"cmp"
	"context"
	"log/slog"
	"net/http"

	"github.com/falproxy/falproxy/internal/audio"
	"github.com/falproxy/falproxy/internal/falschema"
	"github.com/falproxy/falproxy/internal/openai"
	"github.com/falproxy/falproxy/internal/registry"
)

// AudioModelInfo is what falproxy knows of an audio model at fal: its
// endpoint, whether it speaks or transcribes, and the schema's voices,
// formats, speed range and languages. GET /v1/models/{model} returns it
// as "fal"; `falproxy models` prints it.
type AudioModelInfo struct {
	Alias    string           `json:"alias,omitempty"`
	Endpoint string           `json:"endpoint"`
	Kind     registry.Kind    `json:"kind"` // Speech, Transcription, or Audio when unknown
	Audio    *falschema.Audio `json:"audio,omitempty"`
	Error    string           `json:"error,omitempty"`
}

// InspectAudio fetches m's schema through store and describes it; as
// InspectImage, a failed fetch is returned for the caller to word.
func InspectAudio(ctx context.Context, store *falschema.Store, m registry.AudioModel) (AudioModelInfo, error) {
	info := AudioModelInfo{Alias: m.Alias, Endpoint: m.Endpoint, Kind: registry.Audio}
	caps, err := store.Get(ctx, m.Endpoint)
	if err != nil {
		return info, err
	}
	info.Audio = caps.Audio
	info.Kind = audioKindOf(caps.Audio)
	return info, nil
}

// audioKindOf is the registry kind of an endpoint's audio side.
func audioKindOf(a *falschema.Audio) registry.Kind {
	switch {
	case a == nil:
		return registry.Audio
	case a.Kind == falschema.Speaks:
		return registry.Speech
	}
	return registry.Transcription
}

// audioKind is an audio endpoint's kind as far as its cached schema tells.
func (s *Server) audioKind(endpoint string) registry.Kind {
	if s.opt.Schemas == nil {
		return registry.Audio
	}
	if caps, ok := s.opt.Schemas.Cached(endpoint); ok {
		return audioKindOf(caps.Audio)
	}
	return registry.Audio
}

// audioDoes and audioRoute say what each audio kind does and where, for
// errors.
var (
	audioDoes = map[falschema.AudioKind]string{
		falschema.Speaks:      "makes speech",
		falschema.Transcribes: "transcribes speech",
	}
	audioRoute = map[falschema.AudioKind]string{
		falschema.Speaks:      "/v1/audio/speech",
		falschema.Transcribes: "/v1/audio/transcriptions or /v1/audio/translations",
	}
)

// audioContext is the job context of an audio request: modelContext when
// it names an audio alias, so that a failed schema lookup is logged and
// counted under it; a default model is named once chosen (see audioJob).
func (s *Server) audioContext(r *http.Request, model string) (context.Context, context.CancelFunc) {
	if _, ok := s.models.audio[model]; ok {
		return s.modelContext(r, model)
	}
	return s.jobContext(r)
}

// audioJob resolves the model of an audio request (see audioModel), names
// it for the access log and metrics, and gives ctx its queue priority.
func (s *Server) audioJob(ctx context.Context, model string, want falschema.AudioKind) (context.Context, string, string, *falschema.Audio, *openai.Error) {
	alias, endpoint, spec, e := s.audioModel(ctx, model, want)
	if e != nil {
		return ctx, "", "", nil, e
	}
	infoFrom(ctx).set(alias, "")
	return s.withPriority(ctx, alias), alias, endpoint, spec, nil
}

// audioModel resolves the model of an audio request and checks, by its
// schema, that it does what the route needs. Without a model, the first
// audio alias that does is used.
func (s *Server) audioModel(ctx context.Context, model string, want falschema.AudioKind) (string, string, *falschema.Audio, *openai.Error) {
	if model == "" {
		return s.defaultAudioModel(ctx, want)
	}
	endpoint, ok := s.models.audio[model]
	if !ok {
		return "", "", nil, s.notAudio(model, want)
	}
	caps, err := s.opt.Schemas.Get(ctx, endpoint)
	if err != nil {
		return "", "", nil, s.schemaFailure(ctx, err)
	}
	switch {
	case caps.Audio == nil:
		return "", "", nil, openai.InvalidRequest("model", "model_not_supported",
			"The model `%s` neither makes speech nor transcribes it: its fal endpoint has no audio output or transcript.", model)
	case caps.Audio.Kind != want:
		return "", "", nil, openai.InvalidRequest("model", "model_not_supported", "The model `%s` %s; use %s.", model, audioDoes[caps.Audio.Kind], audioRoute[caps.Audio.Kind])
	}
	return model, endpoint, caps.Audio, nil
}

// notAudio answers a model that is no audio alias: the route it belongs
// to if it is an image or chat alias, else not found.
func (s *Server) notAudio(model string, want falschema.AudioKind) *openai.Error {
	route := ""
	if _, ok := s.models.images[model]; ok {
		route = "makes images (use /v1/images/generations)"
	} else if _, ok := s.models.chat[model]; ok {
		route = "is a chat model (use /v1/chat/completions)"
	}
	if route == "" {
		return openai.ModelNotFound(model)
	}
	return openai.InvalidRequest("model", "model_not_supported", "The model `%s` %s; this route needs a model that %s.", model, route, audioDoes[want])
}

// defaultAudioModel is the first audio alias of the wanted kind; a schema
// that cannot be had is passed over and reported only if none qualifies.
func (s *Server) defaultAudioModel(ctx context.Context, want falschema.AudioKind) (string, string, *falschema.Audio, *openai.Error) {
	var failed error
	for _, m := range s.opt.AudioModels {
		caps, err := s.opt.Schemas.Get(ctx, m.Endpoint)
		if err != nil {
			failed = cmp.Or(failed, err)
			continue
		}
		if caps.Audio != nil && caps.Audio.Kind == want {
			return m.Alias, m.Endpoint, caps.Audio, nil
		}
	}
	if failed != nil {
		return "", "", nil, s.schemaFailure(ctx, failed)
	}
	return "", "", nil, openai.InvalidRequest("model", "model_not_supported", "No configured audio model %s; name one in 'model'.", audioDoes[want])
}

// handleAudioModels serves GET /v1/audio/models: every audio alias, in
// the shape Open WebUI reads ({models:[{id}]}).
func (s *Server) handleAudioModels(w http.ResponseWriter, r *http.Request) {
	out := openai.AudioModels{Models: []openai.AudioModelID{}}
	for _, m := range s.opt.AudioModels {
		out.Models = append(out.Models, openai.AudioModelID{ID: m.Alias})
	}
	writeJSON(w, http.StatusOK, out)
}

// handleAudioVoices serves GET /v1/audio/voices ({voices:[{id,name}]}):
// the voices of the speech model named by ?model=, or of every speech
// model, plus OpenAI's voice names, which every speech model takes. For a
// named model, an OpenAI name that maps to another voice is named with
// the mapping ("alloy → Wise_Woman"); a model that does not speak is a
// 400. A model whose schema cannot be fetched is left out and logged.
func (s *Server) handleAudioVoices(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), s.opt.RequestTimeout)
	defer cancel()
	models := s.opt.AudioModels
	name := r.URL.Query().Get("model")
	if name != "" {
		endpoint, ok := s.models.audio[name]
		if !ok {
			writeError(w, openai.ModelNotFound(name))
			return
		}
		models = []registry.AudioModel{{Alias: name, Endpoint: endpoint}}
	}
	var speakers []*falschema.Audio
	for _, m := range models {
		caps, err := s.opt.Schemas.Get(ctx, m.Endpoint)
		switch {
		case err != nil:
			// One model fal cannot describe must not hide the others'
			// voices from a settings page.
			s.voicesSkipped(m, err)
		case caps.Audio != nil && caps.Audio.Kind == falschema.Speaks:
			speakers = append(speakers, caps.Audio)
		case name != "":
			writeError(w, openai.InvalidRequest("model", "model_not_supported",
				"The model `%s` does not speak, so it has no voices; name a speech model (one for /v1/audio/speech).", name))
			return
		}
	}
	out := openai.AudioVoices{Voices: []openai.AudioVoice{}}
	seen := map[string]bool{}
	add := func(id, label string) {
		if !seen[id] {
			seen[id] = true
			out.Voices = append(out.Voices, openai.AudioVoice{ID: id, Name: label})
		}
	}
	for _, v := range audio.OpenAIVoices {
		label := v
		if name != "" && len(speakers) == 1 {
			if to := audio.MappedVoice(v, speakers[0]); to != "" {
				label = v + " → " + to
			}
		}
		add(v, label)
	}
	for _, a := range speakers {
		for _, v := range audio.Voices(a) {
			add(v, v)
		}
	}
	writeJSON(w, http.StatusOK, out)
}

// voicesSkipped logs a model left out of /v1/audio/voices because its
// schema cannot be had: at warn level the first time for its endpoint,
// then at debug level, since the route is public and settings pages poll
// it.
func (s *Server) voicesSkipped(m registry.AudioModel, err error) {
	level := slog.LevelDebug
	if _, warned := s.voicesWarned.LoadOrStore(m.Endpoint, true); !warned {
		level = slog.LevelWarn
	}
	s.log.Log(context.Background(), level, "audio voices: skipping a model whose schema cannot be had",
		"alias", m.Alias, "endpoint", m.Endpoint, "err", s.opt.Redact(err.Error()))
}
