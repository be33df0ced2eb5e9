package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/falproxy/falproxy/internal/config"
	"github.com/falproxy/falproxy/internal/falfake"
	"github.com/falproxy/falproxy/internal/store"
	"github.com/falproxy/falproxy/internal/store/pgtest"
)

// TestKeysCLIServeAndUsageAgreeWithFalsBill makes a key with the CLI,
// spends with it on a running falproxy, stops it (the ledger is flushed
// on shutdown) and reads `falproxy usage`, which must equal what fal (the
// emulator) billed.
func TestKeysCLIServeAndUsageAgreeWithFalsBill(t *testing.T) { eachDatabase(t, cliServeUsage) }

// eachDatabase runs a test on a fresh SQLite file and a fresh Postgres
// database.
func eachDatabase(t *testing.T, f func(t *testing.T, db string)) {
	t.Run("sqlite", func(t *testing.T) { f(t, "sqlite://"+filepath.Join(t.TempDir(), "teams.db")) })
	t.Run("postgres", func(t *testing.T) { f(t, pgtest.URL(t)) })
}

// teamsAdminKey is ADMIN_KEY in the tests of virtual keys.
const teamsAdminKey = "admin-key-0123456789"

// teamsEnv is the environment of falproxy on the emulator with the store
// at db and the admin API on; the emulator is closed after the test.
func teamsEnv(t *testing.T, db string) (*falfake.Fake, map[string]string) {
	t.Helper()
	fake, err := falfake.New(falfake.Options{GenerationTime: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = fake.Close() })
	return fake, fakeEnv(fake, map[string]string{"DATABASE_URL": db, "ADMIN_KEY": teamsAdminKey, "FAL_API_URL": fake.APIURL()})
}

// cliServeUsage runs the CLI, serve and usage on the database at db.
func cliServeUsage(t *testing.T, db string) {
	fake, env := teamsEnv(t, db)

	var out, errs bytes.Buffer
	if err := run(context.Background(), []string{"keys", "create", "--name", "cli-team", "--models", "flux-dev", "--budget", "1"}, lookup(env), &out, &errs); err != nil {
		t.Fatalf("keys create: %v %s", err, errs.String())
	}
	secret := regexp.MustCompile(`sk-fp-[A-Za-z0-9_-]+`).FindString(out.String())
	if secret == "" {
		t.Fatalf("no key printed: %s", out.String())
	}

	r := startRun(t, []string{"serve"}, env)
	for _, body := range []string{`{"prompt":"one","n":2}`, `{"prompt":"[fail] two"}`, `{"prompt":"three"}`} {
		if _, _, err := r.generate(context.Background(), secret, body); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.shutdown(t); err != nil {
		t.Fatal(err)
	}

	out.Reset()
	if err := run(context.Background(), []string{"usage", "--json"}, lookup(env), &out, &errs); err != nil {
		t.Fatalf("usage: %v %s", err, errs.String())
	}
	var totals []store.UsageTotal
	if err := json.Unmarshal(out.Bytes(), &totals); err != nil || len(totals) != 1 {
		t.Fatalf("usage output %s: %v", out.String(), err)
	}
	bill := fake.BillUSD()
	if bill == 0 || int64(totals[0].CostUSD*100+0.5) != int64(bill*100+0.5) || totals[0].Requests != 3 {
		t.Fatalf("falproxy usage says %+v, fal billed $%v", totals[0], bill)
	}

	out.Reset()
	if err := run(context.Background(), []string{"keys", "list"}, lookup(env), &out, &errs); err != nil || !strings.Contains(out.String(), "cli-team") {
		t.Fatalf("keys list: %v %s", err, out.String())
	}
}

// TestNoStoreWithoutAdminKeyOrDatabaseURL: falproxy run as before keeps
// no database file.
func TestNoStoreWithoutAdminKeyOrDatabaseURL(t *testing.T) {
	fake, err := falfake.New(falfake.Options{GenerationTime: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer fake.Close()
	t.Chdir(t.TempDir())
	r := startRun(t, []string{"serve"}, fakeEnv(fake, nil))
	code, _, err := r.generate(context.Background(), "sk-access-key-one", `{"prompt":"a cat"}`)
	if err != nil || code != http.StatusOK {
		t.Fatalf("%d %v", code, err)
	}
	if err := r.shutdown(t); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(".")
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), "falproxy.db") {
			t.Fatalf("a database file %s was created", e.Name())
		}
	}
}

