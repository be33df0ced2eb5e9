package falfake

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"image"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

// wantImages is what a finished image job must have produced.
type wantImages struct {
	n           int
	w, h        int
	contentType string
	keys        []string // top-level output keys, sorted
}

func TestQueueImageModels(t *testing.T) {
	full := []string{"has_nsfw_concepts", "images", "prompt", "seed", "timings"}
	tests := []struct {
		endpoint string
		input    map[string]any
		want     wantImages
	}{
		{"fal-ai/flux/dev", map[string]any{"image_size": "landscape_16_9", "num_images": 2, "output_format": "png"}, wantImages{2, 1024, 576, "image/png", full}},
		{"fal-ai/flux/schnell", map[string]any{"image_size": map[string]any{"width": 320, "height": 240}}, wantImages{1, 320, 240, "image/jpeg", full}},
		{"fal-ai/fast-sdxl", map[string]any{"image_size": "square", "format": "png", "num_images": 3}, wantImages{3, 512, 512, "image/png", full}},
		{"fal-ai/flux-pro/v1.1-ultra", map[string]any{"aspect_ratio": "9:21"}, wantImages{1, 440, 1024, "image/jpeg", full}},
		{"fal-ai/ideogram/v2", map[string]any{"aspect_ratio": "16:10", "style": "anime"}, wantImages{1, 1024, 640, "image/png", []string{"images", "seed"}}},
		{"fal-ai/imagen4/preview", map[string]any{"aspect_ratio": "4:3", "output_format": "webp", "num_images": 2}, wantImages{2, 1024, 768, "image/png", []string{"images", "seed"}}},
		{"fal-ai/gpt-image-1/text-to-image", map[string]any{"image_size": "1024x1536", "output_format": "jpeg"}, wantImages{1, 1024, 1536, "image/jpeg", []string{"images"}}},
		{"fal-ai/recraft/v3/text-to-image", map[string]any{"image_size": "portrait_4_3", "style": "vector_illustration"}, wantImages{1, 768, 1024, "image/png", []string{"images"}}},
		{"fal-ai/fast-lcm-diffusion", map[string]any{"width": 256, "height": 384, "output_format": "png"}, wantImages{1, 256, 384, "image/png", full}},
		{"fal-ai/bytedance/seedream/v4/text-to-image", map[string]any{"image_size": map[string]any{"width": 1024, "height": 1280}, "seed": 5}, wantImages{1, 1024, 1280, "image/png", []string{"images", "seed"}}},
	}
	f, c := start(t, Options{GenerationTime: 5 * time.Millisecond})
	for _, tt := range tests {
		t.Run(tt.endpoint, func(t *testing.T) {
			in := map[string]any{"prompt": "a lighthouse"}
			for k, v := range tt.input {
				in[k] = v
			}
			sub := c.submit(f, tt.endpoint, in)
			if str(sub, "status") != StateInQueue || sub["queue_position"] != 0.0 {
				t.Errorf("submit answer %v", sub)
			}
			res, events := c.openStream("GET", str(sub, "status_url")+"/stream", nil)
			if ct := res.Header.Get("Content-Type"); ct != "text/event-stream" {
				t.Errorf("stream content type %q", ct)
			}
			data := dataEvents(events)
			var last map[string]any
			if err := json.Unmarshal([]byte(data[len(data)-1]), &last); err != nil || str(last, "status") != StateCompleted {
				t.Fatalf("last event %q (%v)", data[len(data)-1], err)
			}
			r := c.do("GET", str(sub, "response_url"), nil)
			if r.status != http.StatusOK || r.header.Get("X-Fal-Request-Id") != str(sub, "request_id") {
				t.Fatalf("result %d %v %s", r.status, r.header, r.body)
			}
			checkImages(t, c, r.json(t), tt.want)
		})
	}
}

