package server

import (
	"regexp"
	"strconv"
)

// longDataURI matches the payload of an inline data: URI long enough to
// flood a log line (edit inputs and sync_mode results are whole images).
var longDataURI = regexp.MustCompile(`(data:[a-zA-Z0-9.+/-]*;base64,)[A-Za-z0-9+/=]{64,}`)

// loggable prepares a JSON payload for a debug log line: secrets removed,
// inline images shortened to their length.
func (s *Server) loggable(payload []byte) string {
	short := longDataURI.ReplaceAllFunc(payload, func(m []byte) []byte {
		head := longDataURI.FindSubmatch(m)[1]
		return append(append([]byte(nil), head...), "…("+strconv.Itoa(len(m)-len(head))+" base64 chars)"...)
	})
	return s.opt.Redact(string(short))
}
