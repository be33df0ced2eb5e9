package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/falproxy/falproxy/internal/falfake"
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

// TestLogAfterTheFinalFlushIsWritten: a line logged after the final
// flush (a goroutine still ending, main about to exit) is written at
// once instead of waiting for a flush that never comes, and flushing
// again writes nothing twice.
func TestLogAfterTheFinalFlushIsWritten(t *testing.T) {
	f := createLogFile(t)
	w, flush := bufferedLog(f)
	again, flushAgain := bufferedLog(w) // serve's, inside main's
	if again != w {
		t.Fatalf("a buffered log is buffered again (%T)", again)
	}
	if _, err := w.Write([]byte("before\n")); err != nil {
		t.Fatal(err)
	}
	flushAgain()
	if _, err := w.Write([]byte("after\n")); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(f.Name()); string(b) != "before\nafter\n" {
		t.Fatalf("after the final flush the file holds %q, want both lines at once", b)
	}
	flush()
	if b, _ := os.ReadFile(f.Name()); string(b) != "before\nafter\n" {
		t.Fatalf("a second final flush left %q", b)
	}
}

func TestBufferedLogOnlyForFilesAndPipes(t *testing.T) {
	f := createLogFile(t)
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

// TestServeLogFileKeepsEveryLine runs falproxy with its log going to a
// file, as the log is gathered before it is written, and checks that the
// file holds an access log line for every request once falproxy stopped.
func TestServeLogFileKeepsEveryLine(t *testing.T) {
	fake, err := falfake.New(falfake.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer fake.Close()
	logFile, err := os.Create(filepath.Join(t.TempDir(), "falproxy.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer logFile.Close()
	env := fakeEnv(fake, map[string]string{"PORT": freePort(t)})
	base := "http://127.0.0.1:" + env["PORT"]
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"serve"}, lookup(env), io.Discard, logFile) }()
	stop := sync.OnceValue(func() error {
		cancel()
		return <-done
	})
	defer stop()
	ready := false
	for range 500 {
		if resp, err := http.Get(base + "/health"); err == nil {
			resp.Body.Close()
			ready = true
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if !ready {
		t.Fatal("falproxy did not answer /health")
	}
	const requests = 50
	for i := range requests {
		req, _ := http.NewRequest(http.MethodGet, base+"/v1/models", nil)
		req.Header.Set("Authorization", "Bearer sk-access-key-one")
		req.Header.Set("X-Request-Id", fmt.Sprintf("logged-%d", i))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET /v1/models answered %d", resp.StatusCode)
		}
	}
	if err := stop(); err != nil {
		t.Fatalf("falproxy stopped with %v", err)
	}
	b, err := os.ReadFile(logFile.Name())
	if err != nil {
		t.Fatal(err)
	}
	for i := range requests {
		if !strings.Contains(string(b), fmt.Sprintf("request_id=logged-%d ", i)) {
			t.Fatalf("no access log line for request logged-%d in:\n%s", i, b)
		}
	}
}

// createLogFile creates an empty log file, closed when the test ends.
func createLogFile(t *testing.T) *os.File {
	t.Helper()
	f, err := os.Create(filepath.Join(t.TempDir(), "falproxy.log"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = f.Close() })
	return f
}

// heldWriter holds every write until released, telling when one began.
type heldWriter struct {
	began, release chan struct{}
	mu             sync.Mutex
	out            bytes.Buffer
}

func (h *heldWriter) Write(p []byte) (int, error) {
	select {
	case h.began <- struct{}{}:
	default:
	}
	<-h.release
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.out.Write(p)
}

// TestLogLinesGatherWhileABatchIsWritten: while a full batch is being
// written, the requests logging meanwhile are not held up by the write
// system call; their lines are gathered and follow the batch in order.
func TestLogLinesGatherWhileABatchIsWritten(t *testing.T) {
	w := &heldWriter{began: make(chan struct{}, 1), release: make(chan struct{})}
	b := &logBuffer{w: w}
	full := append(bytes.Repeat([]byte("x"), logBufferSize-1), '\n')
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, _ = b.Write(full)
	}()
	<-w.began
	if !b.mu.TryLock() {
		close(w.release)
		<-done
		t.Fatal("a line logged while a batch is written waits for the write")
	}
	b.mu.Unlock()
	next := []byte("time=now level=INFO msg=request status=200\n")
	_, _ = b.Write(next)
	close(w.release)
	<-done
	b.close()
	if want := string(full) + string(next); w.out.String() != want {
		t.Errorf("the log holds %d bytes, want the %d written, in order", w.out.Len(), len(want))
	}
}

// TestLogBufferDropsAGrownBuffer: after a line far longer than a batch,
// the buffer kept for the next batch is back to an ordinary size, while
// an ordinary full batch keeps its buffer.
func TestLogBufferDropsAGrownBuffer(t *testing.T) {
	b := &logBuffer{w: io.Discard}
	line := []byte("time=now level=INFO msg=request status=200\n")
	for len(b.spare) == 0 {
		_, _ = b.Write(line)
	}
	if cap(b.spare) == 0 {
		t.Fatal("an ordinary full batch did not keep its buffer")
	}
	_, _ = b.Write(append(bytes.Repeat([]byte("x"), 16*logBufferSize), '\n'))
	if cap(b.spare) > 2*logBufferSize || cap(b.pending) > 2*logBufferSize {
		t.Errorf("after a long line the buffers hold %d and %d bytes", cap(b.spare), cap(b.pending))
	}
	b.close()
	_, _ = b.Write(append(bytes.Repeat([]byte("x"), 16*logBufferSize), '\n'))
	if cap(b.pending) > 2*logBufferSize {
		t.Errorf("after a long line written at once the buffer holds %d bytes", cap(b.pending))
	}
}
