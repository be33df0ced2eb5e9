package server_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	oai "github.com/openai/openai-go/v3"

	"github.com/falproxy/falproxy/internal/falfake"
	"github.com/falproxy/falproxy/internal/registry"
)

// withAudio configures the audio aliases of the emulator's TTS and STT
// models.
func withAudio(s *setup) {
	s.server.AudioModels = []registry.AudioModel{
		{Alias: "tts-1", Endpoint: "fal-ai/kokoro/american-english"},
		{Alias: "tts-1-hd", Endpoint: "fal-ai/minimax/speech-02-hd"},
		{Alias: "eleven", Endpoint: "fal-ai/elevenlabs/tts/multilingual-v2"},
		{Alias: "whisper-1", Endpoint: "fal-ai/wizper"},
		{Alias: "whisper-words", Endpoint: "fal-ai/whisper"},
	}
}

// heard is the emulator's transcript of a recording: the bytes it got and
// the start of their SHA-256, so equal text means the file arrived intact.
func heard(data []byte) string {
	sum := sha256.Sum256(data)
	return fmt.Sprintf("Heard %d bytes. Digest %s.", len(data), hex.EncodeToString(sum[:4]))
}

// lastInput is the input of the last job fal received.
func (h *harness) lastInput() map[string]any {
	h.t.Helper()
	in := h.falInputs()
	if len(in) == 0 {
		h.t.Fatal("fal received no job")
	}
	return in[len(in)-1]
}

// falAudio reads the last job's result from fal as a client of fal would
// and downloads its audio file: the bytes fal produced.
func (h *harness) falAudio() []byte {
	h.t.Helper()
	jobs := h.fake.Jobs()
	j := jobs[len(jobs)-1]
	req, _ := http.NewRequest(http.MethodGet, h.fake.QueueURL()+"/"+appOf(j.Endpoint)+"/requests/"+j.ID, nil)
	req.Header.Set("Authorization", "Key "+j.Key)
	_, _, body := h.do(req)
	var out struct {
		Audio struct {
			URL string `json:"url"`
		} `json:"audio"`
	}
	if err := json.Unmarshal(body, &out); err != nil || out.Audio.URL == "" {
		h.t.Fatalf("fal's result has no audio: %s", body)
	}
	get, _ := http.NewRequest(http.MethodGet, out.Audio.URL, nil)
	_, _, b := h.do(get)
	return b
}

// appOf is the "owner/app" part of an endpoint id, where fal's queue keeps
// its requests.
func appOf(endpoint string) string {
	parts := strings.Split(endpoint, "/")
	return strings.Join(parts[:2], "/")
}

// speak asks for speech with openai-go and returns the answer's headers
// and bytes.
func (h *harness) speak(params oai.AudioSpeechNewParams) (http.Header, []byte) {
	h.t.Helper()
	resp, err := h.sdk.Audio.Speech.New(context.Background(), params)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		h.t.Fatal(err)
	}
	return resp.Header, b
}

// TestSpeechSDK drives /v1/audio/speech with openai-go: the bytes are
// fal's file, labelled by what they are (the emulator speaks WAV, so an
// mp3 request gets audio/wav), the OpenAI voice is mapped and reported,
// and fal received the text, voice and speed in its own fields.
func TestSpeechSDK(t *testing.T) {
	h := newHarness(t, withAudio)
	hdr, got := h.speak(oai.AudioSpeechNewParams{
		Model:          "tts-1",
		Input:          "Hello from falproxy",
		Voice:          oai.AudioSpeechNewParamsVoiceUnion{OfString: oai.String("alloy")},
		Speed:          oai.Float(1.5),
		ResponseFormat: oai.AudioSpeechNewParamsResponseFormatMP3,
	})
	if ct := hdr.Get("Content-Type"); ct != "audio/wav" {
		t.Errorf("Content-Type %q, want the true audio/wav", ct)
	}
	if v := hdr.Get("X-Falproxy-Voice"); v != "af_alloy" || !strings.Contains(hdr.Get("Access-Control-Expose-Headers"), "X-Falproxy-Voice") {
		t.Errorf("X-Falproxy-Voice %q, want af_alloy, readable by a page of another origin", v)
	}
	if !bytes.Equal(got, h.falAudio()) {
		t.Errorf("the client got %d bytes that are not fal's file", len(got))
	}
	in := h.lastInput()
	if in["prompt"] != "Hello from falproxy" || in["voice"] != "af_alloy" || in["speed"] != 1.5 || len(in) != 3 {
		t.Errorf("fal received %v", in)
	}
}

