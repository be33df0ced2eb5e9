package falfake

import "sync"

// gate counts running handlers so that Close can wait for them. Unlike a
// WaitGroup it may be entered concurrently with the final wait: once
// closed, it refuses new entries.
type gate struct {
	mu     sync.Mutex
	cond   *sync.Cond
	n      int
	closed bool
}

func (g *gate) init() { g.cond = sync.NewCond(&g.mu) }

// enter registers a handler; false once the gate is closed.
func (g *gate) enter() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		return false
	}
	g.n++
	return true
}

// leave unregisters a handler.
func (g *gate) leave() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.n--
	if g.n == 0 {
		g.cond.Broadcast()
	}
}

// closeAndWait refuses new handlers and waits for the running ones.
func (g *gate) closeAndWait() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.closed = true
	for g.n > 0 {
		g.cond.Wait()
	}
}
