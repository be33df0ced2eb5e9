package server_test

import (
	"bufio"
	"context"
	"database/sql"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/falproxy/falproxy/internal/chat"
	"github.com/falproxy/falproxy/internal/falfake"
	oai "github.com/openai/openai-go/v3"
)

// TestAccessLogNamesEveryFalJob: a request that ran several fal jobs logs
// one id as fal_request_id, to search fal with, and all of them in
// fal_request_ids.
func TestAccessLogNamesEveryFalJob(t *testing.T) {
	h := newHarness(t, quick)
	req, _ := http.NewRequestWithContext(context.Background(), http.MethodPost, h.url+"/v1/images/generations",
		strings.NewReader(`{"model":"flux-dev","prompt":"a lighthouse","n":6,"response_format":"url"}`))
	req.Header.Set("Authorization", "Bearer "+accessKey)
	req.Header.Set("X-Request-Id", "split-request")
	if status, _, body := h.do(req); status != http.StatusOK {
		t.Fatalf("%d %s", status, body)
	}
	var jobs []string
	for _, j := range h.fake.Jobs() {
		jobs = append(jobs, j.ID)
	}
	if len(jobs) != 2 {
		t.Fatalf("fal ran %d jobs, want 2", len(jobs))
	}
	line := accessLogLine(t, h, "split-request")
	first, ok := attrValue(line, "fal_request_id")
	if !ok || !slices.Contains(jobs, first) {
		t.Fatalf("fal_request_id %q is not one of fal's jobs %v: %s", first, jobs, line)
	}
	all, _ := attrValue(line, "fal_request_ids")
	for _, id := range jobs {
		if !strings.Contains(all, id) {
			t.Fatalf("fal_request_ids %q lacks %s: %s", all, id, line)
		}
	}
}

// TestAccessLogShowsAStreamLeftMidwayAs499: the client of a chat stream
// reads its first event and hangs up. The status line said 200, but the
// access log and the metrics, like the ledger, count a request the
// client left: 499. falproxy closes fal's stream.
func TestAccessLogShowsAStreamLeftMidwayAs499(t *testing.T) {
	h := newHarness(t, withBackend(chat.Router.String()), func(s *setup) {
		s.metrics = true
		s.fake.TokenDelay = time.Hour // the stream stops after its first event
	})
	leaveMidway(t, h, http.MethodPost, "/v1/chat/completions",
		`{"model":"gpt-4o","stream":true,"messages":[{"role":"user","content":"Hello there"}]}`, "left-stream",
		func(rd *bufio.Reader) error {
			for {
				line, err := rd.ReadString('\n')
				if err != nil || strings.HasPrefix(line, "data: ") {
					return err
				}
			}
		})
	eventually(t, "fal's stream is closed", func() bool { return goroutinesIn("falfake.(*Fake).llmStream") == 0 })
	if n := len(h.falCalls(falfake.OpLLMStream)); n != 1 {
		t.Fatalf("fal received %d streams, want 1", n)
	}
	assertLeftAs499(t, h, "left-stream", "POST /v1/chat/completions", "gpt-4o")
}

// TestAccessLogShowsSpeechLeftMidwayAs499: the client of a speech reads
// the first bytes of its audio and hangs up while fal's CDN still sends
// it. The access log, the metrics and the ledger row say 499, and the
// row still charges the job fal completed.
func TestAccessLogShowsSpeechLeftMidwayAs499(t *testing.T) {
	db := "sqlite://" + filepath.Join(t.TempDir(), "falproxy.db")
	ts := &teamsSetup{url: db}
	h := newHarness(t, withAudio, withTeams(ts), func(s *setup) {
		s.metrics = true
		s.fake.Prices = map[string]falfake.Price{"fal-ai/kokoro/american-english": {UnitPrice: 2, Unit: "1000 characters"}}
	})
	wav := falfake.ToneWAV(1000, 440)
	cdn, downloadEnded := holdingCDN(t, wav[:len(wav)/2])
	h.fake.Inject(falfake.Fault{Op: falfake.OpResult, Status: http.StatusOK, Times: 1,
		Body: `{"audio":{"url":"` + cdn + `/speech.wav","content_type":"audio/wav"}}`})
	leaveMidway(t, h, http.MethodPost, "/v1/audio/speech", `{"model":"tts-1","input":"half heard","voice":"alloy"}`,
		"left-speech", readSome)
	<-downloadEnded
	if jobs := h.fake.Jobs(); len(jobs) != 1 || jobs[0].Cancelled {
		t.Fatalf("fal ran %+v, want one completed job", jobs)
	}
	assertLeftAs499(t, h, "left-speech", "POST /v1/audio/speech", "tts-1")
	ts.flush(t)
	var status int
	var cost sql.NullInt64
	row := openDatabase(t, db).QueryRow("SELECT status, cost_micros FROM usage_ledger WHERE request_id = 'left-speech'")
	if err := row.Scan(&status, &cost); err != nil || status != 499 || cost.Int64 <= 0 {
		t.Errorf("ledger row: status %d costing %d µ$ (%v), want 499 charging the completed job", status, cost.Int64, err)
	}
}

