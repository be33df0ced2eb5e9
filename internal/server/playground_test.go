package server_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/falproxy/falproxy/internal/server"
)

// servePlayground answers one request from a falproxy with the playground
// on or off. The page needs no fal, so none is wired.
func servePlayground(t *testing.T, enabled bool, method, target string, header http.Header) *http.Response {
	t.Helper()
	h := server.New(server.Options{AccessKeys: []string{accessKey}, Playground: enabled})
	req := httptest.NewRequest(method, target, nil)
	for k, v := range header {
		req.Header[k] = v
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Result()
}

func pageBody(t *testing.T, resp *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestPlaygroundRoutes(t *testing.T) {
	tests := []struct {
		name     string
		enabled  bool
		method   string
		path     string
		status   int
		ctype    string
		contains string // in the body
	}{
		{"page", true, "GET", "/", 200, "text/html; charset=utf-8", "<title>falproxy playground</title>"},
		{"page with a query", true, "GET", "/?tab=chat", 200, "text/html; charset=utf-8", "<title>falproxy playground</title>"},
		{"page head", true, "HEAD", "/", 200, "text/html; charset=utf-8", ""},
		{"script", true, "GET", "/playground/app.js", 200, "text/javascript; charset=utf-8", "sessionStorage"},
		{"stylesheet", true, "GET", "/playground/app.css", 200, "text/css; charset=utf-8", ":root"},
		{"page under the asset prefix", true, "GET", "/playground/index.html", 404, "application/json", "unknown_url"},
		{"unknown asset", true, "GET", "/playground/missing.js", 404, "application/json", "unknown_url"},
		{"asset folder", true, "GET", "/playground/", 404, "application/json", "unknown_url"},
		{"asset prefix", true, "GET", "/playground", 404, "application/json", "unknown_url"},
		{"nested asset path", true, "GET", "/playground/a/app.js", 404, "application/json", "unknown_url"},
		{"other path", true, "GET", "/index.html", 404, "application/json", "unknown_url"},
		{"post to the page", true, "POST", "/", 404, "application/json", "unknown_url"},
		{"disabled page", false, "GET", "/", 404, "application/json", "Unknown route: GET /"},
		{"disabled asset", false, "GET", "/playground/app.js", 404, "application/json", "unknown_url"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := servePlayground(t, tt.enabled, tt.method, tt.path, nil)
			body := pageBody(t, resp)
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tt.status, body)
			}
			if got := resp.Header.Get("Content-Type"); got != tt.ctype {
				t.Errorf("Content-Type %q, want %q", got, tt.ctype)
			}
			if !strings.Contains(body, tt.contains) {
				t.Errorf("body lacks %q: %.200s", tt.contains, body)
			}
			csp := resp.Header.Get("Content-Security-Policy")
			if served := tt.status == 200; served != (csp != "") {
				t.Errorf("served=%v but Content-Security-Policy=%q", served, csp)
			}
			if tt.status == 404 {
				decodeError(t, []byte(body))
			}
			if tt.status == 200 && resp.Header.Get("X-Content-Type-Options") != "nosniff" {
				t.Error("X-Content-Type-Options: nosniff missing")
			}
		})
	}
}

// parseCSP splits a Content-Security-Policy header into its directives.
func parseCSP(header string) map[string][]string {
	out := map[string][]string{}
	for d := range strings.SplitSeq(header, ";") {
		f := strings.Fields(d)
		if len(f) > 0 {
			out[f[0]] = f[1:]
		}
	}
	return out
}

func TestPlaygroundCSP(t *testing.T) {
	csp := parseCSP(servePlayground(t, true, "GET", "/", nil).Header.Get("Content-Security-Policy"))
	want := map[string][]string{
		"default-src":     {"'self'"},
		"script-src":      {"'self'"},
		"style-src":       {"'self'"},
		"img-src":         {"'self'", "data:", "http:", "https:"},
		"connect-src":     {"'self'"},
		"object-src":      {"'none'"},
		"base-uri":        {"'none'"},
		"frame-ancestors": {"'none'"},
	}
	for name, sources := range want {
		if !slices.Equal(csp[name], sources) {
			t.Errorf("%s is %q, want %q", name, csp[name], sources)
		}
	}
	for name, sources := range csp {
		for _, s := range sources {
			if strings.HasPrefix(s, "'unsafe-") || s == "*" {
				t.Errorf("%s allows %s", name, s)
			}
		}
	}
}

