// Package images translates between OpenAI's image API and fal image
// models. PlanGeneration, and PrepareEdit followed by Build once the input
// images are uploaded, turn an OpenAI request and a model's
// falschema.Capabilities into the fal inputs to run; ParseOutput reads what
// fal returns. Everything here is a pure function over values: no I/O.
//
// The one rule every plan keeps: an input never carries a field the model's
// schema does not declare, so a model is never sent something it rejects
// for being unknown.
package images
