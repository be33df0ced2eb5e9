//go:build !race

package main

// raceEnabled is true when tests run with -race (see race_on_test.go).
const raceEnabled = false
