package config

import (
	"fmt"
	"strings"

	"github.com/falproxy/falproxy/internal/registry"
)

// pair is one alias→target entry of a model list.
type pair struct{ alias, target string }

// splitImageEntry splits "alias:endpoint" at its first colon; an entry
// without a colon is an endpoint id that is its own alias.
func splitImageEntry(entry string) pair {
	alias, target, found := strings.Cut(entry, ":")
	if !found {
		return pair{entry, entry}
	}
	return pair{strings.TrimSpace(alias), strings.TrimSpace(target)}
}

// splitChatEntry splits "alias:model" at its first colon, unless the text
// before that colon contains a slash: then the colon belongs to the model id
// (as in "deepseek/deepseek-r1:free") and the whole entry is a bare model id
// that is its own alias.
func splitChatEntry(entry string) pair {
	alias, target, found := strings.Cut(entry, ":")
	if !found || strings.Contains(alias, "/") {
		return pair{entry, entry}
	}
	return pair{strings.TrimSpace(alias), strings.TrimSpace(target)}
}

// parsePairs reads a comma-separated model list with split, checking that
// every alias and target is present, free of spaces, and that no alias
// repeats. what names the target in messages ("endpoint id", "model id").
func parsePairs(s, what string, split func(string) pair) ([]pair, error) {
	entries := splitList(s)
	if len(entries) == 0 {
		return nil, fmt.Errorf("must list at least one model")
	}
	pairs := make([]pair, 0, len(entries))
	seen := make(map[string]bool, len(entries))
	for _, entry := range entries {
		p := split(entry)
		switch {
		case p.alias == "":
			return nil, fmt.Errorf("entry %q has an empty alias", entry)
		case p.target == "":
			return nil, fmt.Errorf("entry %q has an empty %s", entry, what)
		case hasSpace(p.alias) || hasSpace(p.target):
			return nil, fmt.Errorf("entry %q contains spaces", entry)
		case seen[p.alias]:
			return nil, fmt.Errorf("alias %q is listed twice", p.alias)
		}
		seen[p.alias] = true
		pairs = append(pairs, p)
	}
	return pairs, nil
}

// parseImageModels reads SUPPORTED_MODELS.
func parseImageModels(s string) ([]registry.ImageModel, error) {
	pairs, err := parsePairs(s, "endpoint id", splitImageEntry)
	if err != nil {
		return nil, err
	}
	models := make([]registry.ImageModel, len(pairs))
	for i, p := range pairs {
		models[i] = registry.ImageModel{Alias: p.alias, Endpoint: p.target}
	}
	return models, nil
}

// parseChatModels reads CHAT_MODELS.
func parseChatModels(s string) ([]registry.ChatModel, error) {
	pairs, err := parsePairs(s, "model id", splitChatEntry)
	if err != nil {
		return nil, err
	}
	models := make([]registry.ChatModel, len(pairs))
	for i, p := range pairs {
		models[i] = registry.ChatModel{Alias: p.alias, Model: p.target}
	}
	return models, nil
}

// parseVideoModels reads VIDEO_MODELS: alias:text[|image[|remix]], split
// like SUPPORTED_MODELS at the first colon, the endpoints at "|"; the image
// endpoint may be empty where a remix endpoint follows.
func parseVideoModels(s string) ([]registry.VideoModel, error) {
	entries, err := parseImageModels(s)
	if err != nil {
		return nil, err
	}
	models := make([]registry.VideoModel, len(entries))
	for i, e := range entries {
		eps := strings.Split(e.Endpoint, "|")
		if len(eps) > 3 || eps[0] == "" || eps[len(eps)-1] == "" {
			return nil, fmt.Errorf("entry %q must be alias:text-endpoint[|image-endpoint[|remix-endpoint]] (the image endpoint may be left empty)", e.Alias+":"+e.Endpoint)
		}
		eps = append(eps, "", "")
		models[i] = registry.VideoModel{Alias: e.Alias, Text: eps[0], Image: eps[1], Remix: eps[2]}
	}
	return models, nil
}

// parseEmbeddingModels reads EMBEDDING_MODELS, written as CHAT_MODELS.
func parseEmbeddingModels(s string) ([]registry.EmbeddingModel, error) {
	chats, err := parseChatModels(s)
	models := make([]registry.EmbeddingModel, len(chats))
	for i, m := range chats {
		models[i] = registry.EmbeddingModel(m)
	}
	return models, err
}
