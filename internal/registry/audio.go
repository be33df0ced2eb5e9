package registry

// AudioModel maps the name clients send as `model` to a fal audio
// endpoint. Whether it speaks (Speech) or transcribes (Transcription) is
// read from the endpoint's schema.
type AudioModel struct {
	Alias    string // e.g. "tts-1"
	Endpoint string // e.g. "fal-ai/kokoro/american-english"
}

// Audio is the kind of an audio alias whose schema is not known yet: it
// is Speech or Transcription once it is.
const Audio Kind = "audio"

// AudioEntries lists the audio aliases, in the order configured, after
// the ones Entries lists.
func AudioEntries(models []AudioModel) []Entry {
	entries := make([]Entry, len(models))
	for i, m := range models {
		entries[i] = Entry{Alias: m.Alias, Target: m.Endpoint, Kind: Audio}
	}
	return entries
}
