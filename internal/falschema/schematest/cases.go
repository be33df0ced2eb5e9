package schematest

// presets is the image_size enumeration most fal image models share.
const presets = `"square_hd","square","portrait_4_3","portrait_16_9","landscape_4_3","landscape_16_9"`

// imageSizeField is image_size as an ImageSize object or a preset name.
const imageSizeField = `{"anyOf":[{"$ref":"#/components/schemas/ImageSize"},{"type":"string","enum":[` + presets + `]}],
	"title":"Image Size","default":"landscape_4_3"}`

const (
	prompt    = `"prompt":{"type":"string","description":"What to draw."}`
	seed      = `"seed":{"type":"integer"}`
	syncMode  = `"sync_mode":{"type":"boolean","default":false}`
	safety    = `"enable_safety_checker":{"type":"boolean","default":true}`
	numImages = `"num_images":{"type":"integer","minimum":1,"maximum":4,"default":1}`
)

// cases are the project's test documents; Cases wraps each in a document.
var cases = []struct {
	name, endpoint, input string
	extra                 map[string]string
}{
	{
		name: "image_size object or preset", endpoint: "test/presets",
		input: `{"type":"object","required":["prompt"],"properties":{` + prompt + `,
			"image_size":` + imageSizeField + `,` + numImages + `,` + seed + `,` + syncMode + `,` + safety + `,
			"output_format":{"type":"string","enum":["jpeg","png"],"default":"jpeg"},
			"guidance_scale":{"type":"number","minimum":1,"maximum":20,"default":3.5},
			"num_inference_steps":{"type":"integer","minimum":1,"maximum":50,"default":28},
			"acceleration":{"type":"string","enum":["none","regular","high"],"default":"none"}}}`,
	},
	{
		name: "allOf input, format field, unbounded num_images", endpoint: "test/allof",
		input: `{"allOf":[{"$ref":"#/components/schemas/Base"},{"type":"object","properties":{
			"format":{"type":"string","enum":["jpeg","png"],"default":"jpeg"},
			"negative_prompt":{"type":"string","nullable":true}}}]}`,
		extra: map[string]string{"Base": `{"type":"object","required":["prompt"],"properties":{` + prompt + `,
			"image_size":` + imageSizeField + `,
			"num_images":{"type":"integer","minimum":1,"default":1},` + seed + `,` + syncMode + `,` + safety + `}}`},
	},
	{
		name: "presets with auto tiers and prose bounds", endpoint: "test/auto-presets",
		input: `{"type":"object","required":["prompt"],"properties":{` + prompt + `,
			"image_size":{"anyOf":[{"$ref":"#/components/schemas/ImageSize"},
				{"type":"string","enum":[` + presets + `,"auto","auto_2K","auto_4K"]}],
				"description":"Width and height must be between 1024 and 4096.","default":{"width":2048,"height":2048}},
			"num_images":{"type":"integer","minimum":1,"maximum":6,"default":1},` + seed + `,` + syncMode + `,` + safety + `}}`,
	},
	{
		name: "aspect_ratio enum or any string", endpoint: "test/aspect-free",
		input: `{"type":"object","required":["prompt"],"properties":{` + prompt + `,
			"aspect_ratio":{"anyOf":[{"type":"string","enum":["21:9","16:9","4:3","3:2","1:1","2:3","3:4","9:16","9:21"]},{"type":"string"}],"default":"16:9"},
			` + numImages + `,"seed":{"anyOf":[{"type":"integer"},{"type":"null"}]},` + syncMode + `,` + safety + `,
			"output_format":{"type":"string","enum":["jpeg","png"]},"raw":{"type":"boolean","default":false}}}`,
	},
	{
		name: "aspect_ratio enum, style, no num_images", endpoint: "test/aspect-enum",
		input: `{"type":"object","required":["prompt"],"properties":{` + prompt + `,
			"aspect_ratio":{"type":"string","enum":["10:16","16:10","9:16","16:9","4:3","3:4","1:1","1:3","3:1","3:2","2:3"],"default":"1:1"},
			"style":{"type":"string","enum":["auto","general","realistic","design","render_3D","anime"],"default":"auto"},
			` + seed + `,` + syncMode + `,"negative_prompt":{"type":"string","default":""}}}`,
	},
	{
		name: "aspect_ratio and resolution tiers", endpoint: "test/aspect-resolution",
		input: `{"type":"object","required":["prompt"],"properties":{` + prompt + `,
			"aspect_ratio":{"type":"string","enum":["1:1","16:9","9:16","3:4","4:3"],"default":"1:1"},
			"resolution":{"type":"string","enum":["1K","2K"],"default":"1K"},
			` + numImages + `,` + seed + `,` + syncMode + `,
			"output_format":{"type":"string","enum":["jpeg","png","webp"],"default":"png"}}}`,
	},
	{
		name: "pixel-string sizes, quality, background", endpoint: "test/pixels",
		input: `{"type":"object","required":["prompt"],"properties":{` + prompt + `,
			"image_size":{"type":"string","enum":["auto","1024x1024","1536x1024","1024x1536"],"default":"auto"},
			"quality":{"type":"string","enum":["auto","low","medium","high"],"default":"auto"},
			"background":{"type":"string","enum":["auto","transparent","opaque"],"default":"auto"},
			` + numImages + `,` + syncMode + `,
			"output_format":{"type":"string","enum":["jpeg","png","webp"],"default":"png"}}}`,
	},
	{
		name: "width and height with bounds and multiples", endpoint: "test/width-height",
		input: `{"type":"object","required":["prompt"],"properties":{` + prompt + `,
			"width":{"type":"integer","minimum":256,"maximum":1440,"multipleOf":32,"default":512},
			"height":{"type":"integer","description":"Height in pixels, a multiple of 32 between 256 and 1440.","default":512},
			"num_images":{"type":"integer","minimum":1,"exclusiveMaximum":5},
			"seed":{"type":["integer","null"]},` + safety + `,
			"output_format":{"type":"string","enum":["jpg","png"]}}}`,
	},
	{
		name: "no size, seed or count", endpoint: "test/plain",
		input: `{"type":"object","required":["prompt"],"properties":{` + prompt + `,
			"style":{"type":"string","enum":["any","realistic_image","digital_illustration"],"default":"realistic_image"},
			"colors":{"type":"array","items":{"type":"object"},"default":[]},` + safety + `}}`,
	},
	{
		name: "free size string", endpoint: "test/size-free",
		input: `{"type":"object","required":["prompt"],"properties":{` + prompt + `,
			"size":{"type":"string","description":"WxH"},` + numImages + `}}`,
	},
	{
		name: "resolution tiers only", endpoint: "test/resolution",
		input: `{"type":"object","required":["prompt"],"properties":{` + prompt + `,
			"resolution":{"type":"string","enum":["0.5K","1K","2K","4K"]}}}`,
	},
	{
		name: "edit: one required image", endpoint: "test/edit-one",
		input: `{"type":"object","required":["prompt","image_url"],"properties":{` + prompt + `,
			"image_url":{"type":"string"},
			"aspect_ratio":{"type":"string","enum":["21:9","16:9","4:3","1:1","3:4","9:16"]},
			` + numImages + `,` + seed + `,` + syncMode + `,
			"output_format":{"type":"string","enum":["jpeg","png"]}}}`,
	},
	{
		name: "edit: image list and optional mask", endpoint: "test/edit-many",
		input: `{"type":"object","required":["prompt","image_urls"],"properties":{` + prompt + `,
			"image_urls":{"type":"array","items":{"type":"string"},"maxItems":4},
			"mask_url":{"type":"string"},
			"image_size":{"type":"string","enum":["auto","1024x1024","1536x1024","1024x1536"]},
			"quality":{"type":"string","enum":["auto","low","medium","high"]},` + numImages + `,` + syncMode + `}}`,
	},
	{
		name: "edit: image and mask required", endpoint: "test/fill",
		input: `{"type":"object","required":["prompt","image_url","mask_url"],"properties":{` + prompt + `,
			"image_url":{"type":"string"},"mask_url":{"type":"string"},` + numImages + `,` + seed + `}}`,
	},
	{
		name: "optional reference image", endpoint: "test/reference",
		input: `{"type":"object","required":["prompt"],"properties":{` + prompt + `,
			"image_size":` + imageSizeField + `,"image_urls":{"type":"array","items":{"type":"string"}},` + numImages + `}}`,
	},
}
