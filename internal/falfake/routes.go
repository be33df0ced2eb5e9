package falfake

import (
	"net/http"
	"strings"
)

// routes is the emulator's whole HTTP surface. The first path segment
// stands for one of fal's hosts: /queue (queue.fal.run), /run (fal.run),
// /openapi (fal.ai's schema service), /rest (rest.fal.ai) and /files (the
// CDN).
func (f *Fake) routes() http.Handler {
	mux := http.NewServeMux()

	submit := f.handle(OpSubmit, byPath, f.submit)
	status := f.handle(OpStatus, f.byRequest, f.status)
	stream := f.handle(OpStream, f.byRequest, f.statusStream)
	result := f.handle(OpResult, f.byRequest, f.result)
	cancel := f.handle(OpCancel, f.byRequest, f.cancelJob)
	mux.Handle("POST /queue/{rest...}", submit)
	mux.HandleFunc("GET /queue/{rest...}", func(w http.ResponseWriter, r *http.Request) {
		rp, _ := parseRequestPath(r.PathValue("rest"))
		switch {
		case rp.id == "":
			http.NotFound(w, r)
		case rp.tail == "status":
			status(w, r)
		case rp.tail == "status/stream":
			stream(w, r)
		case rp.tail == "":
			result(w, r)
		default:
			http.NotFound(w, r)
		}
	})
	mux.HandleFunc("PUT /queue/{rest...}", func(w http.ResponseWriter, r *http.Request) {
		if rp, ok := parseRequestPath(r.PathValue("rest")); !ok || rp.tail != "cancel" {
			http.NotFound(w, r)
			return
		}
		cancel(w, r)
	})

	run := f.handle(OpRun, byPath, f.run)
	llm := f.handle(OpLLMStream, byStreamPath, f.llmStream)
	chat := f.handle(OpChat, fixedEndpoint(chatEndpoint), f.chat)
	embed := f.handle(OpEmbed, fixedEndpoint(embeddingsEndpoint), f.embeddings)
	resp := f.handle(OpResponses, fixedEndpoint(responsesEndpoint), f.responses)
	mux.HandleFunc("POST /run/{rest...}", func(w http.ResponseWriter, r *http.Request) {
		rest := strings.Trim(r.PathValue("rest"), "/")
		switch {
		case rest == chatEndpoint:
			chat(w, r)
		case rest == embeddingsEndpoint:
			embed(w, r)
		case rest == responsesEndpoint:
			resp(w, r)
		case strings.HasSuffix(rest, "/stream"):
			llm(w, r)
		default:
			run(w, r)
		}
	})

	mux.Handle("GET /openapi/queue/openapi.json", f.handle(OpSchema, byQuery, f.serveSchema))
	mux.Handle("GET /api/v1/models/pricing", f.handle(OpPricing, byQuery, f.servePricing))
	mux.Handle("GET /files/{rest...}", f.handle(OpCDN, noEndpoint, f.serveFile))
	mux.Handle("POST /rest/storage/upload/initiate", f.handle(OpUpload, noEndpoint, f.initiateUpload))
	mux.Handle("PUT /rest/storage/upload/put/{token}", f.handle(OpUploadPut, noEndpoint, f.putUpload))
	return mux
}
