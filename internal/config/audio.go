package config

import "github.com/falproxy/falproxy/internal/registry"

// audioModels reads AUDIO_MODELS, parsed like SUPPORTED_MODELS; empty
// means none. An alias that is also an image or chat alias is a problem:
// `model` must name one thing.
func (l *loader) audioModels(name string, images []registry.ImageModel, chats []registry.ChatModel) []registry.AudioModel {
	s, ok := l.str(name)
	if !ok || s == "" {
		return nil
	}
	pairs, err := parsePairs(s, "endpoint id", splitImageEntry)
	if err != nil {
		l.problem(name, "%v", err)
		return nil
	}
	taken := map[string]bool{}
	for _, e := range registry.Entries(images, chats) {
		taken[e.Alias] = true
	}
	models := make([]registry.AudioModel, 0, len(pairs))
	for _, p := range pairs {
		if taken[p.alias] {
			l.problem(name, "alias %q is also an image or chat alias", p.alias)
			continue
		}
		models = append(models, registry.AudioModel{Alias: p.alias, Endpoint: p.target})
	}
	return models
}
