package server

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"golang.org/x/sync/errgroup"

	"github.com/falproxy/falproxy/internal/fal"
	"github.com/falproxy/falproxy/internal/images"
	"github.com/falproxy/falproxy/internal/openai"
)

// editImage is one input image (or the mask) of an edit: either bytes the
// client sent, as a file or a data: URI, or a URL that fal fetches itself.
type editImage struct {
	name string // file name used for an upload: "image-1.png", "mask.webp"
	data []byte
	mime string // type sniffed from data
	url  string // client-given http(s) URL, passed to fal as it is
}

// fileImage makes an editImage of a file the decoder has checked.
func fileImage(f openai.File) editImage {
	return editImage{name: f.Name, data: f.Data, mime: f.ContentType}
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
			return editImage{}, openai.FileTooLarge(param, maxBytes)
		}
		data, err := base64.StdEncoding.DecodeString(payload)
		if err != nil {
			data, err = base64.RawStdEncoding.DecodeString(payload)
		}
		if err != nil {
			return editImage{}, openai.InvalidRequest(param, "invalid_value", "Invalid '%s': the data URL is not valid base64.", param)
		}
		if int64(len(data)) > maxBytes {
			return editImage{}, openai.FileTooLarge(param, maxBytes)
		}
		f, e := openai.ImageFile(param, name, data)
		if e != nil {
			return editImage{}, e
		}
		return fileImage(f), nil
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return editImage{}, openai.InvalidRequest(param, "invalid_value",
			"Invalid '%s': expected an https URL or a base64 data URL.", param)
	}
	return editImage{name: name, url: raw}, nil
}

// maxParallelUploads bounds the uploads of one request.
const maxParallelUploads = 4

// inputURLs hands a request's input files to fal as falURLs does, within
// INLINE_LIMIT, and says what went wrong in the client's terms; what names
// the files in a sentence ("An input image", "The recording"). Both
// results are nil when the client is gone: there is no one to answer.
func (s *Server) inputURLs(ctx context.Context, r *http.Request, files []editImage, what string) ([]string, *openai.Error) {
	urls, err := s.falURLs(ctx, files, s.opt.InlineLimit)
	switch {
	case err == nil:
		return urls, nil
	case r.Context().Err() != nil:
		return nil, nil
	case errors.Is(err, fal.ErrNoStorage):
		// A fault of the configuration: a retry meets it again.
		e := openai.ServerError("%s is too large to send inline and no fal storage is configured.", what)
		e.NoRetry = true
		return nil, e
	}
	return nil, s.failUpstream(ctx, err)
}

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
				u, err := s.opt.Fal.Upload(gctx, img.data, img.mime, img.name)
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
