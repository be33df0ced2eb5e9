package config

import (
	"slices"
	"testing"
	"time"
)

func TestParseBool(t *testing.T) {
	tests := []struct {
		in       string
		want, ok bool
	}{
		{"true", true, true}, {"TRUE", true, true}, {"1", true, true}, {"yes", true, true}, {"On", true, true},
		{"false", false, true}, {"False", false, true}, {"0", false, true}, {"NO", false, true}, {"off", false, true},
		{"", false, false}, {"t", false, false}, {"2", false, false}, {"enabled", false, false}, {" true", false, false},
	}
	for _, tt := range tests {
		got, ok := parseBool(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("parseBool(%q) = %v, %v; want %v, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestParseDuration(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"30", 30 * time.Second, true},
		{"0", 0, true},
		{"+5", 5 * time.Second, true},
		{"-3", -3 * time.Second, true}, // the range check is the loader's
		{"1h30m", 90 * time.Minute, true},
		{"250ms", 250 * time.Millisecond, true},
		{"1.5s", 1500 * time.Millisecond, true},
		{"9223372037", 0, false}, // seconds that overflow a Duration
		{"30 s", 0, false},
		{"5 minutes", 0, false},
		{"", 0, false},
	}
	for _, tt := range tests {
		got, ok := parseDuration(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("parseDuration(%q) = %v, %v; want %v, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestParseSize(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		ok   bool
	}{
		{"1024", 1024, true},
		{"0", 0, true}, // the positivity check is the loader's
		{"10B", 10, true},
		{"512KB", 512_000, true},
		{"512kb", 512_000, true},
		{"3 MB", 3_000_000, true},
		{"2GB", 2_000_000_000, true},
		{"4KiB", 4096, true},
		{"50MiB", 50 << 20, true},
		{"1gib", 1 << 30, true},
		{"10M", 0, false},
		{"10K", 0, false},
		{"1.5MiB", 0, false},
		{"-1", 0, false},
		{"MiB", 0, false},
		{"", 0, false},
		{"10 TiB", 0, false},
		{"9223372036854775807", 9223372036854775807, true},
		{"9223372036854775807KiB", 0, false},
		{"99999999999999999999", 0, false},
	}
	for _, tt := range tests {
		got, ok := parseSize(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("parseSize(%q) = %v, %v; want %v, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestParseBaseURL(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"https://queue.fal.run", "https://queue.fal.run", true},
		{"https://queue.fal.run/", "https://queue.fal.run", true},
		{"http://127.0.0.1:8080/fal//", "http://127.0.0.1:8080/fal", true},
		{"http://[::1]:9000", "http://[::1]:9000", true},
		{"queue.fal.run", "", false},
		{"/relative", "", false},
		{"ws://fal.run", "", false},
		{"mailto:ops@example.com", "", false},
		{"https://fal.run?x=1", "", false},
		{"https://fal.run?", "", false},
		{"https://fal.run#top", "", false},
		{"https://", "", false},
		{"http://bad host", "", false},
	}
	for _, tt := range tests {
		got, ok := parseBaseURL(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("parseBaseURL(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestParseOrigin(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"https://app.example.com", "https://app.example.com", true},
		{"https://app.example.com/", "https://app.example.com", true},
		{"http://localhost:5173", "http://localhost:5173", true},
		{"https://app.example.com/path", "", false},
		{"https://user@app.example.com", "", false},
		{"app.example.com", "", false},
		{"null", "", false},
	}
	for _, tt := range tests {
		got, ok := parseOrigin(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("parseOrigin(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestSplitList(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"", nil},
		{" , ,", nil},
		{"a", []string{"a"}},
		{" a ,b,, c ", []string{"a", "b", "c"}},
	}
	for _, tt := range tests {
		if got := splitList(tt.in); !slices.Equal(got, tt.want) {
			t.Errorf("splitList(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestUnescape(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain", "plain"},
		{`a\nb`, "a\nb"},
		{`\r\n\t`, "\r\n\t"},
		{`back\\slash`, `back\slash`},
		{`\\n`, `\n`},
		{`keep\x`, `keep\x`},
		{`trailing\`, `trailing\`},
		{"already\nreal", "already\nreal"},
		{`\n\n-------下面-----\n\n`, "\n\n-------下面-----\n\n"},
	}
	for _, tt := range tests {
		if got := unescape(tt.in); got != tt.want {
			t.Errorf("unescape(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
