package falfake

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"net/http"
	"path"
	"strings"
)

// initiateRequest is the body of POST /storage/upload/initiate.
type initiateRequest struct {
	FileName    string `json:"file_name"`
	ContentType string `json:"content_type"`
}

// initiateUpload answers fal's first upload step with a URL to PUT the
// bytes to and the CDN URL the file will have.
func (f *Fake) initiateUpload(w http.ResponseWriter, c *call) {
	if !f.authorize(w, c) {
		return
	}
	var req initiateRequest
	if err := json.Unmarshal(c.body, &req); err != nil {
		writeJSON(w, http.StatusUnprocessableEntity, map[string]any{"detail": []detail{{
			Type: "json_invalid", Loc: []any{"body"}, Msg: "JSON decode error", Input: string(c.body),
			Ctx: map[string]any{"error": err.Error()},
		}}})
		return
	}
	if req.ContentType == "" {
		req.ContentType = "application/octet-stream"
	}
	token := randomID(21)
	var n [8]byte
	_, _ = rand.Read(n[:])
	filePath := "/files/" + animal(binary.LittleEndian.Uint64(n[:])) + "/" + token + "_" + safeFileName(req.FileName)
	f.files.reserve(token, filePath, req.ContentType)
	writeJSON(w, http.StatusOK, map[string]string{
		"upload_url": f.answerBase(c) + "/rest/storage/upload/put/" + token,
		"file_url":   c.base + filePath,
	})
}

// putUpload stores the bytes of an initiated upload. Like a pre-signed URL
// it needs no key; the body cap is the request cap (64 MiB).
func (f *Fake) putUpload(w http.ResponseWriter, c *call) {
	if !f.files.fill(c.r.PathValue("token"), c.body, c.r.Header.Get("Content-Type")) {
		writeJSON(w, http.StatusNotFound, detailMsg("Upload not found"))
		return
	}
	w.WriteHeader(http.StatusOK)
}

// safeFileName keeps a file name's base with URL-safe characters only.
func safeFileName(name string) string {
	name = path.Base(strings.ReplaceAll(name, "\\", "/"))
	var b strings.Builder
	for _, r := range name {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '-', r == '_':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
		if b.Len() >= 100 {
			break
		}
	}
	s := strings.Trim(b.String(), ".")
	if s == "" {
		return "file"
	}
	return s
}
