package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strings"
	"time"

	"github.com/falproxy/falproxy/internal/falfake"
)

// The video model of scenario 14 and its fal endpoint.
const (
	videoAlias    = "sora-2"
	videoEndpoint = "fal-ai/sora-2/text-to-video"
)

// pacedRate is the rate of the CDN in scenario 14's paced downloads, in
// bytes per second: a fast CDN across the internet.
const pacedRate = 200 << 20

// runVideoContent measures the rate at which GET /v1/videos/{id}/content
// delivers a large video, as a share of a direct download of the same file
// from the CDN it is on.
func runVideoContent(ctx context.Context, b *bench) ([]section, error) {
	size := b.plan.videoSize
	file := make([]byte, size)
	r := rand.NewChaCha8([32]byte{'m', 'p', '4'})
	_, _ = r.Read(file) // random bytes: nothing on the way can compress them
	copy(file, "\x00\x00\x00\x18ftypmp42")
	cdn, err := startBlob(file, "video/mp4")
	if err != nil {
		return nil, err
	}
	defer cdn.close()
	st, err := b.startStack(ctx, "video", falfake.Options{}, map[string]string{"VIDEO_MODELS": videoAlias + ":" + videoEndpoint}, 8)
	if err != nil {
		return nil, err
	}
	defer st.close()
	url := cdn.url + "/files/bench/video.mp4"
	out, _ := json.Marshal(map[string]any{"video": map[string]any{"url": url, "content_type": "video/mp4", "file_name": "video.mp4", "file_size": size}})
	st.fake.Inject(falfake.Fault{Op: falfake.OpResult, Endpoint: videoEndpoint, Status: http.StatusOK, Body: string(out)})
	id, err := makeVideo(ctx, st.client)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errFunctional, err)
	}
	download := func(hc *http.Client, url string, header http.Header) side {
		return timed(func(ctx context.Context) error {
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
			if err != nil {
				return err
			}
			for k, v := range header {
				req.Header[k] = v
			}
			resp, err := doOK(hc, req)
			if err != nil {
				return err
			}
			defer resp.Body.Close()
			n, err := io.Copy(io.Discard, resp.Body)
			if err == nil && n != int64(size) {
				err = fmt.Errorf("%s delivered %d bytes, want %d", req.URL.Path, n, size)
			}
			return err
		})
	}
	rl, err := startRelay(ctx, strings.TrimPrefix(cdn.url, "http://"))
	if err != nil {
		return nil, err
	}
	defer rl.stop()
	rp, err := startChild(ctx, cdnProxyCommand, cdn.url)
	if err != nil {
		return nil, err
	}
	defer rp.stop()
	sides := []side{ // falproxy first; the others are measured against it
		download(st.client.hc, st.proxy.base+"/v1/videos/"+id+"/content", http.Header{"Authorization": {"Bearer " + accessKey}}),
		download(newHTTPClient(8), url, nil),
		download(newHTTPClient(8), "http://"+rl.addr+"/files/bench/video.mp4", nil),
		download(newHTTPClient(8), "http://"+rp.addr+"/files/bench/video.mp4", nil),
	}
	for _, s := range sides {
		if err := warm(ctx, b.plan.warm, s); err != nil {
			return nil, fmt.Errorf("%w: warm-up: %w", errFunctional, err)
		}
	}
	b.logf("  %d downloads of %s per side", b.plan.videoPairs, mib(int64(size)))
	res, err := interleave(ctx, b.plan.videoPairs, sides...)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errFunctional, err)
	}
	ps, ds, rs, bs := summarize(column(res[0], 0)), summarize(column(res[1], 0)), summarize(column(res[2], 0)), summarize(column(res[3], 0))
	rate := func(d time.Duration) float64 { return float64(size) / (1 << 20) / d.Seconds() }
	share := rate(ps.median) / rate(ds.median)
	// The same two downloads from the CDN writing at an internet CDN's
	// pace: what a client of falproxy meets when the bytes, not the
	// shared cores, set the rate.
	cdn.pace.Store(pacedRate)
	pairs := max(2, b.plan.videoPairs/2)
	b.logf("  %d downloads per side from the CDN paced at %s/s", pairs, mib(pacedRate))
	paced, err := interleave(ctx, pairs, sides[0], sides[1])
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errFunctional, err)
	}
	pps, pds := summarize(column(paced[0], 0)), summarize(column(paced[1], 0))
	return []section{{num: 14, title: "Video content download", rows: []row{
		{what: "GET /v1/videos/{id}/content rate, as a share of a direct download from the CDN (medians)", seed: "no videos in the seed", target: "≥ 0.95×",
			measured: fmt.Sprintf("%.2f× (falproxy %.0f MiB/s, direct %.0f MiB/s; n = %d pairs)", share, rate(ps.median), rate(ds.median), len(res[0])),
			verdict:  check(share >= 0.95)},
		{what: "the same rate, as a share of a bare `httputil.ReverseProxy` in front of the CDN", measured: fmt.Sprintf("%.2f× (bare reverse proxy %.0f MiB/s, %.2f× of the direct download)", rate(ps.median)/rate(bs.median), rate(bs.median), rate(bs.median)/rate(ds.median)), verdict: info},
		{what: "control: a plain TCP relay process, as a share of the direct download", measured: fmt.Sprintf("%.2f× (%.0f MiB/s)", rate(rs.median)/rate(ds.median), rate(rs.median)), verdict: info},
		{what: fmt.Sprintf("the same rate from the CDN writing at %s/s, as a fast CDN across the internet delivers (medians)", mib(pacedRate)),
			measured: fmt.Sprintf("%.2f× (falproxy %.0f MiB/s, direct %.0f MiB/s; n = %d pairs)", rate(pps.median)/rate(pds.median), rate(pps.median), rate(pds.median), len(paced[0])), verdict: info},
		{what: "time per download, median / p99", measured: fmt.Sprintf("proxy %s; direct %s; relay %s; bare reverse proxy %s", medP99(ps), medP99(ds), medP99(rs), medP99(bs)), verdict: info},
	}, notes: []string{
		fmt.Sprintf("The video is %s of random bytes behind an MP4 header on a small CDN in falbench (the emulator's sample video is a few KiB); the emulator's result for the job names it (a fault rule on the result call). falproxy's time includes its look-up of the job's status and result on fal before it opens the file; the others only download it. The four take turns download by download.", mib(int64(size))),
		"The controls are falbench itself in child processes in front of the same CDN: a byte-for-byte TCP relay (Go splices the bytes from socket to socket in the kernel) and a bare `httputil.ReverseProxy` over HTTP/1.1, as falproxy reaches the CDN. They are the floor for any separate process that passes the bytes on, on the cores that the client and the CDN share, where the direct download is the CDN's write and the client's read alone: the relay's splice spares it the copies through user space, but the kernel still moves every byte through a second TCP connection; the reverse proxy also reads every byte into its own memory and writes it out again, as falproxy does.",
		fmt.Sprintf("In the paced row the CDN writes the file in pieces of %s, pausing so that it delivers %s/s, and falproxy and the direct download take turns again: when the bytes come at a CDN's pace rather than as fast as loopback and two shared cores allow, that row shows what falproxy costs a download.", mib(pacedChunk), mib(pacedRate)),
	}}}, nil
}

// makeVideo creates a video through the proxy and waits until it is
// completed, returning its id.
func makeVideo(ctx context.Context, p *proxyClient) (string, error) {
	a, err := p.send(ctx, http.MethodPost, "/v1/videos", `{"model":"`+videoAlias+`","prompt":"waves breaking on a lighthouse rock"}`)
	if err != nil {
		return "", err
	}
	var v struct {
		ID     string `json:"id"`
		Status string `json:"status"`
	}
	for {
		if a.status != http.StatusOK {
			return "", fmt.Errorf("video answered %d: %.300s", a.status, a.body)
		}
		if err := json.Unmarshal(a.body, &v); err != nil || v.ID == "" {
			return "", fmt.Errorf("video without an id (%v): %.300s", err, a.body)
		}
		switch v.Status {
		case "completed":
			return v.ID, nil
		case "failed":
			return "", fmt.Errorf("video failed: %.300s", a.body)
		}
		time.Sleep(20 * time.Millisecond)
		if a, err = p.send(ctx, http.MethodGet, "/v1/videos/"+v.ID, ""); err != nil {
			return "", err
		}
	}
}
