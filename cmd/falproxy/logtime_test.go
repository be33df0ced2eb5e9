package main

import (
	"log/slog"
	"testing"
	"time"
	_ "time/tzdata" // the zones the test reads, whatever the machine has
)

// TestLineTimesMatchSlog: times formatted from the stamp of an earlier
// line come out as slog writes them, across minutes, changes of a zone's
// offset (whole hours, half hours, offsets with seconds changed within
// a minute), changes of location from line to line,
// and the ends of the years the formats write in four digits.
func TestLineTimesMatchSlog(t *testing.T) {
	load := func(name string) *time.Location {
		loc, err := time.LoadLocation(name)
		if err != nil {
			t.Fatalf("time zone %s: %v", name, err)
		}
		return loc
	}
	spans := []struct {
		name string
		at   time.Time // the middle of the span
	}{
		{"UTC", time.Date(2026, 12, 1, 19, 24, 59, 999_500_000, time.UTC)},
		{"local", time.Date(2026, 12, 1, 19, 24, 59, 0, time.Local)},
		{"a summer time begins", time.Date(2026, 3, 8, 7, 0, 0, 0, time.UTC).In(load("America/New_York"))},
		{"a summer time ends", time.Date(2026, 11, 1, 6, 0, 0, 0, time.UTC).In(load("America/New_York"))},
		{"half an hour", time.Date(2026, 4, 4, 15, 0, 0, 0, time.UTC).In(load("Australia/Lord_Howe"))},
		// Offsets with seconds, changed within a minute of the old
		// offset (Bissau) and of the new one (Abidjan).
		{"an old minute cut short", time.Date(1912, 1, 1, 1, 0, 0, 0, time.UTC).In(load("Africa/Bissau"))},
		{"a new minute begun late", time.Date(1912, 1, 1, 0, 16, 8, 0, time.UTC).In(load("Africa/Abidjan"))},
		{"a fixed offset with seconds", time.Date(2026, 1, 1, 0, 0, 0, 0, time.FixedZone("", -(44*60+30)))},
		{"year 0", time.Date(0, 1, 1, 0, 0, 30, 0, time.UTC)},
		{"year 9999 ends", time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC)},
		{"before year 0", time.Date(-1, 12, 31, 23, 59, 59, 0, time.UTC)},
	}
	for _, span := range spans {
		t.Run(span.name, func(t *testing.T) {
			for _, asJSON := range []bool{false, true} {
				f := &lineFormat{json: asJSON}
				// Forth and back (a stamp must not hold for an earlier
				// offset either), in steps of an odd length, so that
				// the nanoseconds gain and lose trailing zeros.
				for i := range 260 {
					d := time.Duration(i%130-65) * (2*time.Second + 300_070_001)
					if i >= 130 {
						d = -d
					}
					at := span.at.Add(d)
					if i%7 == 3 {
						at = at.UTC()
					}
					r := slog.NewRecord(at, slog.LevelInfo, "request", 0)
					if y := r.Time.Year(); asJSON && (y < 0 || y >= 10000) {
						if _, ok := f.appendRecord(nil, r, unchanged); ok {
							t.Fatalf("the JSON format took the year %d", y)
						}
						continue
					}
					got, ok := f.appendRecord(nil, r, unchanged)
					if want := slogLine(t, r, asJSON); !ok || string(got) != want {
						t.Fatalf("json=%v: the direct format wrote\n%q (%v)\nslog writes\n%q", asJSON, got, ok, want)
					}
				}
			}
		})
	}
}
