package server

import (
	"log/slog"
	"time"
)

// AccessLine is the access log line of one request.
type AccessLine struct {
	Time      time.Time
	Level     slog.Level
	RequestID string
	Method    string
	Path      string
	Status    int
	Elapsed   time.Duration
	// Model and FalRequestIDs are what the handler noted, if anything.
	Model         string
	FalRequestIDs []string
}

// AccessMessage is the message of every access line.
const AccessMessage = "request"

// AccessLineWriter is a slog.Handler that can write an access line
// without a slog.Record: building a record and walking its attributes
// is a good part of what the line costs on the cheapest routes. The
// server asks its logger's handler for it once.
type AccessLineWriter interface {
	// WriteAccessLine writes l as the handler would write l.Record(),
	// or reports false having written nothing; the line then goes to
	// the handler's Handle.
	WriteAccessLine(l AccessLine) (bool, error)
}

// Attrs are the line's attributes, in their order, in buf: an array on
// the caller's stack, so that they cost no allocation.
func (l *AccessLine) Attrs(buf *[8]slog.Attr) []slog.Attr {
	attrs := append(buf[:0], slog.String("request_id", l.RequestID), slog.String("method", l.Method),
		slog.String("path", l.Path), slog.Int("status", l.Status),
		slog.Float64("duration_ms", float64(l.Elapsed.Microseconds())/1000))
	if l.Model != "" {
		attrs = append(attrs, slog.String("model", l.Model))
	}
	// fal_request_id is one id, as its name says, to search fal's
	// dashboard with; a request that ran several jobs lists them all in
	// fal_request_ids.
	if len(l.FalRequestIDs) > 0 {
		attrs = append(attrs, slog.String("fal_request_id", l.FalRequestIDs[0]))
	}
	if len(l.FalRequestIDs) > 1 {
		attrs = append(attrs, slog.Any("fal_request_ids", l.FalRequestIDs))
	}
	return attrs
}

// Record is the line as a slog.Record, for any handler.
func (l *AccessLine) Record() slog.Record {
	var buf [8]slog.Attr
	r := slog.NewRecord(l.Time, l.Level, AccessMessage, 0)
	r.AddAttrs(l.Attrs(&buf)...)
	return r
}
