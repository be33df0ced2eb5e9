package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strconv"
)

// memory is a process's resident set size now and its peak so far, in
// bytes, as /proc/<pid>/status reports them (VmRSS and VmHWM).
type memory struct {
	rss, hwm int64
}

// readMemory reads /proc/<pid>/status.
func readMemory(pid int) (memory, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return memory{}, fmt.Errorf("read process status: %w", err)
	}
	return parseStatus(b)
}

// parseStatus extracts VmRSS and VmHWM (given in kB) from the text of
// /proc/<pid>/status.
func parseStatus(b []byte) (memory, error) {
	var m memory
	found := 0
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		f := bytes.Fields(sc.Bytes())
		if len(f) < 2 {
			continue
		}
		var dst *int64
		switch string(f[0]) {
		case "VmRSS:":
			dst = &m.rss
		case "VmHWM:":
			dst = &m.hwm
		default:
			continue
		}
		kb, err := strconv.ParseInt(string(f[1]), 10, 64)
		if err != nil {
			return memory{}, fmt.Errorf("parse %s: %w", f[0], err)
		}
		*dst = kb << 10
		found++
	}
	if found != 2 {
		return memory{}, fmt.Errorf("process status lacks VmRSS or VmHWM")
	}
	return m, nil
}
