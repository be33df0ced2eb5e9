package falfake

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"go.uber.org/goleak"
)

// TestMain checks that no goroutine outlives the tests. One is allowed:
// after refusing a body it did not read (TestUploadLimit), net/http keeps
// the connection for half a second so that the client sees the answer
// rather than a reset; that linger is the standard library's, not the
// emulator's, and ends by itself.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.IgnoreAnyFunction("net/http.(*conn).closeWriteAndWait"))
}

const testKey = "key-id:key-secret"

// start runs a Fake for one test and closes it, and its client's idle
// connections, at the end.
func start(t *testing.T, opts Options) (*Fake, *tclient) {
	t.Helper()
	f, err := New(opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	tr := &http.Transport{}
	c := &tclient{t: t, key: testKey, hc: &http.Client{Transport: tr}}
	t.Cleanup(func() {
		if err := f.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
		tr.CloseIdleConnections()
	})
	return f, c
}

// tclient is a small HTTP client that sends the fal key and fails the test
// on transport errors.
type tclient struct {
	t   *testing.T
	key string
	hc  *http.Client
}

// resp is a response with its body read.
type resp struct {
	status int
	header http.Header
	body   []byte
}

func (r resp) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("decoding %q: %v", r.body, err)
	}
	return m
}

func (c *tclient) request(method, url string, body any) (*http.Request, error) {
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			return nil, err
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		return nil, err
	}
	if c.key != "" {
		req.Header.Set("Authorization", "Key "+c.key)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	return req, nil
}

// try sends a request and returns the transport error instead of failing.
func (c *tclient) try(method, url string, body any) (resp, error) {
	req, err := c.request(method, url, body)
	if err != nil {
		return resp{}, err
	}
	res, err := c.hc.Do(req)
	if err != nil {
		return resp{}, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	return resp{status: res.StatusCode, header: res.Header, body: b}, err
}

func (c *tclient) do(method, url string, body any) resp {
	c.t.Helper()
	r, err := c.try(method, url, body)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, url, err)
	}
	return r
}

// withKey is a copy of the client that sends another key.
func (c *tclient) withKey(key string) *tclient {
	cp := *c
	cp.key = key
	return &cp
}

// sseEvent is one parsed server-sent event: data, or a comment.
type sseEvent struct {
	data    string
	comment string
}

// openStream starts a GET or POST whose answer is an event stream and
// returns the events as they arrive; the channel closes at the end of the
// stream.
func (c *tclient) openStream(method, url string, body any) (*http.Response, <-chan sseEvent) {
	c.t.Helper()
	req, err := c.request(method, url, body)
	if err != nil {
		c.t.Fatal(err)
	}
	res, err := c.hc.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, url, err)
	}
	ch := make(chan sseEvent)
	go func() {
		defer close(ch)
		defer res.Body.Close()
		sc := bufio.NewScanner(res.Body)
		sc.Buffer(make([]byte, 0, 64<<10), 8<<20)
		for sc.Scan() {
			line := sc.Text()
			switch {
			case strings.HasPrefix(line, "data: "):
				ch <- sseEvent{data: strings.TrimPrefix(line, "data: ")}
			case strings.HasPrefix(line, ": "):
				ch <- sseEvent{comment: strings.TrimPrefix(line, ": ")}
			}
		}
	}()
	return res, ch
}

// dataEvents reads a stream to its end and returns its data payloads.
func dataEvents(ch <-chan sseEvent) []string {
	var out []string
	for ev := range ch {
		if ev.comment == "" {
			out = append(out, ev.data)
		}
	}
	return out
}

// submit queues a job and returns the submit answer.
func (c *tclient) submit(f *Fake, endpoint string, input any) map[string]any {
	c.t.Helper()
	r := c.do("POST", f.QueueURL()+"/"+endpoint, input)
	if r.status != http.StatusOK {
		c.t.Fatalf("submit %s: %d %s", endpoint, r.status, r.body)
	}
	return r.json(c.t)
}

// str reads a string field of a decoded JSON object.
func str(m map[string]any, k string) string {
	s, _ := m[k].(string)
	return s
}
