//go:build race

package chat

// raceEnabled is true when tests run with -race, whose runtime allocates
// now and then beside the code measured.
const raceEnabled = true
