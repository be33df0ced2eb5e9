package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	oai "github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"go.uber.org/goleak"

	"github.com/falproxy/falproxy/internal/chat"
	"github.com/falproxy/falproxy/internal/fal"
	"github.com/falproxy/falproxy/internal/falfake"
	"github.com/falproxy/falproxy/internal/falschema"
	"github.com/falproxy/falproxy/internal/metrics"
	"github.com/falproxy/falproxy/internal/registry"
	"github.com/falproxy/falproxy/internal/server"
	"github.com/falproxy/falproxy/internal/store/pgtest"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.Cleanup(func(code int) {
		pgtest.Stop()
		os.Exit(code)
	}))
}

const accessKey = "sk-test-access"

// setup is what a test may change before the harness starts.
type setup struct {
	fake    falfake.Options
	server  server.Options
	falKeys []string
	pool    fal.PoolOptions
	metrics bool
	// base, when set, is the context requests derive from, as serve
	// sets it, so that a test can cancel it as a shutdown does.
	base context.Context
	// schemaLookups is the schema store's LookupsPerMinute (0: default).
	schemaLookups int
	// teams, when set, gives falproxy a store: virtual keys, the admin
	// API and the usage ledger.
	teams *teamsSetup
	// http1 puts falproxy in front of an emulator that speaks HTTP/1.1
	// only, with falproxy's default client; otherwise both speak h2c, as
	// falproxy and fal speak HTTP/2.
	http1 bool
	// noStorage leaves falproxy without fal storage (no FAL_STORAGE_URL
	// to upload large input files to).
	noStorage bool
}

// harness is falproxy wired to the fal emulator over real loopback HTTP,
// with the official OpenAI Go SDK as its client.
type harness struct {
	t       *testing.T
	fake    *falfake.Fake
	url     string // proxy base, no /v1
	sdk     oai.Client
	client  *http.Client
	falHTTP *http.Client
	logs    *bytes.Buffer
	logw    *lockedWriter // writes logs; logText reads under its lock
	falc    *fal.Client
}

func newHarness(t *testing.T, mods ...func(*setup)) *harness {
	t.Helper()
	s := &setup{
		falKeys: []string{"fal-key-1:secret1", "fal-key-2:secret2"},
		server: server.Options{
			AccessKeys: []string{accessKey},
			ImageModels: []registry.ImageModel{
				{Alias: "flux-dev", Endpoint: "fal-ai/flux/dev"},
				{Alias: "dall-e-3", Endpoint: "fal-ai/flux/dev"},
				{Alias: "fal-ai/flux/schnell", Endpoint: "fal-ai/flux/schnell"},
				{Alias: "sdxl", Endpoint: "fal-ai/fast-sdxl"},
				{Alias: "ultra", Endpoint: "fal-ai/flux-pro/v1.1-ultra"},
				{Alias: "ideogram", Endpoint: "fal-ai/ideogram/v2"},
				{Alias: "imagen4", Endpoint: "fal-ai/imagen4/preview"},
				{Alias: "gpt-image-1", Endpoint: "fal-ai/gpt-image-1/text-to-image"},
				{Alias: "recraft", Endpoint: "fal-ai/recraft/v3/text-to-image"},
				{Alias: "seedream", Endpoint: "fal-ai/bytedance/seedream/v4/text-to-image"},
				{Alias: "kontext", Endpoint: "fal-ai/flux-pro/kontext"},
			},
			ChatModels: []registry.ChatModel{
				{Alias: "gpt-4o", Model: "openai/gpt-4o"},
				{Alias: "google/gemini-2.5-flash", Model: "google/gemini-2.5-flash"},
			},
			RequestTimeout: 20 * time.Second,
		},
	}
	for _, m := range mods {
		m(s)
	}
	s.fake.HTTP1Only = s.http1
	fake, err := falfake.New(s.fake)
	if err != nil {
		t.Fatal(err)
	}
	logs := &bytes.Buffer{}
	logw := &lockedWriter{w: logs}
	log := slog.New(slog.NewTextHandler(logw, &slog.HandlerOptions{Level: slog.LevelDebug}))
	hc := fal.NewH2CHTTPClient()
	if s.http1 {
		hc = fal.NewHTTPClient()
	}
	opt := s.server
	if s.teams != nil {
		s.teams.wire(t, fake, hc, &opt)
	}
	pool := fal.NewPool(s.falKeys, s.pool)
	opt.Schemas = falschema.NewStore(falschema.StoreOptions{URL: fake.OpenAPIURL(), HTTP: hc, TTL: time.Hour, Logger: log,
		LookupsPerMinute: s.schemaLookups})
	if s.metrics {
		opt.Metrics = metrics.New(pool, opt.Schemas)
	}
	storage := fake.StorageURL()
	if s.noStorage {
		storage = ""
	}
	opt.Fal = fal.New(fal.Options{QueueURL: fake.QueueURL(), RunURL: fake.RunURL(), StorageURL: storage, Pool: pool, HTTP: hc, Logger: log, Observer: opt.Metrics})
	if opt.Downloader == nil {
		opt.Downloader = fal.NewDownloader(fal.DownloaderOptions{AllowPrivate: true})
	}
	opt.Logger = log
	if opt.ChatLimits == (chat.Limits{}) {
		opt.ChatLimits = chat.DefaultLimits()
	}
	proxy := httptest.NewUnstartedServer(server.New(opt))
	if s.base != nil {
		proxy.Config.BaseContext = func(net.Listener) context.Context { return s.base }
	}
	proxy.Start()
	client := &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}
	h := &harness{
		t:       t,
		fake:    fake,
		url:     proxy.URL,
		client:  client,
		falHTTP: hc,
		logs:    logs,
		logw:    logw,
		falc:    opt.Fal,
		sdk: oai.NewClient(
			option.WithBaseURL(proxy.URL+"/v1"),
			option.WithAPIKey(accessKey),
			option.WithMaxRetries(0),
			option.WithHTTPClient(client),
		),
	}
	t.Cleanup(func() {
		proxy.CloseClientConnections()
		proxy.Close()
		client.CloseIdleConnections()
		// Cancels of abandoned jobs run in the background until fal
		// confirms them; let them finish while fal is still there.
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := opt.Fal.Close(ctx); err != nil {
			t.Errorf("fal client: %v", err)
		}
		hc.CloseIdleConnections()
		fake.Close()
		if t.Failed() && os.Getenv("FALPROXY_TEST_LOGS") != "" {
			t.Log(logs.String())
		}
	})
	return h
}

