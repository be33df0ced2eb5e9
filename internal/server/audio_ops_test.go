package server_test

import (
	"bytes"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	oai "github.com/openai/openai-go/v3"

	"github.com/falproxy/falproxy/internal/fal"
	"github.com/falproxy/falproxy/internal/falfake"
	"github.com/falproxy/falproxy/internal/registry"
)

// TestAudioListings: /v1/models lists the audio aliases with the kind
// their schema shows, and /v1/audio/models and /v1/audio/voices answer in
// the shapes Open WebUI reads.
func TestAudioListings(t *testing.T) {
	h := newHarness(t, withAudio)
	get := func(path string, into any) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, h.url+path, nil)
		req.Header.Set("Authorization", "Bearer "+accessKey)
		code, _, body := h.do(req)
		if code != http.StatusOK {
			t.Fatalf("%s: %d %s", path, code, body)
		}
		if err := json.Unmarshal(body, into); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
	}
	var detail struct {
		Fal struct{ Kind string }
	}
	get("/v1/models/tts-1", &detail) // fetches the schema
	if detail.Fal.Kind != "speech" {
		t.Errorf("tts-1 detail kind %q", detail.Fal.Kind)
	}
	var list struct {
		Data []struct {
			ID  string
			Fal struct{ Kind string }
		}
	}
	get("/v1/models", &list)
	kinds := map[string]string{}
	for _, m := range list.Data {
		kinds[m.ID] = m.Fal.Kind
	}
	if kinds["tts-1"] != "speech" || kinds["whisper-1"] != "audio" || kinds["flux-dev"] != "image" {
		t.Errorf("kinds %v: tts-1 is known to speak, whisper-1 not looked at yet", kinds)
	}

	var models struct{ Models []struct{ ID string } }
	get("/v1/audio/models", &models)
	if len(models.Models) != 5 || models.Models[0].ID != "tts-1" {
		t.Errorf("audio models %+v", models)
	}
	var voices struct{ Voices []struct{ ID, Name string } }
	get("/v1/audio/voices?model=tts-1", &voices)
	names := map[string]string{}
	for _, v := range voices.Voices {
		names[v.ID] = v.Name
	}
	if names["alloy"] != "alloy → af_alloy" || names["ash"] != "ash → af_heart" || names["af_heart"] != "af_heart" ||
		names["am_onyx"] != "am_onyx" || names["Wise_Woman"] != "" {
		t.Errorf("tts-1 voices %+v", voices)
	}
	get("/v1/audio/voices?model=tts-1-hd", &voices)
	if v := voices.Voices[0]; v.ID != "alloy" || v.Name != "alloy → Wise_Woman" {
		t.Errorf("tts-1-hd voices %+v", voices)
	}
	get("/v1/audio/voices", &voices)
	ids := map[string]bool{}
	for _, v := range voices.Voices {
		ids[v.ID] = true
	}
	if !ids["af_heart"] || !ids["Wise_Woman"] || !ids["Rachel"] {
		t.Errorf("all voices %+v", voices)
	}
}

// TestAudioVoicesOfTranscriptionModel: a transcription model does not
// speak, so asking for its voices is a 400 naming the model, not a list
// of voices it cannot use.
func TestAudioVoicesOfTranscriptionModel(t *testing.T) {
	h := newHarness(t, withAudio)
	req, _ := http.NewRequest(http.MethodGet, h.url+"/v1/audio/voices?model=whisper-1", nil)
	code, hdr, body := h.do(req)
	e := decodeError(t, body)
	if code != http.StatusBadRequest || deref(e.Param) != "model" || !strings.Contains(e.Message, "`whisper-1` does not speak") ||
		hdr.Get("X-Should-Retry") != "false" {
		t.Errorf("voices of whisper-1: %d %s", code, body)
	}
	if len(h.falCalls(falfake.OpSubmit)) != 0 {
		t.Error("listing voices ran a fal job")
	}
}

