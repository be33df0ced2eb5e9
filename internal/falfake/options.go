package falfake

import (
	"io"
	"log/slog"
	"time"
)

// Options configures a Fake. The zero value is usable: it listens on a
// random loopback port, accepts any non-empty key and completes jobs at once.
type Options struct {
	// Addr is the listen address; default "127.0.0.1:0".
	Addr string
	// Keys are the fal keys accepted in "Authorization: Key <k>". Empty
	// means any non-empty key is accepted.
	Keys []string
	// QueueDelay is how long a job stays IN_QUEUE.
	QueueDelay time.Duration
	// GenerationTime is how long a job stays IN_PROGRESS, and how long a
	// synchronous run takes.
	GenerationTime time.Duration
	// TokenDelay is the pause between the events of an LLM stream.
	TokenDelay time.Duration
	// KeepAlive is the interval of ": ping" comments on status streams;
	// default 15s, as fal.
	KeepAlive time.Duration
	// Schemas adds or overrides OpenAPI documents by endpoint id, on top of
	// the built-in set. Each must have the shape fal serves.
	Schemas map[string][]byte
	// AllowUnknownFields turns off strict input validation. By default an
	// input field the schema does not declare fails the job with
	// extra_forbidden, so that tests catch a client sending fields a model
	// does not take.
	AllowUnknownFields bool
	// Prices add to or replace the emulator's prices by endpoint id, as
	// its pricing API reports them and its bill charges them.
	Prices map[string]Price
	// HTTP1Only serves HTTP/1.1 alone, as a plain egress proxy or sidecar
	// in front of fal would; by default HTTP/2 with prior knowledge (h2c)
	// is offered beside it.
	HTTP1Only bool
	// AnswerURLBase, when set (e.g. "http://elsewhere:1234"), replaces the
	// emulator's own address in the URLs its answers name for a client to
	// call next: a job's status_url, response_url and cancel_url, and an
	// upload's upload_url. It makes the emulator answer as a forged or
	// misbehaving upstream would.
	AnswerURLBase string
	// ExtraImages makes image models answer this many images more than
	// num_images asks for, as a misbehaving model or upstream might.
	ExtraImages int
	// EmbeddingsFloatsNoUsage makes the embeddings route answer floats
	// whatever encoding_format asks for, and report no usage, as some
	// providers behind an OpenAI-compatible router do.
	EmbeddingsFloatsNoUsage bool
	// Logger receives one debug line per request; default discards.
	Logger *slog.Logger
}

// defaultKeepAlive is fal's documented status-stream comment interval.
const defaultKeepAlive = 15 * time.Second

// withDefaults fills in the defaults documented on Options.
func (o Options) withDefaults() Options {
	if o.Addr == "" {
		o.Addr = "127.0.0.1:0"
	}
	if o.KeepAlive <= 0 {
		o.KeepAlive = defaultKeepAlive
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return o
}
