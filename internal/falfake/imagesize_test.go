package falfake

import (
	"testing"
)

func TestImageSize(t *testing.T) {
	models := builtinModels(t)
	noInput := func() (size, bool) { return size{}, false }
	fromInput := func() (size, bool) { return size{800, 600}, true }
	tests := []struct {
		name     string
		endpoint string
		input    string
		input2   func() (size, bool)
		want     size
		field    string
		wantErr  bool
	}{
		{"flux default preset", "fal-ai/flux/dev", `{}`, noInput, size{1024, 768}, "image_size", false},
		{"flux preset", "fal-ai/flux/dev", `{"image_size":"portrait_16_9"}`, noInput, size{576, 1024}, "image_size", false},
		{"flux object", "fal-ai/flux/dev", `{"image_size":{"width":640,"height":480}}`, noInput, size{640, 480}, "image_size", false},
		{"object default side", "fal-ai/flux/dev", `{"image_size":{"width":640}}`, noInput, size{640, 512}, "image_size", false},
		{"sdxl default", "fal-ai/fast-sdxl", `{}`, noInput, size{1024, 1024}, "image_size", false},
		{"seedream default object", "fal-ai/bytedance/seedream/v4/text-to-image", `{}`, noInput, size{2048, 2048}, "image_size", false},
		{"seedream auto_4K", "fal-ai/bytedance/seedream/v4/text-to-image", `{"image_size":"auto_4K"}`, noInput, size{4096, 4096}, "image_size", false},
		{"seedream edit auto keeps input", "fal-ai/bytedance/seedream/v4/edit", `{"image_size":"auto"}`, fromInput, size{800, 600}, "image_size", false},
		{"gpt auto", "fal-ai/gpt-image-1/text-to-image", `{}`, noInput, size{1024, 1024}, "image_size", false},
		{"gpt pixels", "fal-ai/gpt-image-1/text-to-image", `{"image_size":"1024x1536"}`, noInput, size{1024, 1536}, "image_size", false},
		{"ultra default 16:9", "fal-ai/flux-pro/v1.1-ultra", `{}`, noInput, size{1024, 576}, "aspect_ratio", false},
		{"ultra 21:9", "fal-ai/flux-pro/v1.1-ultra", `{"aspect_ratio":"21:9"}`, noInput, size{1024, 440}, "aspect_ratio", false},
		{"ultra free ratio", "fal-ai/flux-pro/v1.1-ultra", `{"aspect_ratio":"2.39:1"}`, noInput, size{1024, 432}, "aspect_ratio", false},
		{"ultra bad ratio", "fal-ai/flux-pro/v1.1-ultra", `{"aspect_ratio":"wide"}`, noInput, size{}, "aspect_ratio", true},
		{"ideogram portrait", "fal-ai/ideogram/v2", `{"aspect_ratio":"10:16"}`, noInput, size{640, 1024}, "aspect_ratio", false},
		{"imagen 2K", "fal-ai/imagen4/preview", `{"aspect_ratio":"9:16","resolution":"2K"}`, noInput, size{1152, 2048}, "aspect_ratio", false},
		{"imagen default", "fal-ai/imagen4/preview", `{}`, noInput, size{1024, 1024}, "aspect_ratio", false},
		{"kontext keeps input", "fal-ai/flux-pro/kontext", `{}`, fromInput, size{800, 600}, "aspect_ratio", false},
		{"kontext ratio", "fal-ai/flux-pro/kontext", `{"aspect_ratio":"3:4"}`, fromInput, size{768, 1024}, "aspect_ratio", false},
		{"fill keeps input", "fal-ai/flux-pro/v1/fill", `{}`, fromInput, size{800, 600}, "", false},
		{"fill unknown input", "fal-ai/flux-pro/v1/fill", `{}`, noInput, size{1024, 1024}, "", false},
		{"lcm width height", "fal-ai/fast-lcm-diffusion", `{"width":768,"height":256}`, noInput, size{768, 256}, "width", false},
		{"lcm defaults", "fal-ai/fast-lcm-diffusion", `{}`, noInput, size{512, 512}, "width", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := models[tt.endpoint]
			in, _ := decodeInput([]byte(tt.input))
			got, field, err := m.imageSize(in, tt.input2)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if got != tt.want || field != tt.field {
				t.Errorf("got %v from %q, want %v from %q", got, field, tt.want, tt.field)
			}
		})
	}
}
