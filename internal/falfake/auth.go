package falfake

import (
	"crypto/subtle"
	"net/http"
	"strings"
)

// Bodies of fal's 401 answers.
const (
	msgBadKey     = "No user found for Key ID and Secret"
	msgMissingKey = "Missing Authorization header with a fal key"
)

// falKey extracts <k> from "Authorization: Key <k>"; "" when absent or of
// another scheme.
func falKey(r *http.Request) string {
	scheme, key, ok := strings.Cut(strings.TrimSpace(r.Header.Get("Authorization")), " ")
	if !ok || !strings.EqualFold(scheme, "Key") {
		return ""
	}
	return strings.TrimSpace(key)
}

// accepts reports whether key may use the emulator: one of Options.Keys, or
// any non-empty key when none are configured.
func (f *Fake) accepts(key string) bool {
	if key == "" {
		return false
	}
	if len(f.opts.Keys) == 0 {
		return true
	}
	for _, k := range f.opts.Keys {
		if subtle.ConstantTimeCompare([]byte(k), []byte(key)) == 1 {
			return true
		}
	}
	return false
}

// authorize answers 401 and returns false unless the call's key is
// accepted.
func (f *Fake) authorize(w http.ResponseWriter, c *call) bool {
	if f.accepts(c.key) {
		return true
	}
	f.rec.addRejected()
	msg := msgBadKey
	if c.key == "" {
		msg = msgMissingKey
	}
	writeJSON(w, http.StatusUnauthorized, detailMsg(msg))
	return false
}