// TestSpeechNestedFields checks MiniMax: the voice and speed go into
// voice_setting (the speed clamped to its 0.5–2), the format into
// audio_setting, output_format is url, and the model's own voice id
// passes through unreported.
func TestSpeechNestedFields(t *testing.T) {
	h := newHarness(t, withAudio)
	hdr, got := h.speak(oai.AudioSpeechNewParams{
		Model:          "tts-1-hd",
		Input:          "Nested",
		Voice:          oai.AudioSpeechNewParamsVoiceUnion{OfString: oai.String("Deep_Voice_Man")},
		Speed:          oai.Float(4),
		ResponseFormat: oai.AudioSpeechNewParamsResponseFormatFLAC,
	})
	if hdr.Get("Content-Type") != "audio/wav" || hdr.Get("X-Falproxy-Voice") != "" || !bytes.Equal(got, h.falAudio()) {
		t.Errorf("answer %v, %d bytes", hdr, len(got))
	}
	want := `{"audio_setting":{"format":"flac"},"output_format":"url","text":"Nested","voice_setting":{"speed":2,"voice_id":"Deep_Voice_Man"}}`
	if b, _ := json.Marshal(h.lastInput()); string(b) != want {
		t.Errorf("fal received %s\nwant %s", b, want)
	}
}

// TestSpeechPCM asks MiniMax for pcm, which it offers, at OpenAI's 24 kHz
// mono: raw samples with no signature come back as audio/pcm, byte for
// byte.
func TestSpeechPCM(t *testing.T) {
	h := newHarness(t, withAudio)
	hdr, got := h.speak(oai.AudioSpeechNewParams{
		Model: "tts-1-hd", Input: "raw", Voice: oai.AudioSpeechNewParamsVoiceUnion{OfString: oai.String("alloy")},
		ResponseFormat: oai.AudioSpeechNewParamsResponseFormatPCM,
	})
	if hdr.Get("Content-Type") != "audio/pcm" || len(got) == 0 || bytes.HasPrefix(got, []byte("RIFF")) || !bytes.Equal(got, h.falAudio()) {
		t.Errorf("pcm answer %v, %d bytes", hdr, len(got))
	}
	want := `{"channel":1,"format":"pcm","sample_rate":24000}`
	if b, _ := json.Marshal(h.lastInput()["audio_setting"]); string(b) != want {
		t.Errorf("fal received audio_setting %s, want OpenAI's pcm: %s", b, want)
	}
}

// TestSpeechRejects checks the 400s of speech: a voice the model lacks,
// input over 4096 characters, a transcription model, and an image alias;
// none reaches fal.
func TestSpeechRejects(t *testing.T) {
	h := newHarness(t, withAudio)
	cases := []struct{ body, param, says string }{
		{`{"model":"tts-1","input":"hi","voice":"Rachel"}`, "voice", "af_heart"},
		{`{"model":"tts-1","input":"` + strings.Repeat("a", 4097) + `","voice":"alloy"}`, "input", "4096"},
		{`{"model":"whisper-1","input":"hi","voice":"alloy"}`, "model", "transcribes speech; use /v1/audio/transcriptions"},
		{`{"model":"flux-dev","input":"hi","voice":"alloy"}`, "model", "makes images (use /v1/images/generations); this route needs a model that makes speech"},
		{`{"model":"gpt-4o","input":"hi","voice":"alloy"}`, "model", "is a chat model"},
		{`{"model":"tts-1","input":"hi","voice":"alloy","speed":9}`, "speed", "0.25"},
	}
	for _, c := range cases {
		status, hdr, body := h.post(context.Background(), "/v1/audio/speech", c.body)
		e := decodeError(t, body)
		if status != http.StatusBadRequest || deref(e.Param) != c.param || !strings.Contains(e.Message, c.says) || hdr.Get("X-Should-Retry") != "false" {
			t.Errorf("%.60s: %d %+v", c.body, status, e)
		}
	}
	if n := len(h.fake.Jobs()); n != 0 {
		t.Errorf("fal received %d jobs", n)
	}
}

// TestSpeechDefaultModel: a request naming no model goes to the first
// audio alias that speaks.
func TestSpeechDefaultModel(t *testing.T) {
	h := newHarness(t, withAudio, func(s *setup) {
		s.server.AudioModels = append(s.server.AudioModels[3:], s.server.AudioModels[:3]...) // STT first
	})
	status, hdr, body := h.post(context.Background(), "/v1/audio/speech", `{"input":"who speaks","voice":"alloy"}`)
	if status != http.StatusOK || hdr.Get("X-Falproxy-Voice") != "af_alloy" || !bytes.HasPrefix(body, []byte("RIFF")) {
		t.Fatalf("%d %v", status, hdr)
	}
	if j := h.fake.Jobs(); len(j) != 1 || j[0].Endpoint != "fal-ai/kokoro/american-english" {
		t.Errorf("fal jobs %+v", j)
	}
}

