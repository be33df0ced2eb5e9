package fal

import (
	"errors"
	"net/url"
	"strings"
)

// ErrUntrustedURL means fal's answer named a URL on a host that is neither
// a configured upstream nor one of fal's own, so it was not followed.
var ErrUntrustedURL = errors.New("fal's answer named a URL outside fal's hosts")

// falDomains are the domains fal documents for its APIs and media; a URL
// on one of them (or a subdomain) is fal's when it uses https.
var falDomains = []string{"fal.run", "fal.ai", "fal.media"}

// trustedOrigins are the scheme://host of the configured upstreams, in
// lower case.
func trustedOrigins(bases ...string) []string {
	var out []string
	for _, b := range bases {
		if u, err := url.Parse(b); err == nil && u.Host != "" {
			out = append(out, strings.ToLower(u.Scheme+"://"+u.Host))
		}
	}
	return out
}

// followable reports whether a URL found in one of fal's answers may be
// called with a fal key: it must be on the scheme and host of a configured
// upstream (FAL_QUEUE_URL, FAL_RUN_URL, FAL_STORAGE_URL), or https on one
// of fal's documented domains. Any other URL could hand the key to a host
// that an answer (forged, or from a misbehaving upstream) chose.
func (c *Client) followable(raw string) bool {
	if c.onOrigin(raw) {
		return true
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.User != nil {
		return false
	}
	origin := strings.ToLower(u.Scheme + "://" + u.Host)
	for _, o := range c.origins {
		if origin == o {
			return true
		}
	}
	if !strings.EqualFold(u.Scheme, "https") || u.Port() != "" && u.Port() != "443" {
		return false
	}
	host := strings.ToLower(u.Hostname())
	for _, d := range falDomains {
		if host == d || strings.HasSuffix(host, "."+d) {
			return true
		}
	}
	return false
}

// onOrigin reports, without parsing raw, that it is a URL on a configured
// upstream that url.Parse would take as it is: the origin as configured, a
// slash, then only letters, digits and "-._~/?=&". fal's answers name
// their job URLs so, three in each submit answer; the check spares each
// a url.URL. Anything else (other case, a port, escapes) is parsed.
func (c *Client) onOrigin(raw string) bool {
	for _, o := range c.origins {
		if !plainOrigin(o) {
			continue // written as url.Parse decodes it: only parsing can tell
		}
		if len(raw) > len(o) && raw[len(o)] == '/' && raw[:len(o)] == o {
			return strings.IndexFunc(raw[len(o):], notPlainURLRune) < 0
		}
	}
	return false
}

// plainOrigin reports whether a configured origin reads in a URL as it is
// stored: it has a scheme and its host needs no escape (an IPv6 zone is
// stored decoded, "%en0" for "%25en0").
func plainOrigin(o string) bool {
	return !strings.HasPrefix(o, "://") && !strings.Contains(o, "%")
}

// notPlainURLRune reports a rune outside what onOrigin takes unparsed.
func notPlainURLRune(r rune) bool {
	switch {
	case 'a' <= r && r <= 'z', 'A' <= r && r <= 'Z', '0' <= r && r <= '9':
		return false
	}
	return !strings.ContainsRune("-._~/?=&", r)
}

// signedUploadPrefix is where fal's storage API has signed upload URLs for
// its CDN bucket (falserverless); the PUT to such a URL carries no key.
const signedUploadPrefix = "https://storage.googleapis.com/falserverless/"

// uploadable reports whether an upload_url from the storage API may receive
// the client's file: a followable URL, or a signed URL into fal's own
// bucket. Any other host or bucket would receive bytes meant for fal.
func (c *Client) uploadable(raw string) bool {
	if c.followable(raw) {
		return true
	}
	u, err := url.Parse(raw)
	return err == nil && u.User == nil && strings.HasPrefix(strings.ToLower(u.Scheme+"://"+u.Host)+u.Path, signedUploadPrefix)
}
