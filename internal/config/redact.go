package config

import (
	"cmp"
	"slices"
	"strings"
)

// redacted replaces every secret Redact finds.
const redacted = "[redacted]"

// minRedacted is the shortest secret Redact hides. Access keys are at least
// MinKeyLength long; a fal key, or its secret half, under this length is not
// a real one, and hiding it would blank out ordinary words.
const minRedacted = 8

// Redact returns s with every access key, fal key and METRICS_KEY replaced
// by "[redacted]". A fal key has the form "<key id>:<secret>"; its secret
// half is also hidden when it appears alone. Only whole tokens are hidden: an
// occurrence is replaced when the characters around it are not key
// characters (letters, digits, '-' and '_'), so a secret that happens to be
// part of a longer word is left alone and the text keeps its sense.
// Callers pass it the values that can carry a key (error texts, headers,
// URLs, payloads), not their own fixed messages.
func (c *Config) Redact(s string) string {
	r := c.redactor
	if r == nil { // a Config built without Load
		r = newRedactor(c.secrets())
	}
	return r.replace(s)
}

// secrets lists every value Redact hides.
func (c *Config) secrets() []string {
	out := slices.Concat(c.AccessKeys, c.FalKeys, []string{c.MetricsKey})
	for _, k := range c.FalKeys {
		if _, secret, ok := strings.Cut(k, ":"); ok {
			out = append(out, secret)
		}
	}
	return out
}

// redactor hides whole-token occurrences of secrets, longest first, so that
// a key which contains another key is hidden whole.
type redactor struct {
	secrets []string
}

func newRedactor(secrets []string) *redactor {
	secrets = slices.DeleteFunc(slices.Clone(secrets), func(s string) bool { return len(s) < minRedacted })
	slices.SortFunc(secrets, func(a, b string) int {
		return cmp.Or(cmp.Compare(len(b), len(a)), strings.Compare(a, b))
	})
	return &redactor{secrets: slices.Compact(secrets)}
}

func (r *redactor) replace(s string) string {
	if len(r.secrets) == 0 {
		return s
	}
	var out strings.Builder
	done := 0 // s[:done] is in out
	for i := 0; i < len(s); i++ {
		if secret := r.at(s, i); secret != "" {
			out.WriteString(s[done:i])
			out.WriteString(redacted)
			done = i + len(secret)
			i = done - 1
		}
	}
	if done == 0 {
		return s
	}
	out.WriteString(s[done:])
	return out.String()
}

// at returns the longest secret that occurs in s at i as a whole token.
func (r *redactor) at(s string, i int) string {
	for _, secret := range r.secrets {
		end := i + len(secret)
		if !strings.HasPrefix(s[i:], secret) {
			continue
		}
		// A boundary is needed only where the secret itself ends in a key
		// character: "[k" or "k]" cannot continue a token.
		if keyChar(secret[0]) && !tokenStart(s, i) {
			continue
		}
		if end < len(s) && keyChar(secret[len(secret)-1]) && keyChar(s[end]) {
			continue
		}
		return secret
	}
	return ""
}

// tokenStart reports whether a token can start at s[i]: after a non-key
// character, or after an escape that stands for one (\n in JSON, %20 in a
// URL), so that an escaped separator does not shield a key.
func tokenStart(s string, i int) bool {
	switch {
	case i == 0 || !keyChar(s[i-1]):
		return true
	case i >= 2 && s[i-2] == '\\':
		return true
	}
	return i >= 3 && s[i-3] == '%' && isHex(s[i-2]) && isHex(s[i-1])
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// keyChar reports whether c can continue a key: a letter, digit, '-' or '_'.
func keyChar(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_'
}
