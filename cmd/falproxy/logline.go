package main

import (
	"io"
	"log/slog"
	"math"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/falproxy/falproxy/internal/jsonstr"
	"github.com/falproxy/falproxy/internal/server"
)

// A flat line, one whose attributes are all strings, numbers, booleans or
// durations (every access log line), is formatted here instead of by
// slog's handler, into exactly the bytes that handler writes: slog builds
// a line through a general walk over values, groups and options, and on
// the busiest routes that walk was most of what falproxy added to
// net/http's own work. Any other line goes to slog's handler. The tests
// compare both on random lines.

// lineFormat formats flat lines for the root logger, as text or as JSON.
type lineFormat struct {
	json bool
	w    io.Writer // shared with slog's handler, and safe for concurrent writes
	// minute is the stamp of the last line's time (see appendTime).
	minute atomic.Pointer[minuteStamp]
}

// lineBuffers holds the buffers lines are formatted in.
var lineBuffers = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

// maxPooledLine is the largest buffer lineBuffers keeps, as slog keeps
// its own: one huge line must not pin its memory for every later one.
const maxPooledLine = 16 << 10

// write formats r and writes it, unless r is not flat or a string of it
// would be redacted (changed by hide); then it reports false and writes
// nothing.
func (f *lineFormat) write(r slog.Record, hide func(string) string) (bool, error) {
	bp := lineBuffers.Get().(*[]byte)
	b, ok := f.appendRecord((*bp)[:0], r, hide)
	return f.finish(bp, b, ok)
}

// writeAccess is write for an access line, which it formats as write
// formats l.Record(), without building the record. The line's keys are
// the server's own words, which need neither quotes nor escapes, and
// are written as they are.
func (f *lineFormat) writeAccess(l server.AccessLine, hide func(string) string) (bool, error) {
	bp := lineBuffers.Get().(*[]byte)
	var attrs [8]slog.Attr
	b, ok := f.appendHead((*bp)[:0], l.Time, l.Level, server.AccessMessage)
	for _, a := range l.Attrs(&attrs) {
		if !ok {
			break
		}
		b, ok = f.appendValue(f.appendName(f.appendSeparator(b), a.Key), a.Value, hide)
	}
	return f.finish(bp, f.appendEnd(b), ok)
}

// finish writes the line b, formatted in the pooled buffer bp, if ok,
// and gives the buffer back to the pool.
func (f *lineFormat) finish(bp *[]byte, b []byte, ok bool) (bool, error) {
	var err error
	if ok {
		_, err = f.w.Write(b)
	}
	if cap(b) <= maxPooledLine {
		*bp = b[:0]
		lineBuffers.Put(bp)
	}
	return ok, err
}

// appendRecord appends r as slog's handler formats it, with the same
// built-in attributes (time, level, msg) and no options; ok is false for a
// record that is not flat or holds a string hide would change.
func (f *lineFormat) appendRecord(b []byte, r slog.Record, hide func(string) string) (_ []byte, ok bool) {
	b, ok = f.appendHead(b, r.Time, r.Level, r.Message)
	if ok {
		r.Attrs(func(a slog.Attr) bool {
			b, ok = f.appendAttr(b, a, hide)
			return ok
		})
	}
	return f.appendEnd(b), ok
}

// appendHead begins a line with its built-in attributes; ok is false for
// a time the format cannot write. Their keys and the level's names need
// neither quotes in text nor escapes in JSON, and are written as they are.
func (f *lineFormat) appendHead(b []byte, t time.Time, level slog.Level, msg string) (_ []byte, ok bool) {
	if f.json {
		b = append(b, '{')
	}
	if !t.IsZero() {
		if b, ok = f.appendTime(f.appendName(b, slog.TimeKey), t.Round(0)); !ok {
			return b, false
		}
		b = f.appendSeparator(b)
	}
	b = f.appendBare(f.appendName(b, slog.LevelKey), level.String())
	return f.appendString(f.appendName(f.appendSeparator(b), slog.MessageKey), msg), true
}

