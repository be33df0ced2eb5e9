// Package chat translates POST /v1/chat/completions onto fal's LLM
// endpoints (fal-ai/any-llm and its successor openrouter/router) and back.
//
// fal's LLMs take one prompt and one system prompt instead of a message
// list, so Fold flattens the conversation with the "System Top + Separator +
// Recency" strategy; FalInput builds the fal request body from it; Completion
// and Stream turn fal's output (whose streamed text is cumulative) into
// OpenAI completions and chunks.
//
// Everything here is a pure function over values or a small stateful helper:
// no HTTP, no I/O. The server owns decoding, fal calls and writing.
package chat
