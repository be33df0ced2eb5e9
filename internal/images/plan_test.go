package images

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/falproxy/falproxy/internal/openai"
)

type in = map[string]any

func TestPlanGeneration(t *testing.T) {
	tests := []struct {
		name     string
		endpoint string
		req      openai.ImageGenerationRequest
		opt      Options
		want     Plan
	}{
		{
			name: "preset size", endpoint: "test/presets",
			req:  openai.ImageGenerationRequest{Prompt: "a cat", Size: "1024x768"},
			want: Plan{Size: "1024x768", Inputs: []in{{"prompt": "a cat", "image_size": "landscape_4_3", "num_images": 1, "enable_safety_checker": false}}},
		},
		{
			name: "n split over the maximum, distinct seeds", endpoint: "test/presets",
			req: openai.ImageGenerationRequest{Prompt: "p", N: intp(7), Seed: seedp(42)},
			opt: Options{SafetyChecker: true},
			want: Plan{Inputs: []in{
				{"prompt": "p", "num_images": 4, "seed": int64(42), "enable_safety_checker": true},
				{"prompt": "p", "num_images": 3, "seed": int64(46), "enable_safety_checker": true},
			}},
		},
		{
			name: "n at the maximum is one job", endpoint: "test/presets",
			req:  openai.ImageGenerationRequest{Prompt: "p", N: intp(4), Seed: seedp(1)},
			want: Plan{Inputs: []in{{"prompt": "p", "num_images": 4, "seed": int64(1), "enable_safety_checker": false}}},
		},
		{
			name: "no num_images: one job per image", endpoint: "test/aspect-enum",
			req: openai.ImageGenerationRequest{Prompt: "p", N: intp(3), Seed: seedp(10), Size: "1024x1024"},
			want: Plan{Inputs: []in{
				{"prompt": "p", "aspect_ratio": "1:1", "seed": int64(10)},
				{"prompt": "p", "aspect_ratio": "1:1", "seed": int64(11)},
				{"prompt": "p", "aspect_ratio": "1:1", "seed": int64(12)},
			}},
		},
		{
			name: "no declared maximum: one job", endpoint: "test/allof",
			req:  openai.ImageGenerationRequest{Prompt: "p", N: intp(7), OutputFormat: "png"},
			want: Plan{Inputs: []in{{"prompt": "p", "num_images": 7, "format": "png", "enable_safety_checker": false}}},
		},
		{
			name: "gpt-image fields and b64 via sync_mode", endpoint: "test/pixels",
			req: openai.ImageGenerationRequest{Prompt: "p", Size: "1536x1024", Quality: "high", Background: "transparent",
				OutputFormat: "webp", Style: "vivid", ResponseFormat: "b64_json", Seed: seedp(5)},
			want: Plan{B64: true, SyncMode: true, Size: "1536x1024", Inputs: []in{{"prompt": "p", "image_size": "1536x1024",
				"quality": "high", "background": "transparent", "output_format": "webp", "num_images": 1, "sync_mode": true}}},
		},
		{
			name: "OpenAI-only values are ignored", endpoint: "test/pixels",
			req:  openai.ImageGenerationRequest{Prompt: "p", Quality: "hd", Background: "checkered", Size: "auto"},
			want: Plan{Inputs: []in{{"prompt": "p", "image_size": "auto", "num_images": 1}}},
		},
		{
			name: "enum match ignores case, sends the model's spelling", endpoint: "test/aspect-enum",
			req:  openai.ImageGenerationRequest{Prompt: "p", Style: "Realistic"},
			want: Plan{Inputs: []in{{"prompt": "p", "style": "realistic"}}},
		},
		{
			name: "jpg and jpeg are one format", endpoint: "test/width-height",
			req:  openai.ImageGenerationRequest{Prompt: "p", OutputFormat: "jpeg", Size: "2048x1024"},
			want: Plan{Size: "1440x736", Inputs: []in{{"prompt": "p", "output_format": "jpg", "width": 1440, "height": 736, "num_images": 1, "enable_safety_checker": false}}},
		},
		{
			name: "b64 without sync_mode asks for png", endpoint: "test/width-height",
			req:  openai.ImageGenerationRequest{Prompt: "p", ResponseFormat: "b64_json"},
			want: Plan{B64: true, Inputs: []in{{"prompt": "p", "num_images": 1, "enable_safety_checker": false, "output_format": "png"}}},
		},
		{
			name: "b64 keeps an explicit format", endpoint: "test/width-height",
			req:  openai.ImageGenerationRequest{Prompt: "p", ResponseFormat: "b64_json", OutputFormat: "jpeg"},
			want: Plan{B64: true, Inputs: []in{{"prompt": "p", "num_images": 1, "enable_safety_checker": false, "output_format": "jpg"}}}, // the model spells it jpg
		},
		{
			name: "size auto without an auto preset sends nothing", endpoint: "test/presets",
			req:  openai.ImageGenerationRequest{Prompt: "p", Size: "auto", ResponseFormat: "url"},
			want: Plan{Inputs: []in{{"prompt": "p", "num_images": 1, "enable_safety_checker": false}}},
		},
		{
			name: "no output format field: ignored", endpoint: "test/plain",
			req:  openai.ImageGenerationRequest{Prompt: "p", OutputFormat: "png", Size: "1024x1024", N: intp(2), Seed: seedp(3)},
			opt:  Options{SafetyChecker: true},
			want: Plan{Inputs: []in{{"prompt": "p", "enable_safety_checker": true}, {"prompt": "p", "enable_safety_checker": true}}},
		},
		{
			name: "resolution tiers", endpoint: "test/aspect-resolution",
			req:  openai.ImageGenerationRequest{Prompt: "p", Size: "1920x1080", OutputFormat: "PNG"},
			want: Plan{Inputs: []in{{"prompt": "p", "aspect_ratio": "16:9", "resolution": "2K", "num_images": 1, "output_format": "png"}}},
		},
		{
			name: "model-native fields pass through and win", endpoint: "test/presets",
			req: openai.ImageGenerationRequest{Prompt: "p", Size: "1024x768", Extra: extras(map[string]string{
				"guidance_scale": "5.5", "num_inference_steps": "10", "acceleration": `"high"`, "image_size": `{"width":640,"height":480}`,
				"undeclared": "1", "seed": "null",
			})},
			want: Plan{Inputs: []in{{"prompt": "p", "image_size": in{"width": num("640"), "height": num("480")},
				"guidance_scale": num("5.5"), "num_inference_steps": num("10"), "acceleration": "high", "num_images": 1, "enable_safety_checker": false}}},
		},
		{
			name: "fields the plan controls cannot be overridden", endpoint: "test/presets",
			req: openai.ImageGenerationRequest{Prompt: "p", N: intp(2), Extra: extras(map[string]string{
				"num_images": "4", "sync_mode": "true", "enable_safety_checker": "false",
			})},
			opt:  Options{SafetyChecker: true},
			want: Plan{Inputs: []in{{"prompt": "p", "num_images": 2, "enable_safety_checker": true}}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, e := PlanGeneration(&tt.req, capsFor(t, tt.endpoint), tt.opt)
			if e != nil {
				t.Fatal(e)
			}
			checkImageCounts(t, got)
			got.JobImages, got.N, got.params, got.native = nil, 0, nil, nil // checked on their own
			if !reflect.DeepEqual(*got, tt.want) {
				t.Errorf("plan:\n got %+v\nwant %+v", *got, tt.want)
			}
		})
	}
}