// checkImages checks an image output and downloads every image from the
// CDN, decoding it.
func checkImages(t *testing.T, c *tclient, out map[string]any, want wantImages) {
	t.Helper()
	var keys []string
	for k := range out {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	if !slices.Equal(keys, want.keys) {
		t.Errorf("output keys %v, want %v", keys, want.keys)
	}
	images, _ := out["images"].([]any)
	if len(images) != want.n {
		t.Fatalf("%d images, want %d", len(images), want.n)
	}
	seen := map[string]bool{}
	for _, raw := range images {
		img := raw.(map[string]any)
		if img["width"] != float64(want.w) || img["height"] != float64(want.h) || str(img, "content_type") != want.contentType {
			t.Errorf("image entry %v, want %dx%d %s", img, want.w, want.h, want.contentType)
		}
		url := str(img, "url")
		if seen[url] {
			t.Errorf("duplicate image url %s", url)
		}
		seen[url] = true
		var body []byte
		if b64, ok := strings.CutPrefix(url, "data:"+want.contentType+";base64,"); ok {
			var err error
			if body, err = base64.StdEncoding.DecodeString(b64); err != nil {
				t.Fatalf("data URI: %v", err)
			}
		} else {
			r := c.do("GET", url, nil)
			if r.status != http.StatusOK || r.header.Get("Content-Type") != want.contentType {
				t.Fatalf("download %s: %d %v", url, r.status, r.header)
			}
			body = r.body
		}
		cfg, format, err := image.DecodeConfig(bytes.NewReader(body))
		if err != nil {
			t.Fatalf("decoding %s: %v", url, err)
		}
		if "image/"+format != want.contentType || cfg.Width != want.w || cfg.Height != want.h {
			t.Errorf("downloaded %s %dx%d, want %s %dx%d", format, cfg.Width, cfg.Height, want.contentType, want.w, want.h)
		}
	}
}

func TestSyncModeDataURI(t *testing.T) {
	f, c := start(t, Options{})
	r := c.do("POST", f.RunURL()+"/fal-ai/flux/dev", map[string]any{"prompt": "x", "sync_mode": true, "image_size": "square", "output_format": "png"})
	if r.status != http.StatusOK {
		t.Fatalf("%d %s", r.status, r.body)
	}
	checkImages(t, c, r.json(t), wantImages{1, 512, 512, "image/png", []string{"has_nsfw_concepts", "images", "prompt", "seed", "timings"}})
	if n := f.Counts().CDN; n != 0 {
		t.Errorf("sync mode made %d CDN downloads", n)
	}
}

// statusKeys is a status body's keys, sorted.
func statusKeys(m map[string]any) []string {
	var keys []string
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func TestStatusBodies(t *testing.T) {
	base := []string{"cancel_url", "request_id", "response_url", "status", "status_url"}
	tests := []struct {
		name     string
		opts     Options
		prompt   string
		code     int
		state    string
		extra    []string
		logs     int // entries with ?logs=1
		errType  string
		resultSC int
	}{
		{"queued", Options{QueueDelay: time.Hour}, "x", 202, StateInQueue, []string{"queue_position"}, -1, "", 400},
		{"running", Options{GenerationTime: time.Hour}, "x", 202, StateInProgress, []string{"logs"}, 1, "", 400},
		{"done", Options{}, "x", 200, StateCompleted, []string{"logs", "metrics"}, 2, "", 200},
		{"failed", Options{}, "x [fail]", 200, StateCompleted, []string{"error", "error_type", "logs", "metrics"}, 2, "runner_disconnected", 503},
		{"invalid input", Options{}, "", 200, StateCompleted, []string{"logs", "metrics"}, 2, "", 422},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, c := start(t, tt.opts)
			in := map[string]any{"prompt": tt.prompt}
			if tt.prompt == "" {
				in = map[string]any{"num_images": 9}
			}
			sub := c.submit(f, "fal-ai/flux/dev", in)
			for _, q := range []string{"", "?logs=0", "?logs=false", "?logs=1", "?logs=true"} {
				r := c.do("GET", str(sub, "status_url")+q, nil)
				m := r.json(t)
				want := slices.Sorted(slices.Values(append(slices.Clone(base), tt.extra...)))
				if r.status != tt.code || str(m, "status") != tt.state || !slices.Equal(statusKeys(m), want) {
					t.Fatalf("%s: %d %s; want %d %s with keys %v", q, r.status, r.body, tt.code, tt.state, want)
				}
				if str(m, "error_type") != tt.errType {
					t.Errorf("error_type %q, want %q", str(m, "error_type"), tt.errType)
				}
				logs, hasLogs := m["logs"].([]any)
				wantLogs := 0
				if q == "?logs=1" || q == "?logs=true" {
					wantLogs = tt.logs
				}
				if hasLogs && len(logs) != wantLogs {
					t.Errorf("%s: %d log lines, want %d", q, len(logs), wantLogs)
				}
			}
			if r := c.do("GET", str(sub, "response_url"), nil); r.status != tt.resultSC {
				t.Errorf("result %d %s, want %d", r.status, r.body, tt.resultSC)
			}
		})
	}
}

