package pgtest

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

const (
	dirPrefix = "falproxy-pg-" // of each cluster's directory in the temporary directory
	ownerFile = "owner"        // holds the PID of the test process that started the cluster
)

// reapOrphans stops and removes every cluster whose owner is no longer
// alive. A directory without an owner file is left alone: it may be a
// cluster still being set up.
func reapOrphans(bin string) {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), dirPrefix+"*"))
	for _, dir := range dirs {
		owner, ok := readOwner(dir)
		if !ok || alive(owner) {
			continue
		}
		orphan := &cluster{dir: dir, bin: bin, cred: ownerOf(dir)}
		orphan.stop()
	}
}

func readOwner(dir string) (int, bool) {
	b, err := os.ReadFile(filepath.Join(dir, ownerFile))
	if err != nil {
		return 0, false
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	return pid, err == nil && pid > 0
}

// alive reports whether a process with the PID exists (EPERM: it exists
// but belongs to another user).
func alive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// ownerOf returns the credential of the directory's owner when the tests
// run as root, so that pg_ctl runs as the server's user; nil otherwise.
func ownerOf(dir string) *syscall.Credential {
	if os.Geteuid() != 0 {
		return nil
	}
	info, err := os.Stat(dir)
	if err != nil {
		return nil
	}
	st, ok := info.Sys().(*syscall.Stat_t)
	if !ok || st.Uid == 0 {
		return nil
	}
	return &syscall.Credential{Uid: st.Uid, Gid: st.Gid}
}
