package server

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"golang.org/x/sync/errgroup"

	"github.com/falproxy/falproxy/internal/images"
	"github.com/falproxy/falproxy/internal/openai"
)

// editImage is one input image (or the mask) of an edit: either bytes the
// client sent, as a file or a data: URI, or a URL that fal fetches itself.
type editImage struct {
	param string // request field, for errors: "image", "mask", "images[0].image_url"
	name  string // base of the file name used for an upload: "image-1", "mask"
	data  []byte
	mime  string // type sniffed from data
	url   string // client-given http(s) URL, passed to fal as it is
}

// imageTypes are the input formats accepted, with the file extension used
// when uploading one. OpenAI takes PNG, JPEG and WebP; fal's edit models
// also read GIF.
var imageTypes = map[string]string{
	"image/png":  "png",
	"image/jpeg": "jpg",
	"image/webp": "webp",
	"image/gif":  "gif",
}

// sniffImage names the format of an input file from its bytes. The part's
// own Content-Type cannot be trusted: the Go SDK labels every file
// application/octet-stream.
func sniffImage(param string, data []byte) (string, *openai.Error) {
	if len(data) == 0 {
		return "", openai.InvalidRequest(param, "invalid_image_format", "The file in '%s' is empty.", param)
	}
	ct := http.DetectContentType(data)
	if _, ok := imageTypes[ct]; ok {
		return ct, nil
	}
	kind, _, _ := strings.Cut(ct, ";")
	return "", openai.InvalidRequest(param, "invalid_image_format",
		"Invalid image file in '%s': its content is %s. Supported formats are PNG, JPEG, WebP and GIF.", param, kind)
}

// fileImage makes an editImage of uploaded bytes, checking their format.
func fileImage(param, name string, data []byte) (editImage, *openai.Error) {
	mime, e := sniffImage(param, data)
	if e != nil {
		return editImage{}, e
	}
	return editImage{param: param, name: name, data: data, mime: mime}, nil
}

// urlImage makes an editImage of a URL given in a JSON edit. An http(s)
// URL is passed on untouched; a data: URI must be base64 and is decoded,
// so that it is checked and sent on like an uploaded file.
func urlImage(param, name, raw string, maxBytes int64) (editImage, *openai.Error) {
	if len(raw) >= 5 && strings.EqualFold(raw[:5], "data:") {
		_, payload, ok := images.DataURI(raw)
		if !ok {
			return editImage{}, openai.InvalidRequest(param, "invalid_value",
				"Invalid '%s': a data URL must be base64-encoded (data:image/png;base64,...).", param)
		}
		if int64(base64.StdEncoding.DecodedLen(len(payload))) > maxBytes+2 {
			return editImage{}, fileTooLarge(param, maxBytes)
		}
		data, err := base64.StdEncoding.DecodeString(payload)
		if err != nil {
			data, err = base64.RawStdEncoding.DecodeString(payload)
		}
		if err != nil {
			return editImage{}, openai.InvalidRequest(param, "invalid_value", "Invalid '%s': the data URL is not valid base64.", param)
		}
		if int64(len(data)) > maxBytes {
			return editImage{}, fileTooLarge(param, maxBytes)
		}
		return fileImage(param, name, data)
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return editImage{}, openai.InvalidRequest(param, "invalid_value",
			"Invalid '%s': expected an https URL or a base64 data URL.", param)
	}
	return editImage{param: param, name: name, url: raw}, nil
}

// fileTooLarge is the 413 for one input file over the per-file cap.
func fileTooLarge(param string, limit int64) *openai.Error {
	return &openai.Error{
		Status:  http.StatusRequestEntityTooLarge,
		Message: fmt.Sprintf("The file in '%s' is larger than the %d bytes this server accepts per image.", param, limit),
		Type:    openai.TypeInvalidRequest,
		Param:   param,
		Code:    "file_too_large",
		NoRetry: true,
	}
}

// maxParallelUploads bounds the uploads of one request.
const maxParallelUploads = 4

// falURLs turns the images into URLs fal can read, in order: client URLs
// as given, files up to inlineLimit bytes as data: URIs (no extra round
// trip), larger files uploaded to fal storage, whose URL keeps fal's input
// small. A negative inlineLimit uploads every file.
func (s *Server) falURLs(ctx context.Context, imgs []editImage, inlineLimit int64) ([]string, error) {
	urls := make([]string, len(imgs))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(maxParallelUploads)
	for i, img := range imgs {
		switch {
		case img.url != "":
			urls[i] = img.url
		case int64(len(img.data)) <= inlineLimit:
			urls[i] = "data:" + img.mime + ";base64," + base64.StdEncoding.EncodeToString(img.data)
		default:
			g.Go(func() error {
				u, err := s.opt.Fal.Upload(gctx, img.data, img.mime, img.name+"."+imageTypes[img.mime])
				urls[i] = u
				return err
			})
		}
	}
	if err := g.Wait(); err != nil {
		return nil, fmt.Errorf("uploading an input image: %w", err)
	}
	return urls, nil
}
