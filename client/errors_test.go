package client_test

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"kurir"
	"kurir/account"
	"kurir/client"
	"kurir/ratelimit"
	"kurir/sqldb"
	"kurir/sqldb/sqldbtest"
)

// TestErrors checks that problems the server sends arrive as *client.Error
// with every member decoded.
func TestErrors(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		s := newServer(t, db, options{})
		ctx := t.Context()
		anna, _ := s.user(t, "anna")

		_, err := anna.Chat(ctx, 999999)
		e := apiError(t, "unknown chat", err)
		if e.Status != http.StatusNotFound || e.Code != kurir.ENotFound || e.Detail == "" || e.RequestID == "" ||
			e.Method != "GET" || e.Path != "/api/v1/chats/999999" || e.Field != "" || e.RetryAfter != 0 {
			t.Errorf("unknown chat: got %+v", e)
		}
		if !client.IsCode(err, kurir.ENotFound) || !client.IsCode(fmt.Errorf("load: %w", err), "not_found") {
			t.Errorf("IsCode(%v, not_found) = false", err)
		}
		if client.IsCode(err, kurir.EForbidden) || client.IsCode(errors.New("not_found"), kurir.ENotFound) || client.IsCode(nil, kurir.ENotFound) {
			t.Error("IsCode matched what it should not")
		}
		if msg := err.Error(); !strings.Contains(msg, "GET /api/v1/chats/999999") || !strings.Contains(msg, "404 not_found") ||
			!strings.Contains(msg, e.Detail) || !strings.Contains(msg, e.RequestID) {
			t.Errorf("Error() = %q: want the request, status, code, detail and request ID", msg)
		}

		for _, tc := range []struct {
			name          string
			params        client.RegisterParams
			field, reason string
		}{
			{"username starting with a digit", client.RegisterParams{Username: "9lives", Password: password}, "username", "username_must_start_with_letter"},
			{"weak password", client.RegisterParams{Username: "bertram", Password: "password"}, "password", "weak_password"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				_, err := s.client(t).Register(ctx, tc.params)
				e := apiError(t, "register", err)
				if e.Status != http.StatusBadRequest || e.Code != kurir.EInvalid || e.Field != tc.field || e.Reason != tc.reason || e.Detail == "" {
					t.Errorf("got %+v, want 400 invalid, field %s, reason %s", e, tc.field, tc.reason)
				}
				if msg := e.Error(); !strings.Contains(msg, "field "+tc.field) || !strings.Contains(msg, "reason "+tc.reason) {
					t.Errorf("Error() = %q: want the field and reason", msg)
				}
			})
		}

		_, err = s.client(t).Me(ctx)
		if e := apiError(t, "me without a token", err); e.Status != http.StatusUnauthorized || e.Code != kurir.EUnauthenticated || e.Reason != "missing_token" {
			t.Errorf("me without a token: got %+v", e)
		}
		_, err = s.client(t, client.WithToken("forged")).Me(ctx)
		if e := apiError(t, "me with a forged token", err); e.Code != kurir.EUnauthenticated || e.Reason != "invalid_token" {
			t.Errorf("me with a forged token: got %+v", e)
		}
	}, schema...)
}

// TestRateLimited checks that a 429 carries how long to wait.
func TestRateLimited(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		s := newServer(t, db, options{limits: account.Limits{LoginPerIP: ratelimit.Limit{Every: time.Minute, Burst: 1}}})
		c := s.client(t)
		ctx := t.Context()
		must(c.Register(ctx, client.RegisterParams{Username: "anna", Password: password}))(t, "register")
		must(c.Login(ctx, client.LoginParams{Username: "anna", Password: password}))(t, "first login")
		_, err := c.Login(ctx, client.LoginParams{Username: "anna", Password: password})
		e := apiError(t, "second login", err)
		// The server's clock stands still, so the wait is the whole interval.
		if e.Status != http.StatusTooManyRequests || e.Code != kurir.ERateLimited || e.Reason != "too_many_attempts" || e.RetryAfter != time.Minute {
			t.Errorf("second login within a minute: got %+v, want 429 rate_limited with RetryAfter 1m", e)
		}
	}, schema...)
}

