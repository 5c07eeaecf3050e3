package httpapi

import (
	"io"
	"mime"
	"net/http"
	"strconv"
	"time"

	"kurir"
	"kurir/jurisdiction"
	"kurir/media"
	"kurir/messaging"
	"kurir/openapi"
)

type mediaView struct {
	ID          int64     `json:"id"`
	Kind        string    `json:"kind" jsonschema:"enum=photo,enum=video,enum=audio,enum=file"`
	ContentType string    `json:"content_type" jsonschema:"description=Sniffed from the bytes\\, not taken from the upload."`
	Name        string    `json:"name"`
	Size        int64     `json:"size"`
	Width       int       `json:"width,omitempty"`
	Height      int       `json:"height,omitempty"`
	Thumbnail   bool      `json:"thumbnail,omitempty" jsonschema:"description=A JPEG thumbnail is at .../thumbnail."`
	SHA256      string    `json:"sha256" jsonschema:"description=Of the content served (for an image\\, after its metadata was stripped)."`
	Status      string    `json:"status" jsonschema:"enum=ready,enum=held,description=held: waiting for review\\, cannot be sent yet."`
	CreatedAt   time.Time `json:"created_at"`
}

func newMediaView(m media.Media) mediaView {
	return mediaView{ID: int64(m.ID), Kind: string(m.Kind), ContentType: m.ContentType, Name: m.Name, Size: m.Size,
		Width: m.Width, Height: m.Height, Thumbnail: m.Thumbnail, SHA256: m.SHA256.String(), Status: string(m.Status), CreatedAt: m.CreatedAt}
}

type attachmentView struct {
	MediaID     int64  `json:"media_id" jsonschema:"description=Fetch it from /api/v1/media/{id}/content."`
	Kind        string `json:"kind"`
	ContentType string `json:"content_type"`
	Name        string `json:"name"`
	Size        int64  `json:"size"`
	Width       int    `json:"width,omitempty"`
	Height      int    `json:"height,omitempty"`
	Thumbnail   bool   `json:"thumbnail,omitempty"`
}

func newAttachmentView(a *messaging.Attachment) *attachmentView {
	if a == nil {
		return nil
	}
	v := attachmentView(*a)
	return &v
}

// attachment describes m for a message.
func attachment(m media.Media) *messaging.Attachment {
	return &messaging.Attachment{MediaID: int64(m.ID), Kind: string(m.Kind), ContentType: m.ContentType, Name: m.Name,
		Size: m.Size, Width: m.Width, Height: m.Height, Thumbnail: m.Thumbnail}
}

type uploadView struct {
	ID        string     `json:"id"`
	Name      string     `json:"name"`
	Size      int64      `json:"size"`
	Received  int64      `json:"received" jsonschema:"description=Bytes stored so far: send the next part from here."`
	ExpiresAt time.Time  `json:"expires_at"`
	Media     *mediaView `json:"media,omitempty" jsonschema:"description=The stored file\\, once the last byte has arrived."`
}

func newUploadView(u media.Upload) uploadView {
	v := uploadView{ID: u.ID, Name: u.Name, Size: u.Size, Received: u.Received, ExpiresAt: u.ExpiresAt}
	if u.Media != nil {
		mv := newMediaView(*u.Media)
		v.Media = &mv
	}
	return v
}

type startUploadRequest struct {
	Name        string `json:"name,omitempty"`
	Size        int64  `json:"size" jsonschema:"description=The file's length in bytes."`
	ContentType string `json:"content_type,omitempty" jsonschema:"description=What the file claims to be; checked against its bytes."`
	Kind        string `json:"kind,omitempty" jsonschema:"enum=photo,enum=file,description=Send as a photo (an image is required) or as a file; default by content."`
}

const uploadOffsetHeader = "Upload-Offset"

var mediaIDParam = openapi.Param{Name: "id", In: "path", Description: "The media object's ID.", Schema: int64(0)}

