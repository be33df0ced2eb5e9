package server_test

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"
)

// TestAccessLogNamesEveryFalJob: a request that ran several fal jobs logs
// one id as fal_request_id, to search fal with, and all of them in
// fal_request_ids.
func TestAccessLogNamesEveryFalJob(t *testing.T) {
	h := newHarness(t, quick)
	req, _ := http.NewRequestWithContext(context.Background(), http.MethodPost, h.url+"/v1/images/generations",
		strings.NewReader(`{"model":"flux-dev","prompt":"a lighthouse","n":6,"response_format":"url"}`))
	req.Header.Set("Authorization", "Bearer "+accessKey)
	req.Header.Set("X-Request-Id", "split-request")
	if status, _, body := h.do(req); status != http.StatusOK {
		t.Fatalf("%d %s", status, body)
	}
	var jobs []string
	for _, j := range h.fake.Jobs() {
		jobs = append(jobs, j.ID)
	}
	if len(jobs) != 2 {
		t.Fatalf("fal ran %d jobs, want 2", len(jobs))
	}
	var line string
	eventually(t, "the access log line", func() bool {
		for l := range strings.Lines(h.logText()) {
			if strings.Contains(l, "msg=request ") && strings.Contains(l, "request_id=split-request ") {
				line = l
				return true
			}
		}
		return false
	})
	first, ok := attrValue(line, "fal_request_id")
	if !ok || !slices.Contains(jobs, first) {
		t.Fatalf("fal_request_id %q is not one of fal's jobs %v: %s", first, jobs, line)
	}
	all, _ := attrValue(line, "fal_request_ids")
	for _, id := range jobs {
		if !strings.Contains(all, id) {
			t.Fatalf("fal_request_ids %q lacks %s: %s", all, id, line)
		}
	}
}

// attrValue is the value of key in a text log line, unquoted.
func attrValue(line, key string) (string, bool) {
	_, rest, ok := strings.Cut(line, " "+key+"=")
	if !ok {
		return "", false
	}
	if strings.HasPrefix(rest, `"`) {
		v, _, _ := strings.Cut(rest[1:], `"`)
		return v, true
	}
	v, _, _ := strings.Cut(strings.TrimSpace(rest), " ")
	return v, true
}
