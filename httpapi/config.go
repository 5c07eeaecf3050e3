package httpapi

import (
	"net/http"

	"kurir/media"
	"kurir/messaging"
)

// clientConfig is what a client needs to know of this server's settings to
// refuse, before sending anything, what the server would refuse anyway.
type clientConfig struct {
	MaxTextChars      int   `json:"max_text_chars" jsonschema:"description=The longest text a message may have\\, in characters (Unicode code points); longer is refused with too_long."`
	MaxCaptionChars   int   `json:"max_caption_chars" jsonschema:"description=The longest caption a file sent in a message may have\\, in characters; longer is refused with too_long."`
	MaxUploadBytes    int64 `json:"max_upload_bytes" jsonschema:"description=The largest file one may upload\\, in bytes; a larger one is refused with too_large."`
	UploadQuotaBytes  int64 `json:"upload_quota_bytes" jsonschema:"description=The most bytes of files one account may keep; an upload past it is refused with quota_exceeded."`
	EditWindowSeconds int64 `json:"edit_window_seconds" jsonschema:"description=How long after sending a message its author may edit it\\, in seconds."`
}

// handleConfig answers GET /api/v1/config from the services' own settings,
// so that what a client is told is what the server enforces. It needs no
// token: a client may ask before anyone logs in.
func handleConfig(msg *messaging.Service, files *media.Service) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// A caption is the text of a message that carries a file, and
		// has the same limit; the field lets clients not assume so.
		encode(w, http.StatusOK, clientConfig{
			MaxTextChars:      msg.MaxText(),
			MaxCaptionChars:   msg.MaxText(),
			MaxUploadBytes:    files.MaxSize(),
			UploadQuotaBytes:  files.Quota(),
			EditWindowSeconds: int64(msg.EditWindow().Seconds()),
		})
	})
}
