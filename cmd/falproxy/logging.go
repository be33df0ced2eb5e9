package main

import (
	"context"
	"io"
	"log/slog"
	"slices"

	"github.com/falproxy/falproxy/internal/config"
	"github.com/falproxy/falproxy/internal/server"
)

// newLogger builds the process logger: text or JSON, debug when DEBUG_MODE,
// and every attribute value (where error texts, headers, URLs and payloads
// go) scrubbed of configured keys, so a key can never reach the log even by
// mistake. Messages are the program's own fixed words and stay as written.
// A line the writer fails to take is dropped, as slog's handlers drop it:
// the log has nowhere to report its own failure.
func newLogger(w io.Writer, cfg *config.Config) *slog.Logger {
	level := slog.LevelInfo
	if cfg.Debug {
		level = slog.LevelDebug
	}
	opts := &slog.HandlerOptions{Level: level}
	if _, ok := w.(*logBuffer); !ok {
		// Lines come from slog's handler and from the direct format: a
		// logBuffer keeps them whole, writing each at once here.
		w = &logBuffer{w: w, closed: true}
	}
	direct := &lineFormat{json: cfg.LogFormat == config.LogJSON, w: w}
	var h slog.Handler
	if direct.json {
		h = slog.NewJSONHandler(w, opts)
	} else {
		h = slog.NewTextHandler(w, opts)
	}
	return slog.New(&redactingHandler{next: h, redact: cfg.Redact, direct: direct})
}

// redactingHandler rewrites every string-valued attribute and error.
type redactingHandler struct {
	next   slog.Handler
	redact func(string) string
	// direct formats the flat lines of the root logger, which has no
	// attributes or groups of its own; nil in the loggers made from it.
	direct *lineFormat
}

func (h *redactingHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return h.next.Enabled(ctx, l)
}

func (h *redactingHandler) Handle(ctx context.Context, r slog.Record) error {
	if h.direct != nil {
		if done, err := h.direct.write(r, h.redact); done {
			return err
		}
	}
	if !h.changes(r) {
		// Most lines the direct format leaves to slog still hold no
		// secret: they go on as they are, not copied attribute by
		// attribute.
		return h.next.Handle(ctx, r)
	}
	out := slog.NewRecord(r.Time, r.Level, r.Message, r.PC)
	r.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(h.attr(a))
		return true
	})
	return h.next.Handle(ctx, out)
}

// The server writes its access lines through the root logger's handler.
var _ server.AccessLineWriter = (*redactingHandler)(nil)

// WriteAccessLine writes the server's access lines in the direct format,
// as Handle would write l.Record(), without the record; a line holding
// a secret, or from a logger made from the root one, is left to Handle.
func (h *redactingHandler) WriteAccessLine(l server.AccessLine) (bool, error) {
	if h.direct == nil {
		return false, nil
	}
	return h.direct.writeAccess(l, h.redact)
}

// changes reports whether redacting would change any attribute of r.
func (h *redactingHandler) changes(r slog.Record) bool {
	changed := false
	r.Attrs(func(a slog.Attr) bool {
		if list, ok := stringList(a.Value); ok {
			// Equal would compare the slices themselves, and panic.
			changed = slices.ContainsFunc(list, func(s string) bool { return h.redact(s) != s })
		} else {
			changed = !a.Equal(h.attr(a))
		}
		return !changed
	})
	return changed
}

// stringList is v's list of strings, if it holds one. Any is asked of
// KindAny values only: it boxes every other kind, which allocates.
func stringList(v slog.Value) ([]string, bool) {
	if v = v.Resolve(); v.Kind() != slog.KindAny {
		return nil, false
	}
	list, ok := v.Any().([]string)
	return list, ok
}

func (h *redactingHandler) attr(a slog.Attr) slog.Attr {
	v := a.Value.Resolve()
	switch v.Kind() {
	case slog.KindString:
		return slog.String(a.Key, h.redact(v.String()))
	case slog.KindGroup:
		attrs := v.Group()
		out := make([]any, len(attrs))
		for i, g := range attrs {
			out[i] = h.attr(g)
		}
		return slog.Group(a.Key, out...)
	case slog.KindAny:
		switch x := v.Any().(type) {
		case error:
			return slog.String(a.Key, h.redact(x.Error()))
		case []string:
			// A list (fal_request_ids) stays a list: an array in JSON.
			out := make([]string, len(x))
			for i, s := range x {
				out[i] = h.redact(s)
			}
			return slog.Any(a.Key, out)
		}
		return slog.String(a.Key, h.redact(v.String()))
	}
	return a
}

func (h *redactingHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	red := make([]slog.Attr, len(attrs))
	for i, a := range attrs {
		red[i] = h.attr(a)
	}
	return &redactingHandler{next: h.next.WithAttrs(red), redact: h.redact}
}

func (h *redactingHandler) WithGroup(name string) slog.Handler {
	return &redactingHandler{next: h.next.WithGroup(name), redact: h.redact}
}
