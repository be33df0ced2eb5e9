package video

import (
	"encoding/json"
	"reflect"
	"slices"
	"testing"

	"github.com/falproxy/falproxy/internal/falschema"
	"github.com/falproxy/falproxy/internal/falschema/schematest"
	"github.com/falproxy/falproxy/internal/openai"
)

// mediaCaps reduces every video document of fal's reference schemas.
func mediaCaps(t *testing.T) map[string]*falschema.Capabilities {
	t.Helper()
	caps := map[string]*falschema.Capabilities{}
	for _, d := range schematest.LoadDir(t, schematest.FindDir(t, "../shared/fal-schemas/media")) {
		c, err := falschema.Reduce(d.Doc, d.Endpoint)
		if err != nil {
			t.Fatalf("%s: %v", d.Endpoint, err)
		}
		caps[d.Endpoint] = c
	}
	return caps
}

var image = &openai.ImageRef{ImageURL: "https://example.com/a.png"}

// familyPlans are what fal receives, per video family, for a few
// (seconds, size, input_reference) combinations. want lists every input
// field but the prompt; seconds is what the Video object then reports.
var familyPlans = []struct {
	endpoint      string
	req           Request
	want          map[string]any
	seconds       string
	imageField    string
	extraIn, drop map[string]any
}{
	// Sora 2: integer durations, 16:9 or 9:16, a free resolution string.
	{endpoint: "fal-ai/sora-2/text-to-video", req: Request{Seconds: "8", Size: "1280x720"},
		want: map[string]any{"duration": 8.0, "aspect_ratio": "16:9"}, seconds: "8"},
	{endpoint: "fal-ai/sora-2/text-to-video", req: Request{Seconds: "10", Size: "720x1280"},
		want: map[string]any{"duration": 8.0, "aspect_ratio": "9:16"}, seconds: "8"},
	{endpoint: "fal-ai/sora-2/image-to-video", req: Request{Seconds: "12", Size: "1792x1024", Image: image},
		want: map[string]any{"duration": 12.0, "aspect_ratio": "16:9", "resolution": "720p"}, seconds: "12", imageField: "image_url"},
	// Veo 3.1: "4s"/"6s"/"8s", tiers up to 4k.
	{endpoint: "fal-ai/veo3.1", req: Request{Seconds: "5", Size: "1920x1080"},
		want: map[string]any{"duration": "4s", "aspect_ratio": "16:9", "resolution": "1080p"}, seconds: "4"},
	{endpoint: "fal-ai/veo3.1", req: Request{Seconds: "12", Size: "2160x3840"},
		want: map[string]any{"duration": "8s", "aspect_ratio": "9:16", "resolution": "4k"}, seconds: "8"},
	{endpoint: "fal-ai/veo3.1/image-to-video", req: Request{Seconds: "6", Image: image},
		want: map[string]any{"duration": "6s"}, seconds: "6", imageField: "image_url"},
	// Kling 2.6: "5"/"10"; its image-to-video has no aspect_ratio and
	// takes start_image_url.
	{endpoint: "fal-ai/kling-video/v2.6/pro/text-to-video", req: Request{Seconds: "8", Size: "1024x1024"},
		want: map[string]any{"duration": "10", "aspect_ratio": "1:1"}, seconds: "10"},
	{endpoint: "fal-ai/kling-video/v2.6/pro/image-to-video", req: Request{Seconds: "4", Size: "1280x720", Image: image},
		want: map[string]any{"duration": "5"}, seconds: "5", imageField: "start_image_url"},
	// Wan 2.6: "5"/"10"/"15", 4:3 among its ratios, 720p or 1080p.
	{endpoint: "wan/v2.6/text-to-video", req: Request{Seconds: "15", Size: "1024x768"},
		want: map[string]any{"duration": "15", "aspect_ratio": "4:3", "resolution": "720p"}, seconds: "15",
		extraIn: map[string]any{"negative_prompt": "blur", "seed": 7.0, "not_declared": true, "duration": "5"},
		drop:    map[string]any{"not_declared": true, "duration": "5"}},
	// Hailuo 2.3: "6"/"10" and no framing at all.
	{endpoint: "fal-ai/minimax/hailuo-2.3/standard/text-to-video", req: Request{Seconds: "4", Size: "1280x720"},
		want: map[string]any{"duration": "6"}, seconds: "6"},
	{endpoint: "fal-ai/minimax/hailuo-2.3/standard/text-to-video", req: Request{},
		want: map[string]any{}, seconds: "6"},
	// Seedance 1 Pro: "2".."12", 480p to 1080p.
	{endpoint: "fal-ai/bytedance/seedance/v1/pro/text-to-video", req: Request{Seconds: "7", Size: "854x480"},
		want: map[string]any{"duration": "7", "aspect_ratio": "16:9", "resolution": "480p"}, seconds: "7"},
	{endpoint: "fal-ai/bytedance/seedance/v1/pro/image-to-video", req: Request{Seconds: "12", Size: "2560x1080", Image: image},
		want: map[string]any{"duration": "12", "aspect_ratio": "21:9", "resolution": "1080p"}, seconds: "12", imageField: "image_url"},
}

