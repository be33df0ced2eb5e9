package server

import (
	"net/http"
	"strconv"

	"github.com/falproxy/falproxy/internal/openai"
)

// listQuery is the paging of an OpenAI list: start after the id After,
// return at most Limit entries, oldest first when Asc.
type listQuery struct {
	After string
	Limit int
	Asc   bool
}

// readListQuery reads after, limit (1 to most, def when absent) and order
// (asc or desc, desc when absent) from r's query.
func readListQuery(r *http.Request, def, most int) (listQuery, *openai.Error) {
	q := r.URL.Query()
	lq := listQuery{After: q.Get("after"), Limit: def}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > most {
			return lq, openai.InvalidRequest("limit", "invalid_value", "Invalid 'limit': expected an integer from 1 to %d.", most)
		}
		lq.Limit = n
	}
	switch q.Get("order") {
	case "", "desc":
	case "asc":
		lq.Asc = true
	default:
		return lq, openai.InvalidRequest("order", "invalid_value", "Invalid 'order': expected asc or desc.")
	}
	return lq, nil
}
