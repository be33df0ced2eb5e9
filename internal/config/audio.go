package config

import "github.com/falproxy/falproxy/internal/registry"

// audioModels reads AUDIO_MODELS, parsed like SUPPORTED_MODELS; empty
// means none.
func (l *loader) audioModels(name string) []registry.AudioModel {
	s, ok := l.str(name)
	if !ok || s == "" {
		return nil
	}
	pairs, err := parsePairs(s, "endpoint id", splitImageEntry)
	if err != nil {
		l.problem(name, "%v", err)
		return nil
	}
	models := make([]registry.AudioModel, len(pairs))
	for i, p := range pairs {
		models[i] = registry.AudioModel{Alias: p.alias, Endpoint: p.target}
	}
	return models
}
