// Package media recognises media formats by their first bytes. Labels
// cannot be trusted: a client's file part may say anything (the Go SDK sends
// every file as application/octet-stream), and a CDN's error page may come
// labelled image/png. Both what clients send and what fal returns are
// checked here, by one set of signatures.
package media

import (
	"bytes"
	"encoding/binary"
)

// SniffLen is how many leading bytes Sniff needs at most.
const SniffLen = 1024

// Sniff names the image format of data from its first bytes
// ("image/png", "image/jpeg", "image/webp", "image/gif", "image/avif",
// "image/heic", "image/bmp" or "image/svg+xml"), or "" when they are not an
// image.
func Sniff(head []byte) string {
	head = head[:min(len(head), SniffLen)]
	switch {
	case bytes.HasPrefix(head, []byte("\x89PNG\r\n\x1a\n")):
		return "image/png"
	case bytes.HasPrefix(head, []byte("\xff\xd8\xff")):
		return "image/jpeg"
	case len(head) >= 12 && bytes.Equal(head[:4], []byte("RIFF")) && bytes.Equal(head[8:12], []byte("WEBP")):
		return "image/webp"
	case bytes.HasPrefix(head, []byte("GIF87a")), bytes.HasPrefix(head, []byte("GIF89a")):
		return "image/gif"
	case isBMP(head):
		return "image/bmp"
	}
	if mt := isoImage(head); mt != "" {
		return mt
	}
	if isSVG(head) {
		return "image/svg+xml"
	}
	return ""
}

// isBMP recognises a BMP file: "BM", four reserved bytes that are zero,
// and one of the DIB header sizes at offset 14 (text that starts with "BM"
// is not one).
func isBMP(head []byte) bool {
	if len(head) < 18 || !bytes.HasPrefix(head, []byte("BM")) || !bytes.Equal(head[6:10], []byte{0, 0, 0, 0}) {
		return false
	}
	switch binary.LittleEndian.Uint32(head[14:18]) {
	case 12, 40, 52, 56, 64, 108, 124:
		return true
	}
	return false
}

// isoBrand is the major brand of an ISO-BMFF file (the four bytes after
// its "ftyp"), or "" when head is not one: the one rule by which both the
// image and the audio sniffers tell those files apart.
func isoBrand(head []byte) string {
	if len(head) < 12 || !bytes.Equal(head[4:8], []byte("ftyp")) {
		return ""
	}
	return string(head[8:12])
}

// isoImage recognises AVIF and HEIF files by their ISO-BMFF brand.
func isoImage(head []byte) string {
	switch isoBrand(head) {
	case "avif", "avis":
		return "image/avif"
	case "heic", "heix", "mif1", "msf1":
		return "image/heic"
	}
	return ""
}

// isSVG recognises an SVG document: an <svg> element at the start, or
// after an XML declaration, comments or a doctype.
func isSVG(head []byte) bool {
	t := bytes.TrimLeft(bytes.TrimPrefix(head, []byte("\xef\xbb\xbf")), " \t\r\n")
	switch {
	case bytes.HasPrefix(t, []byte("<svg")):
		return true
	case bytes.HasPrefix(t, []byte("<?xml")), bytes.HasPrefix(t, []byte("<!--")), bytes.HasPrefix(t, []byte("<!DOCTYPE svg")):
		return bytes.Contains(t, []byte("<svg"))
	}
	return false
}
