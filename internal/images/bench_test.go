package images

import (
	"testing"

	"github.com/falproxy/falproxy/internal/openai"
)

// BenchmarkPlanGeneration measures planning a typical request (size, n,
// seed, output format, b64, one passthrough field) on an image_size model.
func BenchmarkPlanGeneration(b *testing.B) {
	caps := capsFor(b, "test/presets")
	req := &openai.ImageGenerationRequest{
		Prompt: "a lighthouse on a cliff at dusk", Size: "1536x1024", N: intp(2), Seed: seedp(7),
		OutputFormat: "png", ResponseFormat: "b64_json",
		Extra: extras(map[string]string{"guidance_scale": "4.5"}),
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, e := PlanGeneration(req, caps, Options{SafetyChecker: true}); e != nil {
			b.Fatal(e)
		}
	}
}

// BenchmarkParseOutput measures reading a four-image output.
func BenchmarkParseOutput(b *testing.B) {
	raw := []byte(`{"images":[` +
		`{"url":"https://v3.fal.media/files/a/1.jpg","width":1024,"height":768,"content_type":"image/jpeg"},` +
		`{"url":"https://v3.fal.media/files/a/2.jpg","width":1024,"height":768,"content_type":"image/jpeg"},` +
		`{"url":"https://v3.fal.media/files/a/3.jpg","width":1024,"height":768,"content_type":"image/jpeg"},` +
		`{"url":"https://v3.fal.media/files/a/4.jpg","width":1024,"height":768,"content_type":"image/jpeg"}],` +
		`"timings":{"inference":2.5},"seed":123,"has_nsfw_concepts":[false,false,false,false],"prompt":"a lighthouse"}`)
	b.ReportAllocs()
	b.SetBytes(int64(len(raw)))
	for b.Loop() {
		if _, err := ParseOutput(raw); err != nil {
			b.Fatal(err)
		}
	}
}
