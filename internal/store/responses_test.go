package store

import (
	"context"
	"errors"
	"fmt"
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
		if err := s.PutResponse(ctx, KeptResponse{ID: "resp_1", Owner: "o", Body: []byte("{}"), CreatedAt: now, ExpiresAt: now.Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
		if err := s.AddVideo(ctx, IndexedVideo{ID: "video_1", Owner: "o", Body: []byte("{}"), CreatedAt: now, ExpiresAt: now.Add(time.Hour)}); err != nil {
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
			if err := s.PutResponse(ctx, KeptResponse{ID: id, Owner: "ana", ParentID: parent, Body: []byte(fmt.Sprintf(`{"turn":%d}`, i)),
				CreatedAt: t0, ExpiresAt: t0.Add(life)}); err != nil {
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
			at              time.Time
			want            string
			err             error
		}{
			{"whole", "ana", "resp_4", 100, t0, "[resp_4 resp_3 resp_2 resp_1 resp_0]", nil},
			{"from the middle", "ana", "resp_2", 100, t0, "[resp_2 resp_1 resp_0]", nil},
			{"bounded in depth", "ana", "resp_4", 2, t0, "[resp_4 resp_3]", nil},
			{"the first turn expired", "ana", "resp_2", 100, t0.Add(time.Hour), "[resp_2 resp_1]", nil},
			{"expired", "ana", "resp_0", 100, t0.Add(time.Hour), "[]", ErrNotFound},
			{"another owner", "bob", "resp_4", 100, t0, "[]", ErrNotFound},
			{"unknown", "ana", "resp_9", 100, t0, "[]", ErrNotFound},
		}
		for _, tc := range tests {
			chain, err := s.ResponseChain(ctx, tc.owner, tc.id, tc.depth, tc.at)
			if got := fmt.Sprint(ids(chain)); got != tc.want || !errors.Is(err, tc.err) {
				t.Errorf("%s: %s (%v), want %s (%v)", tc.name, got, err, tc.want, tc.err)
			}
		}
		chain, _ := s.ResponseChain(ctx, "ana", "resp_1", 100, t0)
		if string(chain[0].Body) != `{"turn":1}` || chain[0].ParentID != "resp_0" || !chain[0].CreatedAt.Equal(t0) {
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
		if _, err := s.ResponseChain(ctx, "ana", "resp_4", 100, t0); err != ErrNotFound {
			t.Errorf("a deleted response is read: %v", err)
		}
	})
}

// TestPurgeIsBounded: a purge removes expired rows only, at most as many
// as asked, so that a backlog goes in several bounded purges.
func TestPurgeIsBounded(t *testing.T) {
	databases(t, func(t *testing.T, url string) {
		ctx := context.Background()
		s := open(t, url)
		t0 := time.UnixMilli(1_700_000_000_000)
		for i := range 5 {
			life := time.Minute
			if i == 4 {
				life = time.Hour
			}
			r := KeptResponse{ID: fmt.Sprint("resp_", i), Owner: "o", Body: []byte("{}"), CreatedAt: t0, ExpiresAt: t0.Add(life)}
			v := IndexedVideo{ID: fmt.Sprint("video_", i), Owner: "o", Body: []byte("{}"), CreatedAt: t0, ExpiresAt: t0.Add(life)}
			if err := s.PutResponse(ctx, r); err != nil {
				t.Fatal(err)
			}
			if err := s.AddVideo(ctx, v); err != nil {
				t.Fatal(err)
			}
		}
		later := t0.Add(2 * time.Minute)
		for _, purge := range []func(context.Context, time.Time, int) (int64, error){s.PurgeResponses, s.PurgeVideos} {
			for i, want := range []int64{3, 1, 0} {
				if n, err := purge(ctx, later, 3); err != nil || n != want {
					t.Fatalf("purge %d removed %d (%v), want %d", i+1, n, err, want)
				}
			}
		}
		if _, err := s.ResponseChain(ctx, "o", "resp_4", 10, later); err != nil {
			t.Errorf("a live response was purged: %v", err)
		}
		if _, err := s.Video(ctx, "video_4", later); err != nil {
			t.Errorf("a live video was purged: %v", err)
		}
	})
}
