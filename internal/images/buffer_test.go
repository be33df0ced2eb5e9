package images_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/falproxy/falproxy/internal/fal"
	"github.com/falproxy/falproxy/internal/falfake"
	"github.com/falproxy/falproxy/internal/images"
)

// TestParsedOutputSurvivesNextResult checks the rule the zero-copy strings
// of ParseOutput depend on: a result buffer from fal is never reused, so
// an image parsed from one result is unchanged after the same client has
// read further results.
func TestParsedOutputSurvivesNextResult(t *testing.T) {
	f, err := falfake.New(falfake.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	hc := fal.NewHTTPClient()
	t.Cleanup(hc.CloseIdleConnections)
	c := fal.New(fal.Options{QueueURL: f.QueueURL(), RunURL: f.RunURL(), HTTP: hc, Pool: fal.NewPool([]string{"k:1"}, fal.PoolOptions{})})
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = c.Close(ctx)
	})
	run := func(prompt string) string {
		t.Helper()
		out, err := c.Run(context.Background(), "fal-ai/flux/dev",
			[]byte(`{"prompt":"`+prompt+`","sync_mode":true,"image_size":"square","output_format":"png"}`))
		if err != nil {
			t.Fatal(err)
		}
		parsed, err := images.ParseOutput(out.Body)
		if err != nil {
			t.Fatal(err)
		}
		u := parsed.Images[0].URL
		if !strings.HasPrefix(u, "data:image/png;base64,") || len(u) <= 1024 {
			t.Fatalf("want a long data URI (the zero-copy path), got %d bytes: %.40q", len(u), u)
		}
		return u
	}
	first := run("a red square")
	kept := strings.Clone(first)
	for _, p := range []string{"a blue circle", "a green triangle", "a red square"} {
		run(p)
		if first != kept {
			t.Fatal("an image parsed from an earlier result changed after the client read another result: fal reused its buffer")
		}
	}
}
