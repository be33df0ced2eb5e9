package store

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestVideoIndexPages lists an owner's live videos newest first or oldest
// first, page by page through the cursor, without another owner's, a
// deleted or an expired video; a cursor that is not listed is ErrNotFound.
func TestVideoIndexPages(t *testing.T) {
	databases(t, func(t *testing.T, url string) {
		ctx := context.Background()
		s := open(t, url)
		t0 := time.UnixMilli(1_700_000_000_000)
		add := func(id, owner string, created time.Time, life time.Duration) {
			t.Helper()
			if err := s.AddVideo(ctx, id, owner, []byte(`{"id":"`+id+`"}`), created, created.Add(life)); err != nil {
				t.Fatal(err)
			}
		}
		for i := range 5 {
			add(fmt.Sprint("video_", i), "ana", t0.Add(time.Duration(i)*time.Second), time.Hour)
		}
		add("video_tie", "ana", t0.Add(2*time.Second), time.Hour) // created with video_2
		add("video_bob", "bob", t0, time.Hour)
		add("video_old", "ana", t0.Add(-time.Hour), time.Minute) // expired
		if err := s.DeleteVideo(ctx, "video_3", "ana", t0, t0.Add(time.Hour), t0); err != nil {
			t.Fatal(err)
		}
		now := t0.Add(time.Minute)
		ids := func(vs []IndexedVideo) (out []string) {
			for _, v := range vs {
				out = append(out, v.ID)
			}
			return out
		}
		tests := []struct {
			after string
			limit int
			asc   bool
			want  string
			more  bool
		}{
			{"", 10, false, "[video_4 video_tie video_2 video_1 video_0]", false},
			{"", 2, false, "[video_4 video_tie]", true},
			{"video_tie", 2, false, "[video_2 video_1]", true},
			{"video_1", 2, false, "[video_0]", false},
			{"", 2, true, "[video_0 video_1]", true},
			{"video_2", 10, true, "[video_tie video_4]", false},
		}
		for _, tc := range tests {
			page, more, err := s.VideoPage(ctx, "ana", tc.after, tc.limit, tc.asc, now)
			if got := fmt.Sprint(ids(page)); err != nil || got != tc.want || more != tc.more {
				t.Errorf("after %q limit %d asc %v: %s more %v (%v), want %s more %v", tc.after, tc.limit, tc.asc, got, more, err, tc.want, tc.more)
			}
		}
		for _, cursor := range []string{"video_3", "video_bob", "video_old", "video_none"} {
			if _, _, err := s.VideoPage(ctx, "ana", cursor, 10, false, now); err != ErrNotFound {
				t.Errorf("cursor %s: %v, want ErrNotFound", cursor, err)
			}
		}
	})
}

// TestVideoDeletions: a deleted video, indexed or not, is read as deleted
// until its deletion expires, and keeps no update.
func TestVideoDeletions(t *testing.T) {
	databases(t, func(t *testing.T, url string) {
		ctx := context.Background()
		s := open(t, url)
		t0 := time.UnixMilli(1_700_000_000_000)
		if err := s.AddVideo(ctx, "video_1", "ana", []byte(`{"status":"queued"}`), t0, t0.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		if err := s.UpdateVideo(ctx, "video_1", []byte(`{"status":"completed"}`)); err != nil {
			t.Fatal(err)
		}
		if v, err := s.Video(ctx, "video_1", t0); err != nil || string(v.Body) != `{"status":"completed"}` || v.Deleted {
			t.Fatalf("updated video %+v (%v)", v, err)
		}
		for _, id := range []string{"video_1", "video_elsewhere"} {
			if err := s.DeleteVideo(ctx, id, "ana", t0, t0.Add(time.Minute), t0); err != nil {
				t.Fatal(err)
			}
			if v, err := s.Video(ctx, id, t0); err != nil || !v.Deleted {
				t.Errorf("%s is not read as deleted: %+v (%v)", id, v, err)
			}
			if _, err := s.Video(ctx, id, t0.Add(2*time.Minute)); err != ErrNotFound {
				t.Errorf("the deletion of %s outlived its expiry: %v", id, err)
			}
		}
		if err := s.UpdateVideo(ctx, "video_1", []byte(`{"status":"failed"}`)); err != nil {
			t.Fatal(err)
		}
		if err := s.AddVideo(ctx, "video_1", "ana", []byte(`{}`), t0, t0.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		if v, _ := s.Video(ctx, "video_1", t0); !v.Deleted || strings.Contains(string(v.Body), "failed") {
			t.Errorf("an update or indexing again undid a deletion: %+v", v)
		}
		if _, err := s.Video(ctx, "video_2", t0); err != ErrNotFound {
			t.Errorf("a video never indexed nor deleted is read: %v", err)
		}
	})
}
