package falfake

import (
	"net/http"
	"strings"
	"time"
)

// accept checks the key and the endpoint of a call that runs a model, and
// returns the model and how long the run takes. On false it has answered.
func (f *Fake) accept(w http.ResponseWriter, c *call) (*model, time.Duration, bool) {
	if !f.authorize(w, c) {
		return nil, 0, false
	}
	m := f.models[c.endpoint]
	if m == nil {
		notFoundApp(w, c.endpoint)
		return nil, 0, false
	}
	return m, stretch(f.opts.GenerationTime, slowPrompt(c.body)), true
}

// run answers a synchronous POST /run/{endpoint}: invalid input at once,
// anything else after GenerationTime.
func (f *Fake) run(w http.ResponseWriter, c *call) {
	m, gen, ok := f.accept(w, c)
	if !ok {
		return
	}
	x := execution{model: m, body: c.body, cdnBase: c.base, inference: gen}
	if ft, ok := f.faults.takeJob(OpRun, c.key, c.endpoint); ok {
		x.fault = &ft
	}
	out := f.execute(x)
	if !out.early && !sleep(c.r.Context(), gen) {
		return
	}
	f.charge(c.key, c.endpoint, c.body, out)
	out.write(w, c.rid)
}

// llmStream answers POST /run/{llm endpoint}/stream with fal's LLM events,
// TokenDelay apart. Invalid input is a 422 before the stream starts; a
// "[fail]" prompt or a job fault ends the stream with an error event after
// two partial ones.
func (f *Fake) llmStream(w http.ResponseWriter, c *call) {
	if !f.authorize(w, c) {
		return
	}
	m := f.models[c.endpoint]
	if m == nil || m.kind != kindLLM {
		notFoundApp(w, c.endpoint+"/stream")
		return
	}
	in, errs := decodeInput(c.body)
	if errs == nil {
		errs = m.validate(in, !f.opts.AllowUnknownFields)
	}
	if errs == nil {
		errs = f.checkInputURLs(in, c.base)
	}
	if len(errs) > 0 {
		validationOutcome(errs).write(w, c.rid)
		return
	}
	prompt, _ := in["prompt"].(string)
	if strings.Contains(prompt, triggerNSFW) {
		contentPolicyOutcome([]any{"body", "prompt"}, prompt).write(w, c.rid)
		return
	}
	var failure string
	if ft, ok := f.faults.takeJob(OpLLMStream, c.key, c.endpoint); ok {
		failure = errorOf(ft.JobError).msg
	} else if strings.Contains(prompt, triggerFail) {
		failure = errorOf("runner_disconnected").msg
	}
	delay := stretch(f.opts.TokenDelay, strings.Contains(prompt, triggerSlow))
	r := f.pricedReply(m, in)
	s := startSSE(w, c.rid)
	sent, last := 0, llmEvent{}
	pace := newPacer(delay)
	for ev := range r.events(len(r.reasoning) > 0, m.outProps["usage"]) {
		if sent > 0 && !pace.next(c.r.Context()) {
			return
		}
		if failure != "" && (sent == 2 || !ev.Partial) {
			last.Partial, last.Error, last.Usage = false, &failure, nil
			_ = s.data(mustJSON(last))
			return
		}
		if !ev.Partial { // fal bills a stream that completed
			f.billMicros(c.key, r.costMicros)
		}
		if s.data(mustJSON(ev)) != nil {
			return
		}
		sent, last = sent+1, ev
	}
}
