//go:build race

package main

// raceEnabled is true when tests run with -race, whose instrumentation
// allocates where a production build does not.
const raceEnabled = true
