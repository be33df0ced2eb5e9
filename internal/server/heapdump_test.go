package server_test

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"strings"
	"testing"
)

// goroutineStackSizes returns the stack size of every goroutine one of
// whose frames is named with frame, read from a heap dump of this process
// (runtime/debug.WriteHeapDump): its goroutine records name each
// goroutine's descriptor and frames, and the descriptor, dumped as a heap
// object, begins with the stack's bounds.
func goroutineStackSizes(t *testing.T, frame string) []int {
	t.Helper()
	f, err := os.CreateTemp(t.TempDir(), "heapdump")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	debug.WriteHeapDump(f.Fd())
	bounds := map[uint64][2]uint64{} // descriptor address: stack's lo, hi
	stackPointers := map[uint64]uint64{}
	// The objects come before the goroutines: the first pass finds the
	// goroutines, the second their descriptors.
	for pass := range 2 {
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			t.Fatal(err)
		}
		d := &heapDump{r: bufio.NewReader(f)}
		err := d.records(func(tag uint64, addr uint64, contents []byte, name string) {
			switch {
			case pass == 0 && tag == tagGoroutine:
				d.goroutine = addr
			case pass == 0 && tag == tagStackFrame && strings.Contains(name, frame):
				stackPointers[d.goroutine] = d.goroutineSP
			case pass == 1 && tag == tagObject && len(contents) >= 16:
				if _, ok := stackPointers[addr]; ok {
					bounds[addr] = [2]uint64{binary.LittleEndian.Uint64(contents), binary.LittleEndian.Uint64(contents[8:])}
				}
			}
		})
		if err != nil {
			t.Fatalf("reading the heap dump: %v", err)
		}
	}
	var sizes []int
	for g, sp := range stackPointers {
		b, ok := bounds[g]
		if !ok || sp < b[0] || sp >= b[1] {
			t.Fatalf("goroutine descriptor %#x: stack %#x–%#x does not hold its stack pointer %#x", g, b[0], b[1], sp)
		}
		sizes = append(sizes, int(b[1]-b[0]))
	}
	return sizes
}

// Record tags of the heap dump format ("go1.7 heap dump").
const (
	tagObject     = 1
	tagGoroutine  = 4
	tagStackFrame = 5
)

// heapDump reads the records of a heap dump.
type heapDump struct {
	r   *bufio.Reader
	err error
	// goroutine and goroutineSP are those of the goroutine whose frames
	// are being read.
	goroutine, goroutineSP uint64
}

func (d *heapDump) uint() uint64 {
	if d.err != nil {
		return 0
	}
	v, err := binary.ReadUvarint(d.r)
	d.err = err
	return v
}

func (d *heapDump) skip(n int) {
	for range n {
		d.uint()
	}
}

func (d *heapDump) bytes() []byte {
	n := d.uint()
	if d.err != nil {
		return nil
	}
	b := make([]byte, n)
	_, d.err = io.ReadFull(d.r, b)
	return b
}

// fields skips a list of pointer fields.
func (d *heapDump) fields() {
	for d.err == nil && d.uint() != 0 {
		d.uint()
	}
}

// records calls record with each record's tag and, for the ones it
// reads, its address, contents and name.
func (d *heapDump) records(record func(tag, addr uint64, contents []byte, name string)) error {
	const header = "go1.7 heap dump\n"
	h := make([]byte, len(header))
	if _, err := io.ReadFull(d.r, h); err != nil || string(h) != header {
		return fmt.Errorf("not a heap dump: %q, %v", h, err)
	}
	for d.err == nil {
		var addr uint64
		var contents []byte
		var name string
		tag := d.uint()
		switch tag {
		case 0:
			return nil
		case tagObject, 12, 13: // object, data, bss
			addr, contents = d.uint(), d.bytes()
			d.fields()
		case 2: // other root
			d.bytes()
			d.uint()
		case 3: // type
			d.skip(2)
			d.bytes()
			d.uint()
		case tagGoroutine:
			addr, d.goroutineSP = d.uint(), d.uint()
			d.skip(6)
			d.bytes() // wait reason
			d.skip(4)
		case tagStackFrame:
			d.skip(3)
			d.bytes()
			d.skip(3)
			name = string(d.bytes())
			d.fields()
		case 6: // parameters
			d.skip(4)
			d.bytes()
			d.bytes()
			d.uint()
		case 7, 11: // finalizer, queued finalizer
			d.skip(5)
		case 8, 17: // itab, allocation sample
			d.skip(2)
		case 9: // OS thread
			d.skip(3)
		case 10: // memory statistics
			d.skip(24 + 256 + 1)
		case 14: // defer
			d.skip(7)
		case 15: // panic
			d.skip(6)
		case 16: // allocation profile bucket
			d.skip(2)
			for range d.uint() {
				d.bytes()
				d.bytes()
				d.uint()
			}
			d.skip(2)
		default:
			return fmt.Errorf("unknown record %d", tag)
		}
		record(tag, addr, contents, name)
	}
	return d.err
}
