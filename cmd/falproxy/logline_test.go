package main

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/falproxy/falproxy/internal/config"
	"github.com/falproxy/falproxy/internal/server"
)

// unchanged is a redaction that finds no secret.
func unchanged(s string) string { return s }

// slogLine is r as slog's own handler writes it, text or JSON.
func slogLine(t testing.TB, r slog.Record, asJSON bool) string {
	t.Helper()
	var buf bytes.Buffer
	var h slog.Handler = slog.NewTextHandler(&buf, nil)
	if asJSON {
		h = slog.NewJSONHandler(&buf, nil)
	}
	if err := h.Handle(context.Background(), r); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

// directLine is r in the direct format, and whether it took r.
func directLine(r slog.Record, asJSON bool) (string, bool) {
	f := &lineFormat{json: asJSON}
	b, ok := f.appendRecord(nil, r, unchanged)
	return string(b), ok
}

// assertSameLine fails unless the direct format takes r and writes what
// slog writes, in both formats.
func assertSameLine(t testing.TB, r slog.Record) {
	t.Helper()
	for _, asJSON := range []bool{false, true} {
		got, ok := directLine(r, asJSON)
		if !ok {
			t.Fatalf("json=%v: the direct format refused a flat line", asJSON)
		}
		if want := slogLine(t, r, asJSON); got != want {
			t.Fatalf("json=%v: the direct format wrote\n%q\nslog writes\n%q", asJSON, got, want)
		}
	}
}

func TestDirectLineMatchesSlog(t *testing.T) {
	at := time.Date(2026, 12, 1, 19, 24, 55, 719_000_000, time.UTC)
	cases := []struct {
		name  string
		time  time.Time
		level slog.Level
		msg   string
		attrs []slog.Attr
	}{
		{"access line", at, slog.LevelInfo, "request", []slog.Attr{
			slog.String("request_id", "req_44a6ac42ba56e360899cb2f0"), slog.String("method", "GET"),
			slog.String("path", "/v1/models"), slog.Int("status", 200), slog.Float64("duration_ms", 0.123)}},
		{"quotes, spaces, equals, backslashes", at, slog.LevelWarn, "a message", []slog.Attr{
			slog.String("path", `/v1/models/a "b"=c\d`), slog.String("empty", ""), slog.String("back", `a\b`),
			slog.String("key with space", "v"), slog.String("k=v", "x")}},
		{"unicode and control characters", at.In(time.FixedZone("", 5*3600+1800)), slog.LevelDebug, "é", []slog.Attr{
			slog.String("ua", "Mozilla/5.0 (Linux) café ☕"), slog.String("ctl", "a\x00b\x1fc\x7f\td\ne\rf"),
			slog.String("bad", "\xff\xfe"), slog.String("sep", "a\u2028b\u2029c\u00a0d"), slog.String("html", "<a>&</a>")}},
		{"numbers", time.Time{}, slog.LevelError + 2, "n", []slog.Attr{
			slog.Int64("neg", math.MinInt64), slog.Uint64("big", math.MaxUint64), slog.Bool("ok", true),
			slog.Float64("tiny", 1e-7), slog.Float64("huge", 1e21), slog.Float64("third", 1.0/3), slog.Float64("zero", 0),
			slog.Float64("negzero", math.Copysign(0, -1)), slog.Float64("ms", 12.5), slog.Float64("exp", 1.5e-300),
			slog.Duration("wait", 1500*time.Millisecond), slog.Duration("none", 0)}},
		{"times around the millisecond", time.Date(2026, 1, 2, 3, 4, 5, 999_999_999, time.UTC), slog.LevelInfo, "t", nil},
		{"a time with a monotonic reading", time.Now(), slog.LevelInfo, "now", nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := slog.NewRecord(c.time, c.level, c.msg, 0)
			r.AddAttrs(c.attrs...)
			assertSameLine(t, r)
		})
	}
}

