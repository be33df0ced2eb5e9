package server

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"time"
)

// playgroundFiles is the playground page and its assets. They are plain
// files with no build step, served as they are.
//
//go:embed playground
var playgroundFiles embed.FS

// playgroundCSP locks the page down to its own files. Result images may come
// from fal's CDN (any http(s) origin) or inline as data: URLs; every API call
// goes to this same origin; speech plays from a blob: URL of its bytes.
// No inline script or style is allowed, so an injected tag cannot run.
const playgroundCSP = "default-src 'self'; script-src 'self'; style-src 'self'; " +
	"img-src 'self' data: http: https:; media-src 'self' blob:; connect-src 'self'; object-src 'none'; " +
	"base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// playgroundContentType returns the content type of an asset name, and
// whether a file of that kind may be served at all.
func playgroundContentType(name string) (string, bool) {
	switch path.Ext(name) {
	case ".html":
		return "text/html; charset=utf-8", true
	case ".css":
		return "text/css; charset=utf-8", true
	case ".js":
		return "text/javascript; charset=utf-8", true
	case ".svg":
		return "image/svg+xml", true
	}
	return "", false
}

// handlePlayground serves the playground page itself, at exactly "/".
func (s *Server) handlePlayground(w http.ResponseWriter, r *http.Request) {
	if !servePlaygroundFile(w, r, "index.html") {
		handleNotFound(w, r)
	}
}

// handleAdminPage serves the admin page at "/admin": keys, their limits
// and spend, through the admin API, which the page calls with the admin
// key the user enters.
func (s *Server) handleAdminPage(w http.ResponseWriter, r *http.Request) {
	if !servePlaygroundFile(w, r, "admin.html") {
		handleNotFound(w, r)
	}
}

// handlePlaygroundAsset serves the pages' stylesheet and scripts under
// /playground/. The pages themselves are only served at "/" and "/admin",
// where their relative links resolve; anything unknown gets the API's JSON 404.
func (s *Server) handlePlaygroundAsset(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("file")
	if path.Ext(name) == ".html" || !servePlaygroundFile(w, r, name) {
		handleNotFound(w, r)
	}
}

// servePlaygroundFile writes one embedded file with its security headers.
// It reports false, having written nothing, when there is no such file.
func servePlaygroundFile(w http.ResponseWriter, r *http.Request, name string) bool {
	ct, ok := playgroundContentType(name)
	if !ok || strings.ContainsAny(name, `/\`) {
		return false
	}
	b, err := fs.ReadFile(playgroundFiles, "playground/"+name)
	if err != nil {
		return false
	}
	sum := sha256.Sum256(b)
	h := w.Header()
	h.Set("Content-Type", ct)
	h.Set("Content-Security-Policy", playgroundCSP)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-cache")
	h.Set("ETag", `"`+hex.EncodeToString(sum[:16])+`"`)
	http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(b))
	return true
}
