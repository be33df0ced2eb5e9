package store

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/falproxy/falproxy/internal/store/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// databases runs f on a fresh SQLite file and on a fresh Postgres
// database.
func databases(t *testing.T, f func(t *testing.T, url string)) {
	t.Run("sqlite", func(t *testing.T) { f(t, "sqlite://"+filepath.Join(t.TempDir(), "falproxy.db")) })
	t.Run("postgres", func(t *testing.T) { f(t, pgtest.URL(t)) })
}

func open(t *testing.T, url string) *Store {
	t.Helper()
	s, err := Open(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// cost is a ledger row's cost of m micro-dollars.
func cost(m int64) *int64 { return &m }

// openVersion opens a database migrated only up to version.
func openVersion(t *testing.T, url string, version int) *Store {
	t.Helper()
	s, err := openAt(context.Background(), url, version)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestMigrationsFromEmptyAndFromThePreviousVersion(t *testing.T) {
	databases(t, func(t *testing.T, url string) {
		ctx := context.Background()
		old := openVersion(t, url, 1)
		if v, _ := old.SchemaVersion(ctx); v != 1 {
			t.Fatalf("version %d after the first migration", v)
		}
		k, _, err := old.CreateKey(ctx, Key{Name: "before", Enabled: true})
		if err != nil {
			t.Fatal(err)
		}
		_ = old.Close()

		s := open(t, url)
		if v, _ := s.SchemaVersion(ctx); v != len(migrations()) {
			t.Fatalf("version %d, want %d", v, len(migrations()))
		}
		if got, err := s.KeyByID(ctx, k.ID); err != nil || got.Name != "before" {
			t.Fatalf("the key made before the upgrade: %+v %v", got, err)
		}
		// Opening again applies nothing twice.
		_ = open(t, url)
	})
}

func TestKeysRoundTrip(t *testing.T) {
	databases(t, func(t *testing.T, url string) {
		ctx := context.Background()
		s := open(t, url)
		budget := int64(2_500_000)
		exp := time.Now().Add(time.Hour).UTC().Truncate(time.Millisecond)
		k, secret, err := s.CreateKey(ctx, Key{Name: "team-a", Owner: "ana", Models: []string{"flux-dev", "gpt-4o"},
			RPM: 60, MaxConcurrent: 2, BudgetMicros: &budget, BudgetPeriod: PeriodDaily, HardStop: true, ExpiresAt: &exp, Enabled: true})
		if err != nil {
			t.Fatal(err)
		}
		got, err := s.KeyByHash(ctx, HashKey(secret))
		if err != nil {
			t.Fatal(err)
		}
		if got.ID != k.ID || len(got.Models) != 2 || *got.BudgetMicros != budget || !got.ExpiresAt.Equal(exp) || !got.HardStop || got.RPM != 60 {
			t.Fatalf("read back %+v", got)
		}
		if _, err := s.KeyByHash(ctx, HashKey(secret+"x")); err != ErrNotFound {
			t.Fatalf("a wrong secret: %v", err)
		}
		if _, err := s.ModifyKey(ctx, got.ID, func(k *Key) error { k.Enabled = false; return nil }); err != nil {
			t.Fatal(err)
		}
		if again, _ := s.KeyByID(ctx, k.ID); again.Enabled {
			t.Fatal("the update did not stick")
		}
		if err := s.DeleteKey(ctx, k.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := s.KeyByID(ctx, k.ID); err != ErrNotFound {
			t.Fatalf("deleted key: %v", err)
		}
	})
}

func TestLedgerSums(t *testing.T) {
	databases(t, func(t *testing.T, url string) {
		ctx := context.Background()
		s := open(t, url)
		day := time.Date(2026, 3, 4, 10, 0, 0, 0, time.UTC)
		rows := []Row{
			{Time: day, KeyID: "k1", KeyName: "a", Alias: "flux-dev", Units: 1, Unit: "image", CostMicros: cost(25_000), Status: 200},
			{Time: day.Add(time.Hour), KeyID: "k1", KeyName: "a", Alias: "flux-dev", Units: 2, Unit: "image", CostMicros: cost(50_000), Status: 200},
			{Time: day.Add(24 * time.Hour), KeyID: "k2", KeyName: "b", Alias: "mystery", Units: 1, Status: 200},
		}
		for i := 0; i < 200; i++ { // more than one statement's worth
			rows = append(rows, Row{Time: day, KeyID: "k3", KeyName: "c", Alias: "gpt-4o", Units: 10, Unit: "tokens", CostMicros: cost(1), Status: 200})
		}
		if _, err := s.InsertRows(ctx, rows); err != nil {
			t.Fatal(err)
		}
		if spent, _ := s.Spent(ctx, "k1", day.Add(30*time.Minute)); spent != 50_000 {
			t.Fatalf("spent %d", spent)
		}
		byKey, err := s.Usage(ctx, UsageFilter{GroupBy: "key"})
		if err != nil {
			t.Fatal(err)
		}
		want := []UsageTotal{{Group: "k1", Name: "a", Requests: 2, Units: 3, CostUSD: 0.075}, {Group: "k2", Name: "b", Requests: 1, Units: 1, UnpricedRequests: 1},
			{Group: "k3", Name: "c", Requests: 200, Units: 2000, CostUSD: 0.0002}}
		if len(byKey) != 3 || byKey[0] != want[0] || byKey[1] != want[1] || byKey[2] != want[2] {
			t.Fatalf("by key %+v", byKey)
		}
		byDay, _ := s.Usage(ctx, UsageFilter{GroupBy: "day", KeyID: "k2"})
		if len(byDay) != 1 || byDay[0].Group != "2026-03-05" {
			t.Fatalf("by day %+v", byDay)
		}
	})
}

// TestConcurrentMigratorsApplyEachStepOnce: replicas starting together on
// an empty database all open it, and each migration is applied once.
func TestConcurrentMigratorsApplyEachStepOnce(t *testing.T) {
	databases(t, func(t *testing.T, url string) {
		const replicas = 8
		errs := make(chan error, replicas)
		var wg sync.WaitGroup
		for range replicas {
			wg.Go(func() {
				s, err := Open(context.Background(), url)
				if err == nil {
					_ = s.Close()
				}
				errs <- err
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatalf("a replica could not open the database: %v", err)
			}
		}
		s := open(t, url)
		var steps int
		if err := s.queryRow(context.Background(), `SELECT COUNT(*) FROM schema_migrations`).Scan(&steps); err != nil || steps != len(migrations()) {
			t.Fatalf("%d migrations recorded (%v), want %d", steps, err, len(migrations()))
		}
	})
}

// TestLedgerRowsWrittenTwiceCountOnce: a batch written again, as after a
// commit whose reply was lost, adds nothing, on a database migrated from
// the version before row ids, whose rows keep counting.
func TestLedgerRowsWrittenTwiceCountOnce(t *testing.T) {
	databases(t, func(t *testing.T, url string) {
		ctx := context.Background()
		old := openVersion(t, url, 2)
		if _, err := old.exec(ctx, `INSERT INTO usage_ledger (ts, key_id, key_name, alias, endpoint, cost_micros, status, latency_ms, request_id)
			VALUES (?, 'k', 'k', 'flux-dev', 'fal-ai/flux/dev', 25000, 200, 1, 'before')`, time.Now().UnixMilli()); err != nil {
			t.Fatal(err)
		}
		_ = old.Close()

		s := open(t, url)
		cost := int64(25_000)
		batch := []Row{
			{Time: time.Now(), KeyID: "k", KeyName: "k", Alias: "flux-dev", CostMicros: &cost, Status: 200, UID: "p-1"},
			{Time: time.Now(), KeyID: "k", KeyName: "k", Alias: "flux-dev", CostMicros: &cost, Status: 200, UID: "p-2"},
			{Time: time.Now(), KeyID: "k", KeyName: "k", Alias: "flux-dev", CostMicros: &cost, Status: 200},
			{Time: time.Now(), KeyID: "k", KeyName: "k", Alias: "flux-dev", CostMicros: &cost, Status: 200, UID: "p-1"},
		}
		for i, want := range [][]bool{{true, true, true, false}, {false, false, true, false}} {
			inserted, err := s.InsertRows(ctx, batch)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(inserted, want) {
				t.Fatalf("write %d inserted %v, want %v", i+1, inserted, want)
			}
		}
		// The old row, p-1 and p-2 once, the row without a UID twice.
		if spent, err := s.Spent(ctx, "k", time.Unix(0, 0)); err != nil || spent != 5*cost {
			t.Fatalf("spent %d (%v), want %d", spent, err, 5*cost)
		}
	})
}

// TestSpentSinceEachSumsEveryPeriodAtOnce: one query gives every key's
// spend since each start, as Spent gives it for one.
func TestSpentSinceEachSumsEveryPeriodAtOnce(t *testing.T) {
	databases(t, func(t *testing.T, url string) {
		ctx := context.Background()
		s := open(t, url)
		day := time.Date(2026, 3, 4, 0, 0, 0, 0, time.UTC)
		if _, err := s.InsertRows(ctx, []Row{
			{Time: day.Add(-48 * time.Hour), KeyID: "a", CostMicros: cost(1), Status: 200},
			{Time: day.Add(time.Hour), KeyID: "a", CostMicros: cost(10), Status: 200},
			{Time: day.Add(-time.Hour), KeyID: "b", CostMicros: cost(100), Status: 200},
			{Time: day.Add(time.Hour), KeyID: "b", Status: 200}, // unpriced
			{Time: day.Add(time.Hour), KeyID: "", CostMicros: cost(1000), Status: 200},
		}); err != nil {
			t.Fatal(err)
		}
		starts := []time.Time{day, day.AddDate(0, 0, -3)}
		got, err := s.SpentSinceEach(ctx, starts)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 2 || got["a"][0] != 10 || got["a"][1] != 11 || got["b"][0] != 0 || got["b"][1] != 100 {
			t.Fatalf("spend %v", got)
		}
		for id, sums := range got {
			for i, start := range starts {
				if one, _ := s.Spent(ctx, id, start); one != sums[i] {
					t.Fatalf("key %s since %v: %d, Spent says %d", id, start, sums[i], one)
				}
			}
		}
	})
}

// TestEveryKeyChangeHasItsOwnVersion: changes made within one millisecond
// still give the key a new version, which is how a process that cached it
// tells that it changed.
func TestEveryKeyChangeHasItsOwnVersion(t *testing.T) {
	databases(t, func(t *testing.T, url string) {
		s, ctx := open(t, url), context.Background()
		k, _, err := s.CreateKey(ctx, Key{Name: "versioned", Enabled: true})
		if err != nil {
			t.Fatal(err)
		}
		seen := map[time.Time]bool{k.UpdatedAt: true}
		for i := range 20 {
			changed, err := s.ModifyKey(ctx, k.ID, func(k *Key) error { k.RPM = i + 1; return nil })
			if err != nil {
				t.Fatal(err)
			}
			v, err := s.KeyVersion(ctx, k.ID)
			if err != nil || !v.Equal(changed.UpdatedAt) || seen[v] {
				t.Fatalf("change %d: version %v (%v), seen before: %v", i, v, err, seen[v])
			}
			seen[v] = true
		}
		if err := s.DeleteKey(ctx, k.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := s.KeyVersion(ctx, k.ID); !errors.Is(err, ErrNotFound) {
			t.Fatalf("a deleted key's version: %v", err)
		}
	})
}

// TestSQLiteReadsDoNotWaitForTheWriter: on SQLite, whose writes take
// turns on one connection, the reads that check a request's key still run
// while a write (a ledger batch) holds that connection.
func TestSQLiteReadsDoNotWaitForTheWriter(t *testing.T) {
	s, ctx := open(t, "sqlite://"+filepath.Join(t.TempDir(), "falproxy.db")), context.Background()
	k, secret, err := s.CreateKey(ctx, Key{Name: "reader", Enabled: true})
	if err != nil {
		t.Fatal(err)
	}
	// A ledger batch under way: the write lock taken at BEGIN (IMMEDIATE,
	// see dialectFor) and a row written, not yet committed.
	writer, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer writer.Rollback()
	if _, err := writer.ExecContext(ctx, `INSERT INTO usage_ledger (ts, key_id, key_name, alias, endpoint, fal_request_ids, units, unit, status, latency_ms, request_id)
		VALUES (0, ?, 'reader', 'flux-dev', 'fal-ai/flux/dev', '', 1, 'image', 200, 1, 'req')`, k.ID); err != nil {
		t.Fatal(err)
	}
	rctx, cancel := context.WithTimeout(ctx, 5*time.Second) // a guard: a read that waits for the writer never ends
	defer cancel()
	if _, err := s.KeyVersion(rctx, k.ID); err != nil {
		t.Fatalf("checking the key while a write holds the connection: %v", err)
	}
	if _, err := s.KeyByHash(rctx, HashKey(secret)); err != nil {
		t.Fatalf("reading the key while a write holds the connection: %v", err)
	}
}