func TestPlanGenerationErrors(t *testing.T) {
	tests := []struct {
		name, endpoint string
		req            openai.ImageGenerationRequest
		opt            Options
		param, code    string
		says           string
	}{
		{"no prompt", "test/presets", openai.ImageGenerationRequest{}, Options{}, "prompt", "missing_required_parameter", "prompt"},
		{"blank prompt", "test/presets", openai.ImageGenerationRequest{Prompt: " \n\t"}, Options{}, "prompt", "missing_required_parameter", "prompt"},
		{"n zero", "test/presets", openai.ImageGenerationRequest{Prompt: "p", N: intp(0)}, Options{}, "n", "invalid_value", "between 1 and 10"},
		{"n above 10", "test/presets", openai.ImageGenerationRequest{Prompt: "p", N: intp(11)}, Options{}, "n", "invalid_value", "between 1 and 10"},
		{"n above MaxN", "test/presets", openai.ImageGenerationRequest{Prompt: "p", N: intp(3)}, Options{MaxN: 2}, "n", "invalid_value", "between 1 and 2"},
		{"response_format", "test/presets", openai.ImageGenerationRequest{Prompt: "p", ResponseFormat: "png"}, Options{}, "response_format", "invalid_value", "b64_json"},
		{"size word", "test/presets", openai.ImageGenerationRequest{Prompt: "p", Size: "big"}, Options{}, "size", "invalid_value", "WIDTHxHEIGHT"},
		{"size zero", "test/presets", openai.ImageGenerationRequest{Prompt: "p", Size: "0x512"}, Options{}, "size", "invalid_value", "0x512"},
		{"size half", "test/pixels", openai.ImageGenerationRequest{Prompt: "p", Size: "1024x"}, Options{}, "size", "invalid_value", "1024x"},
		{"output_format not offered", "test/presets", openai.ImageGenerationRequest{Prompt: "p", OutputFormat: "webp"}, Options{}, "output_format", "invalid_value", "jpeg, png"},
		{"output_format unknown", "test/pixels", openai.ImageGenerationRequest{Prompt: "p", OutputFormat: "gif"}, Options{}, "output_format", "invalid_value", "jpeg, png, webp"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, e := PlanGeneration(&tt.req, capsFor(t, tt.endpoint), tt.opt)
			if p != nil {
				t.Errorf("a plan came with the error: %+v", p)
			}
			checkError(t, e, tt.param, tt.code)
			if e != nil && !strings.Contains(e.Message, tt.says) {
				t.Errorf("message %q does not say %q", e.Message, tt.says)
			}
		})
	}
}

