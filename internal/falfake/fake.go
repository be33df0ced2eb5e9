package falfake

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sort"
	"strconv"
	"sync"
	"time"
)

// Fake is a running fal emulator. It is safe for concurrent use.
type Fake struct {
	opts   Options
	log    *slog.Logger
	models map[string]*model // read-only after New
	ln     net.Listener
	srv    *http.Server
	base   string // http://host:port

	// cancel ends the base context of every request, so that streams and
	// delayed answers end promptly on Close.
	cancel context.CancelFunc
	served chan struct{}

	handlers  gate // running handlers, for Close to wait on
	closeOnce sync.Once
	closeErr  error

	rec    recorder
	faults faultSet
	jobs   jobStore
	files  fileStore
	bill   bill
	// videoIDs are the video_id values video outputs gave out, which
	// alone remix endpoints take back, with the seconds of their video
	// (float64), which a remix bills.
	videoIDs sync.Map
}

// New loads the schemas, starts listening on opts.Addr and serves until
// Close.
func New(opts Options) (*Fake, error) {
	opts = opts.withDefaults()
	models, err := loadModels(opts.Schemas)
	if err != nil {
		return nil, fmt.Errorf("falfake: %w", err)
	}
	ln, err := net.Listen("tcp", opts.Addr)
	if err != nil {
		return nil, fmt.Errorf("falfake: listen: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	f := &Fake{
		opts:   opts,
		log:    opts.Logger,
		models: models,
		ln:     ln,
		base:   "http://" + dialable(ln.Addr()),
		cancel: cancel,
		served: make(chan struct{}),
	}
	f.handlers.init()
	f.rec.init()
	f.jobs.init()
	f.files.init()
	f.srv = &http.Server{
		Handler:           f.routes(),
		ReadHeaderTimeout: 10 * time.Second,
		BaseContext:       func(net.Listener) context.Context { return ctx },
		ErrorLog:          slog.NewLogLogger(opts.Logger.Handler(), slog.LevelDebug),
	}
	// fal's hosts speak HTTP/2; on plain-text loopback the emulator offers
	// it with prior knowledge beside HTTP/1.1, so that a client can hold
	// many calls on one connection as it would against fal.
	f.srv.Protocols = new(http.Protocols)
	f.srv.Protocols.SetHTTP1(true)
	f.srv.Protocols.SetUnencryptedHTTP2(!opts.HTTP1Only)
	go func() {
		defer close(f.served)
		if err := f.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			f.log.Error("falfake: serve", "err", err)
		}
	}()
	return f, nil
}

// dialable turns a listen address into one a client can dial: an
// unspecified IP (0.0.0.0, ::) becomes loopback.
func dialable(a net.Addr) string {
	tcp, ok := a.(*net.TCPAddr)
	if !ok {
		return a.String()
	}
	ip := tcp.IP
	if ip == nil || ip.IsUnspecified() {
		ip = net.IPv4(127, 0, 0, 1)
	}
	return net.JoinHostPort(ip.String(), strconv.Itoa(tcp.Port))
}

// Close stops the server and waits for its goroutines. Open streams and
// delayed answers end at once, and open connections are closed. It is safe
// to call more than once.
func (f *Fake) Close() error {
	f.closeOnce.Do(func() {
		f.cancel()
		if err := f.srv.Close(); err != nil {
			f.closeErr = fmt.Errorf("falfake: close: %w", err)
		}
		f.handlers.closeAndWait()
		<-f.served
	})
	return f.closeErr
}

// URL is the base URL of the emulator, e.g. http://127.0.0.1:PORT.
func (f *Fake) URL() string { return f.base }

// QueueURL is the base for FAL_QUEUE_URL (fal's queue.fal.run).
func (f *Fake) QueueURL() string { return f.base + "/queue" }

// RunURL is the base for FAL_RUN_URL (fal's fal.run).
func (f *Fake) RunURL() string { return f.base + "/run" }

// OpenAPIURL is the schema URL for FAL_OPENAPI_URL; it takes
// ?endpoint_id=<id>.
func (f *Fake) OpenAPIURL() string { return f.base + "/openapi/queue/openapi.json" }

// StorageURL is the base for FAL_STORAGE_URL (fal's rest.fal.ai); it serves
// /storage/upload/initiate.
func (f *Fake) StorageURL() string { return f.base + "/rest" }

// Endpoints lists the ids of every endpoint the emulator serves (the
// built-in documents plus Options.Schemas), sorted.
func (f *Fake) Endpoints() []string {
	ids := make([]string, 0, len(f.models))
	for id := range f.models {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

// Reset clears counters, recorded calls, jobs and faults. Uploaded files are
// kept.
func (f *Fake) Reset() {
	f.rec.reset()
	f.billCompleted()
	f.jobs.reset()
	f.faults.clear()
}
