package server

import (
	"net/http"
	"slices"

	"github.com/falproxy/falproxy/internal/openai"
	"github.com/falproxy/falproxy/internal/responses"
	"github.com/falproxy/falproxy/internal/store"
)

// The paging of GET /v1/responses/{id}/input_items, as OpenAI's.
const (
	defaultInputItemsPage = 20
	maxInputItemsPage     = 100
)

// responseNotFound is the answer for a response the access key did not
// store, or that is no longer kept.
func responseNotFound(id string) *openai.Error {
	return &openai.Error{Status: http.StatusNotFound, Type: openai.TypeInvalidRequest, Code: "response_not_found",
		Param: "response_id", NoRetry: true, Message: "Response with id '" + openai.Echo(id) + "' not found."}
}

// storedResponse is the response the request's path names, stored by the
// request's access key; without one it has answered the 404 and ok is
// false.
func (s *Server) storedResponse(w http.ResponseWriter, r *http.Request) (stored responses.Stored, ok bool) {
	id := r.PathValue("id")
	stored, ok, err := s.responses.Get(r.Context(), keeperKey(r), id)
	switch {
	case err != nil:
		writeError(w, s.databaseFailed(r.Context(), "reading a response", err))
	case !ok:
		writeError(w, responseNotFound(id))
	}
	return stored, ok
}

// handleDeleteResponse serves DELETE /v1/responses/{id}: the access key's
// stored response is forgotten.
func (s *Server) handleDeleteResponse(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	deleted, err := s.responses.Delete(r.Context(), keeperKey(r), id)
	if err != nil {
		writeError(w, s.databaseFailed(r.Context(), "deleting a response", err))
		return
	}
	if !deleted {
		writeError(w, responseNotFound(id))
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"id": id, "object": "response.deleted", "deleted": true})
}

// inputItemsPage is OpenAI's list of a response's input items.
type inputItemsPage struct {
	Object  string           `json:"object"`
	Data    []responses.Item `json:"data"`
	FirstID *string          `json:"first_id"`
	LastID  *string          `json:"last_id"`
	HasMore bool             `json:"has_more"`
}

// handleResponseInputItems serves GET /v1/responses/{id}/input_items: a
// page of the input items of the access key's stored response, newest
// first unless order=asc.
func (s *Server) handleResponseInputItems(w http.ResponseWriter, r *http.Request) {
	stored, ok := s.storedResponse(w, r)
	if !ok {
		return
	}
	lq, e := readListQuery(r, defaultInputItemsPage, maxInputItemsPage)
	if e != nil {
		writeError(w, e)
		return
	}
	items := responses.ListedItems(stored)
	if !lq.Asc {
		slices.Reverse(items)
	}
	if lq.After != "" {
		at := slices.IndexFunc(items, func(it responses.Item) bool { return it.ID == lq.After })
		if at < 0 {
			writeError(w, openai.InvalidRequest("after", "invalid_value", "Invalid 'after': response '%s' has no input item with id '%s'.",
				openai.Echo(stored.Response.ID), openai.Echo(lq.After)))
			return
		}
		items = items[at+1:]
	}
	page := inputItemsPage{Object: "list", Data: items, HasMore: len(items) > lq.Limit}
	if page.HasMore {
		page.Data = items[:lq.Limit]
	}
	if len(page.Data) > 0 {
		page.FirstID, page.LastID = &page.Data[0].ID, &page.Data[len(page.Data)-1].ID
	}
	writeJSON(w, http.StatusOK, page)
}

// handleCancelResponse serves POST /v1/responses/{id}/cancel. Only a
// background response can be cancelled, and falproxy runs none: every
// response is answered within its request.
func (s *Server) handleCancelResponse(w http.ResponseWriter, r *http.Request) {
	if _, ok := s.storedResponse(w, r); !ok {
		return
	}
	writeError(w, openai.InvalidRequest("response_id", "invalid_request",
		"Only background responses can be cancelled, and falproxy does not run background responses: every response is answered within its request."))
}

// keeperKey names the client's access key to the responses keeper: its
// store.HashKey, from the hash authenticate made.
func keeperKey(r *http.Request) string { return store.HashOf(infoFrom(r.Context()).tenant) }
