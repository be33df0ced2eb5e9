package config

import (
	"strings"

	"github.com/redis/go-redis/v9"
)

// redisURL reads an optional REDIS_URL, parsed as the fleet will parse it,
// so that falproxy check reports a malformed one. Messages never quote
// it, nor the parser's error (which does): it may hold a password.
func (l *loader) redisURL(name string) string {
	s, ok := l.str(name)
	if !ok || s == "" {
		return ""
	}
	for _, scheme := range []string{"redis://", "rediss://", "unix://"} {
		if strings.HasPrefix(s, scheme) && len(s) > len(scheme) {
			if _, err := redis.ParseURL(s); err != nil {
				l.problem(name, "is not a valid Redis URL: check its host, port, database number and options")
				return ""
			}
			return s
		}
	}
	l.problem(name, "must start with redis://, rediss:// or unix://")
	return ""
}