func TestResultBodies(t *testing.T) {
	f, c := start(t, Options{})
	tests := []struct {
		input   map[string]any
		status  int
		body    string
		errType string
	}{
		{map[string]any{"prompt": "x [fail]"}, 503, `{"detail":"Runner disconnected","error_type":"runner_disconnected"}`, "runner_disconnected"},
		{map[string]any{"prompt": "x", "extra": true}, 422, `{"detail":[{"type":"extra_forbidden","loc":["body","extra"],"msg":"Extra inputs are not permitted","input":true}]}`, ""},
		{map[string]any{"prompt": "x [nsfw]"}, 422, `{"detail":[{"type":"content_policy_violation","loc":["body","prompt"],"msg":"The content was flagged by a content checker.","input":"x [nsfw]","url":"https://docs.fal.ai/errors#content_policy_violation"}]}`, ""},
	}
	for _, tt := range tests {
		sub := c.submit(f, "fal-ai/flux/schnell", tt.input)
		r := c.do("GET", str(sub, "response_url"), nil)
		if r.status != tt.status || string(r.body) != tt.body || r.header.Get("X-Fal-Error-Type") != tt.errType {
			t.Errorf("%v: %d %s %q", tt.input, r.status, r.body, r.header.Get("X-Fal-Error-Type"))
		}
		if r.header.Get("X-Fal-Request-Id") != str(sub, "request_id") {
			t.Errorf("x-fal-request-id %q", r.header.Get("X-Fal-Request-Id"))
		}
	}
	r := c.do("POST", f.RunURL()+"/fal-ai/flux/dev", map[string]any{"prompt": "x", "image_size": map[string]any{"width": 5000, "height": 4000}})
	if r.status != 422 || !strings.Contains(string(r.body), `"type":"image_too_large","loc":["body","image_size"]`) {
		t.Errorf("oversized image: %d %s", r.status, r.body)
	}
	// Sync runs validate at once: with an hour of generation time this
	// would not return if it waited.
	slow, sc := start(t, Options{GenerationTime: time.Hour})
	r = sc.do("POST", slow.RunURL()+"/fal-ai/flux/dev", map[string]any{"prompt": "x", "num_images": 5})
	if r.status != 422 || !strings.Contains(string(r.body), `"less_than_equal"`) {
		t.Errorf("sync invalid run: %d %s", r.status, r.body)
	}
}

func TestStatusStreamTransitions(t *testing.T) {
	f, c := start(t, Options{QueueDelay: 20 * time.Millisecond, GenerationTime: 20 * time.Millisecond})
	sub := c.submit(f, "fal-ai/flux/dev", map[string]any{"prompt": "x"})
	_, events := c.openStream("GET", str(sub, "status_url")+"/stream?logs=1", nil)
	var states []string
	for _, d := range dataEvents(events) {
		var m map[string]any
		if err := json.Unmarshal([]byte(d), &m); err != nil {
			t.Fatal(err)
		}
		states = append(states, str(m, "status"))
	}
	order := map[string]int{StateInQueue: 0, StateInProgress: 1, StateCompleted: 2}
	for i := 1; i < len(states); i++ {
		if order[states[i]] <= order[states[i-1]] {
			t.Fatalf("states not strictly advancing: %v", states)
		}
	}
	if len(states) == 0 || states[len(states)-1] != StateCompleted {
		t.Fatalf("stream ended without COMPLETED: %v", states)
	}
}

func TestStatusStreamKeepAliveAndCancel(t *testing.T) {
	tests := []struct {
		name  string
		opts  Options
		first string
	}{
		{"queued", Options{QueueDelay: time.Hour, KeepAlive: 5 * time.Millisecond}, StateInQueue},
		{"running", Options{GenerationTime: time.Hour, KeepAlive: 5 * time.Millisecond}, StateInProgress},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, c := start(t, tt.opts)
			sub := c.submit(f, "fal-ai/flux/dev", map[string]any{"prompt": "x"})
			_, events := c.openStream("GET", str(sub, "status_url")+"/stream", nil)
			if ev := <-events; !strings.Contains(ev.data, `"status":"`+tt.first+`"`) {
				t.Fatalf("first event %+v", ev)
			}
			if ev := <-events; ev.comment != "ping" {
				t.Fatalf("want a ping comment, got %+v", ev)
			}
			if r := c.do("PUT", str(sub, "cancel_url"), nil); r.status != http.StatusAccepted {
				t.Fatalf("cancel: %d %s", r.status, r.body)
			}
			var last string
			for _, d := range dataEvents(events) {
				last = d
			}
			if !strings.Contains(last, `"status":"COMPLETED"`) || !strings.Contains(last, `"error_type":"client_cancelled"`) {
				t.Errorf("last event %s", last)
			}
		})
	}
}

