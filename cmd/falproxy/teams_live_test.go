package main

import (
	"context"
	"encoding/json"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/falproxy/falproxy/internal/store"
)

// TestCLIChangesApplyToARunningServerAtOnce: keys made, changed and
// revoked with the CLI act on the very next request to a falproxy serving
// the same database, and `falproxy usage` and `keys show` read what the
// admin API reads, grouped by key, model or day within from and to.
func TestCLIChangesApplyToARunningServerAtOnce(t *testing.T) { eachDatabase(t, cliOnRunningServer) }

func cliOnRunningServer(t *testing.T, db string) {
	fake, env := teamsEnv(t, db)
	cli := func(args ...string) string { t.Helper(); return runCLI(t, env, args...) }
	created := cli("keys", "create", "--name", "live", "--models", "flux-dev", "--budget", "0.025")
	var k struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal([]byte(created[strings.Index(created, "{"):]), &k); err != nil {
		t.Fatalf("create printed %s", created)
	}
	secret := created[strings.Index(created, store.KeyPrefix):]
	secret = secret[:strings.IndexAny(secret, " \n")]

	r := startRun(t, []string{"serve"}, env)
	defer r.shutdown(t)
	expect := func(want int, what string) {
		t.Helper()
		if status, body, err := r.generate(context.Background(), secret, `{"prompt":"a lighthouse"}`); err != nil || status != want {
			t.Fatalf("%s: %d %s %v, want %d", what, status, body, err, want)
		}
	}
	expect(http.StatusOK, "the first image")
	expect(http.StatusTooManyRequests, "past the budget")
	cli("keys", "update", k.ID, "--budget", "1")
	expect(http.StatusOK, "right after the CLI raised the budget")

	today := time.Now().UTC().Format(time.DateOnly)
	tomorrow := time.Now().UTC().AddDate(0, 0, 1).Format(time.DateOnly)
	for _, group := range []string{"key", "model", "day"} {
		var api struct {
			Data []store.UsageTotal `json:"data"`
		}
		adminGet(t, r.base+"/admin/usage?group_by="+group+"&from="+today+"&to="+tomorrow, teamsAdminKey, &api)
		var fromCLI []store.UsageTotal
		if err := json.Unmarshal([]byte(cli("usage", "--json", "--group-by", group, "--from", today, "--to", tomorrow)), &fromCLI); err != nil {
			t.Fatal(err)
		}
		if len(api.Data) != 1 || api.Data[0].Requests != 2 || api.Data[0].CostUSD != 0.05 || !reflect.DeepEqual(api.Data, fromCLI) {
			t.Fatalf("group_by=%s: the admin API says %+v, falproxy usage %+v", group, api.Data, fromCLI)
		}
	}
	// The admin API has written the ledger rows queued: the CLI reads them.
	var shown struct {
		SpentUSD float64 `json:"spent_usd"`
	}
	if err := json.Unmarshal([]byte(cli("keys", "show", k.ID)), &shown); err != nil || shown.SpentUSD != 0.05 {
		t.Fatalf("keys show: %+v %v, want $0.05 spent", shown, err)
	}
	var before struct {
		Data []store.UsageTotal `json:"data"`
	}
	adminGet(t, r.base+"/admin/usage?to="+today, teamsAdminKey, &before)
	if len(before.Data) != 0 {
		t.Fatalf("usage before today: %+v", before.Data)
	}

	cli("keys", "revoke", k.ID)
	expect(http.StatusUnauthorized, "right after the CLI revoked the key")
	if n := len(fake.Jobs()); n != 2 {
		t.Fatalf("fal received %d jobs, want 2", n)
	}
}

// adminGet reads an admin API answer into out.
func adminGet(t *testing.T, url, adminKey string, out any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	req.Header.Set("Authorization", "Bearer "+adminKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %v", url, resp.StatusCode, err)
	}
}