// TestSpeechFalRejects checks that a fal 422 on a nested field names the
// OpenAI field it came from.
func TestSpeechFalRejects(t *testing.T) {
	h := newHarness(t, withAudio)
	h.fake.Inject(falfake.Fault{Op: falfake.OpResult, Status: http.StatusUnprocessableEntity, Times: 1,
		Body: `{"detail":[{"loc":["body","voice_setting","voice_id"],"msg":"Voice not found","type":"value_error"}]}`})
	status, _, body := h.post(context.Background(), "/v1/audio/speech", `{"model":"tts-1-hd","input":"hi","voice":"Nobody"}`)
	e := decodeError(t, body)
	if status != http.StatusBadRequest || deref(e.Param) != "voice" || !strings.Contains(e.Message, "Voice not found") {
		t.Errorf("%d %+v", status, e)
	}
}

// TestSpeechInlineAndNotAudio checks fal's other answers: audio carried
// as hex in the output is decoded and labelled by its bytes; a CDN file
// that is not audio, whatever its label, is a 502 and no audio.
func TestSpeechInlineAndNotAudio(t *testing.T) {
	h := newHarness(t, withAudio)
	wav := falfake.ToneWAV(100, 300)
	h.fake.Inject(falfake.Fault{Op: falfake.OpResult, Status: http.StatusOK, Times: 1,
		Body: `{"audio":{"url":"` + hex.EncodeToString(wav) + `"},"duration_ms":100}`})
	status, hdr, body := h.post(context.Background(), "/v1/audio/speech", `{"model":"tts-1-hd","input":"hi","voice":"alloy"}`)
	if status != http.StatusOK || hdr.Get("Content-Type") != "audio/wav" || !bytes.Equal(body, wav) || hdr.Get("X-Falproxy-Voice") != "Wise_Woman" {
		t.Errorf("hex audio: %d %v, %d bytes", status, hdr, len(body))
	}

	h.fake.Inject(falfake.Fault{Op: falfake.OpCDN, Status: http.StatusOK, Body: "<html>busy</html>", ContentType: "audio/mpeg", Times: 1})
	status, hdr, body = h.post(context.Background(), "/v1/audio/speech", `{"model":"tts-1","input":"hi","voice":"alloy"}`)
	e := decodeError(t, body)
	if status != http.StatusBadGateway || deref(e.Code) != "upstream_not_audio" || hdr.Get("X-Falproxy-Voice") != "" {
		t.Errorf("not audio: %d %v %+v", status, hdr, e)
	}
}