// TestAccessLinesMatchSlog: the root logger writes the server's access
// lines without a record, as slog writes their records; it leaves to
// Handle, having written nothing, a line with several fal ids (a list)
// and one holding a key, which Handle redacts.
func TestAccessLinesMatchSlog(t *testing.T) {
	const accessKey = "sk-log-test-0123456789"
	at := time.Date(2026, 12, 1, 19, 24, 55, 719_000_000, time.Local)
	plain := server.AccessLine{Time: at, RequestID: "req_44a6ac42ba56e360899cb2f0", Method: "GET", Path: "/v1/models",
		Status: 200, Elapsed: 123 * time.Microsecond}
	with := func(change func(*server.AccessLine)) server.AccessLine {
		l := plain
		change(&l)
		return l
	}
	cases := []struct {
		name   string
		line   server.AccessLine
		direct bool
	}{
		{"plain", plain, true},
		{"model and fal job", with(func(l *server.AccessLine) {
			l.Method, l.Path, l.Model, l.FalRequestIDs = "POST", "/v1/images/generations", "flux-dev", []string{"0a1b-fal"}
		}), true},
		{"quoted", with(func(l *server.AccessLine) {
			l.RequestID, l.Path, l.Status, l.Level = `q"uote=d\back`, "/v1/models/café \"x\"=y\u2028z", 404, slog.LevelDebug
		}), true},
		{"several fal jobs", with(func(l *server.AccessLine) { l.FalRequestIDs = []string{"job-1", "job-2"} }), false},
		{"a key", with(func(l *server.AccessLine) { l.Path = "/v1/models/" + accessKey }), false},
	}
	for _, format := range []string{"text", "json"} {
		for _, c := range cases {
			t.Run(format+"/"+c.name, func(t *testing.T) {
				var buf bytes.Buffer
				h := newLogger(&buf, loadLogConfig(t, accessKey, format)).Handler().(*redactingHandler)
				done, err := h.WriteAccessLine(c.line)
				if err != nil || done != c.direct {
					t.Fatalf("WriteAccessLine = %v, %v; want %v", done, err, c.direct)
				}
				if !done {
					if buf.Len() != 0 {
						t.Fatalf("WriteAccessLine declined the line but wrote %q", buf.String())
					}
					if err := h.Handle(context.Background(), c.line.Record()); err != nil {
						t.Fatal(err)
					}
				}
				want := slogLine(t, c.line.Record(), format == "json")
				want = strings.ReplaceAll(want, accessKey, "[redacted]")
				if buf.String() != want {
					t.Errorf("the logger wrote\n%q\nslog writes\n%q", buf.String(), want)
				}
			})
		}
	}
	// The direct format writes the keys as they are.
	all := with(func(l *server.AccessLine) { l.Model, l.FalRequestIDs = "m", []string{"a", "b"} })
	var attrs [8]slog.Attr
	for _, a := range all.Attrs(&attrs) {
		if textNeedsQuoting(a.Key) || strconv.Quote(a.Key) != `"`+a.Key+`"` {
			t.Errorf("the access line's key %q needs quotes or escapes", a.Key)
		}
	}
	child := newLogger(io.Discard, loadLogConfig(t, accessKey, "text")).With("component", "x").Handler()
	if done, _ := child.(*redactingHandler).WriteAccessLine(plain); done {
		t.Error("a logger with attributes of its own wrote an access line without them")
	}
}

// TestTextQuotingMatchesSlog: a value is quoted in text exactly when slog
// quotes it, whatever byte stands wherever in it, inside the words of
// eight bytes the check takes at once and after them.
func TestTextQuotingMatchesSlog(t *testing.T) {
	base := []byte("abcdefghijklmnopqrs")
	for c := range 256 {
		for pos := range base {
			v := bytes.Clone(base)
			v[pos] = byte(c)
			r := slog.NewRecord(time.Time{}, slog.LevelInfo, "m", 0)
			r.AddAttrs(slog.String("v", string(v)))
			quoted := strings.Contains(slogLine(t, r, false), `v="`)
			if textNeedsQuoting(string(v)) != quoted {
				t.Fatalf("%q: quoted %v, slog quotes it: %v", v, !quoted, quoted)
			}
		}
	}
}

