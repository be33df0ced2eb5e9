package main

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/falproxy/falproxy/internal/falfake"
)

// chatPrompt is long enough for an answer of about thirty tokens (the
// emulator echoes the prompt).
const chatPrompt = "Tell me about lighthouses on rocky coasts and how their keepers kept the lamps burning through long winter nights"

const (
	chatStreamBody = `{"model":"openai/gpt-4o","stream":true,"messages":[{"role":"user","content":"` + chatPrompt + `"}]}`
	chatOnceBody   = `{"model":"openai/gpt-4o","messages":[{"role":"user","content":"Say hello in five words"}]}`
)

// runChatStream measures streamed chat through the proxy (fal's
// openrouter/router stream behind it) against a direct client of that
// stream: time to the first token and to the end of the answer. A third
// side, the direct client through a plain TCP relay process, shows what
// any separate process in the path costs.
func runChatStream(ctx context.Context, b *bench) ([]section, error) {
	st, err := b.startStack(ctx, "chat-stream", falfake.Options{TokenDelay: b.plan.tokenDelay}, nil, 8)
	if err != nil {
		return nil, err
	}
	defer st.close()
	proxy := func(ctx context.Context) (obs, error) {
		t, err := st.client.chatStream(ctx, chatStreamBody)
		return obs{t.first, t.last}, err
	}
	if err := warm(ctx, b.plan.warm, proxy); err != nil {
		return nil, fmt.Errorf("%w: warm-up: %w", errFunctional, err)
	}
	call, err := st.proxyCall(falfake.OpLLMStream)
	if err != nil {
		return nil, err
	}
	u, err := url.Parse(st.fake.URL())
	if err != nil {
		return nil, err
	}
	rl, err := startRelay(ctx, u.Host)
	if err != nil {
		return nil, err
	}
	defer rl.stop()
	viaRelay := &directClient{runURL: "http://" + rl.addr + "/run", key: directKey, hc: newUpstreamClient(8)}
	defer viaRelay.hc.CloseIdleConnections()
	stream := func(d *directClient) side {
		return func(ctx context.Context) (obs, error) {
			t, err := d.llmStream(ctx, call.Endpoint, call.Body)
			return obs{t.first, t.last}, err
		}
	}
	direct, relayed := stream(st.direct), stream(viaRelay)
	for _, f := range []side{direct, relayed} {
		if err := warm(ctx, b.plan.warm, f); err != nil {
			return nil, fmt.Errorf("%w: direct warm-up: %w", errFunctional, err)
		}
	}
	b.logf("  %d streamed rounds (proxy, direct, relay)", b.plan.chatPairs)
	out, err := interleave(ctx, b.plan.chatPairs, proxy, direct, relayed)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errFunctional, err)
	}
	var rows []row
	for k, name := range []string{"first token (TTFT)", "last token (TTLT)"} {
		pk, dk, rk := column(out[0], k), column(out[1], k), column(out[2], k)
		added := summarize(differences(pk, dk))
		rows = append(rows,
			row{what: "added time to " + name + " (proxy − direct), median / p99", seed: "not measured (the seed relayed fal's stream)",
				target: "≤ 1 ms / ≤ 5 ms", measured: medP99(added),
				verdict: check(added.median <= time.Millisecond && added.p99 <= 5*time.Millisecond)},
			row{what: "control: added by a plain TCP relay process (relay − direct), median / p99",
				measured: medP99(summarize(differences(rk, dk))), verdict: info},
			row{what: "proxy − relay, median / p99",
				measured: medP99(summarize(differences(pk, rk))), verdict: info},
			row{what: "time to " + name + ", median / p99",
				measured: fmt.Sprintf("proxy %s; direct %s; relay %s (n = %d rounds)", medP99(summarize(pk)), medP99(summarize(dk)), medP99(summarize(rk)), len(pk)), verdict: info})
	}
	return []section{{num: 5, title: "Chat streaming (CHAT_ENDPOINT openrouter/router)", rows: rows, notes: []string{
		fmt.Sprintf("The emulator pauses %s between events; an answer is about thirty events. The proxy's first token is its first chunk with non-empty `delta.content`, its last the `data: [DONE]` line; the direct client (POST `%s/stream` with the exact input the proxy sent) sees its first event with text and the final `partial: false` event.", ms(b.plan.tokenDelay), call.Endpoint),
		"The relay is falbench itself run as a byte-for-byte TCP relay in a child process, in front of the same emulator, used by the same direct client: it is the floor for any proxy that is a separate process. The emulator waits its pause after it has written each event, so its whole stream stretches by however much later its timer fires; that drift differs when the reader sits in another process, and it piles up over the events into the time to the last token.",
	}}}, nil
}

// runPassthrough measures non-streaming chat through the OpenAI-compatible
// passthrough against a direct call of fal's endpoint.
func runPassthrough(ctx context.Context, b *bench) ([]section, error) {
	env := map[string]string{"CHAT_ENDPOINT": "openrouter/router/openai/v1"}
	st, err := b.startStack(ctx, "passthrough", falfake.Options{}, env, 8)
	if err != nil {
		return nil, err
	}
	defer st.close()
	proxy := timed(func(ctx context.Context) error {
		a, err := st.client.send(ctx, http.MethodPost, "/v1/chat/completions", chatOnceBody)
		if err != nil {
			return err
		}
		return chatAnswer(a)
	})
	if err := warm(ctx, b.plan.warm, proxy); err != nil {
		return nil, fmt.Errorf("%w: warm-up: %w", errFunctional, err)
	}
	call, err := st.proxyCall(falfake.OpChat)
	if err != nil {
		return nil, err
	}
	direct := timed(func(ctx context.Context) error {
		r, err := st.direct.chat(ctx, call.Body)
		if err != nil {
			return err
		}
		return chatAnswer(answer{status: r.status, body: r.body})
	})
	if err := warm(ctx, b.plan.warm, direct); err != nil {
		return nil, fmt.Errorf("%w: direct warm-up: %w", errFunctional, err)
	}
	b.logf("  %d passthrough pairs", b.plan.passPairs)
	out, err := interleave(ctx, b.plan.passPairs, proxy, direct)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errFunctional, err)
	}
	pt, dt := column(out[0], 0), column(out[1], 0)
	added := summarize(differences(pt, dt))
	ps, ds := summarize(pt), summarize(dt)
	return []section{{num: 6, title: "Chat passthrough, not streaming (CHAT_ENDPOINT openrouter/router/openai/v1)", rows: []row{
		{what: "added latency, median / p99", seed: "no passthrough in the seed", target: "median ≤ 0.3 ms",
			measured: medP99(added), verdict: check(added.median <= 300*time.Microsecond)},
		{what: "total, median / p99", measured: fmt.Sprintf("proxy %s; direct %s; ratio of medians %.2f (n = %d pairs)", medP99(ps), medP99(ds), ratio(ps.median, ds.median), len(pt)), verdict: info},
	}, notes: []string{
		"The emulator answers at once (no generation time), so the figures are the cost of the hop itself. The direct client posts the exact body the proxy forwarded to fal's `openrouter/router/openai/v1/chat/completions`.",
	}}}, nil
}
