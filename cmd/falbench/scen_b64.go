package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"slices"
	"time"

	"github.com/falproxy/falproxy/internal/falfake"
)

// b64Body asks for the image inline.
const b64Body = `{"model":"` + imageAlias + `","prompt":"a lighthouse at dawn","size":"1024x1024","response_format":"b64_json"}`

// falOutput is a flux output whose one image is at url.
func falOutput(url string) string {
	b, _ := json.Marshal(map[string]any{
		"images":            []map[string]any{{"url": url, "width": 1024, "height": 1024, "content_type": "image/png"}},
		"seed":              1,
		"has_nsfw_concepts": []bool{false},
		"prompt":            "a lighthouse at dawn",
		"timings":           map[string]float64{"inference": 0.05},
	})
	return string(b)
}

// runB64 measures the extra memory of one b64_json answer of a large image
// in a fresh proxy process, for both ways the image can arrive: as a URL
// the proxy downloads, or inline as a data URI (fal's sync_mode).
func runB64(ctx context.Context, b *bench) ([]section, error) {
	size := b.plan.b64Size
	img := make([]byte, size)
	r := rand.NewChaCha8([32]byte{'f', 'a', 'l'})
	_, _ = r.Read(img) // random bytes do not compress, unlike the emulator's PNGs
	// falproxy checks that an image is one by its first bytes: start with
	// PNG's signature.
	copy(img, "\x89PNG\r\n\x1a\n")
	cdn, err := startBlob(img, "image/png")
	if err != nil {
		return nil, err
	}
	defer cdn.close()
	fake, err := falfake.New(falfake.Options{GenerationTime: 50 * time.Millisecond})
	if err != nil {
		return nil, err
	}
	defer fake.Close()
	paths := []struct{ name, output string }{
		{"image URL, downloaded by the proxy", falOutput(cdn.url + "/files/bench/image.png")},
		{"data URI from fal (sync_mode)", falOutput("data:image/png;base64," + base64.StdEncoding.EncodeToString(img))},
	}
	sec := section{num: 9, title: fmt.Sprintf("b64_json of a %s image", mib(int64(size)))}
	for _, p := range paths {
		var extras []int64
		for i := range b.plan.b64Runs {
			extra, err := b.b64Once(ctx, fake, fmt.Sprintf("b64-%d", i), p.output, img)
			if err != nil {
				return []section{sec}, fmt.Errorf("%s: %w", p.name, err)
			}
			extras = append(extras, extra)
		}
		slices.Sort(extras)
		med := extras[(len(extras)-1)/2]
		sec.rows = append(sec.rows, row{what: "peak extra RSS, " + p.name + " (median of fresh processes)",
			seed: "b64_json not supported", target: fmt.Sprintf("≤ 2× image (%s)", mib(2*int64(size))),
			measured: fmt.Sprintf("%s (runs: %s)", mib(med), mibList(extras)), verdict: check(med <= 2*int64(size))})
	}
	sec.notes = []string{
		fmt.Sprintf("The image is %s of random bytes behind a PNG signature (the emulator's PNGs compress too well to reach that size), served by a small CDN in falbench; the emulator's result for the job is replaced (a fault rule on the result call) by a flux output pointing at it, or carrying it as a data URI. The client reads the whole answer and checks that the decoded image equals the original.", mib(int64(size))),
		"Each run is a fresh falproxy process that has served one url request; extra = VmHWM after the b64_json answer − VmRSS before it. That is an upper bound: VmHWM may include an earlier peak.",
		"`go test -bench B64 -benchmem ./internal/server` measures the same answers in-process as bytes allocated per request.",
	}
	return []section{sec}, nil
}

// b64Once runs one b64_json request against a fresh proxy and returns its
// peak extra memory.
func (b *bench) b64Once(ctx context.Context, fake *falfake.Fake, name, output string, img []byte) (int64, error) {
	fake.ClearFaults()
	st, err := b.startProxyOn(ctx, fake, name, nil, 4)
	if err != nil {
		return 0, err
	}
	defer st.closeProxy()
	if err := st.client.image(ctx, imageBody); err != nil {
		return 0, fmt.Errorf("%w: warm-up: %w", errFunctional, err)
	}
	time.Sleep(500 * time.Millisecond)
	before, err := readMemory(st.proxy.pid())
	if err != nil {
		return 0, err
	}
	fake.Inject(falfake.Fault{Op: falfake.OpResult, Endpoint: imageEndpoint, Status: http.StatusOK, Body: output, Times: 1})
	a, err := st.client.send(ctx, http.MethodPost, "/v1/images/generations", b64Body)
	if err != nil {
		return 0, fmt.Errorf("%w: %w", errFunctional, err)
	}
	after, err := readMemory(st.proxy.pid())
	if err != nil {
		return 0, err
	}
	if err := b64Image(a, img); err != nil {
		return 0, fmt.Errorf("%w: %w", errFunctional, err)
	}
	return after.hwm - before.rss, nil
}

// b64Image checks that an answer carries exactly img as b64_json.
func b64Image(a answer, img []byte) error {
	if a.status != http.StatusOK {
		return fmt.Errorf("falproxy answered %d: %.300s", a.status, a.body)
	}
	var r struct {
		Data []struct {
			B64 string `json:"b64_json"`
		} `json:"data"`
	}
	if err := json.Unmarshal(a.body, &r); err != nil || len(r.Data) != 1 {
		return fmt.Errorf("not one b64_json image (%v): %.300s", err, a.body)
	}
	got, err := base64.StdEncoding.DecodeString(r.Data[0].B64)
	if err != nil {
		return fmt.Errorf("b64_json is not base64: %w", err)
	}
	if string(got) != string(img) {
		return fmt.Errorf("b64_json decodes to %d bytes that differ from the %d-byte image", len(got), len(img))
	}
	return nil
}

// mibList formats byte counts as a list of MiB figures.
func mibList(xs []int64) string {
	s := ""
	for i, x := range xs {
		if i > 0 {
			s += ", "
		}
		s += fmt.Sprintf("%.1f", float64(x)/(1<<20))
	}
	return s + " MiB"
}
