package fal

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
)

// OpUpload names the two steps of a storage upload in Error.Op.
const OpUpload = "upload"

// ErrNoStorage means the client has no StorageURL, so it cannot upload.
var ErrNoStorage = errors.New("no fal storage URL is configured")

// maxInitiateAnswer caps the small JSON answer of an upload initiation.
const maxInitiateAnswer = 64 << 10

// uploadTarget is fal's answer to an upload initiation: where to PUT the
// bytes and the URL the file will then have on fal's CDN.
type uploadTarget struct {
	UploadURL string `json:"upload_url"`
	FileURL   string `json:"file_url"`
}

// Upload stores data on fal's CDN and returns its URL, which fal models
// accept wherever they take a file URL (image_url, mask_url, ...).
//
// It works as fal's own clients do: an initiation call with a fal key
// (POST <StorageURL>/storage/upload/initiate) that names the file and
// returns a pre-signed upload URL, then a PUT of the bytes to that URL. No
// job exists before the upload finishes, so the initiation fails over
// between keys like a submit. The PUT carries no key (the URL is signed),
// and it is made only to a configured upstream or one of fal's hosts: the
// bytes are the client's.
func (c *Client) Upload(ctx context.Context, data []byte, contentType, fileName string) (string, error) {
	if c.opt.StorageURL == "" {
		return "", &Error{Op: OpUpload, Err: ErrNoStorage}
	}
	if contentType == "" {
		contentType = "application/octet-stream"
	}
	target, err := c.initiateUpload(ctx, contentType, fileName)
	if err != nil {
		return "", err
	}
	if err := c.putUpload(ctx, target.UploadURL, data, contentType); err != nil {
		return "", err
	}
	c.log.Debug("uploaded an input file to fal storage", "bytes", len(data), "content_type", contentType)
	return target.FileURL, nil
}

// initiateUpload asks fal where to put a file.
func (c *Client) initiateUpload(ctx context.Context, contentType, fileName string) (*uploadTarget, error) {
	body, err := json.Marshal(map[string]string{"file_name": fileName, "content_type": contentType})
	if err != nil {
		return nil, &Error{Op: OpUpload, Err: err}
	}
	u := c.opt.StorageURL + "/storage/upload/initiate?storage_type=fal-cdn-v3"
	resp, k, err := c.postFailover(ctx, OpUpload, u, body, nil, false)
	if err != nil {
		return nil, err
	}
	defer c.opt.Pool.release(k)
	defer resp.Body.Close()
	b, err := readAll(OpUpload, resp.Body, maxInitiateAnswer)
	if err != nil {
		return nil, err
	}
	var t uploadTarget
	if err := json.Unmarshal(b, &t); err != nil {
		return nil, &Error{Op: OpUpload, Status: resp.StatusCode, Err: fmt.Errorf("unreadable upload initiation answer: %w", err)}
	}
	if !webURL(t.UploadURL) || !webURL(t.FileURL) {
		return nil, &Error{Op: OpUpload, Status: resp.StatusCode,
			Err: fmt.Errorf("upload initiation answer lacks an http(s) upload_url or file_url: %s", truncate(string(b), 300))}
	}
	if !c.uploadable(t.UploadURL) {
		return nil, &Error{Op: OpUpload, Status: resp.StatusCode, Err: fmt.Errorf("%w: upload_url", ErrUntrustedURL)}
	}
	return &t, nil
}

// putUpload sends the bytes to the pre-signed upload URL.
func (c *Client) putUpload(ctx context.Context, uploadURL string, data []byte, contentType string) error {
	if data == nil {
		data = []byte{} // an empty file still has a body
	}
	req, err := c.newRequest(ctx, http.MethodPut, uploadURL, nil, data)
	if err != nil {
		return &Error{Op: OpUpload, Err: err}
	}
	req.Header.Set("Content-Type", contentType)
	resp, err := c.send(req)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return &Error{Op: OpUpload, Err: err}
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, maxInitiateAnswer))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return errorFromResponse(OpUpload, resp, b)
	}
	return nil
}

// webURL reports whether s is an absolute http or https URL.
func webURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && checkScheme(u) == nil && u.Host != ""
}
