package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"
)

// TestSharedStateMigratesFromThePreviousVersion: a database of the
// version before the shared responses and videos keeps its keys and takes
// both.
func TestSharedStateMigratesFromThePreviousVersion(t *testing.T) {
	databases(t, func(t *testing.T, url string) {
		ctx := context.Background()
		old := openVersion(t, url, 3)
		k, _, err := old.CreateKey(ctx, Key{Name: "before", Enabled: true})
		if err != nil {
			t.Fatal(err)
		}
		_ = old.Close()

		s := open(t, url)
		if v, _ := s.SchemaVersion(ctx); v != 4 {
			t.Fatalf("version %d, want 4", v)
		}
		if got, err := s.KeyByID(ctx, k.ID); err != nil || got.Name != "before" {
			t.Fatalf("the key made before the upgrade: %+v %v", got, err)
		}
		now := time.Now()
		if err := s.PutResponse(ctx, KeptResponse{ID: "resp_1", Owner: "o", Body: []byte("{}")}, now, now.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		if err := s.AddVideo(ctx, "video_1", "o", []byte("{}"), now, now.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
	})
}

// TestResponseChains keeps responses per owner, reads a conversation back
// newest first in one query, bounded in depth, and stops it at a turn that
// is missing or expired.
func TestResponseChains(t *testing.T) {
	databases(t, func(t *testing.T, url string) {
		ctx := context.Background()
		s := open(t, url)
		t0 := time.UnixMilli(1_700_000_000_000)
		parent := ""
		for i := range 5 {
			id := fmt.Sprint("resp_", i)
			// The first turn expires first.
			life := time.Hour + time.Duration(i)*time.Minute
			if err := s.PutResponse(ctx, KeptResponse{ID: id, Owner: "ana", ParentID: parent, Body: []byte(fmt.Sprintf(`{"turn":%d}`, i))},
				t0, t0.Add(life)); err != nil {
				t.Fatal(err)
			}
			parent = id
		}
		ids := func(chain []KeptResponse) (out []string) {
			for _, r := range chain {
				out = append(out, r.ID)
			}
			return out
		}
		tests := []struct {
			name, owner, id string
			depth           int
			maxBytes        int64
			at              time.Time
			want            string
			err             error
		}{
			{"whole", "ana", "resp_4", 100, 0, t0, "[resp_4 resp_3 resp_2 resp_1 resp_0]", nil},
			{"from the middle", "ana", "resp_2", 100, 0, t0, "[resp_2 resp_1 resp_0]", nil},
			{"bounded in depth", "ana", "resp_4", 2, 0, t0, "[resp_4 resp_3]", nil},
			// Each body is 10 bytes.
			{"bounded in bytes", "ana", "resp_4", 100, 35, t0, "[resp_4 resp_3 resp_2]", nil},
			{"bytes for all", "ana", "resp_4", 100, 50, t0, "[resp_4 resp_3 resp_2 resp_1 resp_0]", nil},
			{"the first turn expired", "ana", "resp_2", 100, 0, t0.Add(time.Hour), "[resp_2 resp_1]", nil},
			{"expired", "ana", "resp_0", 100, 0, t0.Add(time.Hour), "[]", ErrNotFound},
			{"another owner", "bob", "resp_4", 100, 0, t0, "[]", ErrNotFound},
			{"unknown", "ana", "resp_9", 100, 0, t0, "[]", ErrNotFound},
		}
		for _, tc := range tests {
			chain, err := s.ResponseChain(ctx, tc.owner, tc.id, tc.depth, tc.maxBytes, tc.at)
			if got := fmt.Sprint(ids(chain)); got != tc.want || !errors.Is(err, tc.err) {
				t.Errorf("%s: %s (%v), want %s (%v)", tc.name, got, err, tc.want, tc.err)
			}
		}
		chain, _ := s.ResponseChain(ctx, "ana", "resp_1", 100, 0, t0)
		if string(chain[0].Body) != `{"turn":1}` || chain[0].ParentID != "resp_0" {
			t.Errorf("read back %+v", chain[0])
		}

		if err := s.DeleteResponse(ctx, "bob", "resp_4", t0); err != ErrNotFound {
			t.Errorf("another owner deleted a response: %v", err)
		}
		if err := s.DeleteResponse(ctx, "ana", "resp_4", t0); err != nil {
			t.Fatal(err)
		}
		if err := s.DeleteResponse(ctx, "ana", "resp_4", t0); err != ErrNotFound {
			t.Errorf("a response deleted twice: %v", err)
		}
		if _, err := s.ResponseChain(ctx, "ana", "resp_4", 100, 0, t0); err != ErrNotFound {
			t.Errorf("a deleted response is read: %v", err)
		}
	})
}

// TestPurgeRunsInTheBackground: a write starts a purge of the expired
// responses and videos, which removes a backlog of several batches and no
// live row.
func TestPurgeRunsInTheBackground(t *testing.T) {
	databases(t, func(t *testing.T, url string) {
		ctx := context.Background()
		s := open(t, url)
		t0 := time.UnixMilli(1_700_000_000_000)
		expired := 2*purgeBatch + 1
		for _, table := range purgedTables {
			if _, err := s.exec(ctx, numbers(expired)+` INSERT INTO `+table+` (id, owner, body, `+map[string]string{"responses": "size", "videos": "created_at"}[table]+`, expires_at)
				SELECT 'old_' || n, 'o', '{}', 0, ? FROM seq`, t0.UnixMilli()); err != nil {
				t.Fatal(err)
			}
		}
		later := t0.Add(time.Minute)
		if err := s.PutResponse(ctx, KeptResponse{ID: "resp_live", Owner: "o", Body: []byte("{}")}, later, later.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		s.purges.wg.Wait()
		if err := s.AddVideo(ctx, "video_live", "o", []byte("{}"), later, later.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		s.purges.wg.Wait()
		for _, table := range purgedTables {
			var n int
			if err := s.queryRow(ctx, `SELECT COUNT(*) FROM `+table).Scan(&n); err != nil || n != 1 {
				t.Errorf("%s holds %d rows (%v), want the live one", table, n, err)
			}
		}
	})
}

// numbers starts a statement on seq (n), the integers 1 to n, in SQLite
// and Postgres.
func numbers(n int) string {
	return fmt.Sprintf(`WITH RECURSIVE seq (n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < %d)`, n)
}

// TestPurgeFailuresAreLogged: a purge that fails is logged at warn level,
// once for a run of failures, and again after one that succeeded.
func TestPurgeFailuresAreLogged(t *testing.T) {
	databases(t, func(t *testing.T, url string) {
		ctx := context.Background()
		s := open(t, url)
		var logs bytes.Buffer
		s.LogTo(slog.New(slog.NewTextHandler(&logs, nil)))
		now := time.UnixMilli(1_700_000_000_000)
		put := func() {
			t.Helper()
			now = now.Add(purgeEvery)
			if err := s.PutResponse(ctx, KeptResponse{ID: "resp_1", Owner: "o", Body: []byte("{}")}, now, now.Add(time.Hour)); err != nil {
				t.Fatal(err)
			}
			s.purges.wg.Wait()
		}
		rename := func(from, to string) {
			t.Helper()
			if _, err := s.exec(ctx, `ALTER TABLE `+from+` RENAME TO `+to); err != nil {
				t.Fatal(err)
			}
		}
		warnings := func() int {
			return strings.Count(logs.String(), "level=WARN msg=\"expired responses and videos could not be purged")
		}
		rename("videos", "videos_away")
		put()
		put()
		if n := warnings(); n != 1 {
			t.Errorf("%d warnings for a run of failed purges, want 1:\n%s", n, logs.String())
		}
		rename("videos_away", "videos")
		put()
		rename("videos", "videos_away")
		put()
		if n := warnings(); n != 2 {
			t.Errorf("%d warnings for two runs of failed purges, want 2:\n%s", n, logs.String())
		}
		rename("videos_away", "videos")
	})
}
