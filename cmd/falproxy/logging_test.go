package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/falproxy/falproxy/internal/config"
)

// TestLogKeepsMessagesAndHidesKeys: a secret that is also a word (here the
// secret half of a fal key is "listening") leaves the program's messages
// alone, while a key inside an error text is still hidden.
func TestLogKeepsMessagesAndHidesKeys(t *testing.T) {
	const accessKey = "sk-log-test-0123456789"
	cfg, err := config.Load(func(name string) string {
		return map[string]string{"CUSTOM_ACCESS_KEY": accessKey, "AI_KEYS": "keyid:listening"}[name]
	})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	log := newLogger(&buf, cfg)
	log.Info("falproxy listening", "addr", "127.0.0.1:8000")
	log.Warn("upstream failed", "error", errors.New("401 for Authorization: Bearer "+accessKey), "header", "Key keyid:listening")
	out := buf.String()
	if !strings.Contains(out, `msg="falproxy listening"`) {
		t.Errorf("the start-up message was changed:\n%s", out)
	}
	if strings.Contains(out, accessKey) || strings.Contains(out, "keyid:listening") {
		t.Errorf("a key reached the log:\n%s", out)
	}
	if !strings.Contains(out, `error="401 for Authorization: Bearer [redacted]"`) || !strings.Contains(out, `header="Key [redacted]"`) {
		t.Errorf("the error and header are not redacted where the keys were:\n%s", out)
	}
}

// TestServeLogsListening runs falproxy with a fal key whose secret half is
// a word of its start-up line: the line must come out whole.
func TestServeLogsListening(t *testing.T) {
	env := testEnv(t, map[string]string{"AI_KEYS": "keyid:listening,falkeyid2:falsecretvalue2"})
	r := startRun(t, []string{"serve"}, env)
	if err := r.shutdown(t); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(r.stderr.String(), `msg="falproxy listening"`) {
		t.Fatalf("no intact start-up line:\n%s", r.stderr)
	}
}

// TestShortAccessKeyExitsWithStatus2: a key under 16 characters is a
// configuration problem, reported without the key.
func TestShortAccessKeyExitsWithStatus2(t *testing.T) {
	env := testEnv(t, map[string]string{"CUSTOM_ACCESS_KEY": "sk-long-enough-0123456789,sk-short-key"})
	_, stderr, err := runCmd(t, env, "serve")
	if exitStatus(err) != 2 {
		t.Fatalf("exit status %d (%v), want 2", exitStatus(err), err)
	}
	want := "config: CUSTOM_ACCESS_KEY entry 2 is shorter than 16 characters"
	if !strings.HasPrefix(err.Error(), want) {
		t.Errorf("error %q, want it to start with %q", err, want)
	}
	assertNoSecrets(t, env, err.Error()+stderr)
}

// TestLogLineWithoutSecretsIsNotCopied: an access log line holding no key
// (the line of every request) takes the direct format and allocates
// nothing; a line the direct format leaves to slog (here one with a time
// value) and that holds no key either is handed on as it was logged, not
// copied attribute by attribute into a record of its own, which allocates
// once a line has more attributes than a record holds inline.
func TestLogLineWithoutSecretsIsNotCopied(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates where a production build does not; the test script runs this test without -race")
	}
	cfg, err := config.Load(func(name string) string {
		return map[string]string{"CUSTOM_ACCESS_KEY": "sk-log-test-0123456789", "AI_KEYS": "keyid:secret-0123456789"}[name]
	})
	if err != nil {
		t.Fatal(err)
	}
	h := newLogger(io.Discard, cfg).Handler()
	attrs := []slog.Attr{slog.String("request_id", "req_0123456789abcdef01234567"), slog.String("method", "POST"),
		slog.String("path", "/v1/images/generations"), slog.Int("status", 200), slog.Float64("duration_ms", 12.5),
		slog.String("model", "flux"), slog.String("fal_request_id", "0123-4567")}
	t.Run("direct format", func(t *testing.T) {
		line := slog.NewRecord(time.Now(), slog.LevelInfo, "request", 0)
		line.AddAttrs(attrs...)
		if _, ok := directLine(line, false); !ok {
			t.Fatal("the direct format refused the access line")
		}
		if allocs := testing.AllocsPerRun(100, func() { _ = h.Handle(context.Background(), line) }); allocs > 0 {
			t.Errorf("logging an access line allocates %.1f times", allocs)
		}
	})
	t.Run("slog's handler", func(t *testing.T) {
		line := slog.NewRecord(time.Now(), slog.LevelInfo, "request", 0)
		line.AddAttrs(attrs...)
		line.AddAttrs(slog.Time("queued_at", time.Now()))
		if _, ok := directLine(line, false); ok {
			t.Fatal("the direct format took a line with a time value")
		}
		plain := slog.NewTextHandler(io.Discard, nil)
		own := testing.AllocsPerRun(100, func() { _ = plain.Handle(context.Background(), line) })
		if allocs := testing.AllocsPerRun(100, func() { _ = h.Handle(context.Background(), line) }); allocs > own {
			t.Errorf("logging a line without a secret allocates %.1f times, slog's handler alone %.1f", allocs, own)
		}
	})
}

// TestLogListsStayLists: a list of strings (fal_request_ids) is an array
// in JSON and slog's [a b] in text, redacted element by element.
func TestLogListsStayLists(t *testing.T) {
	const accessKey = "sk-log-test-0123456789"
	for _, format := range []string{"text", "json"} {
		t.Run(format, func(t *testing.T) {
			var buf bytes.Buffer
			log := newLogger(&buf, loadLogConfig(t, accessKey, format))
			log.Info("request", "fal_request_ids", []string{"id-1", "id-2"})
			log.Info("request", "fal_request_ids", []string{"id-3", accessKey})
			lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
			if len(lines) != 2 {
				t.Fatalf("want 2 lines, got\n%s", buf.String())
			}
			want := [][]string{{"id-1", "id-2"}, {"id-3", "[redacted]"}}
			for i, line := range lines {
				if format == "text" {
					if w := `fal_request_ids="[` + strings.Join(want[i], " ") + `]"`; !strings.Contains(line, w) {
						t.Errorf("line %q, want it to hold %s", line, w)
					}
					continue
				}
				var got struct {
					IDs []string `json:"fal_request_ids"`
				}
				if err := json.Unmarshal([]byte(line), &got); err != nil || !slices.Equal(got.IDs, want[i]) {
					t.Errorf("line %s: fal_request_ids %q (%v), want the array %q", line, got.IDs, err, want[i])
				}
			}
		})
	}
}
