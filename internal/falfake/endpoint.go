package falfake

import "strings"

// splitEndpoint splits an endpoint id into its app part ([namespace/]owner/
// app) and the rest (the path inside the app). The namespaces "workflows"
// and "comfy" shift the split by one segment, as fal's clients do.
func splitEndpoint(id string) (app, rest string) {
	parts := strings.Split(strings.Trim(id, "/"), "/")
	n := 2
	if len(parts) > 0 && (parts[0] == "workflows" || parts[0] == "comfy") {
		n = 3
	}
	if len(parts) <= n {
		return strings.Join(parts, "/"), ""
	}
	return strings.Join(parts[:n], "/"), strings.Join(parts[n:], "/")
}

// appName is the bare app segment fal names in "Application not found".
func appName(id string) string {
	app, _ := splitEndpoint(id)
	return app[strings.LastIndex(app, "/")+1:]
}

// requestPath is a parsed queue path below a request:
// <prefix>/requests/<id>[/<tail>], where prefix is the app id or the full
// endpoint id and tail is "", "status", "status/stream" or "cancel".
type requestPath struct {
	prefix, id, tail string
}

// parseRequestPath parses the part of a queue URL after /queue/.
func parseRequestPath(p string) (requestPath, bool) {
	prefix, after, ok := strings.Cut(strings.Trim(p, "/"), "/requests/")
	if !ok || prefix == "" {
		return requestPath{}, false
	}
	id, tail, _ := strings.Cut(after, "/")
	if id == "" {
		return requestPath{}, false
	}
	return requestPath{prefix: prefix, id: id, tail: tail}, true
}
