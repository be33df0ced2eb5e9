package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/falproxy/falproxy/internal/freeport"
)

// buildFalproxy compiles ./cmd/falproxy of the module falbench runs in
// into dir, so that the proxy measured is the binary users run.
func buildFalproxy(ctx context.Context, dir string) (string, error) {
	out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("find the module: go env GOMOD: %w", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", errors.New("run falbench inside the falproxy module (go env GOMOD is empty)")
	}
	bin := filepath.Join(dir, "falproxy")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/falproxy")
	cmd.Dir = filepath.Dir(gomod)
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/falproxy: %w\n%s", err, b)
	}
	return bin, nil
}

// proxyProc is a running falproxy child process.
type proxyProc struct {
	cmd     *exec.Cmd
	base    string // http://127.0.0.1:PORT
	started time.Time
	logPath string
	waited  chan error
}

// startProxy starts bin with exactly env (plus HOST and PORT) in dir,
// which holds no .env file, and returns without waiting for it to listen.
// Its log goes to a file in dir.
func startProxy(bin, dir, name string, env map[string]string) (*proxyProc, error) {
	port, err := freeport.Loopback()
	if err != nil {
		return nil, err
	}
	logPath := filepath.Join(dir, name+".log")
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open proxy log: %w", err)
	}
	defer logf.Close() // the child keeps its own copy of the descriptor
	full := map[string]string{"HOST": "127.0.0.1", "PORT": strconv.Itoa(port)}
	for k, v := range env {
		full[k] = v
	}
	cmd := exec.Command(bin, "serve")
	cmd.Dir = dir
	cmd.Env = envList(full)
	cmd.Stdout, cmd.Stderr = logf, logf
	p := &proxyProc{cmd: cmd, base: "http://127.0.0.1:" + strconv.Itoa(port), logPath: logPath, waited: make(chan error, 1)}
	p.started = time.Now()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start falproxy: %w", err)
	}
	go func() { p.waited <- cmd.Wait() }()
	return p, nil
}

// envList turns a map into a sorted KEY=value list.
func envList(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k, v := range m {
		out = append(out, k+"="+v)
	}
	sort.Strings(out)
	return out
}

// pid is the child's process id.
func (p *proxyProc) pid() int { return p.cmd.Process.Pid }

// waitReady polls path until it answers 200, and returns how long after
// the process was started that first happened.
func (p *proxyProc) waitReady(ctx context.Context, hc *http.Client, path, key string, limit time.Duration) (time.Duration, error) {
	deadline := time.Now().Add(limit)
	for {
		if err := p.exited(); err != nil {
			return 0, err
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.base+path, nil)
		if err != nil {
			return 0, err
		}
		if key != "" {
			req.Header.Set("Authorization", "Bearer "+key)
		}
		if resp, err := hc.Do(req); err == nil {
			drain(resp)
			if resp.StatusCode == http.StatusOK {
				return time.Since(p.started), nil
			}
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return 0, fmt.Errorf("falproxy did not answer %s within %v (log: %s)", path, limit, p.logPath)
		}
		time.Sleep(200 * time.Microsecond)
	}
}

// exited returns an error if the process has already ended.
func (p *proxyProc) exited() error {
	select {
	case err := <-p.waited:
		p.waited <- err
		return fmt.Errorf("falproxy exited early (%v); log: %s", err, p.logPath)
	default:
		return nil
	}
}

// stop sends SIGTERM and waits for a clean exit, killing the process if it
// takes longer than a few seconds.
func (p *proxyProc) stop() {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.waited:
	case <-time.After(5 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.waited
	}
}