// appendAttr appends a, which follows the built-in attributes; ok is false
// for an empty key, a value that is not flat and a string hide would
// change.
func (f *lineFormat) appendAttr(b []byte, a slog.Attr, hide func(string) string) (_ []byte, ok bool) {
	if a.Key == "" {
		return b, false
	}
	return f.appendValue(f.appendKey(b, a.Key), a.Value, hide)
}

// appendEnd ends a line.
func (f *lineFormat) appendEnd(b []byte) []byte {
	if f.json {
		b = append(b, '}')
	}
	return append(b, '\n')
}

// appendKey appends the separator before an attribute and its key.
func (f *lineFormat) appendKey(b []byte, key string) []byte {
	return f.appendEquals(f.appendString(f.appendSeparator(b), key))
}

// appendName appends a key that needs neither quotes nor escapes.
func (f *lineFormat) appendName(b []byte, key string) []byte {
	return f.appendEquals(f.appendBare(b, key))
}

// appendBare appends a string that needs neither quotes nor escapes.
func (f *lineFormat) appendBare(b []byte, s string) []byte {
	if f.json {
		return append(append(append(b, '"'), s...), '"')
	}
	return append(b, s...)
}

// appendSeparator appends what separates two attributes.
func (f *lineFormat) appendSeparator(b []byte) []byte {
	if f.json {
		return append(b, ',')
	}
	return append(b, ' ')
}

// appendEquals appends what separates a key from its value.
func (f *lineFormat) appendEquals(b []byte) []byte {
	if f.json {
		return append(b, ':')
	}
	return append(b, '=')
}

// appendValue appends a flat value; ok is false for any other, and for a
// string hide would change.
func (f *lineFormat) appendValue(b []byte, v slog.Value, hide func(string) string) (_ []byte, ok bool) {
	switch v.Kind() {
	case slog.KindString:
		s := v.String()
		if hide(s) != s {
			return b, false
		}
		return f.appendString(b, s), true
	case slog.KindInt64:
		return strconv.AppendInt(b, v.Int64(), 10), true
	case slog.KindUint64:
		return strconv.AppendUint(b, v.Uint64(), 10), true
	case slog.KindFloat64:
		if b, ok := appendThousandths(b, v.Float64()); ok {
			return b, true
		}
		if f.json {
			return appendJSONFloat(b, v.Float64())
		}
		return strconv.AppendFloat(b, v.Float64(), 'g', -1, 64), true
	case slog.KindBool:
		return strconv.AppendBool(b, v.Bool()), true
	case slog.KindDuration:
		if f.json {
			return strconv.AppendInt(b, int64(v.Duration()), 10), true
		}
		return append(b, v.Duration().String()...), true
	}
	return b, false
}

// appendString appends s as a key or a string value.
func (f *lineFormat) appendString(b []byte, s string) []byte {
	if f.json {
		b = append(b, '"')
		return append(jsonstr.Slog.AppendEscaped(b, s), '"')
	}
	if textNeedsQuoting(s) {
		return strconv.AppendQuote(b, s)
	}
	return append(b, s...)
}

// appendTime appends the line's time: RFC 3339 in milliseconds in text,
// in nanoseconds in JSON, whose handler refuses a year outside 0–9999
// (ok false). The minute's part comes from the stamp of the last line
// when it holds, as it does for every line of a minute.
func (f *lineFormat) appendTime(b []byte, t time.Time) (_ []byte, ok bool) {
	m := f.minute.Load()
	if !m.holds(t.Location(), t.Unix()) {
		if m = stampOf(t); m != nil {
			f.minute.Store(m)
		}
	}
	if f.json {
		if m == nil {
			return b, false
		}
		return append(m.appendStamped(append(b, '"'), t, false), '"'), true
	}
	if m != nil {
		return m.appendStamped(b, t, true), true
	}
	// As slog: RFC3339Nano is fast but drops trailing zeros, so a
	// tenth of a millisecond is added and the fourth digit dropped.
	const prefix = len("2006-01-02T15:04:05.000")
	n := len(b)
	b = t.Truncate(time.Millisecond).Add(time.Millisecond/10).AppendFormat(b, time.RFC3339Nano)
	return append(b[:n+prefix], b[n+prefix+1:]...), true
}