// settleCancels waits until the cancels of the jobs falproxy abandoned
// have settled, and what they found has been charged; abandons after it
// cancel before the request ends.
func (h *harness) settleCancels() {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := h.falc.Close(ctx); err != nil {
		h.t.Fatalf("fal client: %v", err)
	}
}

// closeIdle drops idle keep-alive connections on both hops, so that the
// goroutines serving them end.
func (h *harness) closeIdle() {
	h.client.CloseIdleConnections()
	h.falHTTP.CloseIdleConnections()
}

// post sends a raw JSON request with the access key and returns the status,
// headers and body.
func (h *harness) post(ctx context.Context, path, body string) (int, http.Header, []byte) {
	h.t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.url+path, strings.NewReader(body))
	if err != nil {
		h.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+accessKey)
	req.Header.Set("Content-Type", "application/json")
	return h.do(req)
}

func (h *harness) do(req *http.Request) (int, http.Header, []byte) {
	h.t.Helper()
	resp, err := h.client.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		h.t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, b
}

// apiError decodes an OpenAI error body, failing the test if the body is
// not exactly that shape.
type apiError struct {
	Message string  `json:"message"`
	Type    string  `json:"type"`
	Param   *string `json:"param"`
	Code    *string `json:"code"`
}

func decodeError(t *testing.T, body []byte) apiError {
	t.Helper()
	var env struct {
		Error *apiError `json:"error"`
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&env); err != nil || env.Error == nil {
		t.Fatalf("not an OpenAI error body (%v): %s", err, body)
	}
	if env.Error.Message == "" || env.Error.Type == "" {
		t.Fatalf("error body lacks message or type: %s", body)
	}
	return *env.Error
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// falInputs returns the inputs of every job fal received, decoded.
func (h *harness) falInputs() []map[string]any {
	h.t.Helper()
	var out []map[string]any
	for _, j := range h.fake.Jobs() {
		var m map[string]any
		if err := json.Unmarshal(j.Input, &m); err != nil {
			h.t.Fatalf("job input is not JSON: %s", j.Input)
		}
		out = append(out, m)
	}
	return out
}

// eventually polls cond until it holds or a generous bound passes. It waits
// for something that must happen, it does not measure how fast.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for range 500 {
		if cond() {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("timed out waiting until %s", what)
}

// logText is the log so far, read under the lock of its writer, for a
// test that reads it while requests may still be logging.
func (h *harness) logText() string {
	h.logw.mu.Lock()
	defer h.logw.mu.Unlock()
	return h.logs.String()
}

// lockedWriter makes a buffer safe for the concurrent writes of a logger.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// postInBackground sends a request that the test abandons later: cancel
// drops the client's connection, done closes once the request has ended.
func (h *harness) postInBackground(path, body string) (cancel context.CancelFunc, done <-chan struct{}) {
	return h.postInBackgroundAs(accessKey, path, body)
}

// postInBackgroundAs is postInBackground with another key.
func (h *harness) postInBackgroundAs(key, path, body string) (cancel context.CancelFunc, done <-chan struct{}) {
	ctx, cancel := context.WithCancel(context.Background())
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, h.url+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+key)
		if resp, err := h.client.Do(req); err == nil {
			_, _ = io.Copy(io.Discard, resp.Body) // a stream is read until the test leaves it
			resp.Body.Close()
		}
	}()
	return cancel, finished
}
