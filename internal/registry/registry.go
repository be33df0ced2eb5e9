// Package registry defines falproxy's models once: the aliases clients send
// as `model`, what fal serves each with, and what each is for. Config parses
// the model lists into these types; the server lists and resolves them, and
// /v1/models, the playground and `falproxy models` tell the kinds from it
// instead of guessing.
package registry

// Kind is what a model is for: the route that serves it.
type Kind string

// The kinds served today. An image model that can generate is Image; one
// whose schema requires an input image can only edit, and is Edit once its
// schema is known.
const (
	Image Kind = "image" // POST /v1/images/generations (and edits, when it takes an input image)
	Edit  Kind = "edit"  // POST /v1/images/edits only
	Chat  Kind = "chat"  // POST /v1/chat/completions
)

// The kinds of the media routes: Video is served on /v1/videos, Speech on
// /v1/audio/speech, Transcription on /v1/audio/transcriptions and
// translations, Embedding on /v1/embeddings.
const (
	Video         Kind = "video"
	Speech        Kind = "speech"
	Transcription Kind = "transcription"
	Embedding     Kind = "embedding"
)

// ImageModel maps the name clients send as `model` to a fal endpoint id.
type ImageModel struct {
	Alias    string // e.g. "flux-dev"
	Endpoint string // e.g. "fal-ai/flux/dev"
}

// ChatModel maps the name clients send as `model` to the model id fal's LLM
// apps expect.
type ChatModel struct {
	Alias string // e.g. "sonnet", or the model id itself
	Model string // e.g. "anthropic/claude-3.7-sonnet"
}

// Entry is one alias: its fal target (an endpoint id for image kinds, a
// model id for chat) and its kind as configured (Image or Chat; whether an
// image model only edits is known from its schema).
type Entry struct {
	Alias  string
	Target string
	Kind   Kind
}

// Entries lists every configured alias, image models first, each list in
// the order configured.
func Entries(images []ImageModel, chats []ChatModel) []Entry {
	entries := make([]Entry, 0, len(images)+len(chats))
	for _, m := range images {
		entries = append(entries, Entry{Alias: m.Alias, Target: m.Endpoint, Kind: Image})
	}
	for _, m := range chats {
		entries = append(entries, Entry{Alias: m.Alias, Target: m.Model, Kind: Chat})
	}
	return entries
}

// VideoModel maps the name clients send as `model` on /v1/videos to fal's
// endpoints: text-to-video, and optionally image-to-video (for requests
// with an input_reference) and remix; an empty Remix is looked for next to
// Text.
type VideoModel struct {
	Alias string // e.g. "sora-2"
	Text  string // e.g. "fal-ai/sora-2/text-to-video"
	Image string // e.g. "fal-ai/sora-2/image-to-video"
	Remix string // e.g. "fal-ai/sora-2/video-to-video/remix"
}

// VideoEntries lists the video aliases, in the order configured, each
// with its text-to-video endpoint as target.
func VideoEntries(videos []VideoModel) []Entry {
	entries := make([]Entry, 0, len(videos))
	for _, m := range videos {
		entries = append(entries, Entry{Alias: m.Alias, Target: m.Text, Kind: Video})
	}
	return entries
}
