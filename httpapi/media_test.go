package httpapi_test

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"image"
	"image/png"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"kurir/sqldb"
	"kurir/sqldb/sqldbtest"
)

type mediaBody struct {
	ID     int64  `json:"id"`
	Kind   string `json:"kind"`
	Name   string `json:"name"`
	SHA256 string `json:"sha256"`
}

func (h *harness) upload(t *testing.T, token, query, contentType string, body []byte) response {
	t.Helper()
	return h.send(t, call{method: "POST", path: "/api/v1/media" + query, token: token, body: body, contentType: contentType})
}

func smallPNG(t *testing.T) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, image.NewGray(image.Rect(0, 0, 40, 30))); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// pngClaiming is a tiny PNG whose header claims w x h pixels.
func pngClaiming(w, h uint32) []byte {
	var out bytes.Buffer
	out.WriteString("\x89PNG\r\n\x1a\n")
	chunk := func(kind string, data []byte) {
		binary.Write(&out, binary.BigEndian, uint32(len(data)))
		out.WriteString(kind)
		out.Write(data)
		binary.Write(&out, binary.BigEndian, crc32.ChecksumIEEE(append([]byte(kind), data...)))
	}
	chunk("IHDR", append(binary.BigEndian.AppendUint32(binary.BigEndian.AppendUint32(nil, w), h), 8, 0, 0, 0, 0))
	chunk("IEND", nil)
	return out.Bytes()
}

// TestMediaBadInput: what broken or hostile uploaders send gets a clear
// problem and stores nothing.
func TestMediaBadInput(t *testing.T) {
	t.Parallel()
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		h := newHarness(t, db, options{})
		h.register(t, "uploader")
		tok := h.login(t, "uploader", password, "laptop").Token
		for _, tt := range []struct {
			name, query, contentType string
			body                     []byte
			want                     problemWant
		}{
			{"zero bytes", "", "application/octet-stream", []byte{}, problemWant{400, "invalid", "empty_file", "body"}},
			{"text claiming to be a JPEG", "?name=cat.jpg", "image/jpeg", []byte("GIF? no, plain text"), problemWant{400, "invalid", "not_an_image", "body"}},
			{"text sent as a photo", "?kind=photo", "", []byte("plain text"), problemWant{400, "invalid", "not_an_image", "body"}},
			{"PNG bomb, 50,000 x 50,000", "?name=bomb.png", "image/png", pngClaiming(50_000, 50_000), problemWant{400, "invalid", "image_too_large", ""}},
			{"unknown kind", "?kind=sticker", "", []byte("x"), problemWant{400, "invalid", "invalid_kind", "kind"}},
		} {
			t.Run(tt.name, func(t *testing.T) {
				ct := tt.contentType
				if ct == "" {
					ct = "application/octet-stream"
				}
				r := h.send(t, call{method: "POST", path: "/api/v1/media" + tt.query, token: tok, body: tt.body, contentType: ct, mode: checkResponse})
				r.wantProblem(t, tt.name, tt.want)
			})
		}

		// A body cut short: the client announces 100,000 bytes, sends 1,000
		// and stops.
		conn, err := net.Dial("tcp", strings.TrimPrefix(h.url, "http://"))
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(conn, "POST /api/v1/media?name=cut.bin HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Type: application/octet-stream\r\nContent-Length: 100000\r\n\r\n", tok)
		conn.Write(bytes.Repeat([]byte("a"), 1000))
		conn.(*net.TCPConn).CloseWrite()
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		conn.Close()
		if resp.StatusCode != 400 || !strings.Contains(string(body), "incomplete_upload") {
			t.Errorf("truncated upload: %d %s; want 400 incomplete_upload", resp.StatusCode, body)
		}

		var n int
		if err := db.Read().QueryRowContext(t.Context(), `SELECT COUNT(*) FROM media`).Scan(&n); err != nil || n != 0 {
			t.Errorf("%d media objects stored by refused uploads (%v), want 0", n, err)
		}

		// Path tricks in a name leave its last element.
		var m mediaBody
		h.upload(t, tok, "?name="+url.QueryEscape(`..\..\windows\system32\evil.exe`), "application/octet-stream", []byte("MZ not really")).
			want(t, "upload with a path in its name", 201, &m)
		if m.Name != "evil.exe" || m.Kind != "file" {
			t.Errorf("stored name %q kind %q; want evil.exe, file", m.Name, m.Kind)
		}

		// Resumable uploads check their offsets.
		var up struct {
			ID       string `json:"id"`
			Received int64  `json:"received"`
		}
		h.do(t, "POST", "/api/v1/uploads", tok, map[string]any{"name": "big.bin", "size": 10}).want(t, "start upload", 201, &up)
		h.send(t, call{method: "PATCH", path: "/api/v1/uploads/" + up.ID, token: tok, body: []byte("12345"),
			contentType: "application/offset+octet-stream", mode: checkResponse}).
			wantProblem(t, "part without an offset", problemWant{400, "invalid", "invalid_offset", "Upload-Offset"})
		h.send(t, call{method: "PATCH", path: "/api/v1/uploads/" + up.ID, token: tok, body: []byte("12345"),
			contentType: "application/offset+octet-stream", header: http.Header{"Upload-Offset": {"3"}}, mode: checkResponse}).
			wantProblem(t, "part at the wrong offset", problemWant{409, "conflict", "offset_mismatch", "offset"})
		h.do(t, "POST", "/api/v1/uploads", tok, map[string]any{"name": "none.bin", "size": 0}).
			wantProblem(t, "resumable upload of nothing", problemWant{400, "invalid", "size_required", "size"})
	}, schema...)
}

