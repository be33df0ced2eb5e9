// Package falfake is an in-process emulator of fal.ai served over real HTTP
// on loopback. It speaks fal's queue API (submit, status, status stream,
// result, cancel), synchronous runs, LLM streams, the OpenAI-compatible chat
// endpoint of openrouter/router, per-endpoint OpenAPI documents, a CDN for
// generated images and the two-step storage upload.
//
// Behaviour is driven by the built-in OpenAPI documents in schemas/: inputs
// are validated against them when a job is processed, exactly as fal reports
// it (a queued job completes, and its result is a Pydantic-style 422), and
// image sizes, counts and formats are read from the input the way each model
// family declares them.
//
// Tests use it to assert both what a client sees and what fal received
// (Received, Jobs, Counts), and to inject faults (Inject). Prompts can also
// trigger failures without any setup: "[fail]" makes a job fail with
// runner_disconnected, "[nsfw]" makes it fail with a content-policy 422,
// "[slow]" makes generation take ten times longer, and "[stall]" and
// "[stall-at-end]" hold an OpenAI-compatible stream open after its first
// text delta, or before its [DONE], until the client leaves.
//
// The package keeps no global mutable state: every Fake is independent, and
// Close ends all of its goroutines.
package falfake