// TestAudioRequestIDAndMetrics: the client's request id reaches fal on
// every call of a transcription (upload included), and the metrics count
// the request under its alias.
func TestAudioRequestIDAndMetrics(t *testing.T) {
	h := newHarness(t, withAudio, func(s *setup) {
		s.metrics = true
		s.server.InlineLimit = -1
	})
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, _ := mw.CreateFormFile("file", "a.wav")
	_, _ = fw.Write(falfake.ToneWAV(200, 300))
	_ = mw.WriteField("model", "whisper-1")
	_ = mw.WriteField("response_format", "text")
	_ = mw.Close()
	req, _ := http.NewRequest(http.MethodPost, h.url+"/v1/audio/transcriptions", &body)
	req.Header.Set("Authorization", "Bearer "+accessKey)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("X-Request-Id", "trace-audio")
	code, hdr, out := h.do(req)
	if code != http.StatusOK || hdr.Get("Content-Type") != "text/plain; charset=utf-8" || !strings.HasPrefix(string(out), "Heard ") {
		t.Fatalf("%d %v %s", code, hdr, out)
	}
	ops := map[falfake.Op]bool{}
	for _, c := range h.fake.Received() {
		if c.Op == falfake.OpUploadPut || c.Op == falfake.OpSchema {
			continue // the signed PUT and the schema fetch are not the request's
		}
		ops[c.Op] = true
		if c.RequestID != "trace-audio" {
			t.Errorf("%s call carried request id %q", c.Op, c.RequestID)
		}
	}
	if !ops[falfake.OpUpload] || !ops[falfake.OpSubmit] {
		t.Errorf("fal saw %v", ops)
	}
	mreq, _ := http.NewRequest(http.MethodGet, h.url+"/metrics", nil)
	_, _, m := h.do(mreq)
	if want := `falproxy_requests_total{model="whisper-1",route="POST /v1/audio/transcriptions",status="200"} 1`; !strings.Contains(string(m), want) {
		t.Errorf("metrics lack %s", want)
	}
}

// TestSpeechClientLeaves: a client that hangs up while fal speaks gets
// its job cancelled at fal.
func TestSpeechClientLeaves(t *testing.T) {
	h := newHarness(t, withAudio, func(s *setup) { s.fake.GenerationTime = 30 * time.Second })
	cancel, done := h.postInBackground("/v1/audio/speech", `{"model":"tts-1","input":"never heard","voice":"alloy"}`)
	eventually(t, "fal has the job", func() bool { return len(h.fake.Jobs()) == 1 })
	cancel()
	<-done
	eventually(t, "the job is cancelled at fal", func() bool { return h.fake.Jobs()[0].Cancelled })
	if c := h.fake.Counts(); c.Submits != 1 {
		t.Errorf("fal saw %+v; want one submit", c)
	}
}

// speechParams is a plain speech request for model.
func speechParams(model string) oai.AudioSpeechNewParams {
	return oai.AudioSpeechNewParams{Model: oai.SpeechModel(model), Input: "Hello", Voice: oai.AudioSpeechNewParamsVoiceUnion{OfString: oai.String("alloy")}}
}

// TestSpeechFailsOverBeforeSubmit: a key fal rate-limits at submit is
// passed over for the next, and the job runs once.
func TestSpeechFailsOverBeforeSubmit(t *testing.T) {
	h := newHarness(t, withAudio)
	h.fake.Inject(falfake.Fault{Op: falfake.OpSubmit, Key: "fal-key-1:secret1", Status: http.StatusTooManyRequests, Times: 1})
	for range 2 {
		if _, b := h.speak(speechParams("tts-1")); len(b) < 44 {
			t.Fatalf("short audio: %d bytes", len(b))
		}
	}
	if c := h.fake.Counts(); len(h.fake.Jobs()) != 2 || c.Submits != 3 {
		t.Errorf("fal saw %+v and %d jobs; want three submits (one refused) and two jobs", c, len(h.fake.Jobs()))
	}
}

