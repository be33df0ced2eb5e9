package chat

// Default limits of the seed proxy, in Unicode characters.
const (
	DefaultPromptLimit = 4800
	DefaultSystemLimit = 4800
	// DefaultSeparator sits between the system messages and the older
	// history moved into the system prompt. It reads "below is the earlier
	// part of the conversation"; clients of the seed proxy know it.
	DefaultSeparator = "\n\n-------下面是比较早之前的对话内容-----\n\n"
)

// Limits bounds what Fold puts into fal's prompt and system_prompt. Lengths
// are counted in Unicode characters (runes). The zero Limits means the
// defaults; otherwise a Prompt below 1, a negative System and an empty
// Separator mean the default, and a System of 0 sends no system prompt at
// all (SYSTEM_PROMPT_LIMIT=0).
type Limits struct {
	Prompt    int    // most characters of the prompt part
	System    int    // most characters of the system part (see Fold)
	Separator string // between the system messages and moved history
}

// DefaultLimits returns the seed proxy's limits.
func DefaultLimits() Limits {
	return Limits{Prompt: DefaultPromptLimit, System: DefaultSystemLimit, Separator: DefaultSeparator}
}

// withDefaults fills unset fields with the defaults.
func (l Limits) withDefaults() Limits {
	if l == (Limits{}) {
		return DefaultLimits()
	}
	if l.Prompt <= 0 {
		l.Prompt = DefaultPromptLimit
	}
	if l.System < 0 {
		l.System = DefaultSystemLimit
	}
	if l.Separator == "" {
		l.Separator = DefaultSeparator
	}
	return l
}
