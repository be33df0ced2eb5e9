package falfake

import (
	"encoding/json"
	"math"
	"net/http"
	"strings"
	"sync"
	"unicode/utf8"
)

// Price is what the emulator charges for one unit of an endpoint's
// output, as fal's pricing API reports it.
type Price struct {
	UnitPrice float64 `json:"unit_price"`
	Unit      string  `json:"unit"`
}

// defaultPrices are the emulator's prices: per generated image for its
// image endpoints, per 1000 characters for a speech endpoint;
// Options.Prices adds or replaces entries, in any unit billedUnits
// counts.
var defaultPrices = map[string]Price{
	"fal-ai/kokoro/american-english": {0.02, "1000 characters"},
	"fal-ai/flux/dev":                {0.025, "image"},
	"fal-ai/flux/schnell":            {0.003, "image"},
	"fal-ai/fast-sdxl":               {0.002, "image"},
	"fal-ai/flux-pro/v1.1-ultra":     {0.06, "image"},
	"fal-ai/flux-pro/kontext":        {0.04, "image"},
}

// bill is what fal would charge, per fal key: completed jobs of priced
// endpoints, counted in their price's unit. Failed and cancelled jobs
// cost nothing, as on fal.
type bill struct {
	mu     sync.Mutex
	micros map[string]int64 // by fal key
}

func (f *Fake) price(endpoint string) (Price, bool) {
	if p, ok := f.opts.Prices[endpoint]; ok {
		return p, true
	}
	p, ok := defaultPrices[endpoint]
	return p, ok
}

// charge bills a finished job of endpoint for key, by what it made.
func (f *Fake) charge(key, endpoint string, input []byte, out outcome) {
	if out.tokenMicros > 0 && out.status == http.StatusOK {
		f.billMicros(key, out.tokenMicros)
		return
	}
	p, ok := f.price(endpoint)
	if !ok || out.status != http.StatusOK {
		return
	}
	var in node
	if json.Unmarshal(input, &in) != nil {
		return
	}
	units, ok := f.billedUnits(p.Unit, f.models[endpoint], in, out.body)
	if !ok {
		return
	}
	f.billMicros(key, int64(math.Round(units*p.UnitPrice*1e6)))
}

// billMicros adds a cost in micro-dollars to key's bill.
func (f *Fake) billMicros(key string, micros int64) {
	f.bill.mu.Lock()
	defer f.bill.mu.Unlock()
	if f.bill.micros == nil {
		f.bill.micros = make(map[string]int64)
	}
	f.bill.micros[key] += micros
}

// tokenCostMicros is what tokens of model cost at an LLM endpoint: at the
// emulator's "<endpoint>#<model>" price when it has one, else at the
// endpoint's, in a token unit ("token", "1K tokens", "1M tokens"); 0
// when neither is priced by the token. fal's pricing API lists the
// endpoint's price only, and the pricing route does the same, so a
// model's own price shows up only in the cost an answer reports.
func (f *Fake) tokenCostMicros(endpoint, model string, tokens int) int64 {
	p, ok := f.price(endpoint + "#" + model)
	if !ok {
		p, ok = f.price(endpoint)
	}
	per, known := tokensPerUnit(p.Unit)
	if !ok || !known {
		return 0
	}
	return int64(math.Round(float64(tokens) / per * p.UnitPrice * 1e6))
}

// billTokens bills key for tokens of model at an LLM endpoint and
// returns their cost in USD, as OpenRouter reports it in usage.cost.
func (f *Fake) billTokens(key, endpoint, model string, tokens int) float64 {
	micros := f.tokenCostMicros(endpoint, model, tokens)
	f.billMicros(key, micros)
	return float64(micros) / 1e6
}

// openAIApp is the fal app whose price bills the OpenAI-compatible chat,
// Responses and embeddings routes.
const openAIApp = "openrouter/router/openai/v1"

// tokensPerUnit is how many tokens a token unit holds.
func tokensPerUnit(unit string) (float64, bool) {
	switch strings.ToLower(unit) {
	case "token", "tokens":
		return 1, true
	case "1k tokens", "1000 tokens":
		return 1e3, true
	case "1m tokens", "1000000 tokens":
		return 1e6, true
	}
	return 0, false
}

// billedUnits counts a completed job in a unit of fal's pricing API: the
// images it made or their megapixels, the characters of speech it spoke,
// the seconds of video it made (as its input asked, or a remix's source
// had) or of audio it heard (the end of its transcript), or those seconds
// in minutes. An unknown unit bills nothing.
func (f *Fake) billedUnits(unit string, m *model, in node, output []byte) (float64, bool) {
	var out struct {
		Images []imageFile           `json:"images"`
		Chunks []transcriptChunk     `json:"chunks"`
		Video  *struct{ URL string } `json:"video"`
	}
	if json.Unmarshal(output, &out) != nil {
		return 0, false
	}
	seconds := func() float64 {
		if out.Video != nil && m != nil {
			return f.videoSeconds(m, in)
		}
		if n := len(out.Chunks); n > 0 {
			return out.Chunks[n-1].Timestamp[1]
		}
		return 0
	}
	switch strings.TrimPrefix(strings.TrimPrefix(unit, "audio "), "video ") {
	case "image":
		return float64(len(out.Images)), true
	case "megapixel", "megapixels":
		mp := 0.0
		for _, img := range out.Images {
			mp += float64(img.Width) * float64(img.Height) / 1e6
		}
		return mp, true
	case "1000 characters":
		return float64(utf8.RuneCountInString(firstString(in, "text", "prompt", "input"))) / 1000, true
	case "second", "seconds":
		return seconds(), true
	case "minute", "minutes":
		return seconds() / 60, true
	}
	return 0, false
}

// BillUSD is what fal would charge all keys for the jobs run so far.
func (f *Fake) BillUSD() float64 {
	f.billCompleted()
	f.bill.mu.Lock()
	defer f.bill.mu.Unlock()
	var total int64
	for _, m := range f.bill.micros {
		total += m
	}
	return float64(total) / 1e6
}

// billCompleted bills the queued jobs that completed but whose result
// nobody read: fal bills a job when it completes, not when its result is
// fetched.
func (f *Fake) billCompleted() {
	for _, j := range f.jobs.all() {
		f.outcome(j)
	}
}

// APIURL is the base for FAL_API_URL (fal's api.fal.ai): it serves the
// pricing API.
func (f *Fake) APIURL() string { return f.base + "/api" }

// servePricing answers GET /api/v1/models/pricing?endpoint_id=... as fal
// does, listing the prices it knows of the ids asked for.
func (f *Fake) servePricing(w http.ResponseWriter, c *call) {
	if !f.authorize(w, c) {
		return
	}
	type entry struct {
		EndpointID string  `json:"endpoint_id"`
		UnitPrice  float64 `json:"unit_price"`
		Unit       string  `json:"unit"`
		Currency   string  `json:"currency"`
	}
	prices := []entry{}
	for _, id := range c.r.URL.Query()["endpoint_id"] {
		if p, ok := f.price(id); ok {
			prices = append(prices, entry{id, p.UnitPrice, p.Unit, "USD"})
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"prices": prices, "next_cursor": nil, "has_more": false})
}