// textNeedsQuoting is slog's rule for the text format: an empty string,
// a space, '=', a character JSON escapes (but not a backslash), and a
// rune that is invalid, a space or not printable are quoted.
func textNeedsQuoting(s string) bool {
	if s == "" {
		return true
	}
	// Eight bytes at a time while they are bare ASCII, as in most
	// values, then byte by byte.
	i := 0
	for ; len(s)-i >= 8 && bareWord(s[i:i+8]); i += 8 {
	}
	for {
		for i < len(s) && textBare[s[i]] {
			i++
		}
		if i == len(s) {
			return false
		}
		if s[i] < utf8.RuneSelf {
			return true
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError || unicode.IsSpace(r) || !unicode.IsPrint(r) {
			return true
		}
		i += size
	}
}

// bareWord reports whether the eight bytes of w are all bare ASCII (see
// textBare): none is under '!' or over DEL, '"' or '='. Each test sets
// a byte's high bit where it finds one, with the tricks of "Bit Twiddling
// Hacks" (hasless, haszero), exact for whether any byte has it.
func bareWord(w string) bool {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	_ = w[7] // one bounds check, and the bytes are loaded as one word
	x := uint64(w[0]) | uint64(w[1])<<8 | uint64(w[2])<<16 | uint64(w[3])<<24 |
		uint64(w[4])<<32 | uint64(w[5])<<40 | uint64(w[6])<<48 | uint64(w[7])<<56
	below := (x - '!'*ones) &^ x
	quote := x ^ '"'*ones
	equals := x ^ '='*ones
	return (x|below|(quote-ones)&^quote|(equals-ones)&^equals)&highs == 0
}

// textBare holds the ASCII characters that leave a text value bare; a
// byte of a longer UTF-8 sequence is not in it.
var textBare = func() (bare [256]bool) {
	for c := range utf8.RuneSelf {
		bare[c] = c == '\\' || c != ' ' && c != '=' && jsonSafe(byte(c))
	}
	return bare
}()

// jsonSafe reports whether an ASCII byte stands for itself in a JSON
// string: all but the control characters, '"' and '\'.
func jsonSafe(c byte) bool { return c >= 0x20 && c != '"' && c != '\\' }

// appendThousandths appends f as strconv's shortest formats ('g' in
// text, 'f' in JSON) write it, if f is the float64 nearest a whole number
// of thousandths from 0 to under a million, as a duration in
// milliseconds measured in microseconds is (duration_ms); ok is false for
// any other. Such a number has at most nine significant digits, and no
// shorter decimal is as near its float64, so the shortest format writes
// its own digits, without an exponent in this range, which integers
// write much faster.
func appendThousandths(b []byte, f float64) (_ []byte, ok bool) {
	n := math.Round(f * 1000)
	if n < 0 || n >= 1e9 || n/1000 != f || math.Signbit(f) { // -0 is written "-0"
		return b, false
	}
	u := uint64(n)
	b = strconv.AppendUint(b, u/1000, 10)
	if frac := int(u % 1000); frac != 0 {
		digits := 3
		for frac%10 == 0 {
			frac /= 10
			digits--
		}
		b = appendDigits(append(b, '.'), frac, digits)
	}
	return b, true
}

// appendJSONFloat appends f as encoding/json encodes a float64, as slog's
// JSON handler does; ok is false for NaN and the infinities, which it
// cannot encode.
func appendJSONFloat(b []byte, f float64) (_ []byte, ok bool) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return b, false
	}
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' {
		// encoding/json writes e-7, not e-07.
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b, true
}
