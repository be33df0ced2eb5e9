package chat

import (
	"strings"
	"testing"
)

func TestNewID(t *testing.T) {
	seen := make(map[string]bool)
	counts := make(map[rune]int)
	for range 2000 {
		id := NewID()
		rest, ok := strings.CutPrefix(id, "chatcmpl-")
		if !ok || len(rest) != 24 {
			t.Fatalf("NewID() = %q, want chatcmpl- and 24 characters", id)
		}
		for _, r := range rest {
			if !strings.ContainsRune(base62, r) {
				t.Fatalf("NewID() = %q has %q outside base62", id, r)
			}
			counts[r]++
		}
		if seen[id] {
			t.Fatalf("NewID() repeated %q", id)
		}
		seen[id] = true
	}
	// 48000 draws over 62 symbols: every symbol appears (about 774 times
	// each); a missing one means a broken mapping.
	if len(counts) != len(base62) {
		t.Errorf("only %d of %d base62 characters drawn", len(counts), len(base62))
	}
}
