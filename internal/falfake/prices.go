package falfake

// ListPrices are plausible list prices, in fal's units, for every
// endpoint the emulator serves to falproxy's
// demo: per image or megapixel, per second of video, per 1000 characters
// of speech, per minute of audio heard, per million tokens for the LLM
// endpoints. The demo sets them (Options.Prices) so that a virtual key
// with a hard budget can use every model it offers; the emulator's own
// prices (defaultPrices) answer for the endpoints left out. Tests start
// from defaultPrices alone, which leave some models unpriced on purpose.
var ListPrices = map[string]Price{
	"fal-ai/flux-pro/v1/fill":                    {0.05, "megapixel"},
	"fal-ai/gpt-image-1/text-to-image":           {0.04, "image"},
	"fal-ai/gpt-image-1/edit-image":              {0.04, "image"},
	"fal-ai/imagen4/preview":                     {0.04, "image"},
	"fal-ai/ideogram/v2":                         {0.08, "image"},
	"fal-ai/recraft/v3/text-to-image":            {0.04, "image"},
	"fal-ai/bytedance/seedream/v4/text-to-image": {0.03, "image"},
	"fal-ai/bytedance/seedream/v4/edit":          {0.03, "image"},
	"fal-ai/sora-2/text-to-video":                {0.1, "second"},
	"fal-ai/sora-2/image-to-video":               {0.1, "second"},
	"fal-ai/sora-2/video-to-video/remix":         {0.1, "second"},
	"fal-ai/veo3.1":                              {0.4, "second"},
	"fal-ai/kling-video/v2.6/pro/text-to-video":  {0.07, "second"},
	"fal-ai/kling-video/v2.6/pro/image-to-video": {0.07, "second"},
	"fal-ai/minimax/speech-02-hd":                {0.1, "1000 characters"},
	"fal-ai/wizper":                              {0.006, "audio minute"},
	"fal-ai/whisper":                             {0.006, "audio minute"},
	"openrouter/router":                          {5, "1M tokens"},
	"fal-ai/any-llm":                             {5, "1M tokens"},
	openAIApp:                                    {5, "1M tokens"},
}
