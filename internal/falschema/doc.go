// Package falschema reads the OpenAPI document fal publishes for every
// endpoint and reduces its input schema to a small Capabilities value: which
// fields the model declares and how it takes a size, a count, a seed, an
// output format and input images. The proxy maps OpenAI requests onto any fal
// image model from that value alone, without per-model code. For audio
// models the output schema is read too, to tell a model that speaks from one
// that transcribes (see Audio).
//
// Reduce does the pure reduction; Store fetches documents over HTTP and caches
// the results per endpoint.
package falschema
