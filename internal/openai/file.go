package openai

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/falproxy/falproxy/internal/media"
)

// File is a file a client sent: a multipart file part, or the bytes of a
// data: URL. Data is held whole and capped when read; ContentType is
// sniffed from the bytes, never taken from the client, whose label cannot
// be trusted (the Go SDK sends every file as application/octet-stream).
type File struct {
	// Name is the file name to upload it under: a base chosen by the
	// decoder ("image-1", "mask") and the extension of its sniffed type.
	Name        string
	ContentType string
	Data        []byte
}

// imageTypes are the image formats an image field accepts, with the file
// extension each is uploaded with. OpenAI takes PNG, JPEG and WebP; fal's
// edit models also read GIF.
var imageTypes = map[string]string{
	"image/png":  "png",
	"image/jpeg": "jpg",
	"image/webp": "webp",
	"image/gif":  "gif",
}

// ImageFile checks that data is an image in one of imageTypes and makes it
// a File named base plus the type's extension. param names the request
// field in errors.
func ImageFile(param, base string, data []byte) (File, *Error) {
	ct, e := sniffImage(param, data)
	if e != nil {
		return File{}, e
	}
	return File{Name: base + "." + imageTypes[ct], ContentType: ct, Data: data}, nil
}

// sniffImage names the format of an input image from its bytes.
func sniffImage(param string, data []byte) (string, *Error) {
	if len(data) == 0 {
		return "", InvalidRequest(param, "invalid_image_format", "The file in '%s' is empty.", param)
	}
	ct := media.Sniff(data)
	if _, ok := imageTypes[ct]; ok {
		return ct, nil
	}
	kind, _, _ := strings.Cut(http.DetectContentType(data), ";")
	return "", InvalidRequest(param, "invalid_image_format",
		"Invalid image file in '%s': its content is %s. Supported formats are PNG, JPEG, WebP and GIF.", param, kind)
}

// FileTooLarge is the 413 for one input file over the per-file cap, an
// image's or a recording's alike.
func FileTooLarge(param string, limit int64) *Error {
	return &Error{
		Status:  http.StatusRequestEntityTooLarge,
		Message: fmt.Sprintf("The file in '%s' is larger than the %s this server accepts per file.", param, sizeText(limit)),
		Type:    TypeInvalidRequest,
		Param:   param,
		Code:    "file_too_large",
		NoRetry: true,
	}
}

// sizeText writes a byte count for people: "25 MB" when it is a whole
// number of MiB (as OpenAI words its 25 MB), else the bytes.
func sizeText(n int64) string {
	if n > 0 && n%(1<<20) == 0 {
		return fmt.Sprintf("%d bytes (%d MB)", n, n>>20)
	}
	return fmt.Sprintf("%d bytes", n)
}

// BodyTooLarge is the 413 for a request body over the server's cap.
func BodyTooLarge(limit int64) *Error {
	return &Error{
		Status:  http.StatusRequestEntityTooLarge,
		Message: fmt.Sprintf("The request body is larger than the %d bytes this server accepts.", limit),
		Type:    TypeInvalidRequest,
		Code:    "request_too_large",
		NoRetry: true,
	}
}
