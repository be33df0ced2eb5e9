package server

import (
	"bytes"
	"encoding/json"
	"regexp"
	"strconv"
	"unicode/utf8"

	"github.com/falproxy/falproxy/internal/textcut"
)

// Bounds of a logged payload: prompts and inputs can be megabytes, and one
// debug line per request must stay readable and cheap to store.
const (
	maxLoggedString  = 256     // characters of one string value
	maxLoggedPayload = 8 << 10 // bytes of the whole payload
)

// longDataURI matches the payload of an inline data: URI long enough to
// flood a log line (edit inputs and sync_mode results are whole images).
var longDataURI = regexp.MustCompile(`(data:[a-zA-Z0-9.+/-]*;base64,)[A-Za-z0-9+/=]{64,}`)

// jsonString matches one JSON string literal.
var jsonString = regexp.MustCompile(`"(?:[^"\\]|\\.)*"`)

// urlUserinfo matches the user:password@ part of a URL.
var urlUserinfo = regexp.MustCompile(`([a-zA-Z][a-zA-Z0-9+.-]*://)[^/?#\s@"]+@`)

// loggable prepares a JSON payload for a debug log line: secrets removed,
// credentials stripped from URLs, inline images shortened to their length,
// every other string value cut to maxLoggedString characters, and the
// whole cut to maxLoggedPayload bytes. Secrets are removed first, so that
// a cut never leaves part of one behind.
func (s *Server) loggable(payload []byte) string {
	redacted := []byte(s.opt.Redact(string(payload)))
	short := jsonString.ReplaceAllFunc(redacted, func(lit []byte) []byte {
		var v string
		if json.Unmarshal(lit, &v) != nil {
			return lit
		}
		return jsonLiteral(shortenLogged(v))
	})
	return capBytes(short, maxLoggedPayload)
}

// shortenLogged is one string value as it is logged: URL credentials
// removed, a data URI's base64 replaced by its length, at most
// maxLoggedString characters.
func shortenLogged(v string) string {
	v = urlUserinfo.ReplaceAllString(v, "$1")
	v = longDataURI.ReplaceAllStringFunc(v, func(m string) string {
		head := longDataURI.FindStringSubmatch(m)[1]
		return head + "…(" + strconv.Itoa(len(m)-len(head)) + " base64 chars)"
	})
	if n := utf8.RuneCountInString(v); n > maxLoggedString {
		v = textcut.Runes(v, maxLoggedString) + "…(" + strconv.Itoa(n-maxLoggedString) + " more)"
	}
	return v
}

// jsonLiteral encodes v as a JSON string without HTML escaping, so that
// the log shows < > & as they were sent.
func jsonLiteral(v string) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}

// capBytes is b cut to at most limit bytes at a character boundary, with a
// note of how much was left out.
func capBytes(b []byte, limit int) string {
	if len(b) <= limit {
		return string(b)
	}
	cut := textcut.Bytes(string(b), limit)
	return cut + "…(" + strconv.Itoa(len(b)-len(cut)) + " more bytes)"
}