// TestAccessLogShowsAVideoDownloadLeftMidwayAs499: the client of a
// video's content reads its first bytes and hangs up while fal's CDN
// still sends it: the access log and the metrics say 499, and falproxy
// ends its download from the CDN.
func TestAccessLogShowsAVideoDownloadLeftMidwayAs499(t *testing.T) {
	h := newHarness(t, withVideos(0), func(s *setup) { s.metrics = true })
	// More than net/http buffers, so that the first bytes reach the
	// client without a flush.
	first := append([]byte("\x00\x00\x00\x18ftypmp42"), make([]byte, 64<<10)...)
	cdn, downloadEnded := holdingCDN(t, first)
	h.fake.Inject(falfake.Fault{Op: falfake.OpResult, Status: http.StatusOK,
		Body: `{"video":{"url":"` + cdn + `/video.mp4","content_type":"video/mp4"}}`})
	created, err := h.sdk.Videos.New(context.Background(), oai.VideoNewParams{Prompt: "a fox in the snow", Model: "sora-2"})
	if err != nil {
		t.Fatal(err)
	}
	if v := pollVideo(t, h.sdk, created.ID); v.Status != oai.VideoStatusCompleted {
		t.Fatalf("video %s", v.RawJSON())
	}
	leaveMidway(t, h, http.MethodGet, "/v1/videos/"+created.ID+"/content", "", "left-video", readSome)
	<-downloadEnded
	assertLeftAs499(t, h, "left-video", "GET /v1/videos/{id}/content", "sora-2")
}

// leaveMidway sends a request with id, checks that its answer began
// with 200, reads it until begun returns, and hangs up.
func leaveMidway(t *testing.T, h *harness, method, path, body, id string, begun func(*bufio.Reader) error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, method, h.url+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+accessKey)
	req.Header.Set("X-Request-Id", id)
	resp, err := h.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d, want the answer's 200", resp.StatusCode)
	}
	if err := begun(bufio.NewReader(resp.Body)); err != nil {
		t.Fatalf("the answer ended before it began: %v", err)
	}
}

// readSome reads the first byte of an answer.
func readSome(rd *bufio.Reader) error {
	_, err := rd.ReadByte()
	return err
}

// assertLeftAs499 checks that the access log and the metrics count the
// request with id, on route for model, as one its client left.
func assertLeftAs499(t *testing.T, h *harness, id, route, model string) {
	t.Helper()
	line := accessLogLine(t, h, id)
	if status, _ := attrValue(line, "status"); status != "499" {
		t.Errorf("access log status %q, want 499: %s", status, line)
	}
	_, metrics := h.getMetrics(h.url+"/metrics", "")
	if want := `falproxy_requests_total{model="` + model + `",route="` + route + `",status="499"} 1`; !strings.Contains(metrics, want) {
		t.Errorf("metrics lack %s", want)
	}
}

// holdingCDN serves first, labelled as binary, and holds the rest of the
// file until its client leaves, which closes downloadEnded.
func holdingCDN(t *testing.T, first []byte) (url string, downloadEnded <-chan struct{}) {
	ended := make(chan struct{})
	cdn := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/octet-stream")
		_, _ = w.Write(first)
		w.(http.Flusher).Flush()
		<-r.Context().Done()
		close(ended)
	}))
	t.Cleanup(cdn.Close)
	return cdn.URL, ended
}

// accessLogLine waits for the access log line of the request with the
// given id and returns it.
func accessLogLine(t *testing.T, h *harness, requestID string) string {
	t.Helper()
	var line string
	eventually(t, "the access log line", func() bool {
		for l := range strings.Lines(h.logText()) {
			if strings.Contains(l, "msg=request ") && strings.Contains(l, "request_id="+requestID+" ") {
				line = l
				return true
			}
		}
		return false
	})
	return line
}

// attrValue is the value of key in a text log line, unquoted.
func attrValue(line, key string) (string, bool) {
	_, rest, ok := strings.Cut(line, " "+key+"=")
	if !ok {
		return "", false
	}
	if strings.HasPrefix(rest, `"`) {
		v, _, _ := strings.Cut(rest[1:], `"`)
		return v, true
	}
	v, _, _ := strings.Cut(strings.TrimSpace(rest), " ")
	return v, true
}
