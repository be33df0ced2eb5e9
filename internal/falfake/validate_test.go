package falfake

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// builtinModels loads the embedded schemas once per test.
func builtinModels(t testing.TB) map[string]*model {
	t.Helper()
	models, err := loadModels(nil)
	if err != nil {
		t.Fatalf("loadModels: %v", err)
	}
	return models
}

// errSummary renders errors as "type@loc" for compact comparison.
func errSummary(errs []detail) []string {
	out := make([]string, len(errs))
	for i, e := range errs {
		parts := make([]string, len(e.Loc))
		for j, l := range e.Loc {
			parts[j] = fmt.Sprint(l)
		}
		out[i] = e.Type + "@" + strings.Join(parts, ".")
	}
	return out
}

func TestValidate(t *testing.T) {
	models := builtinModels(t)
	tests := []struct {
		name     string
		endpoint string
		input    string
		lenient  bool
		want     []string
	}{
		{"minimal", "fal-ai/flux/dev", `{"prompt":"x"}`, false, nil},
		{"every family field", "fal-ai/flux/dev", `{"prompt":"x","image_size":{"width":640,"height":480},"num_images":4,"seed":7,"output_format":"png","sync_mode":true,"enable_safety_checker":false,"guidance_scale":20,"num_inference_steps":1}`, false, nil},
		{"missing prompt", "fal-ai/flux/dev", `{}`, false, []string{"missing@body.prompt"}},
		{"unknown field strict", "fal-ai/flux/dev", `{"prompt":"x","n":2}`, false, []string{"extra_forbidden@body.n"}},
		{"unknown field lenient", "fal-ai/flux/dev", `{"prompt":"x","n":2}`, true, nil},
		{"over maximum", "fal-ai/flux/dev", `{"prompt":"x","num_images":5}`, false, []string{"less_than_equal@body.num_images"}},
		{"under minimum", "fal-ai/flux/dev", `{"prompt":"x","num_images":0}`, false, []string{"greater_than_equal@body.num_images"}},
		{"schnell steps", "fal-ai/flux/schnell", `{"prompt":"x","num_inference_steps":28}`, false, []string{"less_than_equal@body.num_inference_steps"}},
		{"fraction for integer", "fal-ai/flux/dev", `{"prompt":"x","num_images":1.5}`, false, []string{"int_from_float@body.num_images"}},
		{"whole float for integer", "fal-ai/flux/dev", `{"prompt":"x","num_images":2.0}`, false, nil},
		{"string for integer", "fal-ai/flux/dev", `{"prompt":"x","seed":"1"}`, false, []string{"int_type@body.seed"}},
		{"bad preset", "fal-ai/flux/dev", `{"prompt":"x","image_size":"huge"}`, false, []string{"literal_error@body.image_size"}},
		{"size object bounds", "fal-ai/flux/dev", `{"prompt":"x","image_size":{"width":0,"height":20000}}`, false, []string{"greater_than@body.image_size.width", "less_than_equal@body.image_size.height"}},
		{"size object extra", "fal-ai/flux/dev", `{"prompt":"x","image_size":{"width":64,"height":64,"depth":1}}`, false, []string{"extra_forbidden@body.image_size.depth"}},
		{"neither branch", "fal-ai/flux/dev", `{"prompt":"x","image_size":5}`, false, []string{"model_type@body.image_size.ImageSize", "string_type@body.image_size.literal['square_hd','square','portrait_4_3','portrait_16_9','landscape_4_3','landscape_16_9']"}},
		{"sdxl takes format", "fal-ai/fast-sdxl", `{"prompt":"x","format":"png","num_images":8}`, false, nil},
		{"sdxl rejects output_format", "fal-ai/fast-sdxl", `{"prompt":"x","output_format":"png"}`, false, []string{"extra_forbidden@body.output_format"}},
		{"ultra free aspect", "fal-ai/flux-pro/v1.1-ultra", `{"prompt":"x","aspect_ratio":"5:4"}`, false, nil},
		{"ultra has no image_size", "fal-ai/flux-pro/v1.1-ultra", `{"prompt":"x","image_size":"square"}`, false, []string{"extra_forbidden@body.image_size"}},
		{"ideogram aspect enum", "fal-ai/ideogram/v2", `{"prompt":"x","aspect_ratio":"5:4"}`, false, []string{"literal_error@body.aspect_ratio"}},
		{"ideogram style via allOf", "fal-ai/ideogram/v2", `{"prompt":"x","style":"photo"}`, false, []string{"literal_error@body.style"}},
		{"ideogram no num_images", "fal-ai/ideogram/v2", `{"prompt":"x","num_images":1}`, false, []string{"extra_forbidden@body.num_images"}},
		{"imagen resolution", "fal-ai/imagen4/preview", `{"prompt":"x","resolution":"4K"}`, false, []string{"literal_error@body.resolution"}},
		{"gpt pixel size", "fal-ai/gpt-image-1/text-to-image", `{"prompt":"x","image_size":"1536x1024","background":"transparent"}`, false, nil},
		{"gpt no seed", "fal-ai/gpt-image-1/text-to-image", `{"prompt":"x","seed":1}`, false, []string{"extra_forbidden@body.seed"}},
		{"recraft colour bounds", "fal-ai/recraft/v3/text-to-image", `{"prompt":"x","colors":[{"r":1,"g":2,"b":300}]}`, false, []string{"less_than_equal@body.colors.0.b"}},
		{"recraft nullable style_id", "fal-ai/recraft/v3/text-to-image", `{"prompt":"x","style_id":null}`, false, nil},
		{"recraft prompt too long", "fal-ai/recraft/v3/text-to-image", `{"prompt":"` + strings.Repeat("é", 1001) + `"}`, false, []string{"string_too_long@body.prompt"}},
		{"lcm multiple of 8", "fal-ai/fast-lcm-diffusion", `{"prompt":"x","width":500,"height":512}`, false, []string{"multiple_of@body.width"}},
		{"lcm range", "fal-ai/fast-lcm-diffusion", `{"prompt":"x","width":128,"height":4096}`, false, []string{"greater_than_equal@body.width", "less_than_equal@body.height"}},
		{"seedream bounded object", "fal-ai/bytedance/seedream/v4/text-to-image", `{"prompt":"x","image_size":{"width":512,"height":1024}}`, false, []string{"greater_than_equal@body.image_size.width"}},
		{"seedream auto preset", "fal-ai/bytedance/seedream/v4/text-to-image", `{"prompt":"x","image_size":"auto_4K","num_images":6}`, false, nil},
		{"seedream null seed", "fal-ai/bytedance/seedream/v4/text-to-image", `{"prompt":"x","seed":null,"enable_safety_checker":null}`, false, nil},
		{"seedream optional reports inner type", "fal-ai/bytedance/seedream/v4/text-to-image", `{"prompt":"x","seed":"s"}`, false, []string{"int_type@body.seed"}},
		{"kontext needs image_url", "fal-ai/flux-pro/kontext", `{"prompt":"x"}`, false, []string{"missing@body.image_url"}},
		{"seedream edit needs urls", "fal-ai/bytedance/seedream/v4/edit", `{"prompt":"x","image_urls":[]}`, false, []string{"too_short@body.image_urls"}},
		{"seedream edit url type", "fal-ai/bytedance/seedream/v4/edit", `{"prompt":"x","image_urls":["a",2]}`, false, []string{"string_type@body.image_urls.1"}},
		{"fill needs both", "fal-ai/flux-pro/v1/fill", `{"prompt":"x","image_url":"u"}`, false, []string{"missing@body.mask_url"}},
		{"gpt edit mask optional", "fal-ai/gpt-image-1/edit-image", `{"prompt":"x","image_urls":["u"]}`, false, nil},
		{"any-llm model enum", "fal-ai/any-llm", `{"prompt":"x","model":"acme/unknown"}`, false, []string{"literal_error@body.model"}},
		{"any-llm temperature", "fal-ai/any-llm", `{"prompt":"x","temperature":2.5}`, false, []string{"less_than_equal@body.temperature"}},
		{"any-llm max_tokens positive", "fal-ai/any-llm", `{"prompt":"x","max_tokens":0}`, false, []string{"greater_than@body.max_tokens"}},
		{"router needs model", "openrouter/router", `{"prompt":"x"}`, false, []string{"missing@body.model"}},
		{"router free model", "openrouter/router", `{"prompt":"x","model":"anything/goes","reasoning":true}`, false, nil},
		{"router bool type", "openrouter/router", `{"prompt":"x","model":"m","reasoning":"yes"}`, false, []string{"bool_type@body.reasoning"}},
		{"vision needs images", "openrouter/router/vision", `{"prompt":"x","model":"m"}`, false, []string{"missing@body.image_urls"}},
		{"enterprise web search", "openrouter/router/enterprise", `{"prompt":"x","model":"m","enable_web_search":true}`, false, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := models[tt.endpoint]
			if m == nil {
				t.Fatalf("no model %s", tt.endpoint)
			}
			in, errs := decodeInput([]byte(tt.input))
			if errs != nil {
				t.Fatalf("decodeInput: %v", errs)
			}
			got := errSummary(m.validate(in, !tt.lenient))
			if strings.Join(got, "|") != strings.Join(tt.want, "|") {
				t.Errorf("got %q\nwant %q", got, tt.want)
			}
		})
	}
}

