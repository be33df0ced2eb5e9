package falfake

import (
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
	"sync"
)

// storedFile is an uploaded file; data is nil until its PUT arrives.
type storedFile struct {
	contentType string
	data        []byte
}

// fileStore holds uploads by CDN path, and upload tokens by the path they
// fill.
type fileStore struct {
	mu      sync.RWMutex
	byPath  map[string]*storedFile
	byToken map[string]string
}

func (s *fileStore) init() {
	s.byPath = map[string]*storedFile{}
	s.byToken = map[string]string{}
}

// reserve registers an upload that token will fill at path.
func (s *fileStore) reserve(token, path, contentType string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.byPath[path] = &storedFile{contentType: contentType}
	s.byToken[token] = path
}

// fill stores the bytes of an upload; false for an unknown token.
func (s *fileStore) fill(token string, data []byte, contentType string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.byToken[token]
	if !ok {
		return false
	}
	sf := s.byPath[p]
	sf.data = data
	if sf.contentType == "" {
		sf.contentType = contentType
	}
	return true
}

// get returns an uploaded file whose bytes have arrived.
func (s *fileStore) get(path string) (storedFile, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	sf, ok := s.byPath[path]
	if !ok || sf.data == nil {
		return storedFile{}, false
	}
	return *sf, true
}

// fileRef is what a URL given to a model points at: bytes (an upload or a
// data URI) or a generated image.
type fileRef struct {
	data []byte
	spec *imageSpec
}

// lookupURL resolves a URL the emulator can answer for itself: a data URI,
// or a /files/ URL on the emulator's own host. local reports whether the
// URL is of that kind; ok whether it resolved.
func (f *Fake) lookupURL(raw, cdnBase string) (ref fileRef, local, ok bool) {
	if strings.HasPrefix(raw, "data:") {
		data, ok := parseDataURI(raw)
		return fileRef{data: data}, true, ok
	}
	u, err := url.Parse(raw)
	if err != nil || !f.isOwnHost(u.Host, cdnBase) {
		return fileRef{}, false, false
	}
	if sf, ok := f.files.get(u.Path); ok {
		return fileRef{data: sf.data}, true, true
	}
	if spec, ok := parseImagePath(u.Path); ok && strings.HasPrefix(u.Path, "/files/") {
		return fileRef{spec: &spec}, true, true
	}
	return fileRef{}, true, false
}

// isOwnHost reports whether host is the emulator's, as listened on or as
// the current client addresses it.
func (f *Fake) isOwnHost(host, cdnBase string) bool {
	return host != "" && (host == strings.TrimPrefix(f.base, "http://") || host == strings.TrimPrefix(cdnBase, "http://"))
}

// parseDataURI decodes data:[<type>][;base64],<data>.
func parseDataURI(s string) ([]byte, bool) {
	meta, payload, ok := strings.Cut(strings.TrimPrefix(s, "data:"), ",")
	if !ok {
		return nil, false
	}
	if strings.HasSuffix(meta, ";base64") {
		b, err := base64.StdEncoding.DecodeString(payload)
		if err != nil {
			b, err = base64.RawStdEncoding.DecodeString(payload)
		}
		return b, err == nil
	}
	b, err := url.PathUnescape(payload)
	return []byte(b), err == nil
}

// checkInputURLs fails inputs whose file URLs (fields named *_url, or
// *_urls lists) cannot be fetched: the emulator's own files must exist,
// data URIs must decode, and anything else must at least be an http(s)
// URL. Other hosts are not contacted.
func (f *Fake) checkInputURLs(in node, cdnBase string) []detail {
	var errs []detail
	check := func(loc []any, v any) {
		s, ok := v.(string)
		if !ok {
			return
		}
		_, local, found := f.lookupURL(s, cdnBase)
		if local && found {
			return
		}
		if !local {
			if u, err := url.Parse(s); err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" {
				return
			}
		}
		errs = append(errs, detail{
			Type: "file_download_error", Loc: loc, Input: s,
			Msg: "Failed to download the file. Please check if the URL is accessible.",
		})
	}
	for _, name := range sortedKeys(in) {
		switch v := in[name].(type) {
		case string:
			if strings.HasSuffix(name, "_url") {
				check([]any{"body", name}, v)
			}
		case []any:
			if strings.HasSuffix(name, "_urls") {
				for i, el := range v {
					check([]any{"body", name, i}, el)
				}
			}
		}
	}
	return errs
}

// serveFile answers GET /files/...: an uploaded file with its content
// type, or a generated image rendered now. Files are public, as on fal's
// CDN.
func (f *Fake) serveFile(w http.ResponseWriter, c *call) {
	p := c.r.URL.Path
	if serveVideoAsset(w, c.r) {
		return
	}
	if sf, ok := f.files.get(p); ok {
		writeBody(w, http.StatusOK, sf.contentType, sf.data)
		return
	}
	spec, ok := parseImagePath(p)
	if !ok {
		writeJSON(w, http.StatusNotFound, detailMsg("File not found"))
		return
	}
	b, err := spec.bytes()
	if err != nil {
		f.log.Error("falfake: rendering image", "path", p, "err", err)
		writeJSON(w, http.StatusInternalServerError, detailMsg("Internal server error"))
		return
	}
	writeBody(w, http.StatusOK, spec.contentType(), b)
}
