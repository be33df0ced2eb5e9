package main

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/falproxy/falproxy/internal/store"
)

// TestUsageLabelsRowsWithoutAModel: grouped by model, ledger rows that
// name no model are labelled "(no model)" in the table, not "total" as
// the grand total is, and keep their empty group in the JSON.
func TestUsageLabelsRowsWithoutAModel(t *testing.T) {
	env := map[string]string{"DATABASE_URL": "sqlite://" + filepath.Join(t.TempDir(), "usage.db")}
	st, err := openStore(context.Background(), lookup(env))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	_, err = st.InsertRows(context.Background(), []store.Row{
		{Time: now, KeyName: "operator", Alias: "flux-dev", Status: 200, RequestID: "req_a"},
		{Time: now, KeyName: "operator", Status: 200, RequestID: "req_b"},
	})
	_ = st.Close()
	if err != nil {
		t.Fatal(err)
	}
	table := runCLI(t, env, "usage", "--group-by", "model")
	if !strings.Contains(table, "(no model)") || strings.Contains(table, "total") {
		t.Fatalf("usage by model:\n%s", table)
	}
	if table := runCLI(t, env, "usage"); !strings.Contains(table, "total") {
		t.Fatalf("usage:\n%s", table)
	}
	var totals []store.UsageTotal
	if err := json.Unmarshal([]byte(runCLI(t, env, "usage", "--group-by", "model", "--json")), &totals); err != nil ||
		len(totals) != 2 || totals[0].Group != "" && totals[1].Group != "" {
		t.Fatalf("usage by model as JSON: %+v %v", totals, err)
	}
	var raw []map[string]any
	_ = json.Unmarshal([]byte(runCLI(t, env, "usage", "--group-by", "model", "--json")), &raw)
	for _, r := range raw {
		if _, ok := r["group"]; !ok {
			t.Fatalf("a JSON total without its group: %v", raw)
		}
	}
}

// TestKeysListJSON: keys list --json prints the admin API's list of key
// views; a flag keys list, show or revoke does not take is refused with
// exit status 2.
func TestKeysListJSON(t *testing.T) {
	env := map[string]string{"DATABASE_URL": "sqlite://" + filepath.Join(t.TempDir(), "keys.db")}
	created := runCLI(t, env, "keys", "create", "--name", "scripted", "--budget", "3")
	var list struct {
		Object string `json:"object"`
		Data   []struct {
			ID        string   `json:"id"`
			Name      string   `json:"name"`
			BudgetUSD *float64 `json:"budget_usd"`
		} `json:"data"`
	}
	if err := json.Unmarshal([]byte(runCLI(t, env, "keys", "list", "--json")), &list); err != nil || list.Object != "list" ||
		len(list.Data) != 1 || list.Data[0].Name != "scripted" || list.Data[0].BudgetUSD == nil || *list.Data[0].BudgetUSD != 3 {
		t.Fatalf("keys list --json: %+v %v", list, err)
	}
	id := list.Data[0].ID
	if !strings.Contains(created, id) || !strings.Contains(runCLI(t, env, "keys", "show", id, "--json"), `"name": "scripted"`) {
		t.Fatalf("keys show --json does not show key %s", id)
	}
	for _, args := range [][]string{{"keys", "list", "--jsno"}, {"keys", "list", "extra"}, {"keys", "show", id, "--table"}, {"keys", "revoke", id, "--json"}} {
		if _, _, err := runCmd(t, env, args...); exitStatus(err) != 2 {
			t.Fatalf("%v: %v, want exit status 2", args, err)
		}
	}
	if table := runCLI(t, env, "keys", "list"); !strings.Contains(table, "scripted") {
		t.Fatalf("the key was revoked by a refused command:\n%s", table)
	}
}

// TestKeysCreateWarnsOfUnservedModels: the CLI creates a key whose model
// list names an alias the configuration does not serve, and warns of it.
func TestKeysCreateWarnsOfUnservedModels(t *testing.T) {
	_, env := teamsEnv(t, "sqlite://"+filepath.Join(t.TempDir(), "keys.db"))
	stdout, stderr, err := runCmd(t, env, "keys", "create", "--name", "design-team", "--models", "flux-dev,gpt-4o")
	if err != nil || !strings.Contains(stdout, store.KeyPrefix) || !strings.Contains(stderr, `"gpt-4o"`) || strings.Contains(stderr, `"flux-dev"`) {
		t.Fatalf("keys create: %v\n%s\n%s", err, stdout, stderr)
	}
	if _, stderr, err := runCmd(t, env, "keys", "create", "--name", "chat", "--models", "flux-dev,openai/gpt-4o"); err != nil || stderr != "" {
		t.Fatalf("keys create with served models: %v %s", err, stderr)
	}
}
