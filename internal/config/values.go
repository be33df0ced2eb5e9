package config

import (
	"math"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// parseBool accepts true/false, 1/0, yes/no and on/off in any letter case.
func parseBool(s string) (bool, bool) {
	switch strings.ToLower(s) {
	case "true", "1", "yes", "on":
		return true, true
	case "false", "0", "no", "off":
		return false, true
	}
	return false, false
}

// parseDuration accepts Go duration syntax ("90s", "1h30m") and, for
// convenience in .env files, a bare integer counting seconds.
func parseDuration(s string) (time.Duration, bool) {
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		if n > math.MaxInt64/int64(time.Second) || n < math.MinInt64/int64(time.Second) {
			return 0, false
		}
		return time.Duration(n) * time.Second, true
	}
	d, err := time.ParseDuration(s)
	return d, err == nil
}

// sizeUnits maps the (lower-case) unit suffixes parseSize knows to bytes.
var sizeUnits = map[string]int64{
	"": 1, "b": 1,
	"kb": 1000, "mb": 1000 * 1000, "gb": 1000 * 1000 * 1000,
	"kib": 1 << 10, "mib": 1 << 20, "gib": 1 << 30,
}

// parseSize reads a whole number of bytes with an optional unit: decimal
// (KB, MB, GB) or binary (KiB, MiB, GiB), case-insensitive, with or without a
// space before the unit. Bare K/M/G are refused because they are ambiguous.
func parseSize(s string) (int64, bool) {
	digits := strings.IndexFunc(s, func(r rune) bool { return r < '0' || r > '9' })
	if digits == -1 {
		digits = len(s)
	}
	if digits == 0 {
		return 0, false
	}
	n, err := strconv.ParseInt(s[:digits], 10, 64)
	if err != nil {
		return 0, false
	}
	unit, ok := sizeUnits[strings.ToLower(strings.TrimSpace(s[digits:]))]
	if !ok || n > math.MaxInt64/unit {
		return 0, false
	}
	return n * unit, true
}

// parseBaseURL accepts an absolute http or https URL without query or
// fragment and returns it without trailing slashes, so that callers can
// append "/<path>" safely.
func parseBaseURL(s string) (string, bool) {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" ||
		u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || u.Opaque != "" {
		return "", false
	}
	return strings.TrimRight(s, "/"), true
}

// parseOrigin accepts a browser origin such as https://app.example.com:8443
// and returns it in the form browsers send (no trailing slash).
func parseOrigin(s string) (string, bool) {
	base, ok := parseBaseURL(s)
	if !ok {
		return "", false
	}
	u, _ := url.Parse(base)
	if u.Path != "" || u.User != nil {
		return "", false
	}
	return u.Scheme + "://" + u.Host, true
}

// splitList splits a comma-separated value, trims spaces around each entry
// and drops empty entries.
func splitList(s string) []string {
	var out []string
	for _, part := range strings.Split(s, ",") {
		if part = strings.TrimSpace(part); part != "" {
			out = append(out, part)
		}
	}
	return out
}

// hasSpace reports whether s contains white space or control characters,
// which no key, alias or id may contain.
func hasSpace(s string) bool {
	return strings.IndexFunc(s, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) >= 0
}

// unescape expands \n, \r, \t and \\ so that a multi-line value can be written
// on one line of a .env file. Other backslashes are kept as they are.
func unescape(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' || i+1 == len(s) {
			b.WriteByte(s[i])
			continue
		}
		switch s[i+1] {
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 't':
			b.WriteByte('\t')
		case '\\':
			b.WriteByte('\\')
		default:
			b.WriteByte('\\')
			continue
		}
		i++
	}
	return b.String()
}
