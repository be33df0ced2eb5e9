package config

import "strings"

// redisURL reads an optional REDIS_URL. Messages never quote it: it may
// hold a password.
func (l *loader) redisURL(name string) string {
	s, ok := l.str(name)
	if !ok || s == "" {
		return ""
	}
	for _, scheme := range []string{"redis://", "rediss://", "unix://"} {
		if strings.HasPrefix(s, scheme) && len(s) > len(scheme) {
			return s
		}
	}
	l.problem(name, "must start with redis://, rediss:// or unix://")
	return ""
}