func addMediaRoutes(rt *router, svc *media.Service, limit int64) {
	tags := []string{"media"}
	uploadParam := openapi.Param{Name: "id", In: "path", Description: "The upload's ID.", Schema: ""}
	rt.handle(openapi.Operation{Method: "POST", Path: "/api/v1/media", ID: "uploadMedia", Tags: tags, Auth: true,
		Summary: "Upload a photo, video or file in one request",
		Description: "The body is the file's bytes; Content-Length should be set. Its type is sniffed from the bytes: " +
			"a Content-Type or kind=photo claiming an image that the bytes do not bear out is refused. Images are checked " +
			"for size before decoding, get a thumbnail, and lose metadata that can carry a location (EXIF, XMP, IPTC). " +
			"For large files or unreliable networks use a resumable upload (POST /api/v1/uploads).",
		Params: []openapi.Param{
			{Name: "name", In: "query", Description: "The file's name.", Schema: ""},
			{Name: "kind", In: "query", Description: "photo or file; default by content.", Schema: ""},
		},
		RawRequest: "application/octet-stream",
		Responses:  map[int]openapi.Response{201: {Description: "The stored media object.", Body: mediaView{}}},
	}, rt.feature(jurisdiction.Uploads, handleUploadMedia(svc)))
	rt.handle(openapi.Operation{Method: "GET", Path: "/api/v1/media/{id}", ID: "getMedia", Tags: tags, Auth: true,
		Summary:   "A media object's description",
		Params:    []openapi.Param{mediaIDParam},
		Responses: map[int]openapi.Response{200: {Body: mediaView{}}},
	}, handleGetMedia(svc))
	rt.handle(openapi.Operation{Method: "GET", Path: "/api/v1/media/{id}/content", ID: "downloadMedia", Tags: tags, Auth: true,
		Summary: "Download a media object",
		Description: "For its owner and anyone who can read a message it is attached to. Supports Range requests and " +
			"ETag revalidation. Files other than photos, videos and audio are sent as attachments.",
		Params: []openapi.Param{mediaIDParam},
		Responses: map[int]openapi.Response{
			200: {Description: "The content: a photo, video or audio as its type, anything else as application/octet-stream.", ContentType: "*/*"},
			206: {Description: "The requested range.", ContentType: "*/*"},
			304: {Description: "Not modified."},
		},
	}, handleDownloadMedia(svc, false))
	rt.handle(openapi.Operation{Method: "GET", Path: "/api/v1/media/{id}/thumbnail", ID: "downloadThumbnail", Tags: tags, Auth: true,
		Summary: "A photo's thumbnail (JPEG)",
		Params:  []openapi.Param{mediaIDParam},
		Responses: map[int]openapi.Response{
			200: {Description: "The thumbnail.", ContentType: "image/jpeg"},
			304: {Description: "Not modified."},
		},
	}, handleDownloadMedia(svc, true))

	rt.handle(openapi.Operation{Method: "POST", Path: "/api/v1/uploads", ID: "startUpload", Tags: tags, Auth: true,
		Summary: "Start a resumable upload",
		Description: "Then send the file in parts with PATCH /api/v1/uploads/{id}, each starting at the upload's " +
			"received count. An unfinished upload expires after a day.",
		Request:   startUploadRequest{},
		Responses: map[int]openapi.Response{201: {Description: "The upload, at byte 0.", Body: uploadView{}}},
	}, rt.feature(jurisdiction.Uploads, handleStartUpload(svc, limit)))
	rt.handle(openapi.Operation{Method: "GET", Path: "/api/v1/uploads/{id}", ID: "getUpload", Tags: tags, Auth: true,
		Summary:   "Where a resumable upload stands",
		Params:    []openapi.Param{uploadParam},
		Responses: map[int]openapi.Response{200: {Body: uploadView{}}},
	}, handleGetUpload(svc))
	rt.handle(openapi.Operation{Method: "PATCH", Path: "/api/v1/uploads/{id}", ID: "appendUpload", Tags: tags, Auth: true,
		Summary: "Send the next part of a resumable upload",
		Description: "The Upload-Offset header must equal the upload's received count (409 otherwise, with the count). " +
			"Bytes that arrive before a connection breaks are kept. After the last byte the file is stored and the " +
			"answer carries it as media.",
		Params:     []openapi.Param{uploadParam, {Name: uploadOffsetHeader, In: "header", Description: "Where this part starts.", Schema: int64(0)}},
		RawRequest: "application/offset+octet-stream",
		Responses:  map[int]openapi.Response{200: {Body: uploadView{}}},
	}, handleAppendUpload(svc))
	rt.handle(openapi.Operation{Method: "DELETE", Path: "/api/v1/uploads/{id}", ID: "cancelUpload", Tags: tags, Auth: true,
		Summary:   "Abandon a resumable upload",
		Params:    []openapi.Param{uploadParam},
		Responses: map[int]openapi.Response{204: {Description: "Abandoned; what it received is deleted."}},
	}, handleCancelUpload(svc))
}

// idleReader lets a long upload run past the server's ReadTimeout as long
// as bytes keep coming: each read may wait up to idle.
type idleReader struct {
	rc   *http.ResponseController
	r    io.Reader
	idle time.Duration
}

func (i idleReader) Read(p []byte) (int, error) {
	i.rc.SetReadDeadline(time.Now().Add(i.idle))
	return i.r.Read(p)
}

