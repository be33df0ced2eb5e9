package server

import "net/http"

// exactRoutes serves the fixed paths that clients and load balancers ask
// for most often (GET /v1/models, GET /health) without ServeMux's lookup:
// the path is compared with each, and the handler and pattern ServeMux
// would have chosen serve the request. The routes are registered on the
// mux as well, which answers every other method and every path it would
// clean, redirect or unescape first, as it did before.
type exactRoutes struct {
	mux    *http.ServeMux
	routes []exactRoute
}

type exactRoute struct {
	path    string
	pattern string // as ServeMux sets it in Request.Pattern, which the metrics label
	handler http.Handler
}

// handleGET routes GET and HEAD of path to h.
func (x *exactRoutes) handleGET(path string, h http.Handler) {
	pattern := "GET " + path
	x.mux.Handle(pattern, h)
	x.routes = append(x.routes, exactRoute{path: path, pattern: pattern, handler: h})
}

func (x *exactRoutes) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// A path with escapes (RawPath set) is left to the mux, which
	// matches its unescaped segments.
	if (r.Method == http.MethodGet || r.Method == http.MethodHead) && r.URL.RawPath == "" {
		for i := range x.routes {
			if route := &x.routes[i]; r.URL.Path == route.path {
				r.Pattern = route.pattern
				route.handler.ServeHTTP(w, r)
				return
			}
		}
	}
	x.mux.ServeHTTP(w, r)
}
