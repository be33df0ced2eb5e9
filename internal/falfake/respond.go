package falfake

import (
	"encoding/json"
	"net/http"
	"strconv"
)

// writeJSON answers status with v encoded as JSON.
func writeJSON(w http.ResponseWriter, status int, v any) {
	writeBody(w, status, "application/json", mustJSON(v))
}

// writeBody answers status with body of the given content type.
func writeBody(w http.ResponseWriter, status int, contentType string, body []byte) {
	h := w.Header()
	h.Set("Content-Type", contentType)
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// detailMsg is fal's {"detail": "..."} error body.
func detailMsg(msg string) map[string]string { return map[string]string{"detail": msg} }

// notFoundBody is the queue's answer for an unknown request id.
const notFoundBody = `{"status":"NOT_FOUND"}`

// mustJSON encodes the emulator's own values, which cannot fail.
func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic("falfake: encoding output: " + err.Error())
	}
	return b
}
