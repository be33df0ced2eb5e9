package responses

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/falproxy/falproxy/internal/store"
)

// TestSharedLimits: in the database a response is kept for the age limit
// and not read after it, a turn larger than the byte limit is not kept,
// and a conversation longer than the count limit, larger than the byte
// limit, or missing a turn, is not continued.
func TestSharedLimits(t *testing.T) {
	ctx := context.Background()
	db, err := store.Open(ctx, "sqlite://"+filepath.Join(t.TempDir(), "falproxy.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	now := time.Unix(1000, 0)
	sh := NewShared(db, StoreLimits{Count: 3, Bytes: 2000, Age: time.Minute})
	sh.now = func() time.Time { return now }

	parent := ""
	for i := range 4 {
		s := stored(fmt.Sprint("resp_", i), fmt.Sprint("turn ", i))
		s.ParentID = parent
		if err := sh.Put(ctx, "k", s); err != nil {
			t.Fatal(err)
		}
		parent = s.Response.ID
	}
	if items, ok, err := sh.History(ctx, "k", "resp_2"); err != nil || !ok || len(items) != 3 || items[0].Content.Text != "turn 0" {
		t.Errorf("history of three turns: %v %v %+v", ok, err, items)
	}
	if _, ok, _ := sh.History(ctx, "k", "resp_3"); ok {
		t.Error("a conversation longer than the count limit was continued")
	}
	if _, ok, _ := sh.History(ctx, "other", "resp_2"); ok {
		t.Error("another key read the conversation")
	}
	for i, text := range []string{strings.Repeat("x", 900), strings.Repeat("y", 900)} {
		s := stored(fmt.Sprint("resp_large_", i), text)
		if i > 0 {
			s.ParentID = "resp_large_0"
		}
		if err := sh.Put(ctx, "k", s); err != nil {
			t.Fatal(err)
		}
	}
	if _, ok, _ := sh.Get(ctx, "k", "resp_large_1"); !ok {
		t.Fatal("a turn within the byte limit was not kept")
	}
	if _, ok, _ := sh.History(ctx, "k", "resp_large_1"); ok {
		t.Error("a conversation larger than the byte limit was continued")
	}
	if err := sh.Put(ctx, "k", stored("resp_big", strings.Repeat("x", 3000))); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := sh.Get(ctx, "k", "resp_big"); ok {
		t.Error("a response over the byte limit was kept")
	}
	if deleted, err := sh.Delete(ctx, "k", "resp_0"); err != nil || !deleted {
		t.Fatalf("delete: %v %v", deleted, err)
	}
	if _, ok, _ := sh.History(ctx, "k", "resp_1"); ok {
		t.Error("a conversation without its first turn was continued")
	}
	now = now.Add(2 * time.Minute)
	if _, ok, _ := sh.Get(ctx, "k", "resp_1"); ok {
		t.Error("a response outlived the age limit")
	}
}
