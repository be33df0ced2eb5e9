package responses

import (
	"fmt"
	"strings"
)

// ListedItems are the input items of a stored turn as GET
// /v1/responses/{id}/input_items lists them, oldest first: each with an
// id (the client's own, else one made from the response id and the
// item's place, the same on every call, so that "after" can page), and
// a message's text as a part, the one shape the SDKs read.
func ListedItems(s Stored) []Item {
	items := make([]Item, len(s.Items))
	for i, it := range s.Items {
		it.Type = it.kind()
		if it.ID == "" {
			it.ID = fmt.Sprintf("%s_%s_%d", itemIDPrefix(it.Type), strings.TrimPrefix(s.Response.ID, "resp_"), i)
		}
		if it.Type == "message" {
			it.Status = "completed"
			if !it.Content.IsParts {
				part := "input_text"
				if it.Role == "assistant" {
					part = "output_text"
				}
				it.Content = ItemContent{Parts: []Part{{Type: part, Text: it.Content.Text}}, IsParts: true}
			}
		}
		items[i] = it
	}
	return items
}

// itemIDPrefix is the prefix OpenAI's ids of an item type carry.
func itemIDPrefix(kind string) string {
	switch kind {
	case "message":
		return "msg"
	case "function_call":
		return "fc"
	case "function_call_output":
		return "fco"
	}
	return "item"
}
