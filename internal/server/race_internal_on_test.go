//go:build race

package server

// raceDetector is raceEnabled for the tests inside the package: the race
// detector's runtime allocates now and then beside the code measured.
const raceDetector = true
