package web_test

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"io/fs"
	"maps"
	"mime"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"kurir/web"
)

// get makes a request and returns the response with its body read.
func get(t *testing.T, method, url string, header http.Header) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	// A transport of its own, which does not ask for gzip behind the test's back.
	client := &http.Client{Transport: &http.Transport{DisableCompression: true}}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, body
}

var assetRef = regexp.MustCompile(`(?:href|src)="(/assets/[^"]+)"`)

// TestHandler checks what the web app serves, mounted on the API server as
// kurir serve mounts it: the page for every app route, the assets with the
// right types and caching, and the API's own answers left alone.
func TestHandler(t *testing.T) {
	t.Parallel()
	s := newServer(t, serverOptions{})

	resp, index := get(t, "GET", s.URL+"/", nil)
	if resp.StatusCode != 200 {
		t.Fatalf("GET /: %d", resp.StatusCode)
	}
	checks := map[string]string{
		"Content-Type":            "text/html; charset=utf-8",
		"Content-Security-Policy": web.ContentSecurityPolicy,
		"Cache-Control":           "no-cache",
		"X-Content-Type-Options":  "nosniff",
	}
	for k, want := range checks {
		if got := resp.Header.Get(k); got != want {
			t.Errorf("GET /: %s %q, want %q", k, got, want)
		}
	}
	if bytes.Contains(index, []byte("{{")) {
		t.Errorf("GET /: the page still has a placeholder:\n%s", index)
	}
	etag := resp.Header.Get("ETag")
	if resp, _ := get(t, "GET", s.URL+"/", http.Header{"If-None-Match": {etag}}); resp.StatusCode != http.StatusNotModified {
		t.Errorf("GET / with If-None-Match %s: %d, want 304", etag, resp.StatusCode)
	}

	for _, path := range []string{"/login", "/signup", "/settings", "/settings/decisions", "/chats/42", "/chats/42/", "/join/AbC-123",
		"/notices", "/notices/status", "/legal", "/legal/signup", "/legal/new", "/legal/requests/7", "/console/legal", "/console/legal/7",
		"/console/agencies"} {
		resp, body := get(t, "GET", s.URL+path, nil)
		if resp.StatusCode != 200 || !bytes.Equal(body, index) {
			t.Errorf("GET %s: %d, want 200 and the app's page", path, resp.StatusCode)
		}
	}
	for _, path := range []string{"/nope", "/chats/", "/chats/1/2", "/assets/0000/app.js", "/favicon.ico", "/notices/1", "/settings/other",
		"/legal/requests/7/documents", "/console/legal/7/x"} {
		resp, _ := get(t, "GET", s.URL+path, nil)
		if ct, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); resp.StatusCode != 404 || ct != "text/html" {
			t.Errorf("GET %s: %d %s, want a 404 page", path, resp.StatusCode, ct)
		}
	}
	if resp, body := get(t, "HEAD", s.URL+"/chats/1", nil); resp.StatusCode != 200 || len(body) != 0 {
		t.Errorf("HEAD /chats/1: %d with %d bytes, want 200 and no body", resp.StatusCode, len(body))
	}
	for _, m := range []string{"POST", "PUT", "DELETE"} {
		resp, _ := get(t, m, s.URL+"/", nil)
		if resp.StatusCode != 405 || resp.Header.Get("Allow") != "GET, HEAD" {
			t.Errorf("%s /: %d, Allow %q; want 405 allowing GET, HEAD", m, resp.StatusCode, resp.Header.Get("Allow"))
		}
	}

	// Every file the page names is served with its type, cached for good,
	// compressed for a client that takes gzip, and revalidated by ETag.
	refs := assetRef.FindAllSubmatch(index, -1)
	if len(refs) < 3 {
		t.Fatalf("the page names %d assets:\n%s", len(refs), index)
	}
	types := map[string]string{".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8", ".svg": "image/svg+xml"}
	for _, m := range refs {
		path := string(m[1])
		resp, body := get(t, "GET", s.URL+path, nil)
		if resp.StatusCode != 200 {
			t.Errorf("GET %s: %d", path, resp.StatusCode)
			continue
		}
		if got, want := resp.Header.Get("Content-Type"), types[filepath.Ext(path)]; got != want {
			t.Errorf("GET %s: Content-Type %q, want %q", path, got, want)
		}
		if got := resp.Header.Get("Cache-Control"); got != "public, max-age=31536000, immutable" {
			t.Errorf("GET %s: Cache-Control %q, want a year, immutable", path, got)
		}
		zresp, zbody := get(t, "GET", s.URL+path, http.Header{"Accept-Encoding": {"gzip, deflate"}})
		if zresp.Header.Get("Content-Encoding") == "gzip" {
			zr, err := gzip.NewReader(bytes.NewReader(zbody))
			if err != nil {
				t.Fatalf("GET %s gzipped: %v", path, err)
			}
			plain, err := io.ReadAll(zr)
			if err != nil || !bytes.Equal(plain, body) {
				t.Errorf("GET %s gzipped: does not unpack to the file (%v)", path, err)
			}
		} else if len(body) > 4096 {
			t.Errorf("GET %s (%d bytes) with Accept-Encoding gzip: not compressed", path, len(body))
		}
		if resp, _ := get(t, "GET", s.URL+path, http.Header{"If-None-Match": {resp.Header.Get("ETag")}}); resp.StatusCode != 304 {
			t.Errorf("GET %s with its ETag: %d, want 304", path, resp.StatusCode)
		}
	}

	// The API keeps answering as before the web app was mounted.
	api := []struct {
		method, path string
		status       int
		problem      bool
	}{
		{"GET", "/api/v1/nope", 404, true},
		{"POST", "/api/v1/nope", 404, true},
		{"GET", "/api/", 404, true},
		{"POST", "/api/v1/me", 405, true},
		{"GET", "/api/v1/me", 401, true},
		{"GET", "/healthz", 200, false},
		{"GET", "/readyz", 200, false},
		{"GET", "/metrics", 200, false},
		{"GET", "/api/v1/openapi.json", 200, false},
	}
	for _, c := range api {
		resp, body := get(t, c.method, s.URL+c.path, nil)
		ct, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
		if resp.StatusCode != c.status || (c.problem && ct != "application/problem+json") {
			t.Errorf("%s %s: %d %s, want %d (problem: %v)\n%s", c.method, c.path, resp.StatusCode, ct, c.status, c.problem, body)
		}
	}
}