func TestValidateMessages(t *testing.T) {
	m := builtinModels(t)["fal-ai/flux/dev"]
	in, _ := decodeInput([]byte(`{"prompt":"x","num_images":5,"output_format":"gif","image_size":{"width":-1,"height":8}}`))
	b, err := json.Marshal(m.validate(in, true))
	if err != nil {
		t.Fatal(err)
	}
	want := `[` +
		`{"type":"greater_than","loc":["body","image_size","width"],"msg":"Input should be greater than 0","input":-1,"ctx":{"gt":0}},` +
		`{"type":"less_than_equal","loc":["body","num_images"],"msg":"Input should be less than or equal to 4","input":5,"ctx":{"le":4}},` +
		`{"type":"literal_error","loc":["body","output_format"],"msg":"Input should be 'jpeg' or 'png'","input":"gif","ctx":{"expected":"'jpeg' or 'png'"}}` +
		`]`
	if string(b) != want {
		t.Errorf("got  %s\nwant %s", b, want)
	}
}

func TestDecodeInput(t *testing.T) {
	tests := []struct {
		body string
		want string
	}{
		{``, "missing@body"},
		{`{"prompt":`, "json_invalid@body.10"},
		{`{"a":1} {"b":2}`, "json_invalid@body.8"},
		{`["prompt"]`, "model_attributes_type@body"},
		{`{"prompt":"ok"}`, ""},
	}
	for _, tt := range tests {
		_, errs := decodeInput([]byte(tt.body))
		if got := strings.Join(errSummary(errs), "|"); got != tt.want {
			t.Errorf("decodeInput(%q) = %q, want %q", tt.body, got, tt.want)
		}
	}
}

func FuzzValidate(f *testing.F) {
	models := builtinModels(f)
	for _, s := range []string{`{"prompt":"x"}`, `{"image_size":{"width":1}}`, `{"colors":[{"r":1}]}`, `[1]`, `{"seed":null}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		for _, id := range []string{"fal-ai/flux/dev", "fal-ai/recraft/v3/text-to-image", "fal-ai/bytedance/seedream/v4/edit"} {
			in, errs := decodeInput([]byte(body))
			if errs == nil {
				errs = models[id].validate(in, true)
			}
			for _, e := range errs {
				if e.Type == "" || e.Msg == "" || len(e.Loc) == 0 || e.Loc[0] != "body" {
					t.Fatalf("malformed error %+v for %q", e, body)
				}
			}
			if _, err := json.Marshal(errs); err != nil {
				t.Fatalf("errors do not encode: %v", err)
			}
		}
	})
}
