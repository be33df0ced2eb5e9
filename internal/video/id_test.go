package video

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"
)

func sampleRef() Ref {
	return Ref{Endpoint: "fal-ai/sora-2/text-to-video", RequestID: "req-1", KeyTag: []byte("12345678"),
		AccessTag: AccessTag([]byte("k1"), "sk-access"), Model: "sora-2", Seconds: "8", Size: "1280x720",
		CreatedAt: 1700000000, Prompt: strings.Repeat("日本", 200)}
}

func only(keys ...[]byte) func(*Ref) [][]byte { return func(*Ref) [][]byte { return keys } }

func TestIDRoundTrip(t *testing.T) {
	id := Seal(sampleRef(), []byte("k1"))
	ref, key, err := Open(id, only([]byte("k0"), []byte("k1")))
	if err != nil || string(key) != "k1" {
		t.Fatalf("open: %v (key %q)", err, key)
	}
	if len(ref.Prompt) > maxIDPrompt || !strings.HasPrefix(sampleRef().Prompt, ref.Prompt) {
		t.Errorf("prompt not cut on a character boundary to %d bytes: %d bytes", maxIDPrompt, len(ref.Prompt))
	}
	if ref.RequestID != "req-1" || ref.Seconds != "8" || ref.CreatedAt != 1700000000 {
		t.Errorf("ref %+v", ref)
	}
	if !ref.Owns(key, "sk-access") || ref.Owns(key, "sk-other") || ref.Owns(key, "") {
		t.Error("the access tag does not bind the id to its access key")
	}
}

func TestIDRejects(t *testing.T) {
	id := Seal(sampleRef(), []byte("k1"))
	raw, _ := base64.RawURLEncoding.DecodeString(strings.TrimPrefix(id, idPrefix))
	flipped := append([]byte(nil), raw...)
	flipped[10] ^= 1
	version := append([]byte(nil), raw...)
	version[0] = 2
	for name, bad := range map[string]string{
		"other key":   id,
		"tampered":    idPrefix + base64.RawURLEncoding.EncodeToString(flipped),
		"truncated":   id[:len(id)-5],
		"version":     idPrefix + base64.RawURLEncoding.EncodeToString(version),
		"no prefix":   strings.TrimPrefix(id, idPrefix),
		"not base64":  idPrefix + "!!!",
		"empty":       idPrefix,
		"very long":   idPrefix + strings.Repeat("A", maxIDLength),
		"only a tag":  idPrefix + base64.RawURLEncoding.EncodeToString(raw[len(raw)-tagSize:]),
		"padded":      id + "==",
		"other video": Seal(sampleRef(), []byte("k2")),
	} {
		if _, _, err := Open(bad, only([]byte("k3"), []byte("k1"))); name == "other key" {
			if _, _, err := Open(bad, only([]byte("k3"))); !errors.Is(err, errUnknownID) {
				t.Errorf("%s: %v", name, err)
			}
		} else if !errors.Is(err, errUnknownID) {
			t.Errorf("%s: opened", name)
		}
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
	id := Seal(sampleRef(), []byte("k1"))
	f.Add(id)
	f.Add(id[:len(id)/2])
	f.Add(idPrefix + "AQ")
	f.Fuzz(func(t *testing.T, s string) {
		ref, _, err := Open(s, only([]byte("k1")))
		if err == nil && s != id && ref.RequestID == "req-1" && !strings.HasPrefix(s, id[:len(id)-tagSize]) {
			t.Errorf("an altered id opened: %q", s)
		}
	})
}
