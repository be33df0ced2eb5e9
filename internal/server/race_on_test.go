//go:build race

package server_test

// raceEnabled is true when tests run with -race, whose runtime caps a
// process at 8128 goroutines: too few for the load tests.
const raceEnabled = true
