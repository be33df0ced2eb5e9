package server

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/falproxy/falproxy/internal/fal"
	"github.com/falproxy/falproxy/internal/media"
	"github.com/falproxy/falproxy/internal/openai"
)

// mediaSource is one result image on its way to becoming b64_json: either
// fal's own base64 (from a data: URI) or downloaded bytes.
type mediaSource struct {
	url         string
	contentType string // as its bytes show (fal's label is not trusted)
	b64         string // base64 text as fal sent it, when it came as a data URI
	raw         []byte // downloaded bytes otherwise
}

func (m *mediaSource) download(ctx context.Context, d *fal.Downloader) error {
	dl, err := d.Open(ctx, m.url)
	if err != nil {
		return err
	}
	defer dl.Body.Close()
	var buf bytes.Buffer
	if dl.ContentLength > 0 {
		buf.Grow(int(dl.ContentLength))
	}
	if _, err := buf.ReadFrom(dl.Body); err != nil {
		if _, ok := errors.AsType[*fal.Error](err); ok {
			return err
		}
		return &fal.Error{Op: fal.OpDownload, Err: err}
	}
	m.raw = buf.Bytes()
	return m.checkImage()
}

// errNotAnImage means a result that should be an image is something else
// (an error page, text, an empty file).
var errNotAnImage = errors.New("fal's result is not an image")

// checkImage makes sure the media is an image, by its first bytes, and
// names its format from them: neither a CDN's Content-Type nor a data
// URI's label is trusted, since an error page may come labelled image/png.
func (m *mediaSource) checkImage() error {
	head := m.raw
	if head == nil {
		n := min(len(m.b64), base64.StdEncoding.EncodedLen(media.SniffLen)) &^ 3
		head, _ = base64.StdEncoding.DecodeString(m.b64[:n])
	}
	mt := media.Sniff(head)
	if mt == "" {
		return fmt.Errorf("%w: its content is %s", errNotAnImage, http.DetectContentType(head))
	}
	m.contentType = mt
	return nil
}

// writeBase64 writes the image's base64 text into a JSON string.
func (m *mediaSource) writeBase64(bw *bufio.Writer) {
	if m.raw == nil {
		bw.WriteString(m.b64)
		return
	}
	enc := base64.NewEncoder(base64.StdEncoding, bw)
	_, _ = enc.Write(m.raw)
	_ = enc.Close()
}

// writeB64Response writes an images response whose b64_json strings are
// encoded straight into the connection, so the encoded copy of an image is
// never held in memory.
func writeB64Response(w http.ResponseWriter, resp openai.ImagesResponse, media []*mediaSource) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	bw := bufio.NewWriterSize(w, 64<<10)
	bw.WriteString(`{"created":`)
	bw.WriteString(strconv.FormatInt(resp.Created, 10))
	bw.WriteString(`,"data":[`)
	for i, m := range media {
		if i > 0 {
			bw.WriteByte(',')
		}
		bw.WriteString(`{"b64_json":"`)
		m.writeBase64(bw)
		bw.WriteByte('"')
		if rp := resp.Data[i].RevisedPrompt; rp != "" {
			bw.WriteString(`,"revised_prompt":`)
			b, _ := json.Marshal(rp)
			bw.Write(b)
		}
		bw.WriteByte('}')
	}
	bw.WriteString("]}")
	_ = bw.Flush()
}

// isBase64Text reports whether s holds only base64 alphabet characters, so
// that fal's data URI payload can be written into a JSON string unescaped.
// It looks each byte up in a table: a data URI carries a whole image, and
// a chain of comparisons per byte cost tens of milliseconds on a 4 MiB one.
func isBase64Text(s string) bool {
	for i := 0; i < len(s); i++ {
		if !base64Alphabet[s[i]] {
			return false
		}
	}
	return true
}

// base64Alphabet marks the bytes of standard base64 text, padding included.
// It is filled once and only read.
var base64Alphabet = func() (t [256]bool) {
	for _, c := range []byte("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=") {
		t[c] = true
	}
	return t
}()
