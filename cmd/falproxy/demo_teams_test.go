package main

import (
	"context"
	"encoding/json"
	"math"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/falproxy/falproxy/internal/ciskip"
	"github.com/falproxy/falproxy/internal/falfake"
	"github.com/falproxy/falproxy/internal/store"
)

// TestDemoBannerRunsServe runs falproxy serve with exactly the variables
// the demo's banner exports (on a port and loopback of its own, with a
// database and ADMIN_KEY for Teams): a virtual key with a hard budget
// gets an image, a chat answer, a video, speech and a transcription from
// the demo's emulator, since every demo model is priced there and the
// emulator's media is allowed.
func TestDemoBannerRunsServe(t *testing.T) {
	_, vars := startDemo(t, map[string]string{})
	for _, name := range []string{"FAL_API_URL", "FAL_H2C", "ALLOW_PRIVATE_MEDIA", "VIDEO_MODELS", "AUDIO_MODELS", "EMBEDDING_MODELS"} {
		if vars[name] == "" {
			t.Fatalf("the banner exports no %s", name)
		}
	}
	env := map[string]string{"HOST": "127.0.0.1", "ADMIN_KEY": teamsAdminKey, "DATABASE_URL": "sqlite://" + filepath.Join(t.TempDir(), "teams.db")}
	for name, value := range vars {
		if name != "KEY" {
			env[name] = value
		}
	}
	secret := budgetedKey(t, env)
	r := startRun(t, []string{"serve"}, env)
	tourDemoModels(t, r, secret)
}

// TestDemoPricesMatchTheBill runs the same requests with a budgeted key
// on the emulator priced as in the demo, and checks that the ledger is
// what the emulator billed.
func TestDemoPricesMatchTheBill(t *testing.T) {
	fake, err := falfake.New(falfake.Options{GenerationTime: time.Millisecond, Prices: falfake.ListPrices})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = fake.Close() })
	env := fakeEnv(fake, map[string]string{"DATABASE_URL": "sqlite://" + filepath.Join(t.TempDir(), "teams.db"),
		"ADMIN_KEY": teamsAdminKey, "FAL_API_URL": fake.APIURL(), "SUPPORTED_MODELS": demoModels,
		"VIDEO_MODELS": demoVideoModels, "AUDIO_MODELS": demoAudioModels, "EMBEDDING_MODELS": demoEmbeddingModels})
	secret := budgetedKey(t, env)
	r := startRun(t, []string{"serve"}, env)
	tourDemoModels(t, r, secret)
	if err := r.shutdown(t); err != nil {
		t.Fatal(err)
	}
	var totals []store.UsageTotal
	if err := json.Unmarshal([]byte(runCLI(t, env, "usage", "--json")), &totals); err != nil || len(totals) != 1 {
		t.Fatalf("usage: %+v %v", totals, err)
	}
	bill := fake.BillUSD()
	if bill == 0 || math.Abs(totals[0].CostUSD-bill) > 1e-6 || totals[0].UnpricedRequests != 0 || totals[0].Requests != 5 {
		t.Fatalf("the ledger says %+v, the emulator billed $%v", totals[0], bill)
	}
}

// budgetedKey makes a virtual key with a hard budget through the CLI.
func budgetedKey(t *testing.T, env map[string]string) string {
	t.Helper()
	out := runCLI(t, env, "keys", "create", "--name", "demo-team", "--budget", "50")
	secret := out[strings.Index(out, store.KeyPrefix):]
	return secret[:strings.IndexAny(secret, " \n")]
}

// tourDemoModels asks for an image, a chat answer, a video (until it is
// made), speech and its transcription with key, each of which must
// succeed.
func tourDemoModels(t *testing.T, r *running, key string) {
	t.Helper()
	ctx := context.Background()
	for path, body := range map[string]string{
		"/v1/images/generations": `{"model":"flux-dev","prompt":"a lighthouse"}`,
		"/v1/chat/completions":   `{"model":"openai/gpt-4o","messages":[{"role":"user","content":"Hello"}]}`,
	} {
		if status, answer, err := r.post(ctx, path, key, body); err != nil || status != http.StatusOK {
			t.Fatalf("%s: %d %s %v", path, status, answer, err)
		}
	}
	status, answer, err := r.post(ctx, "/v1/videos", key, `{"model":"sora-2","prompt":"a fox","seconds":"4"}`)
	var video struct{ ID, Status string }
	if err != nil || status != http.StatusOK || json.Unmarshal([]byte(answer), &video) != nil {
		t.Fatalf("video: %d %s %v", status, answer, err)
	}
	waitFor(t, "the video", func() bool {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, r.base+"/v1/videos/"+video.ID, nil)
		req.Header.Set("Authorization", "Bearer "+key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		_ = json.NewDecoder(resp.Body).Decode(&video)
		return video.Status == "completed" || video.Status == "failed"
	})
	if video.Status != "completed" {
		t.Fatalf("video %+v", video)
	}

	status, speech, err := r.post(ctx, "/v1/audio/speech", key, `{"model":"tts-1","input":"Hello from fal","voice":"alloy"}`)
	if err != nil || status != http.StatusOK {
		t.Fatalf("speech: %d %s %v", status, speech, err)
	}
	if status, text, err := r.transcribe(ctx, key, []byte(speech)); err != nil || status != http.StatusOK {
		t.Fatalf("transcription: %d %s %v", status, text, err)
	}
}

// TestReadmeEditLines runs the Quick start's edit commands, from both
// READMEs, against the demo: every file they send exists, and each edit
// answers an image, not an error.
func TestReadmeEditLines(t *testing.T) {
	for _, tool := range []string{"bash", "curl", "sed", "base64", "grep"} {
		if _, err := exec.LookPath(tool); err != nil {
			ciskip.Skipf(t, "no %s: %v", tool, err)
		}
	}
	r, vars := startDemo(t, map[string]string{})
	for _, readme := range []string{"README.md", "README.zh-CN.md"} {
		text, err := os.ReadFile(filepath.Join("..", "..", readme))
		if err != nil {
			t.Fatal(err)
		}
		first := strings.Index(string(text), "curl -sS http://127.0.0.1:8000/v1/images/generations")
		end := strings.Index(string(text[max(first, 0):]), "\n```")
		if first < 0 || end < 0 {
			t.Fatalf("%s has no Quick start edit lines", readme)
		}
		lines := strings.ReplaceAll(string(text[first:first+end]), "http://127.0.0.1:8000", r.base)
		// Each edit's answer is checked to be an image.
		lines = strings.ReplaceAll(lines, "=@photo.png\n", "=@photo.png | grep -q '\"data\":\\[{'\n") + " | grep -q '\"data\":\\[{'"
		cmd := exec.Command("bash", "-ec", "set -o pipefail\n"+lines)
		cmd.Dir, cmd.Env = t.TempDir(), append(os.Environ(), "KEY="+vars["KEY"])
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%s's edit lines: %v\n%s\n%s", readme, err, lines, out)
		}
	}
}
