package server

import (
	"context"
	"net/http"
	"slices"
	"strings"

	"github.com/falproxy/falproxy/internal/openai"
)

// modelTable resolves client model names to fal endpoints.
type modelTable struct {
	images       map[string]string // alias → endpoint
	chat         map[string]string // alias → fal model id
	defaultImage string            // alias
	anyEndpoint  bool
	list         []openai.Model
}

func newModelTable(opt Options) *modelTable {
	t := &modelTable{images: make(map[string]string), chat: make(map[string]string), anyEndpoint: opt.AllowAnyEndpoint}
	created := opt.Created.Unix()
	for _, m := range opt.ImageModels {
		t.images[m.Alias] = m.Endpoint
		t.list = append(t.list, openai.Model{ID: m.Alias, Object: "model", Created: created, OwnedBy: owner(m.Endpoint)})
	}
	for _, m := range opt.ChatModels {
		t.chat[m.Alias] = m.Model
		t.list = append(t.list, openai.Model{ID: m.Alias, Object: "model", Created: created, OwnedBy: owner(m.Model)})
	}
	t.defaultImage = opt.DefaultImageModel
	if t.defaultImage == "" && len(opt.ImageModels) > 0 {
		t.defaultImage = opt.ImageModels[0].Alias
	}
	return t
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

func (s *Server) handleListModels(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, openai.ModelList{Object: "list", Data: s.models.list})
}

// modelDetail is the body of GET /v1/models/{model}: the OpenAI model and,
// under "fal", an ImageModelInfo or a ChatModelInfo. Clients ignore the
// extra field; operators read it to see how the model is driven.
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
	writeJSON(w, http.StatusOK, modelDetail{Model: s.models.list[i], Fal: s.falInfo(r.Context(), id)})
}

// falInfo describes a listed model. An image model's schema is looked up
// within the request timeout; if that fails the answer still names the
// endpoint and carries the reason.
func (s *Server) falInfo(ctx context.Context, id string) any {
	if ep, ok := s.models.images[id]; ok {
		ctx, cancel := context.WithTimeout(ctx, s.opt.RequestTimeout)
		defer cancel()
		info := InspectImage(ctx, s.opt.Schemas, ImageModel{Endpoint: ep}, s.planOptions())
		if info.cause != nil {
			info.Error = s.schemaFailure(ctx, info.cause).Message
		}
		return info
	}
	return InspectChat(ChatModel{Model: s.models.chat[id]}, s.opt.ChatBackend)
}

func (s *Server) handleHealth(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

func (s *Server) handleNotFound(w http.ResponseWriter, r *http.Request) {
	writeError(w, &openai.Error{
		Status:  http.StatusNotFound,
		Message: "Unknown route: " + openai.Echo(r.Method+" "+r.URL.Path),
		Type:    openai.TypeInvalidRequest,
		Code:    "unknown_url",
		NoRetry: true,
	})
}
