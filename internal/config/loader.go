package config

import (
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/falproxy/falproxy/internal/chat"
	"github.com/falproxy/falproxy/internal/registry"
)

// loader reads variables through getenv and collects every problem instead
// of stopping at the first, so that Load can report them all. Each getter
// returns a zero value after recording a problem.
type loader struct {
	getenv   func(string) string
	vars     map[string]Variable
	problems []Problem
}

func newLoader(getenv func(string) string) *loader {
	vars := make(map[string]Variable, len(Variables))
	for _, v := range Variables {
		vars[v.Name] = v
	}
	return &loader{getenv: getenv, vars: vars}
}

// variable returns the documentation entry for name. Asking for a name that
// is not in Variables is a programming error, caught by every test run.
func (l *loader) variable(name string) Variable {
	v, ok := l.vars[name]
	if !ok {
		panic("config: variable " + name + " is not listed in Variables")
	}
	return v
}

// raw returns the value given for name, under its own name or else under its
// first alias that is set, or the default. A value made only of white space
// counts as not given, unless the variable keeps space. The value is returned untrimmed; missing reports that
// a required variable has no value (a problem has been recorded).
func (l *loader) raw(name string) (value string, missing bool) {
	v := l.variable(name)
	if s, ok := l.given(v); ok {
		return s, false
	}
	if v.Required {
		l.problem(name, "is required (%s)", v.Format)
		return "", true
	}
	return v.Default, false
}

// given returns the value given for v under its own name or else under its
// first alias that is set; false when there is none.
func (l *loader) given(v Variable) (string, bool) {
	for _, n := range append([]string{v.Name}, v.Aliases...) {
		if s := l.getenv(n); strings.TrimSpace(s) != "" || v.KeepSpace && s != "" {
			return s, true
		}
	}
	return "", false
}

// Given reports whether getenv gives the variable name a value, under its
// own name or one of its aliases, as Load reads it.
func Given(getenv func(string) string, name string) bool {
	l := newLoader(getenv)
	_, ok := l.given(l.variable(name))
	return ok
}

// str returns the trimmed value of name; see raw.
func (l *loader) str(name string) (string, bool) {
	s, missing := l.raw(name)
	return strings.TrimSpace(s), !missing
}

func (l *loader) problem(name, format string, args ...any) {
	l.problems = append(l.problems, Problem{Variable: name, Message: fmt.Sprintf(format, args...)})
}

// invalid records that value does not fit the variable's format. The value is
// quoted in the message unless the variable is secret.
func (l *loader) invalid(name, value string) {
	v := l.variable(name)
	if v.Secret {
		l.problem(name, "must be %s", v.Format)
		return
	}
	l.problem(name, "must be %s, got %q", v.Format, value)
}

func (l *loader) boolean(name string) bool {
	s, ok := l.str(name)
	if !ok {
		return false
	}
	b, ok := parseBool(s)
	if !ok {
		l.invalid(name, s)
	}
	return b
}

