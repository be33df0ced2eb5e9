package responses

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
)

func stored(id string, text string) Stored {
	return Stored{Items: []Item{{Role: "user", Content: ItemContent{Text: text}}}, Response: Response{ID: id}}
}

// TestStoreOwner keeps a response for the key that made it only.
func TestStoreOwner(t *testing.T) {
	st := NewStore(DefaultStoreLimits())
	_ = st.Put(t.Context(), "key-a", stored("resp_1", "hi"))
	if s, ok, _ := st.Get(t.Context(), "key-a", "resp_1"); !ok || s.Items[0].Content.Text != "hi" {
		t.Errorf("own response: %v %+v", ok, s)
	}
	if _, ok, _ := st.Get(t.Context(), "key-b", "resp_1"); ok {
		t.Error("another key read the response")
	}
	if _, ok, _ := st.Get(t.Context(), "key-a", "resp_2"); ok {
		t.Error("an unknown id was found")
	}
}

// TestStoreLimits evicts the oldest responses past the count, the bytes
// and the age, and keeps nothing larger than the byte limit.
func TestStoreLimits(t *testing.T) {
	now := time.Unix(1000, 0)
	st := NewStore(StoreLimits{Count: 3, Bytes: 2000, Age: time.Minute})
	st.now = func() time.Time { return now }
	for i := range 4 {
		_ = st.Put(t.Context(), "k", stored(fmt.Sprint("resp_", i), "x"))
	}
	if _, ok, _ := st.Get(t.Context(), "k", "resp_0"); ok {
		t.Error("the oldest response outlived the count limit")
	}
	if _, ok, _ := st.Get(t.Context(), "k", "resp_3"); !ok {
		t.Error("the newest response is gone")
	}
	_ = st.Put(t.Context(), "k", stored("resp_big", strings.Repeat("x", 3000)))
	if _, ok, _ := st.Get(t.Context(), "k", "resp_big"); ok {
		t.Error("a response over the byte limit was kept")
	}
	_ = st.Put(t.Context(), "k", stored("resp_half", strings.Repeat("x", 1500)))
	if _, ok, _ := st.Get(t.Context(), "k", "resp_2"); ok {
		t.Error("the byte limit evicted nothing")
	}
	if _, ok, _ := st.Get(t.Context(), "k", "resp_half"); !ok {
		t.Error("a response within the byte limit is gone")
	}
	now = now.Add(2 * time.Minute)
	if _, ok, _ := st.Get(t.Context(), "k", "resp_half"); ok {
		t.Error("a response outlived the age limit")
	}
	if n := st.entries.Len(); n != 0 {
		t.Errorf("%d responses left", n)
	}
}

// TestStoreHistory rebuilds a conversation from its chain of turns, each
// kept and counted on its own: the tenth turn of a conversation takes no
// more room than the first. A conversation whose first turn is gone is
// not continued.
func TestStoreHistory(t *testing.T) {
	st := NewStore(DefaultStoreLimits())
	parent := ""
	for i := range 10 {
		s := stored(fmt.Sprint("resp_", i), fmt.Sprint("turn ", i))
		s.ParentID = parent
		s.Response.Output = []OutputItem{messageItem("msg_1", fmt.Sprint("answer ", i), "completed")}
		_ = st.Put(t.Context(), "k", s)
		parent = s.Response.ID
	}
	first, _, _ := st.Get(t.Context(), "k", "resp_0")
	last, _, _ := st.Get(t.Context(), "k", "resp_9")
	if size(t, last) > size(t, first)+8 {
		t.Errorf("the tenth turn takes %d bytes, the first %d", size(t, last), size(t, first))
	}
	items, ok, _ := st.History(t.Context(), "k", "resp_2")
	if !ok || len(items) != 6 || items[0].Content.Text != "turn 0" || items[1].Content.Parts[0].Text != "answer 0" || items[4].Content.Text != "turn 2" {
		t.Fatalf("history %v %+v", ok, items)
	}
	if _, ok, _ := st.History(t.Context(), "other", "resp_2"); ok {
		t.Error("another key read the conversation")
	}
	st.entries.Remove("resp_0")
	if _, ok, _ := st.History(t.Context(), "k", "resp_9"); ok {
		t.Error("a conversation without its first turn was continued")
	}
}

// size is what an entry counts against the byte limit.
func size(t *testing.T, s Stored) int {
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	return len(b)
}