// TestKeysUpdateChangesOnlyTheFlagsGiven runs falproxy keys create, update
// and show on one SQLite file.
func TestKeysUpdateChangesOnlyTheFlagsGiven(t *testing.T) {
	env := map[string]string{"DATABASE_URL": "sqlite://" + filepath.Join(t.TempDir(), "keys.db")}
	cli := func(args ...string) string { t.Helper(); return runCLI(t, env, args...) }
	created := cli("keys", "create", "--name", "ops", "--owner", "bo", "--rpm", "10", "--budget", "3", "--period", "daily")
	var k struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal([]byte(created[strings.Index(created, "{"):]), &k); err != nil {
		t.Fatalf("create printed %s", created)
	}
	cli("keys", "update", k.ID, "--rpm", "20", "--hard-stop=false", "--models", "flux-dev,gpt-4o")
	var shown struct {
		Name      string   `json:"name"`
		Owner     string   `json:"owner"`
		RPM       int      `json:"rpm"`
		Models    []string `json:"models"`
		BudgetUSD float64  `json:"budget_usd"`
		Period    string   `json:"budget_period"`
		HardStop  bool     `json:"hard_stop"`
	}
	if err := json.Unmarshal([]byte(cli("keys", "show", k.ID)), &shown); err != nil {
		t.Fatal(err)
	}
	if shown.Name != "ops" || shown.Owner != "bo" || shown.RPM != 20 || len(shown.Models) != 2 || shown.BudgetUSD != 3 ||
		shown.Period != "daily" || shown.HardStop {
		t.Fatalf("after the update: %+v", shown)
	}
	var out, errs bytes.Buffer
	err := run(context.Background(), []string{"keys", "update", k.ID, "--rpm", "many"}, lookup(env), &out, &errs)
	if err == nil || !strings.Contains(err.Error(), "--rpm must be a number") {
		t.Fatalf("a bad --rpm: %v", err)
	}
}

// TestKeysUseTheDatabaseServeUses: without DATABASE_URL the CLI opens
// falproxy.db here only when ADMIN_KEY is set, as serve does; with
// neither it refuses instead of making a database serve never reads.
func TestKeysUseTheDatabaseServeUses(t *testing.T) {
	t.Chdir(t.TempDir())
	var out, errs bytes.Buffer
	err := run(context.Background(), []string{"keys", "list"}, lookup(map[string]string{}), &out, &errs)
	if err == nil || !strings.Contains(err.Error(), "DATABASE_URL") {
		t.Fatalf("keys list with no database configured: %v", err)
	}
	if _, err := os.Stat(config.DefaultDatabaseFile); !os.IsNotExist(err) {
		t.Fatalf("a database file was made: %v", err)
	}
	if err := run(context.Background(), []string{"keys", "list"}, lookup(map[string]string{"ADMIN_KEY": "admin-key-0123456789"}), &out, &errs); err != nil {
		t.Fatalf("keys list with ADMIN_KEY: %v %s", err, errs.String())
	}
	if _, err := os.Stat(config.DefaultDatabaseFile); err != nil {
		t.Fatalf("the database serve would use was not opened: %v", err)
	}
}

// runCLI runs falproxy with args in env and returns what it printed; a
// failure ends the test.
func runCLI(t *testing.T, env map[string]string, args ...string) string {
	t.Helper()
	var out, errs bytes.Buffer
	if err := run(context.Background(), args, lookup(env), &out, &errs); err != nil {
		t.Fatalf("%v: %v %s", args, err, errs.String())
	}
	return out.String()
}