// TestForeignErrors checks errors from something other than a kurir server,
// such as a proxy in front of it.
func TestForeignErrors(t *testing.T) {
	for _, tc := range []struct {
		name        string
		status      int
		contentType string
		header      map[string]string
		body        string
		want        client.Error
	}{
		{
			name: "html page", status: http.StatusBadGateway, contentType: "text/html",
			header: map[string]string{"Retry-After": "7", "X-Request-ID": "proxy-1"},
			body:   "<html>\n<body>  <h1>502 Bad Gateway</h1>\n</body></html>",
			want: client.Error{Status: 502, Code: kurir.EUnavailable, Detail: "<html> <body> <h1>502 Bad Gateway</h1> </body></html>",
				RetryAfter: 7 * time.Second, RequestID: "proxy-1", Method: "GET", Path: "/api/v1/me"},
		},
		{
			name: "empty body", status: http.StatusTooManyRequests,
			header: map[string]string{"Retry-After": time.Now().Add(90 * time.Second).UTC().Format(http.TimeFormat)},
			want:   client.Error{Status: 429, Code: kurir.ERateLimited, Detail: "Too Many Requests", Method: "GET", Path: "/api/v1/me"},
		},
		{
			name: "problem without a code", status: http.StatusForbidden, contentType: "application/problem+json",
			body: `{"title":"Forbidden","status":403}`,
			want: client.Error{Status: 403, Code: kurir.EForbidden, Detail: "Forbidden", Method: "GET", Path: "/api/v1/me"},
		},
		{
			name: "json that is not a problem", status: http.StatusInternalServerError, contentType: "application/json",
			body: `["oops"]`,
			want: client.Error{Status: 500, Code: kurir.EInternal, Detail: `["oops"]`, Method: "GET", Path: "/api/v1/me"},
		},
		{
			name: "long body", status: http.StatusTeapot, contentType: "text/plain",
			body: strings.Repeat("é", 100_000),
			want: client.Error{Status: 418, Code: kurir.EInvalid, Detail: strings.Repeat("é", 200) + "…", Method: "GET", Path: "/api/v1/me"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				for k, v := range tc.header {
					w.Header().Set(k, v)
				}
				if tc.contentType != "" {
					w.Header().Set("Content-Type", tc.contentType)
				}
				w.WriteHeader(tc.status)
				w.Write([]byte(tc.body))
			})
			ts := httptest.NewServer(h) // on 127.0.0.1
			t.Cleanup(ts.Close)

			_, err := client.New(ts.URL).Me(t.Context())
			got := *apiError(t, "me", err)
			if tc.name == "empty body" {
				// An HTTP date is read against the clock: between 88 and 90 seconds.
				if got.RetryAfter < 88*time.Second || got.RetryAfter > 90*time.Second {
					t.Errorf("RetryAfter from an HTTP date 90s ahead: %v", got.RetryAfter)
				}
				got.RetryAfter = 0
			}
			if got != tc.want {
				t.Errorf("got  %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

// TestBadBaseURL checks that an unusable base URL fails every call clearly
// and sends nothing.
func TestBadBaseURL(t *testing.T) {
	for _, tc := range []struct{ url, want string }{
		{"127.0.0.1:8080", "scheme"},
		{"ftp://example.com", "scheme"},
		{"http://", "no host"},
		{"http://example.com/?x=1", "query"},
		{"http://exa mple.com", "invalid character"},
	} {
		t.Run(tc.url, func(t *testing.T) {
			_, err := client.New(tc.url).Me(t.Context())
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Me with base URL %q: got error %v, want one mentioning %q", tc.url, err, tc.want)
			}
		})
	}
}

// TestNoServer checks that a failure without a response keeps its cause.
func TestNoServer(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens there now
	c := client.New("http://"+addr, client.WithRetry(client.Retry{Attempts: 2, MinDelay: time.Millisecond}))
	_, err = c.Me(t.Context())
	var op *net.OpError
	if !errors.As(err, &op) {
		t.Errorf("me with no server: got %v (%T), want a *net.OpError inside", err, err)
	}
	_, err = c.Send(t.Context(), 1, client.SendParams{Text: "hello"})
	if !errors.As(err, &op) || !strings.Contains(err.Error(), "gave up after 2 attempts") {
		t.Errorf("send with no server: got %v, want a *net.OpError after 2 attempts", err)
	}
}
