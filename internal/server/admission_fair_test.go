package server_test

import (
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestAdmissionIsFairBetweenKeys: one key with 1,000 requests queued for
// MAX_INFLIGHT slots does not make another key's request wait behind them
// all; it gets the next free slot.
func TestAdmissionIsFairBetweenKeys(t *testing.T) {
	const otherKey = "sk-test-other-team"
	const flood = 1000
	h := newHarness(t, func(s *setup) {
		s.fake.GenerationTime = 20 * time.Millisecond
		s.server.AccessKeys = append(s.server.AccessKeys, otherKey)
		s.server.MaxInflight = 8
		s.server.AdmissionWait = 5 * time.Minute // nobody is refused: the order shows
	})
	send := func(key, prompt string) int {
		req, _ := http.NewRequest(http.MethodPost, h.url+"/v1/images/generations",
			strings.NewReader(`{"model":"sdxl","prompt":"`+prompt+`"}`))
		req.Header.Set("Authorization", "Bearer "+key)
		resp, err := h.client.Do(req)
		if err != nil {
			return 0
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	var wg sync.WaitGroup
	for range flood {
		wg.Go(func() { send(accessKey, "flood") })
	}
	eventually(t, "the flood fills every slot", func() bool { return len(h.fake.Jobs()) >= 8 })
	if code := send(otherKey, "other team"); code != http.StatusOK {
		t.Fatalf("the other key's request: %d", code)
	}
	position := -1
	for i, j := range h.fake.Jobs() {
		if strings.Contains(string(j.Input), "other team") {
			position = i
		}
	}
	wg.Wait()
	if position < 0 || position > flood/10 {
		t.Fatalf("the other key's job was job %d of %d: it waited behind the flood", position, flood+1)
	}
}
