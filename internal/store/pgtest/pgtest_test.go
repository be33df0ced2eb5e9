package pgtest

import (
	"bufio"
	"context"
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/falproxy/falproxy/internal/ciskip"
)

// TestStartReapsClustersOfDeadOwners: a cluster left running by a test
// process that died (here one recorded as owned by an exited child) is
// stopped and removed by the next start, and the new cluster works.
func TestStartReapsClustersOfDeadOwners(t *testing.T) {
	if findBin() == "" {
		ciskip.Skipf(t, "Postgres server binaries are not installed (apt-get install postgresql)")
	}
	child := exec.Command("true")
	if err := child.Run(); err != nil {
		t.Fatal(err)
	}
	orphan, err := start(child.ProcessState.Pid())
	if err != nil {
		t.Fatal(err)
	}
	if err := ping(orphan); err != nil {
		t.Fatalf("the orphan cluster does not answer: %v", err)
	}

	live, err := start(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	defer live.stop()

	if _, err := os.Stat(orphan.dir); !os.IsNotExist(err) {
		t.Fatalf("the orphan's directory %s is still there (%v)", orphan.dir, err)
	}
	_ = orphan.server.Wait() // returns once the reaped server has exited
	if err := ping(live); err != nil {
		t.Fatalf("the new cluster does not answer: %v", err)
	}
	if _, err := os.Stat(live.dir); err != nil {
		t.Fatalf("the new cluster's directory, owned by a live process, was removed: %v", err)
	}
}

func ping(c *cluster) error {
	db, err := sql.Open("pgx", c.url("postgres"))
	if err != nil {
		return err
	}
	defer db.Close()
	return db.PingContext(context.Background())
}

// ownerEnv makes the test binary a cluster's owner that waits to be
// killed (see TestServerDiesWithItsOwner).
const ownerEnv = "PGTEST_OWNER"

// TestServerDiesWithItsOwner: when the test process that started a
// cluster is killed with SIGKILL, its server stops too, and the next start
// removes the directory left behind.
func TestServerDiesWithItsOwner(t *testing.T) {
	if os.Getenv(ownerEnv) == "1" {
		c, err := start(os.Getpid())
		if err != nil {
			t.Fatal(err)
		}
		fmt.Printf("%s %d\n", c.dir, c.server.Process.Pid)
		select {} // until killed
	}
	if findBin() == "" {
		ciskip.Skipf(t, "Postgres server binaries are not installed (apt-get install postgresql)")
	}
	owner := exec.Command(os.Args[0], "-test.run=^TestServerDiesWithItsOwner$")
	owner.Env = append(os.Environ(), ownerEnv+"=1")
	out, err := owner.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := owner.Start(); err != nil {
		t.Fatal(err)
	}
	var dir string
	var server int
	if _, err := fmt.Fscan(bufio.NewReader(out), &dir, &server); err != nil {
		_ = owner.Process.Kill()
		_ = owner.Wait()
		t.Fatalf("the owner did not report its cluster: %v", err)
	}
	_ = owner.Process.Kill()
	_ = owner.Wait()

	for alive(server) { // the parent-death signal stops it; the test's timeout bounds the wait
		time.Sleep(10 * time.Millisecond)
	}
	if _, err := os.Stat(dir); err != nil {
		t.Fatalf("the killed owner's directory is already gone: %v", err)
	}
	reapOrphans(findBin())
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatalf("the killed owner's directory %s is still there (%v)", dir, err)
	}
}
