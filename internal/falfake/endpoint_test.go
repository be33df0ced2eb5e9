package falfake

import "testing"

func TestSplitEndpoint(t *testing.T) {
	tests := []struct {
		id, app, rest, name string
	}{
		{"fal-ai/fast-sdxl", "fal-ai/fast-sdxl", "", "fast-sdxl"},
		{"fal-ai/flux/dev", "fal-ai/flux", "dev", "flux"},
		{"fal-ai/flux-pro/v1.1-ultra", "fal-ai/flux-pro", "v1.1-ultra", "flux-pro"},
		{"fal-ai/bytedance/seedream/v4/text-to-image", "fal-ai/bytedance", "seedream/v4/text-to-image", "bytedance"},
		{"workflows/acme/pipeline/run", "workflows/acme/pipeline", "run", "pipeline"},
		{"comfy/acme/graph", "comfy/acme/graph", "", "graph"},
		{"/openrouter/router/vision/", "openrouter/router", "vision", "router"},
		{"solo", "solo", "", "solo"},
	}
	for _, tt := range tests {
		app, rest := splitEndpoint(tt.id)
		if app != tt.app || rest != tt.rest {
			t.Errorf("splitEndpoint(%q) = %q, %q; want %q, %q", tt.id, app, rest, tt.app, tt.rest)
		}
		if got := appName(tt.id); got != tt.name {
			t.Errorf("appName(%q) = %q, want %q", tt.id, got, tt.name)
		}
	}
}

func TestParseRequestPath(t *testing.T) {
	tests := []struct {
		path string
		want requestPath
		ok   bool
	}{
		{"fal-ai/flux/requests/abc/status", requestPath{"fal-ai/flux", "abc", "status"}, true},
		{"fal-ai/flux/dev/requests/abc/status/stream", requestPath{"fal-ai/flux/dev", "abc", "status/stream"}, true},
		{"fal-ai/flux/requests/abc", requestPath{"fal-ai/flux", "abc", ""}, true},
		{"fal-ai/flux/requests/abc/cancel/", requestPath{"fal-ai/flux", "abc", "cancel"}, true},
		{"fal-ai/flux/dev", requestPath{}, false},
		{"requests/abc", requestPath{}, false},
		{"fal-ai/flux/requests/", requestPath{}, false},
	}
	for _, tt := range tests {
		got, ok := parseRequestPath(tt.path)
		if got != tt.want || ok != tt.ok {
			t.Errorf("parseRequestPath(%q) = %+v, %v; want %+v, %v", tt.path, got, ok, tt.want, tt.ok)
		}
	}
}
