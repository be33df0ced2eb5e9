package chat

import "crypto/rand"

const (
	idPrefix   = "chatcmpl-"
	idLength   = 24
	base62     = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	unbiasedAt = 256 / len(base62) * len(base62) // 248: bytes below map evenly
)

// NewID returns a completion id like OpenAI's: "chatcmpl-" and 24 random
// base62 characters from crypto/rand (about 143 bits).
func NewID() string { return RandomID(idPrefix) }

// RandomID returns prefix followed by 24 random base62 characters, as
// NewID; other OpenAI objects (responses, their items) use other prefixes.
func RandomID(prefix string) string {
	b := make([]byte, len(prefix), len(prefix)+idLength)
	copy(b, prefix)
	var random [2 * idLength]byte
	for len(b) < cap(b) {
		rand.Read(random[:]) // never fails: crypto/rand aborts the program instead
		for _, r := range random {
			if int(r) < unbiasedAt && len(b) < cap(b) {
				b = append(b, base62[int(r)%len(base62)])
			}
		}
	}
	return string(b)
}
