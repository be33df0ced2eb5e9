package config

import (
	"cmp"
	"slices"
	"strings"
)

// redacted replaces every secret Redact finds.
const redacted = "[redacted]"

// minSecretPart is the shortest secret half of a fal key that Redact hides on
// its own; shorter fragments would blank out ordinary text.
const minSecretPart = 8

// Redact returns s with every access key and fal key replaced by "[redacted]".
// A fal key has the form "<key id>:<secret>"; its secret half is also hidden
// when it appears alone. Logging passes every line through Redact.
func (c *Config) Redact(s string) string {
	r := c.redactor
	if r == nil { // a Config built without Load
		r = newRedactor(c.AccessKeys, c.FalKeys)
	}
	return r.Replace(s)
}

// newRedactor builds a replacer for the keys. Longer secrets come first so
// that a key which contains another key is hidden whole.
func newRedactor(accessKeys, falKeys []string) *strings.Replacer {
	secrets := slices.Concat(accessKeys, falKeys)
	for _, k := range falKeys {
		if _, secret, ok := strings.Cut(k, ":"); ok && len(secret) >= minSecretPart {
			secrets = append(secrets, secret)
		}
	}
	secrets = slices.DeleteFunc(secrets, func(s string) bool { return s == "" })
	slices.SortFunc(secrets, func(a, b string) int {
		return cmp.Or(cmp.Compare(len(b), len(a)), strings.Compare(a, b))
	})
	secrets = slices.Compact(secrets)
	pairs := make([]string, 0, 2*len(secrets))
	for _, s := range secrets {
		pairs = append(pairs, s, redacted)
	}
	return strings.NewReplacer(pairs...)
}