// TestEmbeddedSize keeps the app small: everything it is made of, well under 2 MB.
func TestEmbeddedSize(t *testing.T) {
	n, err := web.Size()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("embedded web app: %d bytes", n)
	if n <= 0 || n >= 2_000_000 {
		t.Errorf("the embedded web app is %d bytes, want under 2 MB", n)
	}
}

// staticFiles reads every file of the app from the source tree.
func staticFiles(t *testing.T) map[string]string {
	t.Helper()
	files := map[string]string{}
	err := fs.WalkDir(os.DirFS("static"), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(filepath.Join("static", p))
		files[p] = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

var (
	keyCall     = regexp.MustCompile(`\bt\(\s*(?:'([^']*)'|"([^"]*)")`)
	anyCall     = regexp.MustCompile(`(?:^|[^\w.$])t\(`)
	markupKey   = regexp.MustCompile(`data-i18n(?:-label)?="([^"]+)"`)
	placeholder = regexp.MustCompile(`\{(\w+)\}`)
)

// TestCatalogs checks the message catalogs: every language has every key of
// en.json with the same placeholders, every key the code or the page uses
// is in en.json (keys are always literals), and en.json has no key nobody uses.
func TestCatalogs(t *testing.T) {
	files := staticFiles(t)
	load := func(name string) map[string]string {
		var m map[string]string
		if err := json.Unmarshal([]byte(files["i18n/"+name+".json"]), &m); err != nil {
			t.Fatalf("i18n/%s.json: %v", name, err)
		}
		return m
	}
	en := load("en")
	for _, lang := range []string{"id", "ru", "ar"} {
		cat := load(lang)
		for k, v := range en {
			tr, ok := cat[k]
			if !ok {
				t.Errorf("i18n/%s.json misses %q (en: %q)", lang, k, v)
				continue
			}
			if strings.TrimSpace(tr) == "" {
				t.Errorf("i18n/%s.json: %q is empty", lang, k)
			}
			want := placeholder.FindAllString(v, -1)
			got := placeholder.FindAllString(tr, -1)
			slices.Sort(want)
			slices.Sort(got)
			if !slices.Equal(got, want) {
				t.Errorf("i18n/%s.json: %q has placeholders %v, want %v", lang, k, got, want)
			}
		}
		for k := range cat {
			if _, ok := en[k]; !ok {
				t.Errorf("i18n/%s.json has %q, which en.json does not", lang, k)
			}
		}
	}
	for name := range files {
		if strings.HasPrefix(name, "i18n/") && !slices.Contains([]string{"i18n/en.json", "i18n/id.json", "i18n/ru.json", "i18n/ar.json"}, name) {
			t.Errorf("%s: a catalog the tests do not check", name)
		}
	}

	used := map[string]bool{}
	for name, src := range files {
		switch filepath.Ext(name) {
		case ".js":
			for i, line := range strings.Split(src, "\n") {
				for _, m := range keyCall.FindAllStringSubmatch(line, -1) {
					used[m[1]+m[2]] = true
				}
				trimmed := strings.TrimSpace(line)
				if strings.HasPrefix(trimmed, "//") || strings.HasPrefix(trimmed, "export function t(") || strings.HasSuffix(line, "// i18n: markup key") {
					continue
				}
				if n, lit := len(anyCall.FindAllString(line, -1)), len(keyCall.FindAllString(line, -1)); n != lit {
					t.Errorf("%s:%d: t() with a key that is not a string literal, which the catalogs cannot be checked for: %s", name, i+1, trimmed)
				}
			}
		case ".html":
			for _, m := range markupKey.FindAllStringSubmatch(src, -1) {
				used[m[1]] = true
			}
		}
	}
	if len(used) < 50 {
		t.Fatalf("found only %d keys in use: is the scan broken?", len(used))
	}
	for k := range used {
		if _, ok := en[k]; !ok {
			t.Errorf("key %q is used but missing from i18n/en.json", k)
		}
	}
	for k := range en {
		if !used[k] {
			t.Errorf("i18n/en.json has %q, which nothing uses", k)
		}
	}
}

// TestSelfContained checks that the app loads nothing from anywhere else and
// runs under the strict Content-Security-Policy: no URLs of other sites, no
// inline scripts, styles or event handlers in the markup, and every module
// preloaded by the page so that it loads in one round trip.
func TestSelfContained(t *testing.T) {
	files := staticFiles(t)
	url := regexp.MustCompile(`(?i)\b(?:https?:)?//[a-z0-9.-]+\.[a-z]{2,}`)
	for name, src := range files {
		for _, m := range url.FindAllString(src, -1) {
			if m != "http://www.w3.org" { // the SVG namespace, not a download
				t.Errorf("%s refers to another site: %s", name, m)
			}
		}
		if filepath.Ext(name) != ".html" {
			continue
		}
		for _, tag := range regexp.MustCompile(`<script[^>]*>[^<]*`).FindAllString(src, -1) {
			if !strings.Contains(tag, " src=") || !strings.HasSuffix(tag, ">") {
				t.Errorf("%s has an inline script, which the Content-Security-Policy refuses: %s", name, tag)
			}
		}
		for _, bad := range []*regexp.Regexp{regexp.MustCompile(`<style`), regexp.MustCompile(`\sstyle=`), regexp.MustCompile(`\son[a-z]+=`)} {
			if m := bad.FindString(src); m != "" {
				t.Errorf("%s has inline style or code, which the Content-Security-Policy refuses: %s", name, m)
			}
		}
	}
	// The first screen needs app.js and every module it imports, directly
	// or not: index.html preloads them all, so that the browser fetches
	// them at once rather than one level of imports after another. A
	// module reached only through import() (the moderation console, the
	// law-enforcement portal) is fetched when its route is opened, and
	// preloading it would make every visitor pay for it.
	index := files["index.html"]
	first := imported(t, files, "app.js")
	var later []string // the modules import() loads, and what they import
	for name, src := range files {
		if filepath.Ext(name) != ".js" {
			continue
		}
		for _, m := range dynamicImport.FindAllStringSubmatch(src, -1) {
			later = append(later, slices.Collect(maps.Keys(imported(t, files, m[1])))...)
		}
	}
	for name := range files {
		if filepath.Ext(name) != ".js" || name == "app.js" {
			continue
		}
		preloaded := strings.Contains(index, `rel="modulepreload" href="{{assets}}/`+name+`"`)
		switch {
		case first[name] && !preloaded:
			t.Errorf("index.html does not preload %s, which the first screen imports", name)
		case !first[name] && preloaded:
			t.Errorf("index.html preloads %s, which the first screen does not import", name)
		case !first[name] && !slices.Contains(later, name):
			t.Errorf("%s is imported by no module", name)
		}
	}
	for _, name := range []string{"console.js", "legal.js", "secret-device.js"} {
		if first[name] {
			t.Errorf("the first screen imports %s, which only its own route needs", name)
		}
	}
}

// imported is the module root and every module it imports, directly or
// not, with static imports.
func imported(t *testing.T, files map[string]string, root string) map[string]bool {
	t.Helper()
	seen := map[string]bool{}
	var walk func(string)
	walk = func(name string) {
		if seen[name] {
			return
		}
		if _, ok := files[name]; !ok {
			t.Errorf("a module imports %s, which does not exist", name)
			return
		}
		seen[name] = true
		for _, m := range staticImport.FindAllStringSubmatch(files[name], -1) {
			walk(m[1])
		}
	}
	walk(root)
	return seen
}

// staticImport and dynamicImport find a module's imports of the app's
// other modules: import/export ... from './x.js', and import('./x.js').
var (
	staticImport  = regexp.MustCompile(`(?m)^(?:import|export)\s[^;]*?from\s+'\./([\w.-]+\.js)'`)
	dynamicImport = regexp.MustCompile(`\bimport\(\s*'\./([\w.-]+\.js)'\s*\)`)
)

// TestGzipNegotiation checks that gzip is sent only to clients that take it.
func TestGzipNegotiation(t *testing.T) {
	t.Parallel()
	h := web.Handler()
	resp, index := get(t, "GET", serve(t, h)+"/", nil)
	if resp.StatusCode != 200 {
		t.Fatal(resp.Status)
	}
	var css string
	for _, m := range assetRef.FindAllSubmatch(index, -1) {
		if strings.HasSuffix(string(m[1]), "/style.css") {
			css = string(m[1])
		}
	}
	for _, c := range []struct {
		accept string
		gzip   bool
	}{
		{"", false},
		{"gzip", true},
		{"br, gzip;q=0.5", true},
		{"GZIP", true},
		{"gzip;q=0", false},
		{"gzip; q=0.0", false},
		{"deflate, br", false},
	} {
		req := httptest.NewRequest("GET", css, nil)
		if c.accept != "" {
			req.Header.Set("Accept-Encoding", c.accept)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if got := w.Header().Get("Content-Encoding") == "gzip"; got != c.gzip {
			t.Errorf("Accept-Encoding %q: gzipped %v, want %v", c.accept, got, c.gzip)
		}
	}
}

// serve serves h on loopback until the test ends and returns its URL.
func serve(t *testing.T, h http.Handler) string {
	ts := httptest.NewServer(h)
	t.Cleanup(ts.Close)
	return ts.URL
}