func TestFamilyPlans(t *testing.T) {
	caps := mediaCaps(t)
	for _, tc := range familyPlans {
		c := caps[tc.endpoint]
		if c == nil {
			t.Errorf("no reference document for %s", tc.endpoint)
			continue
		}
		req := tc.req
		req.Prompt = "a fox"
		extra := map[string]json.RawMessage{}
		for k, v := range tc.extraIn {
			extra[k], _ = json.Marshal(v)
		}
		p, e := PlanInput(&req, extra, c)
		if e != nil {
			t.Errorf("%s %+v: %v", tc.endpoint, tc.req, e)
			continue
		}
		got := decoded(t, p.Input)
		if got["prompt"] != "a fox" {
			t.Errorf("%s: prompt = %v", tc.endpoint, got["prompt"])
		}
		delete(got, "prompt")
		want := map[string]any{}
		for k, v := range tc.want {
			want[k] = v
		}
		for k, v := range tc.extraIn {
			if _, dropped := tc.drop[k]; !dropped {
				want[k] = v
			}
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s %+v: fal receives %v, want %v", tc.endpoint, tc.req, got, want)
		}
		if p.Seconds != tc.seconds || p.ImageField != tc.imageField {
			t.Errorf("%s %+v: seconds %q image field %q, want %q %q", tc.endpoint, tc.req, p.Seconds, p.ImageField, tc.seconds, tc.imageField)
		}
	}
}

// decoded is the input as fal reads it from JSON.
func decoded(t *testing.T, in map[string]any) map[string]any {
	t.Helper()
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestPlanRejects(t *testing.T) {
	caps := mediaCaps(t)
	for _, tc := range []struct {
		endpoint string
		req      Request
		param    string
	}{
		{"fal-ai/veo3.1", Request{Prompt: "p", Seconds: "eight"}, "seconds"},
		{"fal-ai/veo3.1", Request{Prompt: "p", Seconds: "-4"}, "seconds"},
		{"fal-ai/veo3.1", Request{Prompt: "p", Size: "wide"}, "size"},
		{"fal-ai/veo3.1", Request{Prompt: "p", Size: "+1280x720"}, "size"},
		{"fal-ai/veo3.1", Request{Prompt: "p", Size: "1280x-720"}, "size"},
		{"fal-ai/veo3.1", Request{Prompt: "p", Size: "auto"}, "size"},
		{"fal-ai/veo3.1", Request{Prompt: "p", Image: image}, "input_reference"},
	} {
		_, e := PlanInput(&tc.req, nil, caps[tc.endpoint])
		if e == nil || e.Param != tc.param || e.Status != 400 {
			t.Errorf("%s %+v: error %v, want a 400 naming %s", tc.endpoint, tc.req, e, tc.param)
		}
	}
}

// TestPlanWithoutDuration: a model without a duration field picks the
// length itself, so the Video does not claim the requested seconds.
func TestPlanWithoutDuration(t *testing.T) {
	caps := &falschema.Capabilities{Fields: map[string]falschema.Field{"prompt": {Types: []string{"string"}}}}
	p, e := PlanInput(&Request{Prompt: "a fox", Seconds: "8"}, nil, caps)
	if e != nil || p.Seconds != "" || len(p.Input) != 1 {
		t.Errorf("plan %+v, %v: want seconds \"\" and only the prompt", p, e)
	}
	if _, e := PlanInput(&Request{Prompt: "a fox", Seconds: "eight"}, nil, caps); e == nil || e.Param != "seconds" {
		t.Errorf("bad seconds: %v", e)
	}
}

func TestRemixInput(t *testing.T) {
	c := mediaCaps(t)["fal-ai/sora-2/video-to-video/remix"]
	got := RemixInput("make it night", "vid_1", c)
	if !reflect.DeepEqual(got, map[string]any{"prompt": "make it night", "video_id": "vid_1"}) {
		t.Errorf("remix input %v", got)
	}
}

func TestParam(t *testing.T) {
	for fal, want := range map[string]string{"duration": "seconds", "aspect_ratio": "size", "resolution": "size",
		"start_image_url": "input_reference", "image_url": "input_reference", "end_image_url": "end_image_url", "seed": "seed"} {
		if got := Param(fal); got != want {
			t.Errorf("Param(%q) = %q, want %q", fal, got, want)
		}
	}
}

func TestDescribe(t *testing.T) {
	caps := mediaCaps(t)
	d := Describe(caps["fal-ai/kling-video/v2.6/pro/image-to-video"])
	if !reflect.DeepEqual(d.Durations, []string{"5", "10"}) || d.ImageField != "start_image_url" || d.AspectRatios != nil ||
		!slices.Contains(d.Extras, "negative_prompt") || slices.Contains(d.Extras, "start_image_url") {
		t.Errorf("kling image-to-video: %+v", d)
	}
	if d := Describe(caps["fal-ai/sora-2/video-to-video/remix"]); !d.Remix {
		t.Errorf("sora remix: %+v", d)
	}
	lo, hi := 1.0, 10.0
	free := &falschema.Capabilities{Fields: map[string]falschema.Field{"duration": {Types: []string{"integer"}, Min: &lo, Max: &hi}}}
	if d := Describe(free); !d.Duration || d.Durations != nil || d.MinSeconds == nil || *d.MinSeconds != 1 || d.MaxSeconds == nil || *d.MaxSeconds != 10 {
		t.Errorf("a free duration field: %+v", d)
	}
	if d := Describe(&falschema.Capabilities{}); d.Duration {
		t.Errorf("no duration field: %+v", d)
	}
}
