package main

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/falproxy/falproxy/internal/falfake"
)

// chat sends a one-message chat completion.
func (r *running) chat(ctx context.Context, key string) (int, string, error) {
	return r.post(ctx, "/v1/chat/completions", key, `{"model":"openai/gpt-4o","messages":[{"role":"user","content":"hi"}]}`)
}

// TestServeUpstreamProtocol checks that the protocol falproxy speaks to a
// plain http:// upstream is what FAL_H2C says, whatever the address: by
// default HTTP/1.1, which an upstream that speaks nothing else (a local
// egress proxy in front of fal) serves; h2c only when asked for.
func TestServeUpstreamProtocol(t *testing.T) {
	for _, tc := range []struct {
		name      string
		h2c       string
		http1Only bool
		want      string
	}{
		{"default to an HTTP/1.1-only upstream", "", true, "HTTP/1.1"},
		{"h2c off to an upstream offering h2c", "false", false, "HTTP/1.1"},
		{"h2c on", "true", false, "HTTP/2.0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fake, err := falfake.New(falfake.Options{HTTP1Only: tc.http1Only})
			if err != nil {
				t.Fatal(err)
			}
			defer fake.Close()
			env := fakeEnv(fake, map[string]string{"FAL_H2C": tc.h2c})
			r := startRun(t, []string{"serve"}, env)
			ctx := context.Background()
			if code, body, err := r.generate(ctx, "sk-access-key-one", `{"prompt":"a cat"}`); err != nil || code != http.StatusOK {
				t.Fatalf("image generation: %d %s %v", code, body, err)
			}
			if code, body, err := r.chat(ctx, "sk-access-key-one"); err != nil || code != http.StatusOK || !strings.Contains(body, "Hello from openai/gpt-4o") {
				t.Fatalf("chat: %d %s %v", code, body, err)
			}
			if c := fake.Counts(); c.Submits != 2 || c.Results != 2 {
				t.Fatalf("fal saw %+v", c)
			}
			for _, c := range fake.Received() {
				if c.Proto != tc.want {
					t.Fatalf("fal received %s %s over %s, want %s", c.Method, c.Path, c.Proto, tc.want)
				}
			}
		})
	}
}

// TestServePrivateMedia checks ALLOW_PRIVATE_MEDIA: by default a result
// image on a loopback address (the emulator's CDN) is never fetched; with
// it on, it is fetched and returned.
func TestServePrivateMedia(t *testing.T) {
	const b64Request = `{"model":"recraft","prompt":"a fox","size":"512x512","response_format":"b64_json"}`
	for _, tc := range []struct {
		allow string
		ok    bool
	}{{"", false}, {"false", false}, {"true", true}} {
		t.Run("ALLOW_PRIVATE_MEDIA="+tc.allow, func(t *testing.T) {
			fake, err := falfake.New(falfake.Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer fake.Close()
			r := startRun(t, []string{"serve"}, fakeEnv(fake, map[string]string{
				"ALLOW_PRIVATE_MEDIA": tc.allow, "SUPPORTED_MODELS": "recraft:fal-ai/recraft/v3/text-to-image",
			}))
			code, body, err := r.generate(context.Background(), "sk-access-key-one", b64Request)
			if err != nil {
				t.Fatal(err)
			}
			var out struct {
				Data []struct {
					B64 string `json:"b64_json"`
				} `json:"data"`
			}
			got := code == http.StatusOK && json.Unmarshal([]byte(body), &out) == nil && len(out.Data) == 1 && out.Data[0].B64 != ""
			if got != tc.ok {
				t.Fatalf("status %d: %s", code, body)
			}
			if !tc.ok && code < 500 {
				t.Fatalf("a refused download answered %d: %s", code, body)
			}
			wantCDN := 0
			if tc.ok {
				wantCDN = 1
			}
			if c := fake.Counts(); c.Submits != 1 || c.CDN != wantCDN {
				t.Fatalf("fal saw %+v, want one submit and %d downloads", c, wantCDN)
			}
		})
	}
}

// TestServeSendsFalHeaders checks the wiring of MEDIA_TTL, QUEUE_PRIORITY
// and REQUEST_TIMEOUT to the headers fal receives: the priority only on
// the listed alias's jobs.
func TestServeSendsFalHeaders(t *testing.T) {
	fake, err := falfake.New(falfake.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer fake.Close()
	r := startRun(t, []string{"serve"}, fakeEnv(fake, map[string]string{
		"MEDIA_TTL": "1h", "QUEUE_PRIORITY": "flux-dev:low", "REQUEST_TIMEOUT": "120s", "CHAT_ENDPOINT": "fal-ai/any-llm",
	}))
	ctx := context.Background()
	if code, body, err := r.generate(ctx, "sk-access-key-one", `{"model":"flux-dev","prompt":"a cat"}`); err != nil || code != http.StatusOK {
		t.Fatalf("image generation: %d %s %v", code, body, err)
	}
	if code, body, err := r.chat(ctx, "sk-access-key-one"); err != nil || code != http.StatusOK {
		t.Fatalf("chat: %d %s %v", code, body, err)
	}
	var submits []falfake.Call
	for _, c := range fake.Received() {
		if c.Op == falfake.OpSubmit {
			submits = append(submits, c)
		}
	}
	if len(submits) != 2 {
		t.Fatalf("fal received %d submits", len(submits))
	}
	for i, c := range submits {
		wantPriority := map[string]string{"fal-ai/flux/dev": "low", "fal-ai/any-llm": ""}[c.Endpoint]
		if got := c.Header.Get("X-Fal-Queue-Priority"); got != wantPriority {
			t.Errorf("submit %d (%s): priority %q, want %q", i, c.Endpoint, got, wantPriority)
		}
		if got := c.Header.Get("X-Fal-Object-Lifecycle-Preference"); got != `{"expiration_duration_seconds": 3600}` {
			t.Errorf("submit %d: lifecycle %q", i, got)
		}
		if secs, err := strconv.Atoi(c.Header.Get("X-Fal-Request-Timeout")); err != nil || secs < 1 || secs > 120 {
			t.Errorf("submit %d: request timeout %q", i, c.Header.Get("X-Fal-Request-Timeout"))
		}
	}
}
