package server_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	oai "github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/responses"
)

// storeTwoItemTurn stores a response whose input is a developer and a
// user message, with openai-go.
func storeTwoItemTurn(t *testing.T, h *harness) *responses.Response {
	t.Helper()
	resp, err := h.sdk.Responses.New(context.Background(), responses.ResponseNewParams{Model: "gpt-4o",
		Input: responses.ResponseNewParamsInputUnion{OfInputItemList: responses.ResponseInputParam{
			responses.ResponseInputItemParamOfMessage("be brief", responses.EasyInputMessageRoleDeveloper),
			responses.ResponseInputItemParamOfMessage("remember this", responses.EasyInputMessageRoleUser),
		}}})
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

// TestResponsesInputItems lists a stored response's input items with
// openai-go's inputItems.list: newest first by default, oldest first with
// order asc, one page at a time with limit and after; another key does
// not see them, and listing asks nothing of fal.
func TestResponsesInputItems(t *testing.T) {
	const otherKey = "sk-test-other-key"
	h := newHarness(t, func(s *setup) { s.server.AccessKeys = append(s.server.AccessKeys, otherKey) })
	ctx := context.Background()
	resp := storeTwoItemTurn(t, h)
	calls := len(h.fake.Received())

	all, err := h.sdk.Responses.InputItems.List(ctx, resp.ID, responses.InputItemListParams{})
	if err != nil || len(all.Data) != 2 || all.HasMore {
		t.Fatalf("input items: %v %+v", err, all)
	}
	newest := all.Data[0].AsMessage()
	if newest.Role != "user" || len(newest.Content) != 1 || newest.Content[0].Text != "remember this" ||
		newest.Content[0].Type != "input_text" || !strings.HasPrefix(newest.ID, "msg_") {
		t.Errorf("newest item %s", all.Data[0].RawJSON())
	}
	first, err := h.sdk.Responses.InputItems.List(ctx, resp.ID, responses.InputItemListParams{
		Limit: oai.Int(1), Order: responses.InputItemListParamsOrderAsc})
	if err != nil || len(first.Data) != 1 || !first.HasMore || first.Data[0].AsMessage().Role != "developer" {
		t.Fatalf("first page: %v %s", err, first.RawJSON())
	}
	second, err := h.sdk.Responses.InputItems.List(ctx, resp.ID, responses.InputItemListParams{
		Limit: oai.Int(1), Order: responses.InputItemListParamsOrderAsc, After: oai.String(first.Data[0].ID)})
	if err != nil || len(second.Data) != 1 || second.HasMore || second.Data[0].ID != newest.ID {
		t.Fatalf("second page: %v %s", err, second.RawJSON())
	}

	req, _ := http.NewRequest(http.MethodGet, h.url+"/v1/responses/"+resp.ID+"/input_items", nil)
	req.Header.Set("Authorization", "Bearer "+otherKey)
	if code, _, body := h.do(req); code != http.StatusNotFound || deref(decodeError(t, body).Code) != "response_not_found" {
		t.Errorf("another key listed the items: %d %s", code, body)
	}
	if len(h.fake.Received()) != calls {
		t.Error("listing input items called fal")
	}
}

// TestResponsesDelete deletes a stored response with openai-go's
// responses.delete: the answer is OpenAI's deletion object, the response
// is gone for GET and previous_response_id, and another key can delete
// nothing of it.
func TestResponsesDelete(t *testing.T) {
	const otherKey = "sk-test-other-key"
	h := newHarness(t, func(s *setup) { s.server.AccessKeys = append(s.server.AccessKeys, otherKey) })
	ctx := context.Background()
	resp := storeTwoItemTurn(t, h)

	req, _ := http.NewRequest(http.MethodDelete, h.url+"/v1/responses/"+resp.ID, nil)
	req.Header.Set("Authorization", "Bearer "+otherKey)
	if code, hdr, body := h.do(req); code != http.StatusNotFound || hdr.Get("X-Should-Retry") != "false" {
		t.Fatalf("another key's delete: %d %s", code, body)
	}
	req, _ = http.NewRequest(http.MethodDelete, h.url+"/v1/responses/"+resp.ID, nil)
	req.Header.Set("Authorization", "Bearer "+accessKey)
	code, _, body := h.do(req)
	if want := `{"deleted":true,"id":"` + resp.ID + `","object":"response.deleted"}`; code != http.StatusOK || string(body) != want {
		t.Fatalf("delete: %d %s, want %s", code, body, want)
	}
	if err := h.sdk.Responses.Delete(ctx, resp.ID); !isStatus(err, http.StatusNotFound) {
		t.Errorf("second delete with openai-go: %v, want 404", err)
	}
	if _, err := h.sdk.Responses.Get(ctx, resp.ID, responses.ResponseGetParams{}); !isStatus(err, http.StatusNotFound) {
		t.Errorf("GET after delete: %v, want 404", err)
	}
	calls := len(h.fake.Received())
	if code, _, body := h.post(ctx, "/v1/responses", `{"model":"gpt-4o","input":"and now?","previous_response_id":"`+resp.ID+`"}`); code != http.StatusBadRequest {
		t.Errorf("previous_response_id of a deleted response: %d %s", code, body)
	}
	if len(h.fake.Received()) != calls {
		t.Error("fal was called for a conversation through a deleted response")
	}
}

// TestResponsesCancel: falproxy runs no background responses, so
// responses.cancel of a stored response is a 400 that says so and is not
// retried.
func TestResponsesCancel(t *testing.T) {
	h := newHarness(t)
	resp := storeTwoItemTurn(t, h)
	calls := len(h.fake.Received())
	_, err := h.sdk.Responses.Cancel(context.Background(), resp.ID)
	var apiErr *oai.Error
	if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusBadRequest || !strings.Contains(apiErr.Message, "does not run background responses") ||
		apiErr.Response.Header.Get("X-Should-Retry") != "false" {
		t.Fatalf("cancel: %v", err)
	}
	if len(h.fake.Received()) != calls {
		t.Error("cancel called fal")
	}
}

// isStatus reports whether err is an API error with the given status.
func isStatus(err error, status int) bool {
	var apiErr *oai.Error
	return errors.As(err, &apiErr) && apiErr.StatusCode == status
}
