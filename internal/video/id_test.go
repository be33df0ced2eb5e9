package video

import (
	"encoding/base64"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

var k0, k1, k2, k3 = NewKey([]byte("k0")), NewKey([]byte("k1")), NewKey([]byte("k2")), NewKey([]byte("k3"))

func sampleRef() Ref {
	return Ref{Endpoint: "fal-ai/sora-2/text-to-video", RequestID: "req-1", KeyTag: []byte("12345678"),
		AccessTag: k1.AccessTag("sk-access"), Model: "sora-2", Seconds: "8", Size: "1280x720",
		CreatedAt: 1700000000, Prompt: strings.Repeat("日本", 200)}
}

func only(keys ...*Key) func([]byte) []*Key { return func([]byte) []*Key { return keys } }

func TestIDRoundTrip(t *testing.T) {
	id := Seal(sampleRef(), k1)
	ref, key, err := Open(id, func(tag []byte) []*Key {
		if string(tag) != "12345678" {
			t.Errorf("keys asked for tag %q", tag)
		}
		return []*Key{k0, k1}
	})
	if err != nil || key != k1 {
		t.Fatalf("open: %v", err)
	}
	if len(ref.Prompt) > maxIDPrompt || !strings.HasPrefix(sampleRef().Prompt, ref.Prompt) {
		t.Errorf("prompt not cut on a character boundary to %d bytes: %d bytes", maxIDPrompt, len(ref.Prompt))
	}
	if ref.RequestID != "req-1" || ref.Seconds != "8" || ref.CreatedAt != 1700000000 || string(ref.KeyTag) != "12345678" {
		t.Errorf("ref %+v", ref)
	}
	if !ref.Owns(key, "sk-access") || ref.Owns(key, "sk-other") || ref.Owns(key, "") {
		t.Error("the access tag does not bind the id to its access key")
	}
}

// TestIDHidesWhatItCarries: nothing an id carries can be read from it.
func TestIDHidesWhatItCarries(t *testing.T) {
	ref := sampleRef()
	ref.Prompt = "a fox in the snow"
	id := Seal(ref, k1)
	raw, _ := base64.RawURLEncoding.DecodeString(strings.TrimPrefix(id, idPrefix))
	for _, secret := range []string{"a fox", "req-1", "sora-2", "1280x720"} {
		if strings.Contains(string(raw), secret) || strings.Contains(id, secret) {
			t.Errorf("the id shows %q", secret)
		}
	}
	if Seal(ref, k1) == id {
		t.Error("two seals of one Ref are the same id")
	}
}

func TestIDRejects(t *testing.T) {
	id := Seal(sampleRef(), k1)
	raw, _ := base64.RawURLEncoding.DecodeString(strings.TrimPrefix(id, idPrefix))
	edit := func(i int) string {
		b := append([]byte(nil), raw...)
		b[i] ^= 1
		return idPrefix + base64.RawURLEncoding.EncodeToString(b)
	}
	for name, bad := range map[string]string{
		"tampered body":  edit(len(raw) - 30),
		"tampered tag":   edit(3),
		"tampered nonce": edit(12),
		"version":        edit(0),
		"tag length":     edit(1),
		"truncated":      id[:len(id)-5],
		"no prefix":      strings.TrimPrefix(id, idPrefix),
		"not base64":     idPrefix + "!!!",
		"empty":          idPrefix,
		"very long":      idPrefix + strings.Repeat("A", maxIDLength),
		"only a header":  idPrefix + base64.RawURLEncoding.EncodeToString(raw[:10]),
		"padded":         id + "==",
		"other key":      Seal(sampleRef(), k2),
	} {
		if _, _, err := Open(bad, only(k3, k1)); !errors.Is(err, errUnknownID) {
			t.Errorf("%s: opened", name)
		}
	}
	if _, _, err := Open(id, only(k3)); !errors.Is(err, errUnknownID) {
		t.Errorf("opened without its key: %v", err)
	}
}

func TestProgress(t *testing.T) {
	for _, tc := range []struct {
		logs    []string
		elapsed time.Duration
		want    int
	}{
		{[]string{"Generating 10%", "step 3/10 progress 30 %", "uploading"}, 0, 30},
		{[]string{"42.7%"}, time.Hour, 42},
		{[]string{"done 100%"}, 0, 99},
		{nil, 0, 0},
		{nil, time.Hour, 90},
		{[]string{"no number"}, 75 * time.Second, 56},
	} {
		if got := Progress(tc.logs, tc.elapsed); got != tc.want {
			t.Errorf("Progress(%q, %v) = %d, want %d", tc.logs, tc.elapsed, got, tc.want)
		}
	}
}

// FuzzOpen: no input makes Open panic, and none but the sealed id opens.
func FuzzOpen(f *testing.F) {
	id := Seal(sampleRef(), k1)
	f.Add(id)
	f.Add(id[:len(id)/2])
	f.Add(idPrefix + "Ag")
	// Sealing draws a random nonce, and each fuzz worker runs this setup
	// again, so an id that opens is compared by what it carries, not by
	// its bytes: nothing but a sealed sample may open.
	want, _, err := Open(id, only(k1))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, _, err := Open(s, only(k1)); err == nil && !reflect.DeepEqual(got, want) {
			t.Errorf("an altered id opened: %q", s)
		}
	})
}
