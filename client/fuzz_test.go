package client_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"kurir/client"
)

// FuzzErrorResponse feeds the client error responses of any status, media
// type, Retry-After and body: each must become an *client.Error with the
// status, a code, a detail of valid text and a sane RetryAfter, and nothing
// may panic.
func FuzzErrorResponse(f *testing.F) {
	f.Add(404, "application/problem+json", "", []byte(`{"type":"urn:kurir:problem:not_found","title":"Not found","status":404,"detail":"No chat 7.","code":"not_found","request_id":"abc"}`))
	f.Add(429, "application/problem+json", "30", []byte(`{"code":"rate_limited","retry_after":30}`))
	f.Add(429, "application/problem+json", "", []byte(`{"code":"rate_limited","retry_after":-5}`))
	f.Add(503, "text/html; charset=utf-8", "Wed, 21 Oct 2015 07:28:00 GMT", []byte("<h1>down</h1>"))
	f.Add(500, "application/json", "99999999999999999999", []byte(`{"detail":"\xff\xfe"}`))
	f.Add(400, "", "", []byte("\xff\xfe\x00 binary"))
	f.Add(418, "application/problem+json", "", []byte(`{"code":`))

	var mu sync.Mutex
	var status int
	var contentType, retryAfter string
	var body []byte
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		if contentType != "" {
			w.Header().Set("Content-Type", contentType)
		}
		if retryAfter != "" {
			w.Header().Set("Retry-After", retryAfter)
		}
		w.WriteHeader(status)
		w.Write(body)
	}))
	defer ts.Close()
	c := client.New(ts.URL)
	defer c.CloseIdleConnections()

	printable := func(s string) bool {
		return !strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f || r >= utf8.RuneSelf })
	}
	f.Fuzz(func(t *testing.T, st int, ct, ra string, b []byte) {
		if st < 400 || st > 599 || !printable(ct) || !printable(ra) {
			t.Skip()
		}
		mu.Lock()
		status, contentType, retryAfter, body = st, ct, ra, b
		mu.Unlock()

		_, err := c.Me(t.Context())
		e, ok := err.(*client.Error)
		if !ok {
			t.Fatalf("got %v (%T), want a *client.Error", err, err)
		}
		if e.Status != st || e.Code == "" || e.Detail == "" || !utf8.ValidString(e.Detail) || len(e.Detail) > 64<<10 {
			t.Errorf("got %+v for a %d response", e, st)
		}
		if e.RetryAfter < 0 || e.RetryAfter > 24*time.Hour {
			t.Errorf("RetryAfter %v from Retry-After %q and body %q", e.RetryAfter, ra, b)
		}
		if msg := e.Error(); !utf8.ValidString(msg) {
			t.Errorf("Error() is not valid text: %q", msg)
		}
	})
}
