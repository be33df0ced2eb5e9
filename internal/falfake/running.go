package falfake

import (
	"sort"
	"time"
)

// MaxRunning is the most jobs of the fal key that were ever on the queue
// at once: each counts from its submission until it completed or was
// cancelled, as fal counts a key's (an account's) concurrent requests.
func (f *Fake) MaxRunning(key string) int {
	type edge struct {
		at    time.Time
		delta int
	}
	var edges []edge
	for _, j := range f.jobs.all() {
		if j.key != key {
			continue
		}
		j.mu.Lock()
		end := j.finished
		if j.cancelled {
			end = j.cancelledAt
		}
		j.mu.Unlock()
		edges = append(edges, edge{j.submitted, 1}, edge{end, -1})
	}
	// An end at the instant of another's start is not an overlap.
	sort.Slice(edges, func(a, b int) bool {
		if edges[a].at.Equal(edges[b].at) {
			return edges[a].delta < edges[b].delta
		}
		return edges[a].at.Before(edges[b].at)
	})
	most, now := 0, 0
	for _, e := range edges {
		now += e.delta
		most = max(most, now)
	}
	return most
}