// TestThousandthsMatchStrconv: a whole number of thousandths, as the
// access line's duration_ms, is written as strconv writes it in both
// formats; any other number is left to strconv.
func TestThousandthsMatchStrconv(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	thousandths := []uint64{0, 1, 9, 10, 99, 100, 999, 1000, 1001, 1010, 1100, 123456, 999_999_999}
	for range 100_000 {
		thousandths = append(thousandths, rng.Uint64N(1_000_000_000))
	}
	for _, n := range thousandths {
		f := float64(n) / 1000
		got, ok := appendThousandths(nil, f)
		text := strconv.FormatFloat(f, 'g', -1, 64)
		asJSON, _ := appendJSONFloat(nil, f)
		if !ok || string(got) != text || string(got) != string(asJSON) {
			t.Fatalf("%d thousandths written %q (%v), strconv writes %q in text and %q in JSON", n, got, ok, text, asJSON)
		}
	}
	for _, f := range []float64{math.Copysign(0, -1), -0.001, 0.0001, 0.0015, 1.0 / 3, 1e6, 1e6 + 0.001, math.NaN(), math.Inf(1)} {
		if got, ok := appendThousandths(nil, f); ok {
			t.Errorf("%v written %q, not left to strconv", f, got)
		}
	}
}

// TestDirectLineLeavesOtherLinesToSlog: a line the direct format does not
// write as slog does goes to slog's handler.
func TestDirectLineLeavesOtherLinesToSlog(t *testing.T) {
	at := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	cases := []struct {
		name   string
		asJSON bool
		attr   slog.Attr
	}{
		{"a group", false, slog.Group("g", slog.String("a", "b"))},
		{"an error", false, slog.Any("err", context.Canceled)},
		{"a list", false, slog.Any("ids", []string{"a", "b"})},
		{"a time value", false, slog.Time("at", at)},
		{"an empty key", false, slog.String("", "v")},
		{"NaN in JSON", true, slog.Float64("x", math.NaN())},
		{"an infinity in JSON", true, slog.Float64("x", math.Inf(1))},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := slog.NewRecord(at, slog.LevelInfo, "m", 0)
			r.AddAttrs(c.attr)
			if _, ok := directLine(r, c.asJSON); ok {
				t.Error("the direct format took the line")
			}
		})
	}
	far := slog.NewRecord(time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC), slog.LevelInfo, "m", 0)
	if _, ok := directLine(far, true); ok {
		t.Error("the direct format took a year slog's JSON handler refuses")
	}
}

// TestLoggerWritesFlatLinesAsSlog: through the logger, a flat line comes
// out as slog writes it, and one holding a key still comes out redacted.
func TestLoggerWritesFlatLinesAsSlog(t *testing.T) {
	const accessKey = "sk-log-test-0123456789"
	for _, format := range []string{"text", "json"} {
		t.Run(format, func(t *testing.T) {
			cfg := loadLogConfig(t, accessKey, format)
			var buf bytes.Buffer
			h := newLogger(&buf, cfg).Handler().(*redactingHandler)
			viaSlog := &countingHandler{Handler: h.next}
			h.next = viaSlog
			r := slog.NewRecord(time.Now(), slog.LevelInfo, "request", 0)
			r.AddAttrs(slog.String("path", `/v1/models/"x" y`), slog.Int("status", 404))
			if err := h.Handle(context.Background(), r); err != nil {
				t.Fatal(err)
			}
			if viaSlog.lines != 0 {
				t.Error("the flat line went to slog's handler, not to the direct format")
			}
			if want := slogLine(t, r, format == "json"); buf.String() != want {
				t.Errorf("the logger wrote\n%q\nslog writes\n%q", buf.String(), want)
			}
			buf.Reset()
			secret := slog.NewRecord(time.Now(), slog.LevelInfo, "request", 0)
			secret.AddAttrs(slog.String("path", "/v1/models/"+accessKey), slog.Int("status", 404))
			_ = h.Handle(context.Background(), secret)
			if strings.Contains(buf.String(), accessKey) || !strings.Contains(buf.String(), "/v1/models/[redacted]") {
				t.Errorf("a line with a key was not redacted:\n%s", buf.String())
			}
			if viaSlog.lines != 1 {
				t.Errorf("the line with a key went %d times to slog's handler, want once", viaSlog.lines)
			}
		})
	}
}

// TestLongLineBufferIsNotPooled: the buffer of a line longer than
// maxPooledLine is not kept for the next lines.
func TestLongLineBufferIsNotPooled(t *testing.T) {
	f := &lineFormat{w: io.Discard}
	r := slog.NewRecord(time.Now(), slog.LevelInfo, "request", 0)
	r.AddAttrs(slog.String("path", strings.Repeat("x", 4*maxPooledLine)))
	for range 10 {
		if ok, err := f.write(r, unchanged); !ok || err != nil {
			t.Fatalf("the direct format refused a long flat line (%v)", err)
		}
		bp := lineBuffers.Get().(*[]byte)
		if cap(*bp) > maxPooledLine {
			t.Fatalf("the pool holds a buffer of %d bytes", cap(*bp))
		}
		lineBuffers.Put(bp)
	}
}

