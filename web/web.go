// Package web is kurir's web app: a single-page messenger client written in
// plain JavaScript modules and CSS, embedded in the binary and served by
// Handler. It talks to the server only through the public HTTP and WebSocket
// API under /api/v1, exactly as any other client does, and loads nothing
// from anywhere else.
package web

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"net/http"
	"path"
	"sort"
	"strconv"
	"strings"
)

//go:embed static
var static embed.FS

// ContentSecurityPolicy is sent with every page: scripts, styles and fonts
// come only from this origin and never inline; images may also be the blob:
// URLs the app makes from authenticated media downloads; connections go only
// to this origin's API and its WebSocket.
const ContentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; " +
	"media-src 'self' blob:; connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; " +
	"form-action 'self'; frame-ancestors 'none'"

// AssetPrefix is where the static files are served, followed by the build's
// content hash, so that a file's URL changes whenever any file does and each
// can be cached for a year.
const AssetPrefix = "/assets/"

// asset is one embedded file, ready to serve.
type asset struct {
	body  []byte
	gzip  []byte // nil when compressing does not pay
	ctype string
	etag  string
}

// site is the whole app, read and hashed once.
type site struct {
	version  string // hash of every file, part of each asset URL
	index    asset
	notFound asset
	assets   map[string]asset // by path below static/, e.g. "app.js"
}

// contentTypes are the types of the files the app is made of; a file of any
// other kind is a mistake that Handler refuses to start with.
var contentTypes = map[string]string{
	".html": "text/html; charset=utf-8",
	".js":   "text/javascript; charset=utf-8",
	".css":  "text/css; charset=utf-8",
	".json": "application/json",
	".svg":  "image/svg+xml",
	".txt":  "text/plain; charset=utf-8",
}

// clientRoutes are the app's own paths, answered with index.html so that a
// reload or a shared link opens the right screen. A trailing slash means
// "and one segment below it"; a secret chat is /secret/{user id} and a
// public group or channel's shareable link /c/{@name without the @}. The
// moderation console is /console, its appeals /console/appeals and a case
// /console/cases/{id}; a law-enforcement request is /console/legal/{id}
// there. The law-enforcement portal, for officers without an account, is
// /legal, its steps /legal/{step} and a request /legal/requests/{id}.
var clientRoutes = []string{"/", "/login", "/signup", "/settings", "/settings/decisions", "/chats/", "/join/", "/secret/", "/c/",
	"/notices", "/notices/status",
	"/console", "/console/", "/console/cases/", "/console/legal/",
	"/legal", "/legal/", "/legal/requests/"}

// Handler returns the web app: index.html for "/" and the app's client-side
// routes (no-cache, revalidated by ETag), the static files under
// AssetPrefix+version (cached for a year, immutable), a 404 page for any
// other path and a 405 for methods other than GET and HEAD. Every response
// carries ContentSecurityPolicy. It is safe for concurrent use.
func Handler() http.Handler {
	s, err := load(static)
	if err != nil {
		// The files are compiled in: a broken set fails every test run.
		panic(fmt.Sprintf("web: %v", err))
	}
	return s
}

// Size returns the total size in bytes of the embedded files.
func Size() (int64, error) {
	var n int64
	err := fs.WalkDir(static, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		n += info.Size()
		return nil
	})
	return n, err
}

