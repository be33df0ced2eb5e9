package images

import (
	"testing"

	"github.com/falproxy/falproxy/internal/falschema"
	"github.com/falproxy/falproxy/internal/falschema/schematest"
	"github.com/falproxy/falproxy/internal/openai"
)

// requestVariety is a spread of requests covering every mapped field, the
// sizes of every family, splitting, and extras both declared and not.
func requestVariety(caps *falschema.Capabilities) []openai.ImageGenerationRequest {
	sizes := []string{"", "auto", "1024x1024", "1536x1024", "1024x1536", "1792x1024", "256x256", "4096x4096", "100x3000", "1000x1001"}
	counts := []*int{nil, intp(1), intp(3), intp(10)}
	formats := []string{"", "png", "jpeg", "webp"}
	// One extra per declared field, plus names no model declares.
	extra := extras(map[string]string{"not_a_field": "1", "model_name": `"x"`, "image_size_x": "{}"})
	for name := range caps.Fields {
		extra[name] = []byte(`"value"`)
	}
	var reqs []openai.ImageGenerationRequest
	for i, size := range sizes {
		for j, n := range counts {
			r := openai.ImageGenerationRequest{
				Prompt: "a lighthouse", Size: size, N: n,
				OutputFormat: formats[(i+j)%len(formats)],
				Style:        "vivid", Quality: "high", Background: "transparent",
			}
			if j%2 == 0 {
				r.Seed, r.ResponseFormat = seedp(int64(i)), "b64_json"
			}
			if i%3 == 0 {
				r.Extra = extra
			}
			reqs = append(reqs, r)
		}
	}
	return reqs
}

// checkPlans asserts the mapper's invariants for every request of the
// variety on one model: no input carries an undeclared field, the jobs
// ask for exactly n images, sync_mode is only set for b64, and the only
// errors are 400s.
func checkPlans(t *testing.T, caps *falschema.Capabilities) {
	t.Helper()
	for _, req := range requestVariety(caps) {
		p, e := PlanGeneration(&req, caps, Options{SafetyChecker: true})
		if e != nil {
			if e.Status != 400 || e.Param != "output_format" {
				t.Errorf("%+v: unexpected error %v", req, e)
			}
			continue
		}
		images := 0
		for _, input := range p.Inputs {
			for k := range input {
				if _, ok := caps.Fields[k]; !ok {
					t.Fatalf("size %q n %v: input has undeclared field %q: %v", req.Size, req.N, k, input)
				}
			}
			if c, ok := input["num_images"].(int); ok {
				images += c
			} else {
				images++
			}
		}
		want := 1
		if req.N != nil {
			want = *req.N
		}
		if images != want {
			t.Errorf("size %q: jobs ask for %d images, want %d", req.Size, images, want)
		}
		if p.SyncMode && !p.B64 {
			t.Errorf("sync_mode without b64_json")
		}
	}
}

func TestNeverUndeclared(t *testing.T) {
	for _, c := range schematest.Cases() {
		t.Run(c.Endpoint, func(t *testing.T) {
			checkPlans(t, capsFor(t, c.Endpoint))
		})
	}
}
