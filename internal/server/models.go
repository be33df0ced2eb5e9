package server

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"

	"github.com/falproxy/falproxy/internal/openai"
	"github.com/falproxy/falproxy/internal/registry"
	"github.com/falproxy/falproxy/internal/teams"
)

// modelTable is the server's registry of models: it resolves client model
// names to fal endpoints and model ids, and lists every alias with its kind.
type modelTable struct {
	images       map[string]string // alias → endpoint
	chat         map[string]string // alias → fal model id
	audio        map[string]string // alias → endpoint
	embedding    map[string]string // alias → fal model id
	defaultImage string            // alias
	anyEndpoint  bool
	entries      []registry.Entry
	list         []openai.Model // entries as OpenAI lists them, in the same order
	listing      atomic.Pointer[listing]
}

func newModelTable(opt Options) *modelTable {
	t := &modelTable{images: make(map[string]string), chat: make(map[string]string), anyEndpoint: opt.AllowAnyEndpoint}
	for _, m := range opt.ImageModels {
		t.images[m.Alias] = m.Endpoint
	}
	for _, m := range opt.ChatModels {
		t.chat[m.Alias] = m.Model
	}
	t.entries = registry.Entries(opt.ImageModels, opt.ChatModels)
	t.audio = make(map[string]string)
	for _, m := range opt.AudioModels {
		t.audio[m.Alias] = m.Endpoint
	}
	t.entries = append(t.entries, registry.VideoEntries(opt.VideoModels)...)
	t.entries = append(t.entries, registry.AudioEntries(opt.AudioModels)...)
	t.embedding = make(map[string]string)
	for _, m := range opt.EmbeddingModels {
		t.embedding[m.Alias] = m.Model
	}
	t.entries = append(t.entries, registry.EmbeddingEntries(opt.EmbeddingModels)...)
	created := opt.Created.Unix()
	for _, e := range t.entries {
		t.list = append(t.list, openai.Model{ID: e.Alias, Object: "model", Created: created, OwnedBy: owner(e.Target)})
	}
	t.defaultImage = opt.DefaultImageModel
	if t.defaultImage == "" && len(opt.ImageModels) > 0 {
		t.defaultImage = opt.ImageModels[0].Alias
	}
	return t
}

// configured reports whether alias is one of the configured models, not
// an endpoint id a client made up (ALLOW_ANY_ENDPOINT).
func (t *modelTable) configured(alias string) bool {
	return slices.ContainsFunc(t.entries, func(e registry.Entry) bool { return e.Alias == alias })
}

// owner is the provider prefix of an id: "fal-ai" for "fal-ai/flux/dev".
func owner(id string) string {
	if i := strings.IndexByte(id, '/'); i > 0 {
		return id[:i]
	}
	return "fal"
}

// imageEndpoint resolves the model of an image request.
func (t *modelTable) imageEndpoint(model string) (alias, endpoint string, e *openai.Error) {
	if model == "" {
		model = t.defaultImage
	}
	if ep, ok := t.images[model]; ok {
		return model, ep, nil
	}
	if t.anyEndpoint && looksLikeEndpoint(model) {
		return model, model, nil
	}
	return "", "", openai.ModelNotFound(model)
}

// looksLikeEndpoint accepts "owner/app[/path...]" made of URL-safe parts.
func looksLikeEndpoint(id string) bool {
	parts := strings.Split(id, "/")
	if len(parts) < 2 {
		return false
	}
	for _, p := range parts {
		if p == "" || p == "." || p == ".." {
			return false
		}
		for _, c := range p {
			ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("-_.", c)
			if !ok {
				return false
			}
		}
	}
	return true
}

// listedModel is one entry of GET /v1/models: the OpenAI model and, under
// "fal", what it is for. The official SDKs ignore the extra field.
type listedModel struct {
	openai.Model
	Fal modelKind `json:"fal"`
}

// modelList is the body of GET /v1/models.
type modelList struct {
	Object string        `json:"object"` // always "list"
	Data   []listedModel `json:"data"`
}

// modelKind is the part of "fal" that every model has.
type modelKind struct {
	Kind registry.Kind `json:"kind"`
}

func (s *Server) handleListModels(w http.ResponseWriter, r *http.Request) {
	if sess := sessionFrom(r.Context()); sess != nil {
		s.listModelsFor(w, sess)
		return
	}
	writeFixedJSON(w, s.modelListing())
}

// listModelsFor answers GET /v1/models for a virtual key: it sees the
// models it may use, listed for it alone.
func (s *Server) listModelsFor(w http.ResponseWriter, sess *teams.Session) {
	data := make([]listedModel, 0, len(s.models.entries))
	for i, e := range s.models.entries {
		if !teams.Allows(sess.Key, e.Alias) {
			continue
		}
		data = append(data, listedModel{Model: s.models.list[i], Fal: modelKind{s.kindOf(e)}})
	}
	writeJSON(w, http.StatusOK, modelList{Object: "list", Data: data})
}

