package fal_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/falproxy/falproxy/internal/fal"
	"github.com/falproxy/falproxy/internal/falfake"
)

// storageRig is a fal client whose storage is the emulator's.
type storageRig struct {
	fake   *falfake.Fake
	client *fal.Client
	hc     *http.Client
}

func newStorageRig(t *testing.T, fo falfake.Options, keys []string, storage func(*falfake.Fake) string) *storageRig {
	t.Helper()
	fake, err := falfake.New(fo)
	if err != nil {
		t.Fatal(err)
	}
	hc := fal.NewHTTPClient()
	t.Cleanup(func() {
		hc.CloseIdleConnections()
		fake.Close()
	})
	c := fal.New(fal.Options{
		QueueURL:   fake.QueueURL(),
		RunURL:     fake.RunURL(),
		StorageURL: storage(fake),
		Pool:       fal.NewPool(keys, fal.PoolOptions{}),
		HTTP:       hc,
	})
	return &storageRig{fake: fake, client: c, hc: hc}
}

func emulatorStorage(f *falfake.Fake) string { return f.StorageURL() + "/" }

// calls returns the recorded calls of one operation.
func (r *storageRig) calls(op falfake.Op) []falfake.Call {
	var out []falfake.Call
	for _, c := range r.fake.Received() {
		if c.Op == op {
			out = append(out, c)
		}
	}
	return out
}

func TestUploadStoresFileOnCDN(t *testing.T) {
	r := newStorageRig(t, falfake.Options{}, []string{"key-a"}, emulatorStorage)
	data := []byte("\x89PNG\r\n\x1a\n not really a picture, but bytes all the same")
	fileURL, err := r.client.Upload(context.Background(), data, "image/png", "photo.png")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(fileURL, r.fake.URL()+"/files/") || !strings.HasSuffix(fileURL, "photo.png") {
		t.Fatalf("file url %q", fileURL)
	}

	resp, err := r.hc.Get(fileURL)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !bytes.Equal(got, data) || resp.Header.Get("Content-Type") != "image/png" {
		t.Fatalf("download: %d %q %q", resp.StatusCode, resp.Header.Get("Content-Type"), got)
	}

	inits, puts := r.calls(falfake.OpUpload), r.calls(falfake.OpUploadPut)
	if len(inits) != 1 || len(puts) != 1 {
		t.Fatalf("%d initiations and %d PUTs, want one each", len(inits), len(puts))
	}
	q, _ := url.ParseQuery(inits[0].Query)
	if inits[0].Key != "key-a" || q.Get("storage_type") != "fal-cdn-v3" {
		t.Errorf("initiation key %q query %q", inits[0].Key, inits[0].Query)
	}
	var body map[string]string
	if err := json.Unmarshal(inits[0].Body, &body); err != nil || body["file_name"] != "photo.png" || body["content_type"] != "image/png" {
		t.Errorf("initiation body %s (%v)", inits[0].Body, err)
	}
	if puts[0].Key != "" {
		t.Errorf("the PUT to the signed URL carried the fal key %q", puts[0].Key)
	}
}

func TestUploadFailsOverToNextKeyOn401(t *testing.T) {
	r := newStorageRig(t, falfake.Options{Keys: []string{"good"}}, []string{"revoked", "good"}, emulatorStorage)
	for i := range 3 {
		if _, err := r.client.Upload(context.Background(), []byte("GIF89a..."), "image/gif", "a.gif"); err != nil {
			t.Fatalf("upload %d: %v", i, err)
		}
	}
	var keys []string
	for _, c := range r.calls(falfake.OpUpload) {
		keys = append(keys, c.Key)
	}
	// The revoked key is tried once, then rests in quarantine.
	if want := []string{"revoked", "good", "good", "good"}; strings.Join(keys, ",") != strings.Join(want, ",") {
		t.Fatalf("initiations by key %v, want %v", keys, want)
	}
	if n := len(r.calls(falfake.OpUploadPut)); n != 3 {
		t.Fatalf("%d PUTs for 3 uploads", n)
	}
	states := r.client.Pool().States()
	if states[0].Healthy || !states[1].Healthy {
		t.Fatalf("key states %+v", states)
	}
}

func TestUploadErrors(t *testing.T) {
	tests := []struct {
		name    string
		keys    []string
		storage func(*falfake.Fake) string
		fault   *falfake.Fault
		check   func(t *testing.T, err error)
	}{
		{
			name: "no storage configured", keys: []string{"k"},
			storage: func(*falfake.Fake) string { return "" },
			check: func(t *testing.T, err error) {
				if !errors.Is(err, fal.ErrNoStorage) {
					t.Errorf("err %v", err)
				}
			},
		},
		{
			name: "every key rejected", keys: []string{"a", "b"}, storage: emulatorStorage,
			fault: &falfake.Fault{Op: falfake.OpUpload, Status: http.StatusUnauthorized},
			check: wantFalError(http.StatusUnauthorized),
		},
		{
			name: "initiation answer is not JSON", keys: []string{"k"}, storage: emulatorStorage,
			fault: &falfake.Fault{Op: falfake.OpUpload, Status: http.StatusOK, Body: "<html>"},
			check: wantFalError(http.StatusOK),
		},
		{
			name: "initiation answer lacks the upload URL", keys: []string{"k"}, storage: emulatorStorage,
			fault: &falfake.Fault{Op: falfake.OpUpload, Status: http.StatusOK, Body: `{"file_url":"https://cdn/x.png"}`},
			check: wantFalError(http.StatusOK),
		},
		{
			name: "PUT refused", keys: []string{"k"}, storage: emulatorStorage,
			fault: &falfake.Fault{Op: falfake.OpUploadPut, Status: http.StatusForbidden, Body: `{"detail":"signature expired"}`},
			check: func(t *testing.T, err error) {
				wantFalError(http.StatusForbidden)(t, err)
				if !strings.Contains(err.Error(), "signature expired") {
					t.Errorf("err %v lacks fal's message", err)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newStorageRig(t, falfake.Options{}, tt.keys, tt.storage)
			if tt.fault != nil {
				r.fake.Inject(*tt.fault)
			}
			u, err := r.client.Upload(context.Background(), []byte("data"), "image/png", "x.png")
			if err == nil {
				t.Fatalf("upload succeeded with %q", u)
			}
			tt.check(t, err)
		})
	}
}

func wantFalError(status int) func(*testing.T, error) {
	return func(t *testing.T, err error) {
		t.Helper()
		var fe *fal.Error
		if !errors.As(err, &fe) || fe.Op != fal.OpUpload || fe.Status != status {
			t.Errorf("err %#v, want a fal upload error with status %d", err, status)
		}
	}
}

func TestUploadStopsWithContext(t *testing.T) {
	r := newStorageRig(t, falfake.Options{}, []string{"k"}, emulatorStorage)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := r.client.Upload(ctx, []byte("x"), "image/png", "x.png"); !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v, want context.Canceled", err)
	}
	if n := r.fake.Counts().UploadPuts; n != 0 {
		t.Fatalf("%d PUTs after cancellation", n)
	}
}
