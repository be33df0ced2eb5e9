package falfake

import (
	"encoding/json"
	"net/http"
	"strings"
	"time"
)

// Prompt triggers that make a run fail or slow down without any setup.
const (
	triggerFail = "[fail]" // runner_disconnected (503)
	triggerNSFW = "[nsfw]" // content_policy_violation (422)
	triggerSlow = "[slow]" // generation takes ten times longer
	// triggerStall stops an OpenAI-compatible stream (chat or responses)
	// after its first text delta, the connection held open until the
	// client leaves, as a model that stalls mid-answer.
	triggerStall = "[stall]"
	// triggerStallAtEnd holds a chat stream after its last chunk (its
	// usage, when asked for), before [DONE], until the client leaves.
	triggerStallAtEnd = "[stall-at-end]"
)

// slowFactor is how much longer a "[slow]" prompt takes.
const slowFactor = 10

// stretch is d, made slowFactor times longer for a slow prompt.
func stretch(d time.Duration, slow bool) time.Duration {
	if slow {
		return d * slowFactor
	}
	return d
}

// outcome is how a run ended: the result's status and body and, for a
// failure, fal's error_type.
type outcome struct {
	status    int
	body      []byte
	errorType string
	// msg and request describe fal's request-level errors, which the queue
	// status shows as error/error_type and the result marks with
	// X-Fal-Error-Type.
	msg     string
	request bool
	// tokenMicros is what an LLM's answer costs by its tokens, billed
	// whether or not its output reports usage.
	tokenMicros int64
	// early marks an outcome decided before the model ran (invalid input);
	// a sync run answers it at once.
	early bool
}

// execution is everything needed to run a model once.
type execution struct {
	model     *model
	body      []byte
	fault     *Fault        // a job fault that decides the outcome
	cdnBase   string        // http://host for generated file URLs
	inference time.Duration // reported in timings
}

// execute runs a model on an input body: fault, then validation against the
// schema, then prompt triggers and input files, then generation.
func (f *Fake) execute(x execution) outcome {
	if x.fault != nil {
		return errorOutcome(x.fault.JobError, x.fault)
	}
	in, errs := decodeInput(x.body)
	if errs == nil {
		errs = x.model.validate(in, !f.opts.AllowUnknownFields)
	}
	if len(errs) > 0 {
		out := validationOutcome(errs)
		out.early = true
		return out
	}
	prompt, _ := in["prompt"].(string)
	switch {
	case strings.Contains(prompt, triggerFail):
		return errorOutcome("runner_disconnected", nil)
	case strings.Contains(prompt, triggerNSFW):
		return contentPolicyOutcome([]any{"body", "prompt"}, prompt)
	}
	if errs := f.checkInputURLs(in, x.cdnBase); len(errs) > 0 {
		return validationOutcome(errs)
	}
	switch x.model.kind {
	case kindImage:
		return f.imageOutcome(x, in)
	case kindSpeech:
		return f.speechOutcome(x, in)
	case kindTranscription:
		return f.transcriptionOutcome(x, in)
	case kindVideo:
		return f.videoOutcome(x, in)
	}
	return f.llmOutcome(x, in)
}

// slowPrompt reports whether a body's prompt asks for a slow run.
func slowPrompt(body []byte) bool {
	var in struct {
		Prompt string `json:"prompt"`
	}
	_ = json.Unmarshal(body, &in)
	return strings.Contains(in.Prompt, triggerSlow)
}

// successOutcome is a 200 with the model's output.
func successOutcome(output node) outcome {
	return outcome{status: http.StatusOK, body: mustJSON(output)}
}

// validationOutcome is fal's 422 for invalid input.
func validationOutcome(errs []detail) outcome {
	return outcome{
		status:    http.StatusUnprocessableEntity,
		body:      mustJSON(map[string]any{"detail": errs}),
		errorType: errs[0].Type,
	}
}

// contentPolicyOutcome is the 422 of a flagged input.
func contentPolicyOutcome(loc []any, input any) outcome {
	const t = "content_policy_violation"
	return validationOutcome([]detail{{
		Type: t, Loc: loc, Msg: errorOf(t).msg, Input: input,
		URL: "https://docs.fal.ai/errors#content_policy_violation",
	}})
}

// errorOutcome is the failure fal reports for errorType; a fault may
// override its status and body.
func errorOutcome(errorType string, ft *Fault) outcome {
	e := errorOf(errorType)
	out := outcome{status: e.status, errorType: errorType, msg: e.msg, request: e.request}
	switch {
	case e.request:
		out.body = mustJSON(map[string]string{"detail": e.msg, "error_type": errorType})
	default:
		out.body = mustJSON(map[string]any{"detail": []detail{{Type: errorType, Loc: []any{"body"}, Msg: e.msg}}})
	}
	if ft != nil && ft.Status != 0 {
		out.status = ft.Status
	}
	if ft != nil && ft.Body != "" {
		out.body = []byte(ft.Body)
	}
	return out
}

// write answers the outcome as fal's result endpoint and sync runs do.
func (o outcome) write(w http.ResponseWriter, requestID string) {
	w.Header().Set("X-Fal-Request-Id", requestID)
	if o.request {
		w.Header().Set("X-Fal-Error-Type", o.errorType)
	}
	writeBody(w, o.status, "application/json", o.body)
}

// pick keeps the fields of out that the model's output schema declares, so
// each model answers only with its own output shape.
func (m *model) pick(out node) node {
	for k := range out {
		if !m.outProps[k] {
			delete(out, k)
		}
	}
	return out
}
