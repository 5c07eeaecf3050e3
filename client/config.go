package client

import (
	"context"
	"net/http"
	"time"
)

// ServerConfig is what the server enforces that a client should know, to
// refuse at once what the server would refuse after it was sent.
type ServerConfig struct {
	// MaxTextChars is the longest message text, in characters (Unicode
	// code points); MaxCaptionChars the longest caption of a file.
	MaxTextChars    int `json:"max_text_chars"`
	MaxCaptionChars int `json:"max_caption_chars"`
	// MaxUploadBytes is the largest file one may upload.
	MaxUploadBytes int64 `json:"max_upload_bytes"`
	// UploadQuotaBytes is the most bytes of files one account may keep.
	UploadQuotaBytes int64 `json:"upload_quota_bytes"`
	// EditWindowSeconds is how long after sending a message may be edited.
	EditWindowSeconds int64 `json:"edit_window_seconds"`
}

// EditWindow is EditWindowSeconds as a duration.
func (c ServerConfig) EditWindow() time.Duration {
	return time.Duration(c.EditWindowSeconds) * time.Second
}

// Config returns the server's limits. It needs no token.
func (c *Client) Config(ctx context.Context) (ServerConfig, error) {
	var cfg ServerConfig
	err := c.do(ctx, http.MethodGet, c.url("/config"), nil, &cfg)
	return cfg, err
}