// TestPlaygroundIsSelfContained checks that the page loads only its own
// files (no CDN, fonts or scripts from elsewhere), that every file it links
// is served with the right type, and that it has no inline script or style,
// which its CSP would block.
func TestPlaygroundIsSelfContained(t *testing.T) {
	page := pageBody(t, servePlayground(t, true, "GET", "/", nil))
	links := regexp.MustCompile(`(?:src|href)="([^"]*)"`).FindAllStringSubmatch(page, -1)
	wantTypes := map[string]string{".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}
	assets := map[string]bool{}
	for _, m := range links {
		link := m[1]
		if link == "data:," { // the empty favicon, so the browser asks for none
			continue
		}
		if strings.Contains(link, "//") || !strings.HasPrefix(link, "playground/") {
			t.Errorf("the page links %q, which is not one of its own files", link)
			continue
		}
		resp := servePlayground(t, true, "GET", "/"+link, nil)
		ext := link[strings.LastIndexByte(link, '.'):]
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != wantTypes[ext] {
			t.Errorf("%s: status %d, type %q", link, resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		body := pageBody(t, resp)
		if strings.Contains(body, "@import") || regexp.MustCompile(`url\(\s*['"]?(https?:)?//`).MatchString(body) {
			t.Errorf("%s loads something from elsewhere", link)
		}
		assets[link] = true
	}
	if !assets["playground/app.js"] || !assets["playground/app.css"] {
		t.Errorf("the page links %v of its own files, want the script and the stylesheet among them", assets)
	}
	for _, inline := range []*regexp.Regexp{
		regexp.MustCompile(`<script(?:\s[^>]*)?>\s*[^<\s]`), // a script with a body
		regexp.MustCompile(`<style`),
		regexp.MustCompile(`\sstyle="`),
		regexp.MustCompile(`\son[a-z]+="`), // inline event handlers
	} {
		if loc := inline.FindString(page); loc != "" {
			t.Errorf("the page has inline code the CSP blocks: %q", loc)
		}
	}
}

func TestPlaygroundRevalidates(t *testing.T) {
	first := servePlayground(t, true, "GET", "/playground/app.js", nil)
	etag := first.Header.Get("ETag")
	if etag == "" || first.Header.Get("Cache-Control") != "no-cache" {
		t.Fatalf("ETag %q, Cache-Control %q", etag, first.Header.Get("Cache-Control"))
	}
	again := servePlayground(t, true, "GET", "/playground/app.js", http.Header{"If-None-Match": {etag}})
	if again.StatusCode != http.StatusNotModified {
		t.Errorf("status %d for a current ETag, want 304", again.StatusCode)
	}
	other := servePlayground(t, true, "GET", "/playground/app.css", nil)
	if other.Header.Get("ETag") == etag {
		t.Error("two different files share an ETag")
	}
}

// TestPlaygroundLeavesAPIAlone checks that turning the page on changes no
// API answer: models still need the key and answer JSON.
func TestPlaygroundLeavesAPIAlone(t *testing.T) {
	resp := servePlayground(t, true, "GET", "/v1/models", nil)
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("status %d without a key, want 401", resp.StatusCode)
	}
	decodeError(t, []byte(pageBody(t, resp)))
	resp = servePlayground(t, true, "GET", "/v1/models", http.Header{"Authorization": {"Bearer " + accessKey}})
	var list struct {
		Object string `json:"object"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&list); err != nil || list.Object != "list" {
		t.Errorf("models answer %d: %v %+v", resp.StatusCode, err, list)
	}
	if resp.Header.Get("Content-Security-Policy") != "" {
		t.Error("API answers carry the page's CSP")
	}
}
