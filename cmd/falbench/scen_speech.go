package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/falproxy/falproxy/internal/falfake"
)

// The request of scenario 13 and the alias it names.
const (
	speechAlias = "tts-1"
	speechBody  = `{"model":"` + speechAlias + `","input":"The keeper trimmed the wick and the light swept the rocks.","voice":"alloy"}`
)

// runSpeech measures what falproxy adds to the first byte of speech: a
// POST /v1/audio/speech through it against a direct client that runs the
// same fal job and downloads the audio file the result names.
func runSpeech(ctx context.Context, b *bench) ([]section, error) {
	env := map[string]string{"AUDIO_MODELS": speechAlias + ":fal-ai/kokoro/american-english"}
	st, err := b.startStack(ctx, "speech", falfake.Options{}, env, 8)
	if err != nil {
		return nil, err
	}
	defer st.close()
	proxy := func(ctx context.Context) (obs, error) {
		start := time.Now()
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, st.proxy.base+"/v1/audio/speech", strings.NewReader(speechBody))
		if err != nil {
			return nil, err
		}
		req.Header.Set("Authorization", "Bearer "+accessKey)
		req.Header.Set("Content-Type", "application/json")
		t, err := firstByte(st.client.hc, req, start)
		return obs{t}, err
	}
	b.logf("  %d speech pairs", b.plan.chatPairs)
	pt, dt, err := b.pairedTimes(ctx, st, b.plan.chatPairs, proxy, falfake.OpSubmit, func(call falfake.Call) side {
		return func(ctx context.Context) (obs, error) {
			start := time.Now()
			res, err := st.direct.generate(ctx, call.Endpoint, call.Body)
			if err != nil {
				return nil, err
			}
			var out struct {
				Audio struct {
					URL string `json:"url"`
				} `json:"audio"`
			}
			if err := json.Unmarshal(res.body, &out); err != nil || out.Audio.URL == "" {
				return nil, fmt.Errorf("fal's speech result names no audio file (%v): %.300s", err, res.body)
			}
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, out.Audio.URL, nil)
			if err != nil {
				return nil, err
			}
			t, err := firstByte(st.direct.hc, req, start)
			return obs{t}, err
		}
	})
	if err != nil {
		return nil, err
	}
	added := summarize(differences(pt, dt))
	return []section{{num: 13, title: "Speech, time to the first byte of audio", rows: []row{
		{what: "added time to first byte (proxy − direct), median / p99", seed: "no speech in the seed", target: "median ≤ 2 ms",
			measured: medP99(added), verdict: check(added.median <= 2*time.Millisecond)},
		{what: "time to first byte, median / p99", measured: fmt.Sprintf("proxy %s; direct %s (n = %d pairs)", medP99(summarize(pt)), medP99(summarize(dt)), len(pt)), verdict: info},
	}, notes: []string{
		"`POST /v1/audio/speech` (alias tts-1 on fal-ai/kokoro/american-english, no generation time) through falproxy, against the direct client running the job falproxy submitted (the exact input) and downloading the audio file its result names from the emulator's CDN; each side's time runs from its start to the first byte of audio.",
	}}}, nil
}

// firstByte sends req and returns when the first byte of its body arrived,
// counted from start; the rest is read before it returns, so that the
// connection is reused.
func firstByte(hc *http.Client, req *http.Request, start time.Time) (time.Duration, error) {
	resp, err := doOK(hc, req)
	if err != nil {
		return 0, err
	}
	defer drain(resp)
	var one [1]byte
	if _, err := io.ReadFull(resp.Body, one[:]); err != nil {
		return 0, fmt.Errorf("%s: %w", req.URL.Path, err)
	}
	return time.Since(start), nil
}

// doOK sends req and returns its answer if it is a 200; otherwise an error
// quoting the answer.
func doOK(hc *http.Client, req *http.Request) (*http.Response, error) {
	resp, err := hc.Do(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		drain(resp)
		return nil, fmt.Errorf("%s answered %d: %.300s", req.URL.Path, resp.StatusCode, b)
	}
	return resp, nil
}
