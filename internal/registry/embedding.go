package registry

// EmbeddingModel maps the name clients send as `model` on /v1/embeddings
// to the model id fal's OpenAI-compatible embeddings route expects.
type EmbeddingModel struct {
	Alias string // e.g. "text-embedding-3-small"
	Model string // e.g. "openai/text-embedding-3-small"
}

// EmbeddingEntries lists embedding aliases as entries of kind Embedding, in
// the order configured, to follow those of Entries.
func EmbeddingEntries(models []EmbeddingModel) []Entry {
	entries := make([]Entry, len(models))
	for i, m := range models {
		entries[i] = Entry{Alias: m.Alias, Target: m.Model, Kind: Embedding}
	}
	return entries
}
