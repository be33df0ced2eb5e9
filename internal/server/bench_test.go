package server_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/falproxy/falproxy/internal/chat"
	"github.com/falproxy/falproxy/internal/fal"
	"github.com/falproxy/falproxy/internal/falfake"
	"github.com/falproxy/falproxy/internal/falschema"
	"github.com/falproxy/falproxy/internal/registry"
	"github.com/falproxy/falproxy/internal/server"
)

// The benchmarks call the handler in-process with a writer that discards
// the answer, so that -benchmem counts what the proxy allocates per
// request (plus the emulator's share, which is small unless noted), and
// -cpuprofile shows the proxy's own work. fal is the emulator over
// loopback, answering at once.

// benchServer is falproxy's handler on a fresh emulator.
func benchServer(b testing.TB, fo falfake.Options, mod func(*server.Options)) (http.Handler, *falfake.Fake) {
	b.Helper()
	fo.Logger = slog.New(slog.DiscardHandler)
	fake, err := falfake.New(fo)
	if err != nil {
		b.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler)
	hc := fal.NewHTTPClient()
	opt := server.Options{
		AccessKeys:  []string{accessKey},
		ImageModels: []registry.ImageModel{{Alias: "flux-dev", Endpoint: "fal-ai/flux/dev"}},
		ChatModels:  []registry.ChatModel{{Alias: "gpt-4o", Model: "openai/gpt-4o"}},
		ChatLimits:  chat.DefaultLimits(),
		Fal:         fal.New(fal.Options{QueueURL: fake.QueueURL(), RunURL: fake.RunURL(), Pool: fal.NewPool([]string{"fal-key:secret"}, fal.PoolOptions{}), HTTP: hc, Logger: log}),
		Schemas:     falschema.NewStore(falschema.StoreOptions{URL: fake.OpenAPIURL(), HTTP: hc, TTL: time.Hour, Logger: log}),
		Downloader:  fal.NewDownloader(fal.DownloaderOptions{AllowPrivate: true}),
		Logger:      log,
	}
	if mod != nil {
		mod(&opt)
	}
	b.Cleanup(func() {
		hc.CloseIdleConnections()
		fake.Close()
	})
	return server.New(opt), fake
}

// discardWriter is a ResponseWriter that keeps only the status and the
// number of bytes written; it can flush, so streams work.
type discardWriter struct {
	header http.Header
	status int
	n      int
	events int // server-sent events and comments, by their blank lines
}

func (d *discardWriter) Header() http.Header {
	if d.header == nil {
		d.header = http.Header{}
	}
	return d.header
}

func (d *discardWriter) WriteHeader(code int) {
	if d.status == 0 {
		d.status = code
	}
}

func (d *discardWriter) Write(p []byte) (int, error) {
	d.WriteHeader(http.StatusOK)
	d.n += len(p)
	d.events += bytes.Count(p, []byte("\n\n"))
	return len(p), nil
}

func (d *discardWriter) Flush() {}

// serve runs one request through h and fails unless it answers 200.
func serve(b *testing.B, h http.Handler, method, path, body string) *discardWriter {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	r := httptest.NewRequest(method, path, rd)
	r.Header.Set("Authorization", "Bearer "+accessKey)
	r.Header.Set("Content-Type", "application/json")
	w := &discardWriter{}
	h.ServeHTTP(w, r)
	if w.status != http.StatusOK {
		b.Fatalf("%s %s answered %d", method, path, w.status)
	}
	return w
}

// BenchmarkB64Response measures one b64_json answer of a 4 MiB image (random
// bytes, which do not compress) for both ways the image can arrive: a URL
// that falproxy downloads from the CDN and encodes while writing, and a
// data URI fal returns inline (sync_mode). Run with -benchmem: B/op is
// what one answer allocates; compare it with the image size. In the data
// URI case the emulator's own copy of its 5.6 MB answer is included.
func BenchmarkB64Response(b *testing.B) {
	const size = 4 << 20
	img := make([]byte, size)
	_, _ = rand.NewChaCha8([32]byte{'b', '6', '4'}).Read(img)
	copy(img, "\x89PNG\r\n\x1a\n") // falproxy checks an image by its first bytes
	cdn := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "image/png")
		w.Header().Set("Content-Length", strconv.Itoa(len(img)))
		_, _ = w.Write(img)
	}))
	b.Cleanup(cdn.Close)
	wantLen := len(`{"b64_json":""}`) + base64.StdEncoding.EncodedLen(size)
	cases := []struct {
		name, url string
	}{
		{"download", cdn.URL + "/files/bench/image.png"},
		{"data_uri", "data:image/png;base64," + base64.StdEncoding.EncodeToString(img)},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			h, fake := benchServer(b, falfake.Options{}, nil)
			out, _ := json.Marshal(map[string]any{"images": []map[string]any{{"url": c.url, "width": 1024, "height": 1024, "content_type": "image/png"}}, "seed": 1})
			fake.Inject(falfake.Fault{Op: falfake.OpResult, Status: http.StatusOK, Body: string(out)})
			body := `{"model":"flux-dev","prompt":"a lighthouse","size":"1024x1024","response_format":"b64_json"}`
			serve(b, h, http.MethodPost, "/v1/images/generations", body) // schema and connections
			b.SetBytes(size)
			b.ReportAllocs()
			for b.Loop() {
				if w := serve(b, h, http.MethodPost, "/v1/images/generations", body); w.n < wantLen {
					b.Fatalf("answer of %d bytes, want at least %d", w.n, wantLen)
				}
			}
		})
	}
}