// TestSpeechStreams: the audio reaches the client while fal's CDN is still
// sending it. The CDN sends the first half and holds the rest until the
// client has read that half; a proxy that buffered the whole file would
// deliver nothing until the CDN gave up waiting.
func TestSpeechStreams(t *testing.T) {
	h := newHarness(t, withAudio)
	wav := falfake.ToneWAV(1000, 440)
	half := len(wav) / 2
	clientHasHalf := make(chan struct{})
	var released atomic.Bool // set when the CDN sent the rest because the client had the half
	cdn := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "audio/mpeg") // a wrong label: the bytes decide
		_, _ = w.Write(wav[:half])
		w.(http.Flusher).Flush()
		select {
		case <-clientHasHalf:
			released.Store(true)
		case <-time.After(20 * time.Second):
		case <-r.Context().Done():
			return
		}
		_, _ = w.Write(wav[half:])
	}))
	defer cdn.Close()
	h.fake.Inject(falfake.Fault{Op: falfake.OpResult, Status: http.StatusOK, Times: 1,
		Body: `{"audio":{"url":"` + cdn.URL + `/speech.wav","content_type":"audio/mpeg"}}`})

	req, _ := http.NewRequest(http.MethodPost, h.url+"/v1/audio/speech", strings.NewReader(`{"model":"tts-1","input":"hi","voice":"af_heart"}`))
	req.Header.Set("Authorization", "Bearer "+accessKey)
	req.Header.Set("Content-Type", "application/json")
	resp, err := h.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	first := make([]byte, half)
	if _, err := io.ReadFull(resp.Body, first); err != nil {
		t.Fatal(err)
	}
	close(clientHasHalf)
	rest, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if !released.Load() {
		t.Error("the client got the first half only after the CDN had sent everything: the audio was buffered")
	}
	if got := append(first, rest...); !bytes.Equal(got, wav) || resp.Header.Get("Content-Type") != "audio/wav" {
		t.Errorf("got %d bytes labelled %q", len(got), resp.Header.Get("Content-Type"))
	}
}

// TestAudioListingsNeedNoKey: Open WebUI asks for /v1/audio/models and
// /v1/audio/voices without Authorization, and gets them; the audio routes
// that run jobs still need a key, and fal receives nothing from them.
func TestAudioListingsNeedNoKey(t *testing.T) {
	h := newHarness(t, withAudio)
	for _, path := range []string{"/v1/audio/models", "/v1/audio/voices"} {
		req, _ := http.NewRequest(http.MethodGet, h.url+path, nil)
		code, _, body := h.do(req)
		if code != http.StatusOK || !strings.Contains(string(body), `"alloy"`) && !strings.Contains(string(body), `"tts-1"`) {
			t.Errorf("%s without a key: %d %s", path, code, body)
		}
	}
	for _, path := range []string{"/v1/audio/speech", "/v1/audio/transcriptions", "/v1/audio/translations"} {
		req, _ := http.NewRequest(http.MethodPost, h.url+path, strings.NewReader(`{"model":"tts-1","input":"hi"}`))
		req.Header.Set("Content-Type", "application/json")
		code, _, body := h.do(req)
		if e := decodeError(t, body); code != http.StatusUnauthorized || e.Type != "invalid_request_error" {
			t.Errorf("%s without a key: %d %+v", path, code, e)
		}
	}
	if n := len(h.fake.Jobs()); n != 0 {
		t.Errorf("fal received %d jobs", n)
	}
}

