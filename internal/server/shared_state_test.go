package server_test

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	oai "github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/openai/openai-go/v3/responses"

	"github.com/falproxy/falproxy/internal/chat"
	"github.com/falproxy/falproxy/internal/fal"
	"github.com/falproxy/falproxy/internal/falfake"
	"github.com/falproxy/falproxy/internal/falschema"
	"github.com/falproxy/falproxy/internal/registry"
	"github.com/falproxy/falproxy/internal/server"
	"github.com/falproxy/falproxy/internal/store"
	"github.com/falproxy/falproxy/internal/store/pgtest"
	"github.com/falproxy/falproxy/internal/teams"
)

// sharedReplica is a second falproxy beside a, as another replica behind
// a load balancer: the same keys and models, the same fal emulator, and
// a store of its own on the database at url. It returns the replica and
// its store, which a test may close to take the database away from it.
func sharedReplica(t *testing.T, a *harness, url string) (*harness, *store.Store) {
	t.Helper()
	st, err := store.Open(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	gate := teams.New(teams.Options{Store: st})
	logs := &bytes.Buffer{}
	logw := &lockedWriter{w: logs}
	hc := fal.NewH2CHTTPClient()
	fc := fal.New(fal.Options{QueueURL: a.fake.QueueURL(), RunURL: a.fake.RunURL(), StorageURL: a.fake.StorageURL(),
		Pool: fal.NewPool([]string{"fal-key-1:secret1", "fal-key-2:secret2"}, fal.PoolOptions{}), HTTP: hc})
	proxy := httptest.NewServer(server.New(server.Options{
		AccessKeys: []string{accessKey}, VideoModels: videoModels, Fal: fc, Gate: gate,
		ChatModels: []registry.ChatModel{{Alias: "gpt-4o", Model: "openai/gpt-4o"}}, ChatLimits: chat.DefaultLimits(), RequestTimeout: 20 * time.Second,
		Schemas:    falschema.NewStore(falschema.StoreOptions{URL: a.fake.OpenAPIURL(), HTTP: hc, TTL: time.Hour}),
		Downloader: fal.NewDownloader(fal.DownloaderOptions{AllowPrivate: true}),
		Logger:     slog.New(slog.NewTextHandler(logw, nil)),
	}))
	client := &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}
	t.Cleanup(func() {
		proxy.CloseClientConnections()
		proxy.Close()
		client.CloseIdleConnections()
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		gate.Close(ctx)
		_ = st.Close()
		_ = fc.Close(context.Background())
		hc.CloseIdleConnections()
	})
	b := &harness{t: t, fake: a.fake, url: proxy.URL, client: client, falHTTP: hc, logs: logs, logw: logw,
		sdk: oai.NewClient(option.WithBaseURL(proxy.URL+"/v1"), option.WithAPIKey(accessKey), option.WithMaxRetries(0), option.WithHTTPClient(client))}
	return b, st
}

// sharedPair is two replicas, a and b, on one fal emulator and the one
// database at url.
func sharedPair(t *testing.T, url string, mods ...func(*setup)) (a, b *harness) {
	t.Helper()
	a = newHarness(t, append([]func(*setup){withVideos(0), withTeams(&teamsSetup{url: url})}, mods...)...)
	b, _ = sharedReplica(t, a, url)
	return a, b
}