// TestMediaDownloadHeaders: files are served so that they can never run as
// a page of the site, and revalidated so that a takedown takes effect.
func TestMediaDownloadHeaders(t *testing.T) {
	t.Parallel()
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		h := newHarness(t, db, options{})
		h.register(t, "sharer")
		tok := h.login(t, "sharer", password, "phone").Token
		var page, pic mediaBody
		h.upload(t, tok, "?name=page.html", "text/html", []byte("<html><script>alert(1)</script></html>")).want(t, "upload html", 201, &page)
		h.upload(t, tok, "?name=p.png", "image/png", smallPNG(t)).want(t, "upload png", 201, &pic)

		r := h.do(t, "GET", "/api/v1/media/"+itoa(page.ID)+"/content", tok, nil)
		r.want(t, "download html", 200, nil)
		if ct, cd := r.header.Get("Content-Type"), r.header.Get("Content-Disposition"); ct != "application/octet-stream" || !strings.HasPrefix(cd, "attachment") {
			t.Errorf("HTML file served as %q, %q; want application/octet-stream as an attachment", ct, cd)
		}
		if csp := r.header.Get("Content-Security-Policy"); !strings.Contains(csp, "sandbox") || r.header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("CSP %q, nosniff %q: want a sandbox and nosniff", csp, r.header.Get("X-Content-Type-Options"))
		}
		r = h.do(t, "GET", "/api/v1/media/"+itoa(pic.ID)+"/content", tok, nil)
		r.want(t, "download png", 200, nil)
		etag := r.header.Get("ETag")
		if r.header.Get("Content-Type") != "image/png" || etag != `"`+pic.SHA256+`"` || !strings.Contains(r.header.Get("Cache-Control"), "no-cache") {
			t.Errorf("photo served as %q with ETag %q, Cache-Control %q", r.header.Get("Content-Type"), etag, r.header.Get("Cache-Control"))
		}
		h.send(t, call{method: "GET", path: "/api/v1/media/" + itoa(pic.ID) + "/content", token: tok, header: http.Header{"If-None-Match": {etag}}}).
			want(t, "revalidate", 304, nil)
		r = h.send(t, call{method: "GET", path: "/api/v1/media/" + itoa(pic.ID) + "/content", token: tok, header: http.Header{"Range": {"bytes=0-7"}}})
		r.want(t, "range", 206, nil)
		if string(r.body) != "\x89PNG\r\n\x1a\n" {
			t.Errorf("bytes 0-7 = %q, want the PNG signature", r.body)
		}
	}, schema...)
}