// TestTranscriptionUpload sends a recording above INLINE_LIMIT: it is
// uploaded to fal storage byte for byte, and fal reads it from there.
func TestTranscriptionUpload(t *testing.T) {
	h := newHarness(t, withAudio, func(s *setup) { s.server.InlineLimit = 1000 })
	wav := falfake.ToneWAV(500, 440)
	res, err := h.sdk.Audio.Transcriptions.New(context.Background(), oai.AudioTranscriptionNewParams{File: bytes.NewReader(wav), Model: "whisper-1"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Text != heard(wav) {
		t.Errorf("text %q, want %q", res.Text, heard(wav))
	}
	var put []byte
	for _, c := range h.fake.Received() {
		if c.Op == falfake.OpUploadPut {
			put = c.Body
		}
	}
	if !bytes.Equal(put, wav) {
		t.Errorf("fal storage received %d bytes, not the recording", len(put))
	}
	if u, _ := h.lastInput()["audio_url"].(string); !strings.Contains(u, "/files/") {
		t.Errorf("audio_url %q is not fal storage", u)
	}
}

// TestTranscriptionRejects checks the transcription errors: a file over
// 25 MB (413), a file that is not audio, a speech model, and word
// timestamps from a model that has none; none reaches fal.
func TestTranscriptionRejects(t *testing.T) {
	h := newHarness(t, withAudio)
	big := append(falfake.ToneWAV(10, 100), make([]byte, 25<<20)...)
	ctx := context.Background()
	_, err := h.sdk.Audio.Transcriptions.New(ctx, oai.AudioTranscriptionNewParams{File: bytes.NewReader(big), Model: "whisper-1"})
	expectAPIError(t, err, http.StatusRequestEntityTooLarge, "file", "25 MB")
	_, err = h.sdk.Audio.Transcriptions.New(ctx, oai.AudioTranscriptionNewParams{File: strings.NewReader("not a sound"), Model: "whisper-1"})
	expectAPIError(t, err, http.StatusBadRequest, "file", "not audio")
	wav := falfake.ToneWAV(100, 200)
	_, err = h.sdk.Audio.Transcriptions.New(ctx, oai.AudioTranscriptionNewParams{File: bytes.NewReader(wav), Model: "tts-1"})
	expectAPIError(t, err, http.StatusBadRequest, "model", "makes speech; use /v1/audio/speech")
	_, err = h.sdk.Audio.Transcriptions.New(ctx, oai.AudioTranscriptionNewParams{File: bytes.NewReader(wav), Model: "whisper-1",
		ResponseFormat: oai.AudioResponseFormatVerboseJSON, TimestampGranularities: []string{"word"}})
	expectAPIError(t, err, http.StatusBadRequest, "timestamp_granularities", "word-level")
	if n := len(h.fake.Jobs()); n != 0 {
		t.Errorf("fal received %d jobs", n)
	}
}

// expectAPIError checks an SDK error's status, param and message.
func expectAPIError(t *testing.T, err error, status int, param, says string) {
	t.Helper()
	var apiErr *oai.Error
	if !errors.As(err, &apiErr) {
		t.Fatalf("want an API error, got %v", err)
	}
	if apiErr.StatusCode != status || apiErr.Param != param || !strings.Contains(apiErr.Message, says) {
		t.Errorf("got %d param %q: %s", apiErr.StatusCode, apiErr.Param, apiErr.Message)
	}
}

// TestTranscriptionSDK sends a real WAV with openai-go: json answers
// {text}, fal received the recording intact as a data URI, the task and
// no language (to be detected).
func TestTranscriptionSDK(t *testing.T) {
	h := newHarness(t, withAudio)
	wav := falfake.ToneWAV(1500, 440)
	res, err := h.sdk.Audio.Transcriptions.New(context.Background(), oai.AudioTranscriptionNewParams{
		File:  bytes.NewReader(wav),
		Model: "whisper-1",
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Text != heard(wav) {
		t.Errorf("text %q, want %q", res.Text, heard(wav))
	}
	in := h.lastInput()
	if in["audio_url"] != "data:audio/wav;base64,"+base64.StdEncoding.EncodeToString(wav) || in["task"] != "transcribe" {
		t.Errorf("fal received %.200v", in)
	}
	if v, ok := in["language"]; !ok || v != nil {
		t.Errorf("language %v: without one the model must detect it", v)
	}
}

// TestTranscriptionFormats asks for every response_format through
// openai-go (text, srt and vtt read as strings, as its docs say).
func TestTranscriptionFormats(t *testing.T) {
	h := newHarness(t, withAudio)
	wav := falfake.ToneWAV(2000, 330)
	ctx := context.Background()
	for _, format := range []oai.AudioResponseFormat{oai.AudioResponseFormatText, oai.AudioResponseFormatSRT, oai.AudioResponseFormatVTT} {
		var out string
		err := h.sdk.Post(ctx, "audio/transcriptions", oai.AudioTranscriptionNewParams{
			File: bytes.NewReader(wav), Model: "whisper-1", ResponseFormat: format, Language: oai.String("de"),
		}, &out)
		if err != nil {
			t.Fatalf("%s: %v", format, err)
		}
		first, second, _ := strings.Cut(heard(wav), " Digest")
		second = "Digest" + second
		want := map[oai.AudioResponseFormat]string{
			"text": heard(wav) + "\n",
			"srt":  "1\n00:00:00,000 --> 00:00:01,060\n" + first + "\n\n2\n00:00:01,060 --> 00:00:02,000\n" + second + "\n\n",
			"vtt":  "WEBVTT\n\n00:00:00.000 --> 00:00:01.060\n" + first + "\n\n00:00:01.060 --> 00:00:02.000\n" + second + "\n\n",
		}[format]
		if out != want {
			t.Errorf("%s:\n got %q\nwant %q", format, out, want)
		}
		if in := h.lastInput(); in["language"] != "de" {
			t.Errorf("%s: fal received language %v", format, in["language"])
		}
	}

	res, err := h.sdk.Audio.Transcriptions.New(ctx, oai.AudioTranscriptionNewParams{
		File: bytes.NewReader(wav), Model: "whisper-1", ResponseFormat: oai.AudioResponseFormatVerboseJSON,
	})
	if err != nil {
		t.Fatal(err)
	}
	v := res.AsTranscriptionVerbose()
	if v.Text != heard(wav) || v.Duration != 2 || v.Language != "en" || len(v.Segments) != 2 || v.Segments[1].ID != 1 || v.Segments[1].End != 2 || len(v.Words) != 0 {
		t.Errorf("verbose_json: %s", res.RawJSON())
	}
}

// TestTranscriptionWords asks for word timestamps from a model with
// word-level chunks: fal is asked for chunk_level word, and the answer
// has words and the segments made of them.
func TestTranscriptionWords(t *testing.T) {
	h := newHarness(t, withAudio)
	wav := falfake.ToneWAV(1000, 500)
	res, err := h.sdk.Audio.Transcriptions.New(context.Background(), oai.AudioTranscriptionNewParams{
		File: bytes.NewReader(wav), Model: "whisper-words", ResponseFormat: oai.AudioResponseFormatVerboseJSON,
		TimestampGranularities: []string{"word", "segment"}, Prompt: oai.String("Tone test"),
	})
	if err != nil {
		t.Fatal(err)
	}
	v := res.AsTranscriptionVerbose()
	if len(v.Words) != 5 || v.Words[0].Word != "Heard" || v.Words[4].End != 1 || len(v.Segments) != 2 || v.Segments[0].Text != strings.SplitAfter(heard(wav), ".")[0] {
		t.Errorf("verbose_json with words: %s", res.RawJSON())
	}
	in := h.lastInput()
	if in["chunk_level"] != "word" || in["prompt"] != "Tone test" {
		t.Errorf("fal received %.300v", in)
	}
}

// TestTranslationSDK translates with openai-go: the model's task
// translate, and language null so that the model detects the recording's
// language rather than assume its default.
func TestTranslationSDK(t *testing.T) {
	h := newHarness(t, withAudio)
	wav := falfake.ToneWAV(800, 600)
	res, err := h.sdk.Audio.Translations.New(context.Background(), oai.AudioTranslationNewParams{
		File: bytes.NewReader(wav), Model: "whisper-1",
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Text != "Translated: "+heard(wav) {
		t.Errorf("text %q", res.Text)
	}
	in := h.lastInput()
	if in["task"] != "translate" {
		t.Errorf("fal received %.200v", in)
	}
	if v, ok := in["language"]; !ok || v != nil {
		t.Errorf("language %v: the model must detect the recording's language", v)
	}
}

// TestTranscriptionTemperature: temperature is read as a number and not
// sent (fal's models take none); one that is no number is a 400 naming
// it, and reaches no fal job.
func TestTranscriptionTemperature(t *testing.T) {
	h := newHarness(t, withAudio)
	wav := falfake.ToneWAV(200, 300)
	send := func(temperature string) (int, []byte) {
		ct, body := multipartBody(t, []formPart{{name: "file", file: "a.wav", data: wav}, {name: "model", data: []byte("whisper-1")}, {name: "temperature", data: []byte(temperature)}})
		req, _ := http.NewRequest(http.MethodPost, h.url+"/v1/audio/transcriptions", bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+accessKey)
		req.Header.Set("Content-Type", ct)
		code, _, out := h.do(req)
		return code, out
	}
	code, out := send("warm")
	if e := decodeError(t, out); code != http.StatusBadRequest || deref(e.Param) != "temperature" || !strings.Contains(e.Message, "number") {
		t.Errorf("temperature warm: %d %+v", code, e)
	}
	if n := len(h.fake.Jobs()); n != 0 {
		t.Fatalf("fal received %d jobs", n)
	}
	if code, out = send(" 0.2 "); code != http.StatusOK || !strings.Contains(string(out), heard(wav)) {
		t.Fatalf("temperature 0.2: %d %s", code, out)
	}
	if in := h.lastInput(); in["temperature"] != nil || len(in) != 3 {
		t.Errorf("fal received %.200v", in)
	}
}

// TestTranscriptionMP4: a recording in an mp4 made with brand mp41 (what
// many phones write) is audio; fal receives it unchanged as audio/mp4.
func TestTranscriptionMP4(t *testing.T) {
	h := newHarness(t, withAudio)
	rec := append([]byte("\x00\x00\x00\x18ftypmp41\x00\x00\x00\x00mp41isom"), make([]byte, 512)...)
	res, err := h.sdk.Audio.Transcriptions.New(context.Background(), oai.AudioTranscriptionNewParams{File: bytes.NewReader(rec), Model: "whisper-1"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Text != heard(rec) {
		t.Errorf("text %q, want %q", res.Text, heard(rec))
	}
	if in := h.lastInput(); in["audio_url"] != "data:audio/mp4;base64,"+base64.StdEncoding.EncodeToString(rec) {
		t.Errorf("fal received %.80v", in["audio_url"])
	}
}
