package server_test

import (
	"context"
	"net/http"
	"testing"

	oai "github.com/openai/openai-go/v3"

	"github.com/falproxy/falproxy/internal/falfake"
)

// TestVideoListRefreshesUnfinished: videos that finished at fal without
// ever being polled are listed as completed, since a list asks fal for
// the status of its unfinished rows; a row whose status fal fails to give
// keeps the status last seen, and the list still answers.
func TestVideoListRefreshesUnfinished(t *testing.T) {
	h := newHarness(t, withVideos(0))
	ctx := context.Background()
	foxes := []*oai.Video{createVideo(t, h.sdk, "sora-2"), createVideo(t, h.sdk, "sora-2")}
	veo := createVideo(t, h.sdk, "veo")
	eventually(t, "fal finishes the jobs", func() bool {
		for _, j := range h.fake.Jobs() {
			if j.State != falfake.StateCompleted {
				return false
			}
		}
		return true
	})
	h.fake.Inject(falfake.Fault{Op: falfake.OpStatus, Endpoint: "fal-ai/veo3.1", Status: http.StatusBadRequest})
	statusCalls := len(h.falCalls(falfake.OpStatus))

	page, err := h.sdk.Videos.List(ctx, oai.VideoListParams{})
	if err != nil || len(page.Data) != 3 {
		t.Fatalf("list: %v %+v", err, page)
	}
	status := map[string]oai.VideoStatus{}
	for _, v := range page.Data {
		status[v.ID] = v.Status
	}
	if status[foxes[0].ID] != oai.VideoStatusCompleted || status[foxes[1].ID] != oai.VideoStatusCompleted || status[veo.ID] != oai.VideoStatusQueued {
		t.Errorf("listed statuses %v: the sora videos completed, veo's status could not be had", status)
	}
	if got := len(h.falCalls(falfake.OpStatus)) - statusCalls; got != 3 {
		t.Errorf("fal received %d status calls for the list, want one per unfinished video (3)", got)
	}

	h.fake.ClearFaults()
	statusCalls = len(h.falCalls(falfake.OpStatus))
	page, err = h.sdk.Videos.List(ctx, oai.VideoListParams{})
	if err != nil || len(page.Data) != 3 {
		t.Fatalf("second list: %v %+v", err, page)
	}
	for _, v := range page.Data {
		if v.Status != oai.VideoStatusCompleted {
			t.Errorf("second list: %s is %s", v.ID, v.Status)
		}
	}
	if got := len(h.falCalls(falfake.OpStatus)) - statusCalls; got != 1 {
		t.Errorf("fal received %d status calls for the second list, want 1 (only veo was unfinished)", got)
	}
}
