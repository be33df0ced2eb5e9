package main

import (
	"time"
)

// A line's time changes only in its seconds and their fraction for a
// minute: the rest, formatted once, is kept in a minuteStamp, and a line
// formats only the digits after it, in exactly the bytes time's own
// format gives (see appendTime).

// minuteStamp is the formatted part of the times of one minute in one
// location: all but the seconds and their fraction.
type minuteStamp struct {
	loc *time.Location
	// start is the Unix second of the minute's second 0 in loc, which
	// may be at any second of UTC's minute (a zone's offset may hold
	// seconds). The stamp holds from from to to (excluded): the minute,
	// or less of it when loc changes its offset in it.
	start, from, to int64
	head            string // as "2006-01-02T15:04:"
	zone            string // as "Z07:00"
}

// stampOf is the stamp of t's minute, or nil for a year outside
// 0–9999, whose formats are not of a fixed width.
func stampOf(t time.Time) *minuteStamp {
	if y := t.Year(); y < 0 || y >= 10000 {
		return nil
	}
	m := &minuteStamp{loc: t.Location(), start: t.Unix() - int64(t.Second())}
	m.from, m.to = m.start, m.start+60
	zoneStart, zoneEnd := t.ZoneBounds() // zero: no bound
	if !zoneStart.IsZero() {
		m.from = max(m.from, zoneStart.Unix())
	}
	if !zoneEnd.IsZero() {
		m.to = min(m.to, zoneEnd.Unix())
	}
	full := t.AppendFormat(make([]byte, 0, len(time.RFC3339)), time.RFC3339)
	m.head = string(full[:len("2006-01-02T15:04:")])
	m.zone = string(full[len("2006-01-02T15:04:05"):])
	return m
}

// holds reports whether the stamp is the one of the time in loc at the
// Unix second sec.
func (m *minuteStamp) holds(loc *time.Location, sec int64) bool {
	return m != nil && m.loc == loc && m.from <= sec && sec < m.to
}

// appendStamped appends t, whose minute m holds, as time.RFC3339Nano
// formats it, or with millis, as slog's text handler does: in
// milliseconds, with their trailing zeros.
func (m *minuteStamp) appendStamped(b []byte, t time.Time, millis bool) []byte {
	b = append(b, m.head...)
	b = appendDigits(b, int(t.Unix()-m.start), 2)
	if ns := t.Nanosecond(); millis {
		b = appendDigits(append(b, '.'), ns/int(time.Millisecond), 3)
	} else if ns != 0 {
		// RFC3339Nano drops trailing zeros, and the point with them.
		digits := 9
		for ns%10 == 0 {
			ns /= 10
			digits--
		}
		b = appendDigits(append(b, '.'), ns, digits)
	}
	return append(b, m.zone...)
}

// appendDigits appends n, at most width digits, padded with zeros.
func appendDigits(b []byte, n, width int) []byte {
	var buf [9]byte
	for i := width - 1; i >= 0; i-- {
		buf[i] = byte('0' + n%10)
		n /= 10
	}
	return append(b, buf[:width]...)
}