func uploadBody(w http.ResponseWriter, r *http.Request) io.Reader {
	return idleReader{rc: http.NewResponseController(w), r: r.Body, idle: time.Minute}
}

func handleUploadMedia(svc *media.Service) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		me := principal(r.Context()).User.ID
		q := r.URL.Query()
		p := media.UploadParams{Name: q.Get("name"), Kind: media.Kind(q.Get("kind")), Size: r.ContentLength}
		if ct := r.Header.Get("Content-Type"); ct != "" {
			if mt, _, err := mime.ParseMediaType(ct); err == nil {
				p.ContentType = mt
			}
		}
		m, err := svc.Upload(r.Context(), me, p, uploadBody(w, r))
		if err != nil {
			writeError(w, r, err)
			return
		}
		encode(w, http.StatusCreated, newMediaView(m))
	})
}

func handleGetMedia(svc *media.Service) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := pathInt(r, "id", "media ID")
		if err != nil {
			writeError(w, r, err)
			return
		}
		m, err := svc.Get(r.Context(), principal(r.Context()).User.ID, media.ID(id))
		if err != nil {
			writeError(w, r, err)
			return
		}
		encode(w, http.StatusOK, newMediaView(m))
	})
}

func handleDownloadMedia(svc *media.Service, thumb bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := pathInt(r, "id", "media ID")
		if err != nil {
			writeError(w, r, err)
			return
		}
		m, obj, err := svc.Open(r.Context(), principal(r.Context()).User.ID, media.ID(id), thumb)
		if err != nil {
			writeError(w, r, err)
			return
		}
		defer obj.Close()
		serveMedia(w, r, m, obj, thumb)
	})
}

// serveMedia answers with a media object's content (or thumbnail), safely:
// never cached without revalidation, never run as a page of this site.
func serveMedia(w http.ResponseWriter, r *http.Request, m media.Media, obj io.ReadSeeker, thumb bool) {
	h := w.Header()
	etag := `"` + m.SHA256.String() + `"`
	ct := m.ContentType
	if thumb {
		etag, ct = `"`+m.SHA256.String()+`-thumb"`, "image/jpeg"
	}
	h.Set("ETag", etag)
	// Revalidate every time (cheaply, by ETag), so that a takedown
	// takes effect at once even for a file a browser already has.
	h.Set("Cache-Control", "private, no-cache")
	h.Set("Content-Type", ct)
	// User content never runs as a page of this site.
	h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	switch {
	case thumb:
	case m.Kind == media.Photo || m.Kind == media.Video || m.Kind == media.Audio:
		h.Set("Content-Disposition", mime.FormatMediaType("inline", map[string]string{"filename": m.Name}))
	default:
		h.Set("Content-Type", "application/octet-stream")
		h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": m.Name}))
	}
	http.ServeContent(w, r, "", m.CreatedAt, obj)
}

func handleStartUpload(svc *media.Service, limit int64) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req, err := decode[startUploadRequest](r, limit)
		if err != nil {
			writeError(w, r, err)
			return
		}
		u, err := svc.StartUpload(r.Context(), principal(r.Context()).User.ID,
			media.UploadParams{Name: req.Name, Size: req.Size, ContentType: req.ContentType, Kind: media.Kind(req.Kind)})
		if err != nil {
			writeError(w, r, err)
			return
		}
		encode(w, http.StatusCreated, newUploadView(u))
	})
}

func handleGetUpload(svc *media.Service) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, err := svc.UploadStatus(r.Context(), principal(r.Context()).User.ID, r.PathValue("id"))
		if err != nil {
			writeError(w, r, err)
			return
		}
		encode(w, http.StatusOK, newUploadView(u))
	})
}

func handleAppendUpload(svc *media.Service) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		offset, err := strconv.ParseInt(r.Header.Get(uploadOffsetHeader), 10, 64)
		if err != nil || offset < 0 {
			writeError(w, r, kurir.Invalid(uploadOffsetHeader, "invalid_offset",
				"Give the byte this part starts at in the %s header; GET the upload to see where it stands.", uploadOffsetHeader))
			return
		}
		u, err := svc.AppendUpload(r.Context(), principal(r.Context()).User.ID, r.PathValue("id"), offset, uploadBody(w, r))
		if err != nil {
			writeError(w, r, err)
			return
		}
		encode(w, http.StatusOK, newUploadView(u))
	})
}

func handleCancelUpload(svc *media.Service) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := svc.CancelUpload(r.Context(), principal(r.Context()).User.ID, r.PathValue("id")); err != nil {
			writeError(w, r, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
}