// integer reads a whole number in [lo, hi].
func (l *loader) integer(name string, lo, hi int) int {
	s, ok := l.str(name)
	if !ok {
		return 0
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < lo || n > hi {
		l.invalid(name, s)
		return 0
	}
	return n
}

// duration reads a duration of at least lo; see parseDuration.
func (l *loader) duration(name string, lo time.Duration) time.Duration {
	s, ok := l.str(name)
	if !ok {
		return 0
	}
	d, ok := parseDuration(s)
	if !ok || d < lo {
		l.invalid(name, s)
		return 0
	}
	return d
}

// size reads a positive byte count; see parseSize.
func (l *loader) size(name string) int64 {
	s, ok := l.str(name)
	if !ok {
		return 0
	}
	n, ok := parseSize(s)
	if !ok || n <= 0 {
		l.invalid(name, s)
		return 0
	}
	return n
}

// baseURL reads an upstream base URL; see parseBaseURL.
func (l *loader) baseURL(name string) string {
	s, ok := l.str(name)
	if !ok {
		return ""
	}
	u, ok := parseBaseURL(s)
	if !ok {
		l.invalid(name, s)
	}
	return u
}

// oneOf reads one of allowed, ignoring letter case, and returns it as
// spelled in allowed.
func (l *loader) oneOf(name string, allowed ...string) string {
	s, ok := l.str(name)
	if !ok {
		return ""
	}
	for _, a := range allowed {
		if strings.EqualFold(s, a) {
			return a
		}
	}
	l.invalid(name, s)
	return ""
}

// chatBackend reads a chat backend by its fal endpoint id, ignoring letter
// case. Only the ids are accepted, as the variable's format documents.
func (l *loader) chatBackend(name string) chat.Backend {
	b, _ := chat.ParseBackend(l.oneOf(name, chat.BackendIDs()...))
	return b
}

// host reads a listen host. Brackets around an IPv6 address are removed so
// that net.JoinHostPort can add them back.
func (l *loader) host(name string) string {
	s, ok := l.str(name)
	if !ok {
		return ""
	}
	if hasSpace(s) {
		l.invalid(name, s)
		return ""
	}
	if strings.HasPrefix(s, "[") && strings.HasSuffix(s, "]") {
		s = s[1 : len(s)-1]
	}
	return s
}

// MinKeyLength is the fewest characters an access key or METRICS_KEY may
// have: a shorter key is easy to guess, and Redact, which hides every
// occurrence, could not hide it without blanking out ordinary words.
const MinKeyLength = 16

// shortKey is the problem of a key under MinKeyLength characters.
var shortKey = fmt.Sprintf("shorter than %d characters; use a long random key, such as the output of openssl rand -hex 32", MinKeyLength)

// tooShort reports whether key has fewer than MinKeyLength characters.
func tooShort(key string) bool { return utf8.RuneCountInString(key) < MinKeyLength }

// keys reads a secret comma-separated key list. Keys are named by position,
// never by value, in messages. With unique set, a repeated key is a problem;
// otherwise repeats are dropped. With long set, a key shorter than
// MinKeyLength is a problem.
func (l *loader) keys(name string, unique, long bool) []string {
	s, ok := l.str(name)
	if !ok {
		return nil
	}
	entries := splitList(s)
	if len(entries) == 0 {
		l.problem(name, "must list at least one key")
		return nil
	}
	first := make(map[string]int, len(entries))
	keys := make([]string, 0, len(entries))
	bad := false
	for i, k := range entries {
		switch j, dup := first[k]; {
		case hasSpace(k):
			l.problem(name, "entry %d contains spaces", i+1)
			bad = true
		case long && !dup && tooShort(k):
			l.problem(name, "entry %d is %s", i+1, shortKey)
			bad = true
		case dup && unique:
			l.problem(name, "lists the same key twice (entries %d and %d)", j+1, i+1)
			bad = true
		case !dup:
			first[k] = i
			keys = append(keys, k)
		}
	}
	if bad {
		return nil
	}
	return keys
}

// key reads one optional secret key: empty, or a key of at least
// MinKeyLength characters without spaces. Messages never quote it.
func (l *loader) key(name string) string {
	s, ok := l.str(name)
	switch {
	case !ok || s == "":
		return ""
	case hasSpace(s):
		l.problem(name, "contains spaces")
	case tooShort(s):
		l.problem(name, "is %s", shortKey)
	default:
		return s
	}
	return ""
}

// listenAddr reads an optional listen address, host:port with a port
// between 1 and 65535; an empty host means every interface.
func (l *loader) listenAddr(name string) string {
	s, ok := l.str(name)
	if !ok || s == "" {
		return ""
	}
	host, port, err := net.SplitHostPort(s)
	if n, perr := strconv.Atoi(port); err != nil || perr != nil || n < 1 || n > 65535 || hasSpace(host) {
		l.invalid(name, s)
		return ""
	}
	return s
}

// origins reads CORS origins: "*" alone, or a list of origins.
func (l *loader) origins(name string) []string {
	s, ok := l.str(name)
	if !ok {
		return nil
	}
	entries := splitList(s)
	if len(entries) == 0 {
		l.invalid(name, s)
		return nil
	}
	out := make([]string, 0, len(entries))
	for _, e := range entries {
		if e == "*" {
			if len(entries) > 1 {
				l.problem(name, "cannot combine * with other origins")
				return nil
			}
			return []string{"*"}
		}
		o, ok := parseOrigin(e)
		if !ok {
			l.problem(name, "entry %q must be an origin such as https://app.example.com (scheme and host, no path)", e)
			return nil
		}
		out = append(out, o)
	}
	return out
}

// imageModels reads SUPPORTED_MODELS.
func (l *loader) imageModels(name string) []registry.ImageModel {
	s, ok := l.str(name)
	if !ok {
		return nil
	}
	models, err := parseImageModels(s)
	if err != nil {
		l.problem(name, "%v", err)
	}
	return models
}

// chatModels reads CHAT_MODELS.
func (l *loader) chatModels(name string) []registry.ChatModel {
	s, ok := l.str(name)
	if !ok {
		return nil
	}
	models, err := parseChatModels(s)
	if err != nil {
		l.problem(name, "%v", err)
	}
	return models
}

// videoModels reads VIDEO_MODELS; empty offers no video models.
func (l *loader) videoModels(name string) []registry.VideoModel {
	s, ok := l.str(name)
	if !ok || s == "" {
		return nil
	}
	models, err := parseVideoModels(s)
	if err != nil {
		l.problem(name, "%v", err)
	}
	return models
}

// embeddingModels reads EMBEDDING_MODELS.
func (l *loader) embeddingModels(name string) []registry.EmbeddingModel {
	s, ok := l.str(name)
	if !ok || strings.TrimSpace(s) == "" {
		return nil
	}
	models, err := parseEmbeddingModels(s)
	if err != nil {
		l.problem(name, "%v", err)
	}
	return models
}

// responsesMode reads RESPONSES_MODE. Passthrough forwards to fal's
// OpenAI-compatible responses route, which only the OpenAI-compatible chat
// backend's model ids fit.
func (l *loader) responsesMode(name string, backend chat.Backend) string {
	mode := l.oneOf(name, ResponsesBridge, ResponsesPassthrough)
	if mode == ResponsesPassthrough && backend != chat.Passthrough {
		l.problem(name, "passthrough needs %s=%s; use bridge with %s", envChatEndpoint, chat.Passthrough, backend)
	}
	return mode
}

// defaultImageModel reads DEFAULT_IMAGE_MODEL, which must be an alias of
// models; empty means the first alias. Nothing is checked when models could
// not be read, since that problem is already reported.
func (l *loader) defaultImageModel(name string, models []registry.ImageModel) string {
	s, ok := l.str(name)
	if !ok || len(models) == 0 {
		return ""
	}
	if s == "" {
		return models[0].Alias
	}
	aliases := make([]string, len(models))
	for i, m := range models {
		if m.Alias == s {
			return s
		}
		aliases[i] = m.Alias
	}
	l.problem(name, "must be an alias from %s (%s), got %q", envImageModels, strings.Join(aliases, ", "), s)
	return ""
}