// countingHandler counts the lines handed to it.
type countingHandler struct {
	slog.Handler
	lines int
}

func (c *countingHandler) Handle(ctx context.Context, r slog.Record) error {
	c.lines++
	return c.Handler.Handle(ctx, r)
}

// FuzzDirectLineMatchesSlog compares the direct format with slog's
// handlers on random paths, user agents, keys and numbers.
func FuzzDirectLineMatchesSlog(f *testing.F) {
	f.Add("/v1/models", "curl/8.5.0", "status", int64(200), 0.25, int64(1796153095_123456789), true, "request")
	f.Add(`/a "b"=c`, "Mozilla/5.0 (X11; Linux x86_64) ☕", "k y", int64(-1), 1e-9, int64(0), false, "")
	f.Add("\x00\xff\u2028", "\t\n\r\\", "=", int64(math.MaxInt64), 1e300, int64(math.MinInt64), true, "é ")
	f.Fuzz(func(t *testing.T, path, agent, key string, n int64, x float64, nanos int64, flag bool, msg string) {
		at := time.Unix(0, nanos).In(time.FixedZone("", int(n%50400)))
		r := slog.NewRecord(at, slog.Level(n%13), msg, 0)
		r.AddAttrs(slog.String("path", path), slog.String("user_agent", agent), slog.Int64("n", n),
			slog.Float64("x", x), slog.Bool("flag", flag), slog.Duration("d", time.Duration(n)), slog.Uint64("u", uint64(n)))
		if key != "" {
			r.AddAttrs(slog.String(key, path))
		}
		for _, asJSON := range []bool{false, true} {
			got, ok := directLine(r, asJSON)
			if !ok {
				if !asJSON {
					t.Fatalf("the text format refused a flat line")
				}
				continue // NaN, infinities: slog's JSON handler writes an error for them
			}
			if want := slogLine(t, r, asJSON); got != want {
				t.Fatalf("json=%v: the direct format wrote\n%q\nslog writes\n%q", asJSON, got, want)
			}
		}
		// Access lines, and times later in the same location, which
		// the stamp of the first time may hold.
		l := server.AccessLine{Time: at, Level: slog.Level(n % 13), RequestID: agent, Method: msg, Path: path,
			Status: int(n), Elapsed: time.Duration(n), Model: key}
		if flag {
			l.FalRequestIDs = []string{path, agent}[:1+n&1]
		}
		for _, asJSON := range []bool{false, true} {
			f := &lineFormat{json: asJSON}
			for _, step := range []time.Duration{0, time.Duration(uint64(nanos) % uint64(2*time.Minute)), time.Duration(x)} {
				l.Time = at.Add(step)
				assertSameAccessLine(t, f, l)
			}
		}
	})
}

// assertSameAccessLine fails unless f writes l as slog writes l.Record(),
// or, for a year slog's JSON handler refuses, leaves it to slog.
func assertSameAccessLine(t *testing.T, f *lineFormat, l server.AccessLine) {
	t.Helper()
	var buf bytes.Buffer
	f.w = &buf
	done, err := f.writeAccess(l, unchanged)
	if err != nil {
		t.Fatal(err)
	}
	if !done {
		// slog writes a list of fal ids, and the JSON handler refuses
		// a year outside 0–9999.
		if y := l.Time.Year(); len(l.FalRequestIDs) < 2 && (!f.json || y >= 0 && y < 10000) {
			t.Fatalf("json=%v: the direct format refused the access line %+v", f.json, l)
		}
		return
	}
	if want := slogLine(t, l.Record(), f.json); buf.String() != want {
		t.Fatalf("json=%v: the direct format wrote the access line\n%q\nslog writes\n%q", f.json, buf.String(), want)
	}
}

