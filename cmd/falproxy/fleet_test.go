package main

import (
	"net/http"
	"strings"
	"testing"

	"github.com/falproxy/falproxy/internal/falfake"
)

// fleetImage asks replica r for one image with the access key and returns
// the status code.
func fleetImage(t *testing.T, r *replica, key string) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, r.URL+"/v1/images/generations",
		strings.NewReader(`{"model":"flux-dev","prompt":"a lighthouse","response_format":"url"}`))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res.StatusCode
}

// TestFleetSharesKeysAcrossReplicas: three replicas on one Redis and one
// Postgres start, and a virtual key created through the admin API of one
// works on every other.
func TestFleetSharesKeysAcrossReplicas(t *testing.T) {
	f := startFleet(t, fleetOptions{})
	var created struct {
		Key string `json:"key"`
	}
	f.Admin(http.MethodPost, "/admin/keys", `{"name":"team-a"}`, &created)
	for i, r := range f.Replicas {
		if code := fleetImage(t, r, created.Key); code != http.StatusOK {
			t.Errorf("replica %d answered %d to the virtual key, want 200", i+1, code)
		}
	}
	if n := f.Fake.Counts().Submits; n != len(f.Replicas) {
		t.Errorf("fal received %d submits, want %d", n, len(f.Replicas))
	}
}

// TestFleetOverAnHTTP1Upstream: the same fleet in front of a fal that
// speaks only HTTP/1.1 (as behind a plain egress proxy): every replica
// serves a virtual key, and fal ran one job each.
func TestFleetOverAnHTTP1Upstream(t *testing.T) {
	f := startFleet(t, fleetOptions{Fake: falfake.Options{HTTP1Only: true}, Env: map[string]string{"FAL_H2C": "false"}})
	var created struct {
		Key string `json:"key"`
	}
	f.Admin(http.MethodPost, "/admin/keys", `{"name":"team-b","rpm":100}`, &created)
	for i, r := range f.Replicas {
		if code := fleetImage(t, r, created.Key); code != http.StatusOK {
			t.Errorf("replica %d answered %d, want 200", i+1, code)
		}
	}
	if n := f.Fake.Counts().Submits; n != len(f.Replicas) {
		t.Errorf("fal received %d submits, want %d", n, len(f.Replicas))
	}
}
