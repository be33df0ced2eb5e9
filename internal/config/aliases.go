package config

import (
	"strings"

	"github.com/falproxy/falproxy/internal/registry"
)

// aliasList is the aliases one variable configures.
type aliasList struct {
	variable string
	entries  []registry.Entry
}

// aliasLists are every model list, in the order a clash is reported: an
// alias clashes with the earlier list that has it. A new kind of model is
// one line here.
func (c *Config) aliasLists() []aliasList {
	return []aliasList{
		{envImageModels, registry.Entries(c.ImageModels, nil)},
		{envChatModels, registry.Entries(nil, c.ChatModels)},
		{envVideoModels, registry.VideoEntries(c.VideoModels)},
		{envAudioModels, registry.AudioEntries(c.AudioModels)},
		{envEmbeddingModels, registry.EmbeddingEntries(c.EmbeddingModels)},
	}
}

// checkAliases reports an alias given in two model lists: a client's
// `model` must name one model, on one route.
func (l *loader) checkAliases(lists []aliasList) {
	first := map[string]string{}
	for _, list := range lists {
		for _, e := range list.entries {
			if other, taken := first[e.Alias]; taken {
				l.problem(list.variable, "alias %q is also in %s; an alias names one model", e.Alias, other)
				continue
			}
			first[e.Alias] = list.variable
		}
	}
}

// knownAliases is every configured alias, and the variables that
// configure them, in words.
func knownAliases(lists []aliasList) (map[string]bool, string) {
	known := map[string]bool{}
	names := make([]string, len(lists))
	for i, list := range lists {
		names[i] = list.variable
		for _, e := range list.entries {
			known[e.Alias] = true
		}
	}
	return known, strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}

// Serves tells whether alias is a configured model of any kind.
func (c *Config) Serves(alias string) bool {
	for _, list := range c.aliasLists() {
		for _, e := range list.entries {
			if e.Alias == alias {
				return true
			}
		}
	}
	return false
}