// TestPlanInputsAreIndependent checks that jobs do not share their maps,
// so one job's input can be changed without touching another's.
func TestPlanInputsAreIndependent(t *testing.T) {
	p, e := PlanGeneration(&openai.ImageGenerationRequest{Prompt: "p", N: intp(3)}, capsFor(t, "test/aspect-enum"), Options{})
	if e != nil {
		t.Fatal(e)
	}
	p.Inputs[0]["prompt"] = "changed"
	if p.Inputs[1]["prompt"] != "p" {
		t.Error("jobs share one map")
	}
}

// checkImageCounts checks that a plan records, per job, the images its
// input asks for, and no more images in all than the jobs ask.
func checkImageCounts(t *testing.T, p *Plan) {
	t.Helper()
	if len(p.JobImages) != len(p.Inputs) {
		t.Fatalf("%d counts for %d jobs", len(p.JobImages), len(p.Inputs))
	}
	sum := 0
	for i, in := range p.Inputs {
		want := 1
		if n, ok := in["num_images"].(int); ok {
			want = n
		}
		if p.JobImages[i] != want {
			t.Errorf("job %d asks for %d images, counted %d", i, want, p.JobImages[i])
		}
		sum += want
	}
	if p.N < 1 || p.N > sum {
		t.Errorf("N = %d for jobs asking %d images", p.N, sum)
	}
}

func TestPlanKeep(t *testing.T) {
	outputs := func(counts ...int) []*Output {
		var out []*Output
		for j, n := range counts {
			o := &Output{}
			for i := range n {
				o.Images = append(o.Images, Image{URL: fmt.Sprintf("https://cdn/%d/%d.png", j, i)})
			}
			out = append(out, o)
		}
		return out
	}
	tests := []struct {
		name    string
		plan    Plan
		got     []int // images each job answered
		kept    []int
		dropped int
	}{
		{"as asked", Plan{JobImages: []int{4, 2}, N: 6}, []int{4, 2}, []int{4, 2}, 0},
		{"each job to its own count", Plan{JobImages: []int{4, 2}, N: 6}, []int{2000, 2000}, []int{4, 2}, 3994},
		{"a short job is not made up by another", Plan{JobImages: []int{4, 2}, N: 6}, []int{1, 9}, []int{1, 2}, 7},
		{"a model minimum above n", Plan{JobImages: []int{2}, N: 1}, []int{2}, []int{1}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			outs := outputs(tt.got...)
			dropped := tt.plan.Keep(outs)
			var kept []int
			for _, o := range outs {
				kept = append(kept, len(o.Images))
			}
			if !reflect.DeepEqual(kept, tt.kept) || dropped != tt.dropped {
				t.Fatalf("kept %v, dropped %d; want %v, %d", kept, dropped, tt.kept, tt.dropped)
			}
		})
	}
}

// TestPlanParam: a fal validation error names what the client sent: the
// OpenAI field an input was planned from, or the model's own field when
// the client set it itself.
func TestPlanParam(t *testing.T) {
	caps := capsFor(t, "test/presets")
	p, e := PlanGeneration(&openai.ImageGenerationRequest{Prompt: "p", Size: "1024x768", N: intp(2)}, caps, Options{})
	if e != nil {
		t.Fatal(e)
	}
	for field, want := range map[string]string{"image_size": "size", "num_images": "n", "guidance_scale": "guidance_scale"} {
		if got := p.Param(field); got != want {
			t.Errorf("Param(%q) = %q, want %q", field, got, want)
		}
	}
	native, e := PlanGeneration(&openai.ImageGenerationRequest{Prompt: "p",
		Extra: extras(map[string]string{"image_size": `"square_hd"`})}, caps, Options{})
	if e != nil {
		t.Fatal(e)
	}
	if got := native.Param("image_size"); got != "image_size" {
		t.Errorf("a size the client set itself: Param = %q, want image_size", got)
	}
	edit := capsFor(t, "test/edit-one")
	prepared, e := PrepareEdit(&openai.ImageGenerationRequest{Prompt: "p"}, 1, false, edit, Options{})
	if e != nil {
		t.Fatal(e)
	}
	if got := prepared.Build([]string{"https://x/a.png"}).Param(edit.ImageInput.Field); got != "image" {
		t.Errorf("the image field: Param = %q, want image", got)
	}
}