// loadLogConfig is a configuration with accessKey and the log format.
func loadLogConfig(t testing.TB, accessKey, format string) *config.Config {
	t.Helper()
	cfg, err := config.Load(func(name string) string {
		return map[string]string{"CUSTOM_ACCESS_KEY": accessKey, "AI_KEYS": "keyid:secret-0123456789", "LOG_FORMAT": format}[name]
	})
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// TestServedAccessLinesMatchSlog runs falproxy, asks it for paths and with
// request ids that need quoting and escaping, and checks each access log
// line against the line slog's handler writes for the same request (its
// time and duration read back from the line); a path holding the access
// key comes out redacted.
func TestServedAccessLinesMatchSlog(t *testing.T) {
	for _, format := range []string{"text", "json"} {
		t.Run(format, func(t *testing.T) {
			env := testEnv(t, map[string]string{"LOG_FORMAT": format})
			accessKey, _, _ := strings.Cut(env["CUSTOM_ACCESS_KEY"], ",")
			r := startRun(t, []string{"serve"}, env)
			requests := []struct{ id, path, wantPath string }{
				{"req-plain", "/v1/models", "/v1/models"},
				{`q"uote=d\back`, "/v1/models/caf%C3%A9%20%22x%22=y%E2%80%A8z", "/v1/models/café \"x\"=y\u2028z"},
				{"req-key", "/v1/models/" + accessKey, "/v1/models/[redacted]"},
			}
			statuses := make([]int, len(requests))
			for i, q := range requests {
				req, _ := http.NewRequest(http.MethodGet, r.base+q.path, nil)
				req.Header.Set("Authorization", "Bearer "+accessKey)
				req.Header.Set("X-Request-Id", q.id)
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				statuses[i] = resp.StatusCode
				if got := resp.Header.Get("X-Request-Id"); got != q.id {
					t.Errorf("request id %q echoed as %q", q.id, got)
				}
			}
			if err := r.shutdown(t); err != nil {
				t.Fatal(err)
			}
			out := r.stderr.String()
			if strings.Contains(out, accessKey) {
				t.Errorf("the access key reached the log:\n%s", out)
			}
			for i, q := range requests {
				line := accessLine(t, out, q.id, format == "json")
				at, ms := lineTimeAndDuration(t, line, format == "json")
				rec := slog.NewRecord(at, slog.LevelInfo, "request", 0)
				rec.AddAttrs(slog.String("request_id", q.id), slog.String("method", "GET"), slog.String("path", q.wantPath),
					slog.Int("status", statuses[i]), slog.Float64("duration_ms", ms))
				if want := slogLine(t, rec, format == "json"); line != want {
					t.Errorf("access line\n%q\nslog writes\n%q", line, want)
				}
				if _, ok := directLine(rec, format == "json"); !ok {
					t.Errorf("the direct format refuses the access line of %s: slog's handler wrote it", q.path)
				}
			}
		})
	}
}

// accessLine is the access log line in out of the request with id, with
// its newline.
func accessLine(t *testing.T, out, id string, asJSON bool) string {
	t.Helper()
	quoted := string((&lineFormat{json: asJSON}).appendString(nil, id))
	for line := range strings.Lines(out) {
		if strings.Contains(line, "request_id") && strings.Contains(line, quoted) {
			return line
		}
	}
	t.Fatalf("no access line for request %q in\n%s", id, out)
	return ""
}

// lineTimeAndDuration reads the time and duration_ms of an access line.
func lineTimeAndDuration(t *testing.T, line string, asJSON bool) (time.Time, float64) {
	t.Helper()
	if asJSON {
		var fields struct {
			Time       time.Time `json:"time"`
			DurationMS float64   `json:"duration_ms"`
		}
		if err := json.Unmarshal([]byte(line), &fields); err != nil {
			t.Fatalf("access line %q: %v", line, err)
		}
		return fields.Time, fields.DurationMS
	}
	at, errTime := time.Parse(time.RFC3339Nano, textField(line, "time"))
	ms, errMS := strconv.ParseFloat(textField(line, "duration_ms"), 64)
	if errTime != nil || errMS != nil {
		t.Fatalf("access line %q: %v", line, cmp.Or(errTime, errMS))
	}
	return at, ms
}

// textField is the bare value of key in a text line.
func textField(line, key string) string {
	for f := range strings.FieldsSeq(line) {
		if v, ok := strings.CutPrefix(f, key+"="); ok {
			return v
		}
	}
	return ""
}
