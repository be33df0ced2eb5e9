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
