package server

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/falproxy/falproxy/internal/openai"
	"github.com/falproxy/falproxy/internal/store"
	"github.com/falproxy/falproxy/internal/teams"
)

// adminRoutes serves the admin API under /admin/, behind ADMIN_KEY, and
// with the playground its page at /admin; they exist only with ADMIN_KEY
// and a store.
func (s *Server) adminRoutes(mux *http.ServeMux) {
	if s.opt.AdminKey == "" || s.opt.Gate == nil {
		return
	}
	adminKey := newAccessKeys([]string{s.opt.AdminKey})
	admin := func(h http.HandlerFunc) http.Handler { return requireKey(adminKey, h) }
	mux.Handle("POST /admin/keys", admin(s.handleCreateKey))
	mux.Handle("GET /admin/keys", admin(s.handleListKeys))
	mux.Handle("GET /admin/keys/{id}", admin(s.handleGetKey))
	mux.Handle("PATCH /admin/keys/{id}", admin(s.handleUpdateKey))
	mux.Handle("DELETE /admin/keys/{id}", admin(s.handleRevokeKey))
	mux.Handle("GET /admin/usage", admin(s.handleUsage))
	if s.opt.Playground {
		mux.HandleFunc("GET /admin", s.handleAdminPage)
	}
}

// createdKey is a new key's view with the secret, shown this once.
type createdKey struct {
	Secret string `json:"key"`
	keyAnswer
}

// keyAnswer is a key's view, with warnings about the settings just sent
// (see teams.UnservedModels).
type keyAnswer struct {
	teams.KeyView
	Warnings []string `json:"warnings,omitempty"`
}

// serves tells whether this process serves alias as a model.
func (s *Server) serves(alias string) bool {
	return s.models.configured(alias) || s.models.anyEndpoint && looksLikeEndpoint(alias)
}

func (s *Server) handleCreateKey(w http.ResponseWriter, r *http.Request) {
	spec, ok := s.keySpec(w, r)
	if !ok {
		return
	}
	k := teams.NewKey()
	if err := spec.Apply(&k); err != nil {
		writeError(w, openai.InvalidRequest("", "invalid_key_settings", "%s", err.Error()))
		return
	}
	k, secret, err := s.opt.Gate.Store().CreateKey(r.Context(), k)
	if err != nil {
		s.storeFailed(w, r, err)
		return
	}
	view, err := teams.View(r.Context(), s.opt.Gate.Store(), k, time.Now())
	if err != nil {
		s.storeFailed(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, createdKey{Secret: secret, keyAnswer: keyAnswer{view, teams.UnservedModels(spec, s.serves)}})
}

func (s *Server) handleListKeys(w http.ResponseWriter, r *http.Request) {
	s.flushLedger(r.Context())
	st := s.opt.Gate.Store()
	keys, err := st.Keys(r.Context())
	if err != nil {
		s.storeFailed(w, r, err)
		return
	}
	views, err := teams.Views(r.Context(), st, keys, time.Now())
	if err != nil {
		s.storeFailed(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"object": "list", "data": views})
}

func (s *Server) handleGetKey(w http.ResponseWriter, r *http.Request) {
	k, ok := s.adminKey(w, r)
	if !ok {
		return
	}
	s.flushLedger(r.Context())
	s.writeKey(w, r, k, nil)
}

func (s *Server) handleUpdateKey(w http.ResponseWriter, r *http.Request) {
	spec, ok := s.keySpec(w, r)
	if !ok {
		return
	}
	var invalid error
	k, err := s.opt.Gate.Store().ModifyKey(r.Context(), r.PathValue("id"), func(k *store.Key) error {
		invalid = spec.Apply(k)
		return invalid
	})
	if invalid != nil {
		writeError(w, openai.InvalidRequest("", "invalid_key_settings", "%s", invalid.Error()))
		return
	}
	if err != nil {
		s.storeFailed(w, r, err)
		return
	}
	s.writeKey(w, r, k, teams.UnservedModels(spec, s.serves))
}

func (s *Server) handleRevokeKey(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if err := s.opt.Gate.Store().DeleteKey(r.Context(), id); err != nil {
		s.storeFailed(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"id": id, "object": "key", "deleted": true})
}

func (s *Server) handleUsage(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f := store.UsageFilter{KeyID: q.Get("key"), Alias: q.Get("model"), GroupBy: q.Get("group_by")}
	for _, t := range []struct {
		param string
		dst   *time.Time
	}{{"from", &f.From}, {"to", &f.To}} {
		if v := q.Get(t.param); v != "" {
			when, err := store.ParseWhen(v)
			if err != nil {
				writeError(w, openai.InvalidRequest(t.param, "invalid_value", "%s must be a date (2026-03-01) or a time (2026-03-01T12:00:00Z).", t.param))
				return
			}
			*t.dst = when
		}
	}
	s.flushLedger(r.Context())
	totals, err := s.opt.Gate.Store().Usage(r.Context(), f)
	if errors.Is(err, store.ErrInvalidGroupBy) {
		writeError(w, openai.InvalidRequest("group_by", "invalid_value", "group_by must be key, model or day."))
		return
	}
	if err != nil {
		s.storeFailed(w, r, err)
		return
	}
	if totals == nil {
		totals = []store.UsageTotal{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"object": "list", "data": totals})
}

func (s *Server) keySpec(w http.ResponseWriter, r *http.Request) (teams.KeySpec, bool) {
	return decodeBody(s, w, r, func(b []byte) (teams.KeySpec, *openai.Error) {
		var spec teams.KeySpec
		if _, e := openai.DecodeObject(b); e != nil {
			return spec, e
		}
		if err := json.Unmarshal(b, &spec); err != nil {
			field := "a setting"
			if ute, ok := errors.AsType[*json.UnmarshalTypeError](err); ok && ute.Field != "" {
				field = ute.Field
			}
			return spec, openai.InvalidRequest(field, "invalid_type", "Invalid type for '%s': see the key settings in the README.", field)
		}
		return spec, nil
	})
}

func (s *Server) adminKey(w http.ResponseWriter, r *http.Request) (store.Key, bool) {
	k, err := s.opt.Gate.Store().KeyByID(r.Context(), r.PathValue("id"))
	if err != nil {
		s.storeFailed(w, r, err)
		return k, false
	}
	return k, true
}

// writeKey answers the view of a key; the view after a change does not
// flush the ledger, which a read of the key's spend does (handleGetKey).
func (s *Server) writeKey(w http.ResponseWriter, r *http.Request, k store.Key, warnings []string) {
	view, err := teams.View(r.Context(), s.opt.Gate.Store(), k, time.Now())
	if err != nil {
		s.storeFailed(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, keyAnswer{view, warnings})
}

// ledgerFlushWait bounds how long an admin read waits for the ledger.
const ledgerFlushWait = 2 * time.Second

// flushLedger writes the ledger rows queued so far before an admin read,
// so that the usage and spend it shows include every request that has
// ended, as fal's bill does. Rows the database cannot take within
// ledgerFlushWait stay queued, and the read shows what is stored.
func (s *Server) flushLedger(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, ledgerFlushWait)
	defer cancel()
	s.opt.Gate.Flush(ctx)
}

// storeFailed answers a store error: 404 for an unknown key, else 503.
func (s *Server) storeFailed(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, store.ErrNotFound) {
		writeError(w, &openai.Error{Status: http.StatusNotFound, Type: openai.TypeInvalidRequest, Code: "key_not_found", NoRetry: true,
			Message: "No key has this id."})
		return
	}
	writeError(w, s.databaseFailed(r.Context(), "an admin call", err))
}