// TestResponsesSharedByReplicas: with a database, a response created with
// store:true through one replica is retrieved, listed, continued and
// deleted through another, and the conversation continued there reaches
// fal whole.
func TestResponsesSharedByReplicas(t *testing.T) {
	eachStore(t, func(t *testing.T, url string) {
		a, b := sharedPair(t, url)
		ctx := context.Background()
		first, err := a.sdk.Responses.New(ctx, responses.ResponseNewParams{Model: "gpt-4o", Store: oai.Bool(true),
			Input: responses.ResponseNewParamsInputUnion{OfString: oai.String("my name is Ana")}})
		if err != nil {
			t.Fatal(err)
		}
		got, err := b.sdk.Responses.Get(ctx, first.ID, responses.ResponseGetParams{})
		if err != nil || got.ID != first.ID || got.OutputText() != first.OutputText() {
			t.Fatalf("the response on the other replica: %v %+v", err, got)
		}
		items, err := b.sdk.Responses.InputItems.List(ctx, first.ID, responses.InputItemListParams{})
		if err != nil || len(items.Data) != 1 || !strings.Contains(items.RawJSON(), "my name is Ana") {
			t.Fatalf("input items on the other replica: %v %s", err, items.RawJSON())
		}

		second, err := b.sdk.Responses.New(ctx, responses.ResponseNewParams{Model: "gpt-4o", PreviousResponseID: oai.String(first.ID),
			Input: responses.ResponseNewParamsInputUnion{OfString: oai.String("what is my name")}})
		if err != nil {
			t.Fatalf("continuing on the other replica: %v", err)
		}
		calls := a.fake.Received()
		at := slices.IndexFunc(calls, func(c falfake.Call) bool { return strings.Contains(string(c.Body), "what is my name") })
		if at < 0 || !strings.Contains(string(calls[at].Body), "my name is Ana") {
			t.Fatalf("fal was not sent the whole conversation: %v", at)
		}
		if again, err := a.sdk.Responses.Get(ctx, second.ID, responses.ResponseGetParams{}); err != nil || again.PreviousResponseID != first.ID {
			t.Fatalf("the continuation on the first replica: %v %+v", err, again)
		}

		if err := b.sdk.Responses.Delete(ctx, first.ID); err != nil {
			t.Fatalf("delete on the other replica: %v", err)
		}
		if _, err := a.sdk.Responses.Get(ctx, first.ID, responses.ResponseGetParams{}); !isStatus(err, http.StatusNotFound) {
			t.Errorf("a deleted response on the first replica: %v, want 404", err)
		}
		if code, _, body := a.post(ctx, "/v1/responses", `{"model":"gpt-4o","input":"and now?","previous_response_id":"`+second.ID+`"}`); code != http.StatusBadRequest ||
			deref(decodeError(t, body).Code) != "previous_response_not_found" || !strings.Contains(string(body), "in its database for 1h") {
			t.Errorf("a conversation through a deleted response: %d %s", code, body)
		}
	})
}

// TestVideosSharedByReplicas: with a database, a video created through one
// replica is listed and retrieved with its whole prompt through another,
// and once deleted through the first it is gone from the other too.
func TestVideosSharedByReplicas(t *testing.T) {
	eachStore(t, func(t *testing.T, url string) {
		a, b := sharedPair(t, url)
		ctx := context.Background()
		prompt := strings.Repeat("a fox in the snow ", 60) // longer than the id carries
		created, err := a.sdk.Videos.New(ctx, oai.VideoNewParams{Prompt: prompt, Model: "sora-2"})
		if err != nil {
			t.Fatal(err)
		}
		if inputs := a.falInputs(); len(inputs) != 1 || inputs[0]["prompt"] != prompt {
			t.Fatalf("fal received %v", inputs)
		}
		page, err := b.sdk.Videos.List(ctx, oai.VideoListParams{})
		if err != nil || len(page.Data) != 1 || page.Data[0].ID != created.ID || page.Data[0].Prompt != prompt {
			t.Fatalf("the list on the other replica: %v %s", err, page.RawJSON())
		}
		if v := pollVideo(t, b.sdk, created.ID); v.Status != oai.VideoStatusCompleted || v.Prompt != prompt {
			t.Fatalf("the video on the other replica: %s", v.RawJSON())
		}

		if _, err := a.sdk.Videos.Delete(ctx, created.ID); err != nil {
			t.Fatal(err)
		}
		_, err = b.sdk.Videos.Get(ctx, created.ID)
		if apiErr, ok := err.(*oai.Error); !ok || apiErr.StatusCode != http.StatusNotFound || apiErr.Code != "video_not_found" {
			t.Errorf("a deleted video on the other replica: %v", err)
		}
		if page, err := b.sdk.Videos.List(ctx, oai.VideoListParams{}); err != nil || len(page.Data) != 0 {
			t.Errorf("the other replica lists a deleted video: %v %s", err, page.RawJSON())
		}
	})
}

// TestSharedStateWhenTheDatabaseIsDown: a replica that cannot read the
// database, closed or not answering, answers 503 with Retry-After, never a
// 404 that would say a response or a video is gone, and asks fal nothing
// for a conversation it cannot read; a response it cannot keep is still
// answered.
func TestSharedStateWhenTheDatabaseIsDown(t *testing.T) {
	t.Run("closed", func(t *testing.T) {
		url := "sqlite://" + t.TempDir() + "/falproxy.db"
		a := newHarness(t, withVideos(0), withTeams(&teamsSetup{url: url}))
		b, st := sharedReplica(t, a, url)
		checkDatabaseDown(t, a, b, func() { _ = st.Close() })
	})
	t.Run("not answering", func(t *testing.T) {
		url := pgtest.URL(t)
		a := newHarness(t, withVideos(0), withTeams(&teamsSetup{url: url}))
		proxy, through := newStallingProxy(t, url)
		b, _ := sharedReplica(t, a, through)
		// Without a bound on the database's calls a request would wait for
		// this, the client's timeout.
		b.client.Timeout = 30 * time.Second
		checkDatabaseDown(t, a, b, proxy.stall)
	})
}

