// Package pgtest runs a throwaway Postgres server for tests: Debian's
// server binaries, a cluster initialised in a temporary directory,
// listening on a free loopback port, run as an unprivileged user when the
// tests run as root (Postgres refuses root), and removed by Stop, which
// every package using URL calls from its TestMain (Main does it).
//
// A test binary killed by a timeout or a signal never calls Stop. Two
// things keep its cluster from outliving it:
//
//   - The server is the test process's own child, started with a
//     parent-death signal (Linux's PR_SET_PDEATHSIG) of SIGQUIT, Postgres's
//     immediate shutdown, so it stops when its owner dies, SIGKILL
//     included. Only the server stops: its directory stays behind.
//   - Each cluster's directory records its owner's PID (the file "owner"),
//     and every start stops and removes the clusters whose owner is no
//     longer alive. This also covers what the signal cannot: a server
//     started elsewhere, or an owner whose PID was reused.
package pgtest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers "pgx"

	"github.com/falproxy/falproxy/internal/ciskip"
	"github.com/falproxy/falproxy/internal/freeport"
)

// cluster is the one server the test binary shares.
type cluster struct {
	dir    string // data, socket, log and owner file live here
	bin    string
	port   int
	cred   *syscall.Credential // the server's user when the tests run as root
	server *exec.Cmd           // the postmaster, a child of this process
}

var (
	once    sync.Once
	running *cluster
	failure error
)

// URL returns the URL of a new, empty database on the shared server,
// starting the server on first use. Without Postgres binaries the test is
// skipped (failed under CI).
func URL(t testing.TB) string {
	t.Helper()
	once.Do(func() { running, failure = start(os.Getpid()) })
	if failure != nil {
		if failure == errNoBinaries {
			ciskip.Skipf(t, "Postgres server binaries are not installed (apt-get install postgresql)")
		}
		t.Fatalf("starting Postgres: %v", failure)
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := "test_" + hex.EncodeToString(b[:])
	db, err := sql.Open("pgx", running.url("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.ExecContext(context.Background(), "CREATE DATABASE "+name); err != nil {
		t.Fatalf("creating a test database: %v", err)
	}
	return running.url(name)
}

// Main runs the tests and then Stop: the whole TestMain of a package
// that needs nothing more.
func Main(m *testing.M) {
	code := m.Run()
	Stop()
	os.Exit(code)
}

// Stop shuts the shared server down and removes its files; TestMain calls
// it after the tests.
func Stop() {
	if running == nil {
		return
	}
	running.stop()
	running = nil
}

var errNoBinaries = fmt.Errorf("no Postgres server binaries")

// start reaps the clusters of dead owners, then initialises and starts a
// cluster recorded as owned by the process owner.
func start(owner int) (*cluster, error) {
	bin := findBin()
	if bin == "" {
		return nil, errNoBinaries
	}
	reapOrphans(bin)
	dir, err := os.MkdirTemp("", dirPrefix)
	if err != nil {
		return nil, err
	}
	c := &cluster{dir: dir, bin: bin}
	if err := c.init(owner); err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	if err := c.startServer(); err != nil {
		c.stop()
		return nil, err
	}
	return c, nil
}

// init records the owner, hands the directory to the server's user and
// creates the cluster.
func (c *cluster) init(owner int) error {
	if err := os.WriteFile(filepath.Join(c.dir, ownerFile), []byte(strconv.Itoa(owner)), 0o644); err != nil {
		return err
	}
	if os.Geteuid() == 0 {
		if err := c.dropRoot(); err != nil {
			return err
		}
	}
	var err error
	if c.port, err = freeport.Loopback(); err != nil {
		return err
	}
	return c.run("initdb", "-D", c.data(), "-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8")
}

// startServer runs the postmaster as a child with SIGQUIT as its
// parent-death signal and waits until it accepts connections. The signal
// follows the OS thread that forked the child; Go keeps its threads for the
// life of the process unless a goroutine locked to one exits, which
// nothing here does.
func (c *cluster) startServer() error {
	log, err := os.Create(filepath.Join(c.dir, "log"))
	if err != nil {
		return err
	}
	defer log.Close()
	c.server = exec.Command(filepath.Join(c.bin, "postgres"), "-D", c.data(), "-p", strconv.Itoa(c.port),
		"-k", c.dir, "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "max_connections=200")
	c.server.Dir = c.dir
	c.server.Stdout, c.server.Stderr = log, log
	c.server.SysProcAttr = &syscall.SysProcAttr{Credential: c.cred, Pdeathsig: syscall.SIGQUIT}
	if err := c.server.Start(); err != nil {
		return err
	}
	if err := c.waitReady(); err != nil {
		text, _ := os.ReadFile(filepath.Join(c.dir, "log"))
		return fmt.Errorf("%v: %s", err, text)
	}
	return nil
}

// waitReady waits for the server to accept connections, for up to a
// minute (initdb's first start on a busy machine can be slow).
func (c *cluster) waitReady() error {
	db, err := sql.Open("pgx", c.url("postgres"))
	if err != nil {
		return err
	}
	defer db.Close()
	deadline := time.Now().Add(time.Minute)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err = db.PingContext(ctx)
		cancel()
		if err == nil || time.Now().After(deadline) {
			return err
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// stop shuts the server down at once, reaps it and removes its files.
func (c *cluster) stop() {
	_ = c.run("pg_ctl", "-D", c.data(), "-m", "immediate", "-w", "stop")
	if c.server != nil && c.server.Process != nil {
		_ = c.server.Process.Signal(syscall.SIGQUIT) // in case pg_ctl could not
		_ = c.server.Wait()
	}
	_ = os.RemoveAll(c.dir)
}

// dropRoot makes the server run as "nobody", the owner of its directory.
func (c *cluster) dropRoot() error {
	u, err := user.Lookup("nobody")
	if err != nil {
		return fmt.Errorf("tests run as root and there is no user nobody to run Postgres as: %w", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	if err := os.Chown(c.dir, uid, gid); err != nil {
		return err
	}
	c.cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
	return nil
}

func (c *cluster) data() string { return filepath.Join(c.dir, "data") }

func (c *cluster) url(db string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", c.port, db)
}

// run runs one of the server binaries as the server's user.
func (c *cluster) run(name string, args ...string) error {
	cmd := exec.Command(filepath.Join(c.bin, name), args...)
	cmd.Dir = c.dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: c.cred}
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s: %v: %s", name, err, out)
	}
	return nil
}

// findBin returns the newest /usr/lib/postgresql/*/bin holding initdb.
func findBin() string {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return version(dirs[i]) > version(dirs[j]) })
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			return d
		}
	}
	return ""
}

func version(binDir string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return v
}
