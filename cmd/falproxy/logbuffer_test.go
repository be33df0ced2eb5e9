package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// countingWriter counts the writes it receives, as the system calls a log
// file would cost.
type countingWriter struct {
	bytes.Buffer
	writes int
}

func (c *countingWriter) Write(p []byte) (int, error) {
	c.writes++
	return c.Buffer.Write(p)
}

func TestLogBufferGathersLines(t *testing.T) {
	out := &countingWriter{}
	b := &logBuffer{w: out}
	const lines = 2000
	var want strings.Builder
	for i := range lines {
		line := fmt.Sprintf("time=now level=INFO msg=request request_id=req_%d status=200\n", i)
		want.WriteString(line)
		if _, err := b.Write([]byte(line)); err != nil {
			t.Fatal(err)
		}
	}
	b.flush()
	if out.String() != want.String() {
		t.Fatalf("the log holds %d bytes, want the %d written, in order", out.Len(), want.Len())
	}
	if out.writes >= lines/10 {
		t.Errorf("%d lines cost %d writes; they should be gathered", lines, out.writes)
	}
}

func TestBufferedLogOnlyForFilesAndPipes(t *testing.T) {
	f, err := os.Create(filepath.Join(t.TempDir(), "falproxy.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w, flush := bufferedLog(f)
	if _, ok := w.(*logBuffer); !ok {
		t.Errorf("a log file is written line by line (%T)", w)
	}
	if _, err := w.Write([]byte("last line\n")); err != nil {
		t.Fatal(err)
	}
	flush()
	if b, _ := os.ReadFile(f.Name()); string(b) != "last line\n" {
		t.Errorf("after the final flush the file holds %q", b)
	}

	r, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer pw.Close()
	if w, _ := bufferedLog(pw); w == io.Writer(pw) {
		t.Error("a pipe is written line by line")
	}

	var buf bytes.Buffer
	if w, _ := bufferedLog(&buf); w != io.Writer(&buf) {
		t.Error("a writer that is not a file is wrapped")
	}
}
