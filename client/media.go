package client

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"
)

// Media is an uploaded photo, video or file.
type Media struct {
	ID int64 `json:"id"`
	// Kind is "photo", "video", "audio" or "file".
	Kind string `json:"kind"`
	// ContentType is sniffed from the bytes by the server.
	ContentType string `json:"content_type"`
	Name        string `json:"name"`
	Size        int64  `json:"size"`
	Width       int    `json:"width,omitempty"`
	Height      int    `json:"height,omitempty"`
	// Thumbnail says a JPEG thumbnail can be fetched with Thumbnail.
	Thumbnail bool `json:"thumbnail,omitempty"`
	// SHA256 is of the content served (for an image, after the server
	// stripped its location and other metadata).
	SHA256 string `json:"sha256"`
	// Status is "ready", or "held" while waiting for review.
	Status    string    `json:"status"`
	CreatedAt time.Time `json:"created_at"`
}

// Attachment is the media object attached to a message.
type Attachment struct {
	MediaID     int64  `json:"media_id"`
	Kind        string `json:"kind"`
	ContentType string `json:"content_type"`
	Name        string `json:"name"`
	Size        int64  `json:"size"`
	Width       int    `json:"width,omitempty"`
	Height      int    `json:"height,omitempty"`
	Thumbnail   bool   `json:"thumbnail,omitempty"`
}

// UploadParams describe a file to upload.
type UploadParams struct {
	Name string
	// Kind is "photo" (an image is required), "file" (send an image as a
	// file) or empty (by content).
	Kind string
	// ContentType is what the file claims to be; the server checks it
	// against the bytes.
	ContentType string
}

// Upload is a resumable upload in progress.
type Upload struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Size      int64     `json:"size"`
	Received  int64     `json:"received"`
	ExpiresAt time.Time `json:"expires_at"`
	// Media is the stored file once the last byte has arrived.
	Media *Media `json:"media,omitempty"`
}

// transfer returns the HTTP client for uploads and downloads: c's, without
// its overall timeout, since a large file may take longer than any fixed
// bound; ctx bounds the transfer instead.
func (c *Client) transfer() *http.Client {
	hc := *c.hc
	hc.Timeout = 0
	return &hc
}

// rawRequest sends body (size bytes, or -1 if unknown) with the given
// content type and decodes a 2xx JSON answer into out.
func (c *Client) rawRequest(ctx context.Context, method, target string, body io.Reader, size int64, contentType string, header http.Header, out any) error {
	if c.baseErr != nil {
		return c.baseErr
	}
	req, err := http.NewRequestWithContext(ctx, method, target, body)
	if err != nil {
		return fmt.Errorf("client: %s %s: %w", method, c.path(target), err)
	}
	req.ContentLength = size
	if size == 0 {
		req.Body = http.NoBody
	}
	for k, v := range header {
		req.Header[k] = v
	}
	req.Header["User-Agent"] = c.userAgent
	if c.auth != nil {
		req.Header["Authorization"] = c.auth
	}
	req.Header.Set("Content-Type", contentType)
	resp, err := c.transfer().Do(req)
	if err != nil {
		return &netError{err}
	}
	return c.readResponse(req, resp, out)
}

// UploadMedia uploads size bytes from r (size -1 if unknown) in one
// request and returns the stored media object, ready to attach with
// SendParams.MediaID. For large files, or over an unreliable network, use
// UploadFile, which resumes after a broken connection.
func (c *Client) UploadMedia(ctx context.Context, r io.Reader, size int64, p UploadParams) (Media, error) {
	var q query
	if p.Name != "" {
		q.add("name", p.Name)
	}
	if p.Kind != "" {
		q.add("kind", p.Kind)
	}
	ct := p.ContentType
	if ct == "" {
		ct = "application/octet-stream"
	}
	var m Media
	err := c.rawRequest(ctx, http.MethodPost, c.url("/media")+string(q.b), r, size, ct, nil, &m)
	return m, err
}

// StartUpload begins a resumable upload of size bytes.
func (c *Client) StartUpload(ctx context.Context, size int64, p UploadParams) (Upload, error) {
	var u Upload
	err := c.do(ctx, http.MethodPost, c.url("/uploads"), struct {
		Name        string `json:"name,omitempty"`
		Size        int64  `json:"size"`
		ContentType string `json:"content_type,omitempty"`
		Kind        string `json:"kind,omitempty"`
	}{p.Name, size, p.ContentType, p.Kind}, &u)
	return u, err
}

// UploadStatus returns where a resumable upload stands.
func (c *Client) UploadStatus(ctx context.Context, id string) (Upload, error) {
	var u Upload
	err := c.do(ctx, http.MethodGet, c.urlSegment("/uploads/", id, ""), nil, &u)
	return u, err
}