func load(fsys fs.FS) (*site, error) {
	root, err := fs.Sub(fsys, "static")
	if err != nil {
		return nil, err
	}
	var names []string
	err = fs.WalkDir(root, ".", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			names = append(names, p)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	sum := sha256.New()
	files := make(map[string][]byte, len(names))
	for _, name := range names {
		b, err := fs.ReadFile(root, name)
		if err != nil {
			return nil, err
		}
		files[name] = b
		fmt.Fprintf(sum, "%s\x00%d\x00", name, len(b))
		sum.Write(b)
	}
	s := &site{version: hex.EncodeToString(sum.Sum(nil))[:12], assets: make(map[string]asset, len(names))}
	for _, name := range names {
		ct, ok := contentTypes[path.Ext(name)]
		if !ok {
			return nil, fmt.Errorf("%s: no content type for this kind of file", name)
		}
		s.assets[name] = newAsset(files[name], ct)
	}
	index, ok := files["index.html"]
	if !ok {
		return nil, fmt.Errorf("no index.html")
	}
	s.index = newAsset(bytes.ReplaceAll(index, []byte("{{assets}}"), []byte(AssetPrefix+s.version)), contentTypes[".html"])
	notFound, ok := files["404.html"]
	if !ok {
		return nil, fmt.Errorf("no 404.html")
	}
	s.notFound = newAsset(bytes.ReplaceAll(notFound, []byte("{{assets}}"), []byte(AssetPrefix+s.version)), contentTypes[".html"])
	return s, nil
}

func newAsset(b []byte, ctype string) asset {
	sum := sha256.Sum256(b)
	a := asset{body: b, ctype: ctype, etag: `"` + hex.EncodeToString(sum[:16]) + `"`}
	if len(b) > 1024 {
		var buf bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
		zw.Write(b)
		zw.Close()
		if buf.Len() < len(b)*9/10 {
			a.gzip = buf.Bytes()
		}
	}
	return a
}

// ServeHTTP implements http.Handler.
func (s *site) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", ContentSecurityPolicy)
	h.Set("X-Content-Type-Options", "nosniff")
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		h.Set("Allow", "GET, HEAD")
		http.Error(w, "405 method not allowed", http.StatusMethodNotAllowed)
		return
	}
	p := r.URL.Path
	if rest, ok := strings.CutPrefix(p, AssetPrefix); ok {
		version, name, _ := strings.Cut(rest, "/")
		a, found := s.assets[name]
		if version != s.version || !found || name == "index.html" || name == "404.html" {
			// An asset of another build (a page loaded before an upgrade)
			// or none at all.
			h.Set("Cache-Control", "no-store")
			s.serve(w, r, s.notFound, http.StatusNotFound)
			return
		}
		h.Set("Cache-Control", "public, max-age=31536000, immutable")
		s.serve(w, r, a, http.StatusOK)
		return
	}
	if !isClientRoute(p) {
		h.Set("Cache-Control", "no-store")
		s.serve(w, r, s.notFound, http.StatusNotFound)
		return
	}
	// The page names the build's assets, so it must be revalidated.
	h.Set("Cache-Control", "no-cache")
	s.serve(w, r, s.index, http.StatusOK)
}

// serve writes a, gzipped if the client takes it, answering a matching
// If-None-Match with 304.
func (s *site) serve(w http.ResponseWriter, r *http.Request, a asset, status int) {
	h := w.Header()
	h.Set("Content-Type", a.ctype)
	h.Set("Vary", "Accept-Encoding")
	if status == http.StatusOK {
		h.Set("ETag", a.etag)
		if etagMatch(r.Header.Get("If-None-Match"), a.etag) {
			w.WriteHeader(http.StatusNotModified)
			return
		}
	}
	body := a.body
	if a.gzip != nil && acceptsGzip(r.Header.Get("Accept-Encoding")) {
		h.Set("Content-Encoding", "gzip")
		body = a.gzip
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		w.Write(body)
	}
}

func isClientRoute(p string) bool {
	for _, route := range clientRoutes {
		if strings.HasSuffix(route, "/") && route != "/" {
			if rest, ok := strings.CutPrefix(p, route); ok && rest != "" && !strings.Contains(strings.TrimSuffix(rest, "/"), "/") {
				return true
			}
			continue
		}
		if p == route {
			return true
		}
	}
	return false
}

func etagMatch(header, etag string) bool {
	for _, v := range strings.Split(header, ",") {
		v = strings.TrimSpace(v)
		if v == etag || v == "*" || v == "W/"+etag {
			return true
		}
	}
	return false
}

// acceptsGzip reports whether an Accept-Encoding header takes gzip (and
// does not refuse it with q=0).
func acceptsGzip(header string) bool {
	for _, v := range strings.Split(header, ",") {
		coding, params, _ := strings.Cut(strings.TrimSpace(v), ";")
		if !strings.EqualFold(strings.TrimSpace(coding), "gzip") {
			continue
		}
		for _, p := range strings.Split(params, ";") {
			if q, ok := strings.CutPrefix(strings.TrimSpace(p), "q="); ok {
				f, err := strconv.ParseFloat(q, 64)
				return err == nil && f > 0
			}
		}
		return true
	}
	return false
}
