package httpapi_test

import (
	"bytes"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"kurir/sqldb"
	"kurir/sqldb/sqldbtest"
)

// configJSON is GET /api/v1/config's answer.
type configJSON struct {
	MaxTextChars      int   `json:"max_text_chars"`
	MaxCaptionChars   int   `json:"max_caption_chars"`
	MaxUploadBytes    int64 `json:"max_upload_bytes"`
	UploadQuotaBytes  int64 `json:"upload_quota_bytes"`
	EditWindowSeconds int64 `json:"edit_window_seconds"`
}

// TestConfigTellsTheLimitsEnforced: anyone, logged in or not, can ask the
// server's limits, and they are the ones it enforces: text, a caption and
// a file exactly at the limit are taken and one past it is refused, saying
// the same limit; an edit at the end of the window is taken and one a
// second later refused.
func TestConfigTellsTheLimitsEnforced(t *testing.T) {
	t.Parallel()
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		h := newHarness(t, db, options{maxText: 100, maxUpload: 1000})
		var cfg configJSON
		h.do(t, "GET", "/api/v1/config", "", nil).want(t, "config without a token", http.StatusOK, &cfg)
		want := configJSON{MaxTextChars: 100, MaxCaptionChars: 100, MaxUploadBytes: 1000, UploadQuotaBytes: 20 << 30, EditWindowSeconds: 48 * 3600}
		if cfg != want {
			t.Fatalf("config = %+v, want %+v", cfg, want)
		}

		ana := h.person(t, "anabel")
		var g chatJSON
		h.do(t, "POST", "/api/v1/chats/groups", ana.token, map[string]any{"title": "Notes"}).want(t, "create group", http.StatusCreated, &g)
		msgs := fmt.Sprintf("/api/v1/chats/%d/messages", g.ID)
		text := strings.Repeat("я", cfg.MaxTextChars)
		var sent struct {
			Seq int64 `json:"seq"`
		}
		h.do(t, "POST", msgs, ana.token, map[string]any{"text": text, "idempotency_key": "at"}).want(t, "text at the limit", http.StatusCreated, &sent)
		p := h.do(t, "POST", msgs, ana.token, map[string]any{"text": text + "я", "idempotency_key": "over"}).
			wantProblem(t, "text one past the limit", problemWant{status: 400, code: "invalid", reason: "too_long", field: "text"})
		if p.Limit != int64(cfg.MaxTextChars) {
			t.Errorf("too long text: the problem says the limit is %d, config %d", p.Limit, cfg.MaxTextChars)
		}

		var file mediaBody
		h.upload(t, ana.token, "?name=at.bin", "application/octet-stream", bytes.Repeat([]byte{1}, int(cfg.MaxUploadBytes))).
			want(t, "file at the limit", http.StatusCreated, &file)
		caption := strings.Repeat("c", cfg.MaxCaptionChars)
		h.do(t, "POST", msgs, ana.token, map[string]any{"text": caption + "c", "media_id": file.ID, "idempotency_key": "cap-over"}).
			wantProblem(t, "caption one past the limit", problemWant{status: 400, code: "invalid", reason: "too_long", field: "text"})
		h.do(t, "POST", msgs, ana.token, map[string]any{"text": caption, "media_id": file.ID, "idempotency_key": "cap"}).
			want(t, "caption at the limit", http.StatusCreated, nil)
		p = h.upload(t, ana.token, "?name=over.bin", "application/octet-stream", bytes.Repeat([]byte{2}, int(cfg.MaxUploadBytes)+1)).
			wantProblem(t, "file one byte past the limit", problemWant{status: http.StatusBadRequest, code: "invalid", reason: "too_large", field: "size"})
		if p.Limit != cfg.MaxUploadBytes {
			t.Errorf("too large file: the problem says the limit is %d, config %d", p.Limit, cfg.MaxUploadBytes)
		}

		edit := fmt.Sprintf("%s/%d", msgs, sent.Seq)
		h.clock.Advance(time.Duration(cfg.EditWindowSeconds) * time.Second)
		h.do(t, "PATCH", edit, ana.token, map[string]any{"text": "edited in time"}).want(t, "edit at the end of the window", http.StatusOK, nil)
		h.clock.Advance(time.Second)
		h.do(t, "PATCH", edit, ana.token, map[string]any{"text": "edited too late"}).
			wantProblem(t, "edit a second after the window", problemWant{status: http.StatusForbidden, code: "forbidden"})
	}, schema...)
}

// TestConfigDefaults: a server started with no limits set tells the
// defaults it enforces.
func TestConfigDefaults(t *testing.T) {
	t.Parallel()
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		h := newHarness(t, db, options{})
		var cfg configJSON
		h.do(t, "GET", "/api/v1/config", "", nil).want(t, "config", http.StatusOK, &cfg)
		want := configJSON{MaxTextChars: 4096, MaxCaptionChars: 4096, MaxUploadBytes: 2 << 30, UploadQuotaBytes: 20 << 30, EditWindowSeconds: 48 * 3600}
		if cfg != want {
			t.Errorf("config = %+v, want %+v", cfg, want)
		}
	}, schema...)
}