// BenchmarkImageURL measures a whole image request with a url answer:
// decode, plan, submit, status stream, result, encode. The emulator takes
// no generation time, so this is the proxy's (and the emulator's) work.
func BenchmarkImageURL(b *testing.B) {
	h, _ := benchServer(b, falfake.Options{}, nil)
	body := `{"model":"flux-dev","prompt":"a lighthouse on a cliff at dawn","size":"1024x768"}`
	serve(b, h, http.MethodPost, "/v1/images/generations", body)
	b.ReportAllocs()
	for b.Loop() {
		serve(b, h, http.MethodPost, "/v1/images/generations", body)
	}
}

// BenchmarkChatStream measures relaying one streamed chat answer of about
// thirty events from fal's openrouter/router stream, the emulator sending
// them back to back.
func BenchmarkChatStream(b *testing.B) {
	h, _ := benchServer(b, falfake.Options{}, nil)
	body := `{"model":"gpt-4o","stream":true,"messages":[{"role":"user","content":"Tell me about lighthouses on rocky coasts and how their keepers kept the lamps burning through long winter nights"}]}`
	serve(b, h, http.MethodPost, "/v1/chat/completions", body)
	b.ReportAllocs()
	for b.Loop() {
		if w := serve(b, h, http.MethodPost, "/v1/chat/completions", body); w.n == 0 {
			b.Fatal("empty stream")
		}
	}
}

// BenchmarkChatPassthrough measures one non-streaming chat completion on
// the passthrough backend: the request's OpenAI fields forwarded to fal's
// OpenAI-compatible route, and fal's answer rewritten for the client.
func BenchmarkChatPassthrough(b *testing.B) {
	h, _ := benchServer(b, falfake.Options{}, func(o *server.Options) { o.ChatBackend = chat.Passthrough })
	body := `{"model":"gpt-4o","temperature":0.7,"max_tokens":256,"messages":[{"role":"system","content":"You are a helpful assistant."},` +
		`{"role":"user","content":"Tell me about lighthouses on rocky coasts and how their keepers kept the lamps burning through long winter nights"}]}`
	serve(b, h, http.MethodPost, "/v1/chat/completions", body)
	b.ReportAllocs()
	for b.Loop() {
		if w := serve(b, h, http.MethodPost, "/v1/chat/completions", body); w.n == 0 {
			b.Fatal("empty answer")
		}
	}
}

// BenchmarkResponsesStream measures relaying the same streamed answer as
// BenchmarkChatStream through the Responses bridge on the same backend;
// the difference between the two, over the events sent, is what
// translating one chat delta into Responses events costs. It reports the
// events of one answer as events/op.
func BenchmarkResponsesStream(b *testing.B) {
	h, _ := benchServer(b, falfake.Options{}, nil)
	body := `{"model":"gpt-4o","stream":true,"input":"Tell me about lighthouses on rocky coasts and how their keepers kept the lamps burning through long winter nights"}`
	events := serve(b, h, http.MethodPost, "/v1/responses", body).events
	b.ReportAllocs()
	for b.Loop() {
		if w := serve(b, h, http.MethodPost, "/v1/responses", body); w.n == 0 {
			b.Fatal("empty stream")
		}
	}
	b.ReportMetric(float64(events), "events/op")
}

// BenchmarkListModels measures GET /v1/models with the access key, the
// route load balancers and clients call most.
func BenchmarkListModels(b *testing.B) {
	h, _ := benchServer(b, falfake.Options{}, nil)
	b.ReportAllocs()
	for b.Loop() {
		serve(b, h, http.MethodGet, "/v1/models", "")
	}
}
