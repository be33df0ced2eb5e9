package falfake

import (
	"net/http"
	"testing"
)

func TestAuth(t *testing.T) {
	f, c := start(t, Options{Keys: []string{"good:1", "good:2"}})
	good := c.withKey("good:1")
	sub := good.submit(f, "fal-ai/flux/dev", map[string]any{"prompt": "x"})
	tests := []struct {
		name   string
		client *tclient
		method string
		url    string
		code   int
		body   string
	}{
		{"submit bad key", c.withKey("bad"), "POST", f.QueueURL() + "/fal-ai/flux/dev", 401, `{"detail":"No user found for Key ID and Secret"}`},
		{"submit no key", c.withKey(""), "POST", f.QueueURL() + "/fal-ai/flux/dev", 401, `{"detail":"` + msgMissingKey + `"}`},
		{"status bad key", c.withKey("bad"), "GET", str(sub, "status_url"), 401, ""},
		{"result bad key", c.withKey("bad"), "GET", str(sub, "response_url"), 401, ""},
		{"cancel bad key", c.withKey("bad"), "PUT", str(sub, "cancel_url"), 401, ""},
		{"run bad key", c.withKey("bad"), "POST", f.RunURL() + "/fal-ai/flux/dev", 401, ""},
		{"llm stream bad key", c.withKey("bad"), "POST", f.RunURL() + "/fal-ai/any-llm/stream", 401, ""},
		{"chat bad key", c.withKey("bad"), "POST", f.RunURL() + "/" + chatEndpoint, 401, ""},
		{"upload bad key", c.withKey("bad"), "POST", f.StorageURL() + "/storage/upload/initiate", 401, ""},
		{"status other good key", c.withKey("good:2"), "GET", str(sub, "status_url"), 200, ""},
		{"schema needs no key", c.withKey(""), "GET", f.OpenAPIURL() + "?endpoint_id=fal-ai/flux/dev", 200, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var body any
			if tt.method == "POST" {
				body = map[string]any{"prompt": "x"}
			}
			r := tt.client.do(tt.method, tt.url, body)
			if r.status != tt.code || (tt.body != "" && string(r.body) != tt.body) {
				t.Errorf("%d %s, want %d %s", r.status, r.body, tt.code, tt.body)
			}
		})
	}
	if got := f.Counts().Rejected; got != 9 {
		t.Errorf("Rejected = %d, want 9", got)
	}
	if n := len(f.Jobs()); n != 1 {
		t.Errorf("%d jobs, want only the good one", n)
	}
}

func TestAnyKeyWhenNoneConfigured(t *testing.T) {
	f, c := start(t, Options{})
	for key, code := range map[string]int{"anything": 200, "": 401} {
		if r := c.withKey(key).do("POST", f.QueueURL()+"/fal-ai/flux/dev", map[string]any{"prompt": "x"}); r.status != code {
			t.Errorf("key %q: %d, want %d", key, r.status, code)
		}
	}
	req, _ := http.NewRequest("POST", f.QueueURL()+"/fal-ai/flux/dev", nil)
	req.Header.Set("Authorization", "Bearer anything")
	res, err := c.hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 401 {
		t.Errorf("Bearer scheme: %d, want 401", res.StatusCode)
	}
}
