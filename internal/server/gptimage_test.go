package server_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"testing"

	oai "github.com/openai/openai-go/v3"
)

// TestGPTImageAliasesAnswerB64: aliases named like OpenAI's GPT image
// models answer base64 when the request names no response_format, as
// OpenAI's do; other aliases keep answering URLs.
func TestGPTImageAliasesAnswerB64(t *testing.T) {
	h := newEditHarness(t, nil)
	res, err := h.sdk.Images.Generate(context.Background(), oai.ImageGenerateParams{Model: "gpt-image-1", Prompt: "an otter"})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Data) != 1 || res.Data[0].URL != "" || res.Data[0].B64JSON == "" {
		t.Fatalf("response %.300s", res.RawJSON())
	}
	if raw, err := base64.StdEncoding.DecodeString(res.Data[0].B64JSON); err != nil || decodeImage(t, raw).Width == 0 {
		t.Fatalf("b64_json is not an image (%v)", err)
	}
	if in := h.falInputs()[0]; in["sync_mode"] != true {
		t.Fatalf("fal input %v, want sync_mode", in)
	}

	res, err = h.sdk.Images.Edit(context.Background(), oai.ImageEditParams{
		Model:  "gpt-image-edit",
		Prompt: "paint it green",
		Image:  oai.ImageEditParamsImageUnion{OfFile: bytes.NewReader(pngFile(t, 64, 64, false))},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Data) != 1 || res.Data[0].URL != "" || res.Data[0].B64JSON == "" {
		t.Fatalf("edit response %.300s", res.RawJSON())
	}

	for _, p := range []oai.ImageGenerateParams{
		{Model: "gpt-image-1", Prompt: "an otter", ResponseFormat: oai.ImageGenerateParamsResponseFormatURL},
		{Model: "flux-dev", Prompt: "an otter"},
	} {
		res, err := h.sdk.Images.Generate(context.Background(), p)
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Data) != 1 || res.Data[0].URL == "" || res.Data[0].B64JSON != "" {
			t.Fatalf("%s with response_format %q: %.300s", p.Model, p.ResponseFormat, res.RawJSON())
		}
	}
}