// TestAudioVoicesSkipsUnknownSchema: a speech alias whose schema fal
// cannot give is left out of /v1/audio/voices (and logged) rather than
// turning the whole listing into a 502.
func TestAudioVoicesSkipsUnknownSchema(t *testing.T) {
	h := newHarness(t, withAudio, func(s *setup) {
		s.server.AudioModels = append([]registry.AudioModel{{Alias: "ghost", Endpoint: "fal-ai/no-such-voice-model"}}, s.server.AudioModels...)
	})
	req, _ := http.NewRequest(http.MethodGet, h.url+"/v1/audio/voices", nil)
	code, _, body := h.do(req)
	var voices struct{ Voices []struct{ ID string } }
	if err := json.Unmarshal(body, &voices); code != http.StatusOK || err != nil {
		t.Fatalf("%d %s", code, body)
	}
	ids := map[string]bool{}
	for _, v := range voices.Voices {
		ids[v.ID] = true
	}
	if !ids["alloy"] || !ids["af_heart"] || !ids["Rachel"] {
		t.Errorf("voices %+v", voices)
	}
	asked := false
	for _, c := range h.fake.Received() {
		asked = asked || c.Op == falfake.OpSchema && strings.Contains(c.Query, "no-such-voice-model")
	}
	if !asked || !strings.Contains(h.logs.String(), "fal-ai/no-such-voice-model") {
		t.Errorf("fal was asked for the ghost's schema: %v; logs:\n%s", asked, h.logs)
	}
}

// TestSpeechLongDownload: a speech file that takes longer to arrive than
// the downloader's timeout and than the request timeout, but is never
// silent for that long, reaches the client whole: audio is streamed as
// media, cut only by silence, not as an image download with a deadline.
func TestSpeechLongDownload(t *testing.T) {
	const idle = time.Second
	h := newHarness(t, withAudio, func(s *setup) {
		s.server.Downloader = fal.NewDownloader(fal.DownloaderOptions{AllowPrivate: true, Timeout: idle})
		s.server.RequestTimeout = 2 * idle
	})
	wav := falfake.ToneWAV(2000, 440)
	const chunks = 16 // one every idle/6: 2.5 idle timeouts in all
	cdn := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", strconv.Itoa(len(wav)))
		step := len(wav)/chunks + 1
		for i := 0; i < len(wav); i += step {
			if i > 0 {
				time.Sleep(idle / 6)
			}
			_, _ = w.Write(wav[i:min(i+step, len(wav))])
			w.(http.Flusher).Flush()
		}
	}))
	defer cdn.Close()
	h.fake.Inject(falfake.Fault{Op: falfake.OpResult, Status: http.StatusOK, Times: 1,
		Body: `{"audio":{"url":"` + cdn.URL + `/speech.wav","content_type":"audio/wav"}}`})
	hdr, got := h.speak(speechParams("tts-1"))
	if !bytes.Equal(got, wav) || hdr.Get("Content-Type") != "audio/wav" {
		t.Errorf("got %d of %d bytes, labelled %q", len(got), len(wav), hdr.Get("Content-Type"))
	}
	if in := h.lastInput(); in["prompt"] != "Hello" {
		t.Errorf("fal received %v", in)
	}
}

// TestVoicesWarnOncePerEndpoint: /v1/audio/voices, public and polled by
// settings pages, still answers when a speech model's schema cannot be
// had, and logs that at warn level once for the endpoint, not on every
// call.
func TestVoicesWarnOncePerEndpoint(t *testing.T) {
	h := newHarness(t, withAudio)
	h.fake.Inject(falfake.Fault{Op: falfake.OpSchema, Endpoint: "fal-ai/kokoro/american-english", Status: http.StatusBadRequest})
	for range 3 {
		req, _ := http.NewRequest(http.MethodGet, h.url+"/v1/audio/voices", nil)
		code, _, body := h.do(req)
		if code != http.StatusOK || !strings.Contains(string(body), `"id":"alloy"`) || strings.Contains(string(body), "af_heart") {
			t.Fatalf("%d %s", code, body)
		}
	}
	logs := h.logText()
	warned := strings.Count(logs, `level=WARN msg="audio voices: skipping`)
	if warned != 1 || !strings.Contains(logs, `level=DEBUG msg="audio voices: skipping`) {
		t.Errorf("%d warnings about the skipped model:\n%s", warned, logs)
	}
	if h.fake.Counts().Schemas == 0 {
		t.Error("fal was not asked for the schema")
	}
}
