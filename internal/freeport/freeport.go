// Package freeport finds a free TCP port on loopback, for the servers the
// tests and the benchmarks start as processes of their own (Postgres,
// Redis, falproxy), which must be told a port before they listen.
package freeport

import (
	"fmt"
	"net"
)

// Loopback returns a port that was free on 127.0.0.1 a moment ago.
func Loopback() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("finding a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
