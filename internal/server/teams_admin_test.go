package server_test

import (
	"context"
	"math"
	"net/http"
	"testing"
)

// TestAdminReadsIncludeEveryEndedRequest: the usage and the spend the
// admin API shows include a request once the request has ended, without
// waiting for the ledger's background writer.
func TestAdminReadsIncludeEveryEndedRequest(t *testing.T) {
	eachStore(t, func(t *testing.T, url string) {
		h := newHarness(t, withTeams(&teamsSetup{url: url}), quick)
		id, key := h.createKey(map[string]any{"name": "reader"})
		for i := int64(1); i <= 10; i++ {
			if status, _, body := h.postAs(context.Background(), key, "/v1/images/generations", imageBody); status != http.StatusOK {
				t.Fatalf("%d %s", status, body)
			}
			if total := h.usage(""); len(total) != 1 || total[0].Requests != i {
				t.Fatalf("after %d requests, usage %+v", i, total)
			}
			var view struct {
				SpentUSD float64 `json:"spent_usd"`
			}
			h.admin(http.MethodGet, "/admin/keys/"+id, nil, &view)
			if want := 0.025 * float64(i); math.Abs(view.SpentUSD-want) > 1e-9 {
				t.Fatalf("after %d requests, spent $%v, want $%v", i, view.SpentUSD, want)
			}
		}
	})
}
