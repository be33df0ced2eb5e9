package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/falproxy/falproxy/internal/falfake"
)

// responsesBody is the streamed Responses request of scenario 12.
const responsesBody = `{"model":"openai/gpt-4o","stream":true,"input":"` + chatPrompt + `"}`

// runResponses measures what falproxy adds to the first event of a
// Responses stream relayed from fal's OpenAI-compatible Responses route
// (RESPONSES_MODE=passthrough), against a direct client of that route.
func runResponses(ctx context.Context, b *bench) ([]section, error) {
	env := map[string]string{"CHAT_ENDPOINT": "openrouter/router/openai/v1", "RESPONSES_MODE": "passthrough"}
	st, err := b.startStack(ctx, "responses", falfake.Options{TokenDelay: b.plan.tokenDelay}, env, 8)
	if err != nil {
		return nil, err
	}
	defer st.close()
	proxyHeader := http.Header{"Authorization": {"Bearer " + accessKey}}
	proxy := func(ctx context.Context) (obs, error) {
		t, err := firstEvent(ctx, st.client.hc, st.proxy.base+"/v1/responses", proxyHeader, []byte(responsesBody))
		return obs{t}, err
	}
	directHeader := http.Header{"Authorization": {"Key " + directKey}}
	b.logf("  %d Responses stream pairs", b.plan.chatPairs)
	pt, dt, err := b.pairedTimes(ctx, st, b.plan.chatPairs, proxy, falfake.OpResponses, func(call falfake.Call) side {
		return func(ctx context.Context) (obs, error) {
			t, err := firstEvent(ctx, st.direct.hc, st.fake.RunURL()+"/openrouter/router/openai/v1/responses", directHeader, call.Body)
			return obs{t}, err
		}
	})
	if err != nil {
		return nil, err
	}
	added := summarize(differences(pt, dt))
	return []section{{num: 12, title: "Responses stream, time to first event (RESPONSES_MODE passthrough)", rows: []row{
		{what: "added time to first event (proxy − direct), median / p99", seed: "no Responses API in the seed", target: "median ≤ 1 ms",
			measured: medP99(added), verdict: check(added.median <= time.Millisecond)},
		{what: "time to first event, median / p99", measured: fmt.Sprintf("proxy %s; direct %s (n = %d pairs)", medP99(summarize(pt)), medP99(summarize(dt)), len(pt)), verdict: info},
	}, notes: []string{
		fmt.Sprintf("A streamed `POST /v1/responses` through falproxy, relayed from fal's `openrouter/router/openai/v1/responses`, against the direct client posting the exact body falproxy forwarded to that route; each side's time runs from the request's start to the first server-sent event with data. The emulator pauses %v between events.", b.plan.tokenDelay),
	}}}, nil
}

// firstEvent posts body to url and times its first server-sent event with
// data; the rest of the stream is read before it returns, so that the
// connection is reused.
func firstEvent(ctx context.Context, hc *http.Client, url string, header http.Header, body []byte) (time.Duration, error) {
	start := time.Now()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	for k, v := range header {
		req.Header[k] = v
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "text/event-stream")
	resp, err := doOK(hc, req)
	if err != nil {
		return 0, err
	}
	defer drain(resp)
	var first time.Duration
	err = readEvents(resp.Body, func([]byte) (bool, error) {
		first = time.Since(start)
		return true, nil
	})
	return first, err
}
