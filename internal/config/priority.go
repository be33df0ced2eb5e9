package config

import (
	"strings"
	"time"

	"github.com/falproxy/falproxy/internal/fal"
)

// queuePriority reads alias:priority pairs. Each alias must be one of the
// configured aliases, of any kind, given once; the pair is split at its
// last ":", since a chat alias may itself contain one.
func (l *loader) queuePriority(name string, lists []aliasList) map[string]string {
	s, ok := l.str(name)
	if !ok || s == "" {
		return nil
	}
	known, variables := knownAliases(lists)
	out := map[string]string{}
	for _, entry := range splitList(s) {
		i := strings.LastIndex(entry, ":")
		if i < 0 {
			l.problem(name, "entry %q must be alias:%s or alias:%s", entry, fal.PriorityLow, fal.PriorityNormal)
			continue
		}
		alias, priority := strings.TrimSpace(entry[:i]), strings.ToLower(strings.TrimSpace(entry[i+1:]))
		switch _, dup := out[alias]; {
		case priority != fal.PriorityLow && priority != fal.PriorityNormal:
			l.problem(name, "entry %q must end in :%s or :%s", entry, fal.PriorityLow, fal.PriorityNormal)
		case !known[alias]:
			l.problem(name, "entry %q names no alias of %s", entry, variables)
		case dup:
			l.problem(name, "alias %q is listed twice", alias)
		default:
			out[alias] = priority
		}
	}
	return out
}

// optionalDuration reads a duration of at least lo, or 0 when no value is
// given.
func (l *loader) optionalDuration(name string, lo time.Duration) time.Duration {
	if s, ok := l.str(name); !ok || s == "" {
		return 0
	}
	return l.duration(name, lo)
}