// AppendUpload sends n bytes from r as the part of upload id starting at
// offset, which must be where the upload stands. After the last part the
// returned Upload carries the stored Media.
func (c *Client) AppendUpload(ctx context.Context, id string, offset int64, r io.Reader, n int64) (Upload, error) {
	var u Upload
	h := http.Header{"Upload-Offset": {strconv.FormatInt(offset, 10)}}
	err := c.rawRequest(ctx, http.MethodPatch, c.urlSegment("/uploads/", id, ""), r, n, "application/offset+octet-stream", h, &u)
	return u, err
}

// CancelUpload abandons a resumable upload.
func (c *Client) CancelUpload(ctx context.Context, id string) error {
	return c.do(ctx, http.MethodDelete, c.urlSegment("/uploads/", id, ""), nil, nil)
}

// UploadPart is the size of the parts UploadFile sends.
const UploadPart = 8 << 20

// UploadFile uploads size bytes from r as a resumable upload, in parts of
// UploadPart bytes. When a part fails on the network it asks the server
// where the upload stands and resumes from there, up to 5 times in a row;
// a refusal (a bad or forbidden file) ends it. progress, if not nil, is
// called with the bytes stored so far after each part.
func (c *Client) UploadFile(ctx context.Context, r io.ReaderAt, size int64, p UploadParams, progress func(done, total int64)) (Media, error) {
	u, err := c.StartUpload(ctx, size, p)
	if err != nil {
		return Media{}, err
	}
	failures := 0
	for u.Media == nil {
		n := min(UploadPart, size-u.Received)
		next, err := c.AppendUpload(ctx, u.ID, u.Received, io.NewSectionReader(r, u.Received, n), n)
		if err != nil {
			var ne *netError
			var ae *Error
			retry := errors.As(err, &ne) || (errors.As(err, &ae) && (ae.Reason == "incomplete_part" || ae.Reason == "offset_mismatch" || ae.Status >= 500))
			if failures++; !retry || failures > 5 || ctx.Err() != nil {
				return Media{}, err
			}
			if next, err = c.UploadStatus(ctx, u.ID); err != nil {
				return Media{}, err
			}
		} else {
			failures = 0
		}
		u = next
		if progress != nil {
			progress(u.Received, size)
		}
	}
	return *u.Media, nil
}

// GetMedia returns a media object's description.
func (c *Client) GetMedia(ctx context.Context, id int64) (Media, error) {
	var m Media
	err := c.do(ctx, http.MethodGet, c.url("/media/*", id), nil, &m)
	return m, err
}

// Download writes media object id's content to w and returns how many
// bytes it wrote.
func (c *Client) Download(ctx context.Context, id int64, w io.Writer) (int64, error) {
	return c.download(ctx, c.url("/media/*/content", id), "", w)
}

// DownloadRange writes length bytes of media object id's content, from
// offset on, to w: for resuming a download or reading part of a video.
func (c *Client) DownloadRange(ctx context.Context, id, offset, length int64, w io.Writer) (int64, error) {
	if offset < 0 || length <= 0 {
		return 0, fmt.Errorf("client: download range %d+%d: want offset >= 0 and length > 0", offset, length)
	}
	return c.download(ctx, c.url("/media/*/content", id), fmt.Sprintf("bytes=%d-%d", offset, offset+length-1), w)
}

// Thumbnail writes a photo's JPEG thumbnail to w.
func (c *Client) Thumbnail(ctx context.Context, id int64, w io.Writer) (int64, error) {
	return c.download(ctx, c.url("/media/*/thumbnail", id), "", w)
}

func (c *Client) download(ctx context.Context, target, rng string, w io.Writer) (int64, error) {
	if c.baseErr != nil {
		return 0, c.baseErr
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return 0, fmt.Errorf("client: GET %s: %w", c.path(target), err)
	}
	req.Header["User-Agent"] = c.userAgent
	if c.auth != nil {
		req.Header["Authorization"] = c.auth
	}
	if rng != "" {
		req.Header.Set("Range", rng)
	}
	resp, err := c.transfer().Do(req)
	if err != nil {
		return 0, &netError{err}
	}
	if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusPartialContent {
		return 0, c.readResponse(req, resp, nil)
	}
	defer resp.Body.Close()
	if rng != "" && resp.StatusCode != http.StatusPartialContent {
		return 0, fmt.Errorf("client: GET %s: asked for %s, the server sent the whole file", c.path(target), rng)
	}
	n, err := io.Copy(w, resp.Body)
	if err != nil {
		return n, &netError{fmt.Errorf("client: GET %s: %w", c.path(target), err)}
	}
	return n, nil
}