func TestStatusStreamEndsOnClose(t *testing.T) {
	f, err := New(Options{QueueDelay: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	c := &tclient{t: t, key: testKey, hc: &http.Client{Transport: tr}}
	sub := c.submit(f, "fal-ai/flux/dev", map[string]any{"prompt": "x"})
	_, events := c.openStream("GET", str(sub, "status_url")+"/stream", nil)
	<-events // the IN_QUEUE event: the stream is open
	if err := f.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	for range events {
	}
}

func TestCancel(t *testing.T) {
	tests := []struct {
		name      string
		opts      Options
		code      int
		body      string
		cancelled bool
		result    int
	}{
		{"queued", Options{QueueDelay: time.Hour}, 202, `{"status":"CANCELLATION_REQUESTED"}`, true, 499},
		{"running", Options{GenerationTime: time.Hour}, 202, `{"status":"CANCELLATION_REQUESTED"}`, true, 499},
		{"done", Options{}, 400, `{"status":"ALREADY_COMPLETED"}`, false, 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, c := start(t, tt.opts)
			sub := c.submit(f, "fal-ai/flux/dev", map[string]any{"prompt": "x"})
			r := c.do("PUT", str(sub, "cancel_url"), nil)
			if r.status != tt.code || string(r.body) != tt.body {
				t.Fatalf("cancel: %d %s", r.status, r.body)
			}
			st := c.do("GET", str(sub, "status_url"), nil).json(t)
			if str(st, "status") != StateCompleted {
				t.Errorf("status after cancel: %v", st)
			}
			res := c.do("GET", str(sub, "response_url"), nil)
			if res.status != tt.result {
				t.Errorf("result %d %s, want %d", res.status, res.body, tt.result)
			}
			jobs := f.Jobs()
			if len(jobs) != 1 || jobs[0].Cancelled != tt.cancelled || jobs[0].State != StateCompleted {
				t.Fatalf("jobs %+v", jobs)
			}
			if tt.cancelled && (jobs[0].ErrorType != "client_cancelled" || str(st, "error_type") != "client_cancelled") {
				t.Errorf("cancelled job: %+v, status %v", jobs[0], st)
			}
			if again := c.do("PUT", str(sub, "cancel_url"), nil); again.status != 400 {
				t.Errorf("second cancel: %d", again.status)
			}
		})
	}
	f, c := start(t, Options{})
	r := c.do("PUT", f.QueueURL()+"/fal-ai/flux/requests/00000000-0000-4000-8000-000000000000/cancel", nil)
	if r.status != 404 || string(r.body) != `{"status":"NOT_FOUND"}` {
		t.Errorf("unknown cancel: %d %s", r.status, r.body)
	}
}

func TestQueueURLs(t *testing.T) {
	f, c := start(t, Options{})
	sub := c.submit(f, "fal-ai/flux-pro/v1.1-ultra", map[string]any{"prompt": "x"})
	id := str(sub, "request_id")
	if len(id) != 36 || strings.Count(id, "-") != 4 || id[14] != '4' {
		t.Errorf("request id %q is not a UUID v4", id)
	}
	base := f.QueueURL() + "/fal-ai/flux-pro/requests/" + id
	for k, want := range map[string]string{"response_url": base, "status_url": base + "/status", "cancel_url": base + "/cancel"} {
		if str(sub, k) != want {
			t.Errorf("%s = %q, want %q", k, str(sub, k), want)
		}
	}
	tests := []struct {
		path string
		code int
	}{
		{"/fal-ai/flux-pro/requests/" + id + "/status", 200},
		{"/fal-ai/flux-pro/v1.1-ultra/requests/" + id + "/status", 404},
		{"/fal-ai/flux/requests/" + id + "/status", 404},
		{"/fal-ai/flux-pro/requests/nope/status", 404},
		{"/fal-ai/flux-pro/requests/" + id + "/other", 404},
	}
	for _, tt := range tests {
		if r := c.do("GET", f.QueueURL()+tt.path, nil); r.status != tt.code {
			t.Errorf("GET %s: %d %s, want %d", tt.path, r.status, r.body, tt.code)
		}
	}
	r := c.do("POST", f.QueueURL()+"/fal-ai/no-such-app/v2", map[string]any{"prompt": "x"})
	if r.status != 404 || string(r.body) != `{"detail":"Application \"no-such-app\" not found"}` {
		t.Errorf("unknown endpoint: %d %s", r.status, r.body)
	}
	r = c.do("POST", f.RunURL()+"/fal-ai/no-such-app", map[string]any{"prompt": "x"})
	if r.status != 404 {
		t.Errorf("unknown sync endpoint: %d %s", r.status, r.body)
	}
}

func TestSlowPrompt(t *testing.T) {
	f, c := start(t, Options{GenerationTime: time.Hour})
	fast := c.submit(f, "fal-ai/flux/dev", map[string]any{"prompt": "x"})
	slow := c.submit(f, "fal-ai/flux/dev", map[string]any{"prompt": "x [slow]"})
	took := func(id string) time.Duration {
		j := f.jobs.get(id)
		return j.finished.Sub(j.started)
	}
	if got := took(str(slow, "request_id")); got != slowFactor*took(str(fast, "request_id")) {
		t.Errorf("slow job runs %v, fast %v", got, took(str(fast, "request_id")))
	}
}

func TestQueueLLM(t *testing.T) {
	f, c := start(t, Options{})
	sub := c.submit(f, "openrouter/router", map[string]any{"prompt": "what is up", "model": "google/gemini-2.5-flash", "reasoning": true})
	out := c.do("GET", str(sub, "response_url"), nil).json(t)
	if !strings.HasSuffix(str(out, "output"), "You said: what is up") || str(out, "reasoning") == "" || out["partial"] != false {
		t.Errorf("output %v", out)
	}
	if u, _ := out["usage"].(map[string]any); u["prompt_tokens"] != 3.0 {
		t.Errorf("usage %v", out["usage"])
	}
}

func TestPollingUntilDone(t *testing.T) {
	f, c := start(t, Options{QueueDelay: 10 * time.Millisecond, GenerationTime: 10 * time.Millisecond})
	sub := c.submit(f, "fal-ai/flux/dev", map[string]any{"prompt": "x"})
	var seen []string
	for {
		r := c.do("GET", str(sub, "status_url")+"?logs=1", nil)
		state := str(r.json(t), "status")
		if want := map[bool]int{true: 200, false: 202}[state == StateCompleted]; r.status != want {
			t.Fatalf("%s answered %d", state, r.status)
		}
		if len(seen) == 0 || seen[len(seen)-1] != state {
			seen = append(seen, state)
		}
		if state == StateCompleted {
			break
		}
		// The job may finish between the two requests; until then the
		// result is not ready.
		if res := c.do("GET", str(sub, "response_url"), nil); res.status != 200 && string(res.body) != `{"detail":"Request is still in progress"}` {
			t.Fatalf("early result: %d %s", res.status, res.body)
		}
		time.Sleep(time.Millisecond)
	}
	if seen[len(seen)-1] != StateCompleted || len(seen) > 3 {
		t.Errorf("states %v", seen)
	}
	if got := f.Counts(); got.Status != got.Results+1 {
		t.Errorf("counts %+v", got)
	}
}

func TestURLsAndClose(t *testing.T) {
	f, err := New(Options{Addr: "0.0.0.0:0"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(f.URL(), "http://127.0.0.1:") {
		t.Errorf("URL %q", f.URL())
	}
	for got, want := range map[string]string{
		f.QueueURL():   f.URL() + "/queue",
		f.RunURL():     f.URL() + "/run",
		f.StorageURL(): f.URL() + "/rest",
		f.OpenAPIURL(): f.URL() + "/openapi/queue/openapi.json",
	} {
		if got != want {
			t.Errorf("%q, want %q", got, want)
		}
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if _, err := http.Get(f.URL() + "/files/x"); err == nil {
		t.Error("server still answers after Close")
	}
}
