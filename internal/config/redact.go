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

// Redact returns s with every secret of the configuration (access keys, fal
// keys, METRICS_KEY and SIGNING_KEY; see secrets) replaced by
// "[redacted]", wherever it occurs, even inside a longer word. A fal key has
// the form "<key id>:<secret>"; its secret half is also hidden when it
// appears alone. Secrets shorter than minRedacted are left alone, so that
// ordinary words stay whole. Callers pass it the values that can carry a
// key (error texts, headers, URLs, payloads), not their own fixed messages.
func (c *Config) Redact(s string) string {
	r := c.redactor
	if r == nil { // a Config built without Load
		r = newRedactor(c.secrets())
	}
	return r.replace(s)
}

// secrets lists every value Redact hides.
func (c *Config) secrets() []string {
	out := slices.Concat(c.AccessKeys, c.FalKeys, []string{c.MetricsKey, c.AdminKey, c.FalAdminKey, c.DatabaseURL, c.RedisURL}, c.SigningKeys)
	for _, k := range c.FalKeys {
		if _, secret, ok := strings.Cut(k, ":"); ok {
			out = append(out, secret)
		}
	}
	return out
}

// redactor hides every occurrence of its secrets, longest first, so that a
// key which contains another key is hidden whole.
type redactor struct {
	secrets []string
	// shortest is the length of the shortest secret: a shorter value,
	// as most values logged on every request are (a method, a path),
	// holds none and is not searched.
	shortest int
}

func newRedactor(secrets []string) *redactor {
	secrets = slices.DeleteFunc(slices.Clone(secrets), func(s string) bool { return len(s) < minRedacted })
	slices.SortFunc(secrets, func(a, b string) int {
		return cmp.Or(cmp.Compare(len(b), len(a)), strings.Compare(a, b))
	})
	r := &redactor{secrets: slices.Compact(secrets)}
	if len(r.secrets) > 0 {
		r.shortest = len(r.secrets[len(r.secrets)-1])
	}
	return r
}

func (r *redactor) replace(s string) string {
	if len(s) < r.shortest {
		return s
	}
	for _, secret := range r.secrets {
		// Searching first spares a value without the secret, nearly
		// every one, the replacing's own search and its calls.
		if strings.Contains(s, secret) {
			s = strings.ReplaceAll(s, secret, redacted)
		}
	}
	return s
}
