// Package pgtest runs a throwaway Postgres server for tests: Debian's
// server binaries, a cluster initialised in a temporary directory,
// listening on a free loopback port, run as an unprivileged user when the
// tests run as root (Postgres refuses root), and removed by Stop.
package pgtest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib" // registers "pgx"

	"github.com/falproxy/falproxy/internal/ciskip"
)

// cluster is the one server the test binary shares.
type cluster struct {
	dir  string // data, socket and log live here
	bin  string
	port int
	as   []string // the command prefix that runs a binary as the server's user
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
	once.Do(func() { running, failure = start() })
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

// Stop shuts the shared server down and removes its files; TestMain calls
// it after the tests.
func Stop() {
	if running == nil {
		return
	}
	_ = running.run("pg_ctl", "-D", running.data(), "-m", "immediate", "-w", "stop")
	_ = os.RemoveAll(running.dir)
	running = nil
}

var errNoBinaries = fmt.Errorf("no Postgres server binaries")

func start() (*cluster, error) {
	bin := findBin()
	if bin == "" {
		return nil, errNoBinaries
	}
	dir, err := os.MkdirTemp("", "falproxy-pg-")
	if err != nil {
		return nil, err
	}
	c := &cluster{dir: dir, bin: bin}
	if os.Geteuid() == 0 {
		if err := c.dropRoot(); err != nil {
			_ = os.RemoveAll(dir)
			return nil, err
		}
	}
	if c.port, err = freePort(); err != nil {
		return nil, err
	}
	if err := c.run("initdb", "-D", c.data(), "-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8"); err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200", c.port, dir)
	if err := c.run("pg_ctl", "-D", c.data(), "-l", filepath.Join(dir, "log"), "-o", opts, "-w", "start"); err != nil {
		log, _ := os.ReadFile(filepath.Join(dir, "log"))
		_ = os.RemoveAll(dir)
		return nil, fmt.Errorf("%v: %s", err, log)
	}
	return c, nil
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
	runuser, err := exec.LookPath("runuser")
	if err != nil {
		return fmt.Errorf("tests run as root and runuser is missing: %w", err)
	}
	c.as = []string{runuser, "-u", "nobody", "--"}
	return nil
}

func (c *cluster) data() string { return filepath.Join(c.dir, "data") }

func (c *cluster) url(db string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", c.port, db)
}

func (c *cluster) run(name string, args ...string) error {
	argv := append(append(append([]string{}, c.as...), filepath.Join(c.bin, name)), args...)
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = c.dir
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

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