// modelListing is the body of GET /v1/models for the operator's access
// keys, encoded once and again only when a model's kind has changed since
// (an image model found to be an edit model once its schema arrived): the
// list is the most frequent request of clients that poll, and its answer
// rarely changes. The kinds come from the schema store's cache, so they
// are looked at again only once the store's generation has moved.
func (s *Server) modelListing() *fixedAnswer {
	gen := s.schemaGeneration()
	old := s.models.listing.Load()
	if old != nil && old.generation == gen {
		return &old.answer
	}
	l := &listing{kinds: make([]registry.Kind, len(s.models.entries)), generation: gen}
	for i, e := range s.models.entries {
		l.kinds[i] = s.kindOf(e)
	}
	if old != nil && slices.Equal(old.kinds, l.kinds) {
		l.answer = old.answer
	} else {
		data := make([]listedModel, len(s.models.entries))
		for i := range s.models.entries {
			data[i] = listedModel{Model: s.models.list[i], Fal: modelKind{l.kinds[i]}}
		}
		l.answer = newFixedAnswer(modelList{Object: "list", Data: data})
	}
	s.models.listing.Store(l)
	return &l.answer
}

// listing is an encoded GET /v1/models, the kinds it was encoded with and
// the schema store's generation they were read at.
type listing struct {
	kinds      []registry.Kind
	generation uint64
	answer     fixedAnswer
}

// schemaGeneration is the schema store's generation, read before the
// kinds it covers (see falschema.Store.Generation); 0 without a store.
func (s *Server) schemaGeneration() uint64 {
	if s.opt.Schemas == nil {
		return 0
	}
	return s.opt.Schemas.Generation()
}

// kindOf is an entry's kind as far as it is known without asking fal: an
// image model is Edit once its schema, fetched for a request, at start-up
// or for GET /v1/models/{model}, shows that it requires an input image.
func (s *Server) kindOf(e registry.Entry) registry.Kind {
	if e.Kind == registry.Audio {
		return s.audioKind(e.Target)
	}
	if e.Kind != registry.Image || s.opt.Schemas == nil {
		return e.Kind
	}
	if caps, ok := s.opt.Schemas.Cached(e.Target); ok {
		return imageKind(caps)
	}
	return registry.Image
}

// modelDetail is the body of GET /v1/models/{model}: the OpenAI model and,
// under "fal", its kind with an ImageModelInfo or a ChatModelInfo. Clients
// ignore the extra field; operators read it to see how the model is driven.
type modelDetail struct {
	openai.Model
	Fal any `json:"fal"`
}

func (s *Server) handleGetModel(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("model")
	i := slices.IndexFunc(s.models.list, func(m openai.Model) bool { return m.ID == id })
	if i < 0 {
		writeError(w, openai.ModelNotFound(id))
		return
	}
	writeJSON(w, http.StatusOK, modelDetail{Model: s.models.list[i], Fal: s.falInfo(r.Context(), s.models.entries[i])})
}

// falInfo describes a listed model. An image model's schema is looked up
// within the request timeout; if that fails the answer still names the
// endpoint and carries the reason.
func (s *Server) falInfo(ctx context.Context, e registry.Entry) any {
	switch e.Kind {
	case registry.Chat:
		return InspectChat(registry.ChatModel{Model: e.Target}, s.opt.ChatBackend)
	case registry.Embedding:
		return InspectEmbedding(registry.EmbeddingModel{Model: e.Target})
	}
	ctx, cancel := context.WithTimeout(ctx, s.opt.RequestTimeout)
	defer cancel()
	if e.Kind == registry.Video {
		return s.inspectVideo(ctx, e.Alias)
	}
	if e.Kind == registry.Audio {
		info, err := InspectAudio(ctx, s.opt.Schemas, registry.AudioModel{Endpoint: e.Target})
		if err != nil {
			info.Error = s.schemaFailure(ctx, err).Message
		}
		return info
	}
	info, err := InspectImage(ctx, s.opt.Schemas, registry.ImageModel{Endpoint: e.Target}, s.planOptions())
	if err != nil {
		info.Error = s.schemaFailure(ctx, err).Message
	}
	return info
}

// healthAnswer is the body of GET /health, which load balancers ask for
// every few seconds.
var healthAnswer = newFixedAnswer(map[string]string{"status": "ok"})

func handleNotFound(w http.ResponseWriter, r *http.Request) {
	writeError(w, &openai.Error{
		Status:  http.StatusNotFound,
		Message: "Unknown route: " + openai.Echo(r.Method+" "+r.URL.Path),
		Type:    openai.TypeInvalidRequest,
		Code:    "unknown_url",
		NoRetry: true,
	})
}
