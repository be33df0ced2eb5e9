package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/falproxy/falproxy/internal/falfake"
)

// Keys of a run. The proxy and the direct client use different fal keys so
// that the emulator's records tell their calls apart.
const (
	accessKey = "sk-falbench-access-key"
	proxyKey  = "falbench-proxy:secret"
	directKey = "falbench-direct:secret"
)

// imageModel is the model every image scenario uses: fal's flux/dev, the
// most common endpoint, with an image_size schema.
const (
	imageAlias    = "flux-dev"
	imageEndpoint = "fal-ai/flux/dev"
)

// stack is one emulator with one falproxy process in front of it, and a
// client for each side.
type stack struct {
	fake   *falfake.Fake
	proxy  *proxyProc
	client *proxyClient
	direct *directClient
}

// startStack starts an emulator with opts and a falproxy on it (env adds
// to or overrides the proxy's environment), and waits until the proxy
// answers /health. conns sizes both clients' connection pools.
func (b *bench) startStack(ctx context.Context, name string, opts falfake.Options, env map[string]string, conns int) (*stack, error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	fake, err := falfake.New(opts)
	if err != nil {
		return nil, fmt.Errorf("start the emulator: %w", err)
	}
	s, err := b.startProxyOn(ctx, fake, name, env, conns)
	if err != nil {
		fake.Close()
		return nil, err
	}
	return s, nil
}

// startProxyOn starts a falproxy in front of an existing emulator.
func (b *bench) startProxyOn(ctx context.Context, fake *falfake.Fake, name string, env map[string]string, conns int) (*stack, error) {
	p, err := startProxy(b.bin, b.dir, name, proxyEnv(fake, env))
	if err != nil {
		return nil, err
	}
	hc := newHTTPClient(conns)
	if _, err := p.waitReady(ctx, hc, "/health", "", 20*time.Second); err != nil {
		p.stop()
		return nil, err
	}
	return &stack{
		fake:   fake,
		proxy:  p,
		client: &proxyClient{base: p.base, key: accessKey, hc: hc},
		direct: &directClient{queueURL: fake.QueueURL(), runURL: fake.RunURL(), key: directKey, hc: newUpstreamClient(conns)},
	}, nil
}

// proxyEnv is the proxy's whole environment: the emulator's URLs, the
// keys, one image model, and the given extras.
func proxyEnv(fake *falfake.Fake, extra map[string]string) map[string]string {
	env := map[string]string{
		"CUSTOM_ACCESS_KEY": accessKey,
		"AI_KEYS":           proxyKey,
		"SUPPORTED_MODELS":  imageAlias + ":" + imageEndpoint,
		"FAL_QUEUE_URL":     fake.QueueURL(),
		"FAL_RUN_URL":       fake.RunURL(),
		"FAL_OPENAPI_URL":   fake.OpenAPIURL(),
		"FAL_STORAGE_URL":   fake.StorageURL(),
		"REQUEST_TIMEOUT":   "120s",
		"LOG_FORMAT":        "text",
		// The emulator speaks h2c and serves its media on loopback, as
		// falproxy meets fal over TLS HTTP/2 with media on fal's CDN.
		"FAL_H2C":             "true",
		"ALLOW_PRIVATE_MEDIA": "true",
	}
	for k, v := range extra {
		env[k] = v
	}
	return env
}

// close stops the proxy, then the emulator.
func (s *stack) close() {
	s.closeProxy()
	s.fake.Close()
}

// closeProxy stops only the proxy (for stacks sharing an emulator).
func (s *stack) closeProxy() {
	s.proxy.stop()
	s.client.hc.CloseIdleConnections()
	s.direct.hc.CloseIdleConnections()
}

// proxyCall is the latest call of kind op the proxy made to the emulator,
// so that the direct client can send fal exactly the same bytes to the
// same endpoint.
func (s *stack) proxyCall(op falfake.Op) (falfake.Call, error) {
	calls := s.fake.Received()
	for i := len(calls) - 1; i >= 0; i-- {
		if c := calls[i]; c.Op == op && c.Key == proxyKey {
			if c.BodySize != len(c.Body) {
				return c, fmt.Errorf("the proxy's %s body was not recorded whole", op)
			}
			c.Body = append([]byte(nil), c.Body...)
			return c, nil
		}
	}
	return falfake.Call{}, fmt.Errorf("the proxy made no %s call", op)
}