// checkDatabaseDown creates a response and a video through a, takes the
// database away from b with down, and checks b's answers.
func checkDatabaseDown(t *testing.T, a, b *harness, down func()) {
	t.Helper()
	ctx := context.Background()
	kept, err := a.sdk.Responses.New(ctx, responses.ResponseNewParams{Model: "gpt-4o",
		Input: responses.ResponseNewParamsInputUnion{OfString: oai.String("hello")}})
	if err != nil {
		t.Fatal(err)
	}
	video, err := a.sdk.Videos.New(ctx, oai.VideoNewParams{Prompt: "a fox", Model: "sora-2"})
	if err != nil {
		t.Fatal(err)
	}
	down()

	calls := len(a.fake.Received())
	unavailable := func(what string, code int, hdr http.Header, body []byte) {
		t.Helper()
		if code != http.StatusServiceUnavailable || deref(decodeError(t, body).Code) != "store_unavailable" || hdr.Get("Retry-After") != "5" {
			t.Errorf("%s: %d %v %s", what, code, hdr, body)
		}
	}
	code, hdr, body := b.get("/v1/responses/" + kept.ID)
	unavailable("GET of a response", code, hdr, body)
	code, hdr, body = b.get("/v1/responses/" + kept.ID + "/input_items")
	unavailable("its input items", code, hdr, body)
	code, hdr, body = b.post(ctx, "/v1/responses", `{"model":"gpt-4o","input":"and now?","previous_response_id":"`+kept.ID+`"}`)
	unavailable("a continued conversation", code, hdr, body)
	code, hdr, body = b.get("/v1/videos")
	unavailable("the list of videos", code, hdr, body)
	code, hdr, body = b.get("/v1/videos/" + video.ID)
	unavailable("GET of a video", code, hdr, body)
	req, _ := http.NewRequest(http.MethodDelete, b.url+"/v1/videos/"+video.ID, nil)
	req.Header.Set("Authorization", "Bearer "+accessKey)
	code, hdr, body = b.do(req)
	unavailable("DELETE of a video", code, hdr, body)
	if len(a.fake.Received()) != calls {
		t.Error("fal was called by requests the database could not answer")
	}

	if resp, err := b.sdk.Responses.New(ctx, responses.ResponseNewParams{Model: "gpt-4o",
		Input: responses.ResponseNewParamsInputUnion{OfString: oai.String("keep this")}}); err != nil || !strings.Contains(resp.OutputText(), "keep this") {
		t.Errorf("a response that cannot be kept is not answered: %v", err)
	}
	if !strings.Contains(b.logText(), "a response could not be kept") {
		t.Error("the response not kept was not logged")
	}
}

// TestStreamedResponsesKeptBeforeTheyAreSent: a streamed response is kept
// before its last event leaves, so that another replica reads it the
// moment the client has seen response.completed, in the bridge and in the
// passthrough to fal's responses route.
func TestStreamedResponsesKeptBeforeTheyAreSent(t *testing.T) {
	for name, mods := range map[string][]func(*setup){"bridge": nil, "passthrough": {withResponsesPassthrough}} {
		t.Run(name, func(t *testing.T) {
			eachStore(t, func(t *testing.T, url string) {
				a, b := sharedPair(t, url, mods...)
				ctx := context.Background()
				stream := a.sdk.Responses.NewStreaming(ctx, responses.ResponseNewParams{Model: "gpt-4o", Store: oai.Bool(true),
					Input: responses.ResponseNewParamsInputUnion{OfString: oai.String("stream me to the other replica")}})
				completed := false
				for stream.Next() {
					ev := stream.Current()
					if ev.Type != "response.completed" {
						continue
					}
					completed = true
					got, err := b.sdk.Responses.Get(ctx, ev.Response.ID, responses.ResponseGetParams{})
					if err != nil || got.ID != ev.Response.ID || got.OutputText() != ev.Response.OutputText() {
						t.Errorf("the other replica at response.completed: %v %+v", err, got)
					}
				}
				if err := stream.Err(); err != nil || !completed {
					t.Fatalf("the stream: %v, completed %v", err, completed)
				}
				calls := a.fake.Received()
				if !slices.ContainsFunc(calls, func(c falfake.Call) bool {
					return strings.Contains(string(c.Body), "stream me to the other replica")
				}) {
					t.Errorf("fal was not sent the prompt: %d calls", len(calls))
				}
			})
		})
	}
}
