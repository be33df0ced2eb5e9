package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"time"

	"github.com/falproxy/falproxy/internal/freeport"
)

// relayCommand is the hidden subcommand that runs a plain TCP relay: a
// control for the cost of any separate process between client and fal, as
// opposed to what falproxy does in it.
const relayCommand = "relay"

// serveRelay copies bytes both ways between every connection accepted on
// listen and a new connection to target, until the process is killed.
func serveRelay(listen, target string) error {
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return fmt.Errorf("relay: %w", err)
	}
	for {
		c, err := ln.Accept()
		if err != nil {
			return fmt.Errorf("relay: %w", err)
		}
		go relayConn(c, target)
	}
}

func relayConn(c net.Conn, target string) {
	defer c.Close()
	u, err := net.Dial("tcp", target)
	if err != nil {
		return
	}
	defer u.Close()
	go func() {
		_, _ = io.Copy(u, c)
		_ = u.(*net.TCPConn).CloseWrite()
	}()
	_, _ = io.Copy(c, u)
}

// childProc is falbench itself running one of its hidden subcommands
// (the relay, a control server) in a child process.
type childProc struct {
	cmd  *exec.Cmd
	addr string
}

// startRelay runs falbench itself as a relay to target in a child process
// and waits until it accepts connections.
func startRelay(ctx context.Context, target string) (*childProc, error) {
	return startChild(ctx, relayCommand, target)
}

// startChild runs falbench's hidden subcommand command with a free
// loopback address and args, and waits until it accepts connections.
func startChild(ctx context.Context, command string, args ...string) (*childProc, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("find falbench's own binary: %w", err)
	}
	port, err := freeport.Loopback()
	if err != nil {
		return nil, err
	}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	cmd := exec.Command(self, append([]string{command, addr}, args...)...)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start the %s: %w", command, err)
	}
	r := &childProc{cmd: cmd, addr: addr}
	for deadline := time.Now().Add(10 * time.Second); ; {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			_ = c.Close()
			return r, nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			r.stop()
			return nil, fmt.Errorf("the %s did not start: %w", command, err)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// stop kills the child; it holds no state worth a clean exit.
func (r *childProc) stop() {
	_ = r.cmd.Process.Kill()
	_ = r.cmd.Wait()
}
