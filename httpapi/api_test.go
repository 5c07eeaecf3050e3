package httpapi_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"kurir"
	"kurir/account"
	"kurir/httpapi"
	"kurir/ratelimit"
	"kurir/sqldb"
	"kurir/sqldb/sqldbtest"
)

// TestAccountFlow walks one person through their account's life as a client
// app would: register, two devices, profile, sessions, password, lookup,
// logout and deletion cancelled by logging in again.
func TestAccountFlow(t *testing.T) {
	t.Parallel()
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		h := newHarness(t, db, options{})

		// Register.
		resp := h.do(t, "POST", "/api/v1/accounts", "", map[string]string{
			"username": "Pavel_N", "password": password, "display_name": "Pavel Novák", "email": "pavel@example.com",
		})
		var reg user
		resp.want(t, "register", http.StatusCreated, &reg)
		if got := resp.header.Get("Location"); got != "/api/v1/me" {
			t.Errorf("register: Location %q, want /api/v1/me", got)
		}
		for _, c := range []struct{ name, got, want string }{
			{"username", reg.Username, "Pavel_N"},
			{"display_name", reg.DisplayName, "Pavel Novák"},
			{"email", reg.Email, "pavel@example.com"},
			{"role", reg.Role, "user"},
			{"state", reg.State, "active"},
		} {
			if c.got != c.want {
				t.Errorf("register: %s = %q, want %q", c.name, c.got, c.want)
			}
		}

		// Two devices; the username is found in any letter case.
		phone := h.login(t, "pavel_n", password, "Pixel 8")
		laptop := h.login(t, "PAVEL_N", password, "Firefox on Linux")
		for _, l := range []loginResult{phone, laptop} {
			if !strings.HasPrefix(l.Token, "kurir_") || len(l.Token) < 40 {
				t.Errorf("login on %s: token %q, want kurir_ and a long secret", l.Session.DeviceName, l.Token)
			}
			if !l.Session.Current || l.User.ID != reg.ID {
				t.Errorf("login on %s: session current=%v user %d, want current and user %d", l.Session.DeviceName, l.Session.Current, l.User.ID, reg.ID)
			}
		}
		if phone.Token == laptop.Token {
			t.Errorf("two logins got the same token")
		}

		var me user
		h.do(t, "GET", "/api/v1/me", laptop.Token, nil).want(t, "GET /me", http.StatusOK, &me)
		if me.ID != reg.ID || me.Username != "Pavel_N" || me.Email != "pavel@example.com" {
			t.Errorf("GET /me = %+v, want the registered account %+v", me, reg)
		}

		// Profile: change the display name and email, then clear the email.
		profiles := []struct {
			name               string
			patch              map[string]string
			wantName, wantMail string
		}{
			{"display name and email", map[string]string{"display_name": "Pavel", "email": "p@example.org"}, "Pavel", "p@example.org"},
			{"left-out fields are unchanged", map[string]string{}, "Pavel", "p@example.org"},
			{"empty email clears it", map[string]string{"email": ""}, "Pavel", ""},
		}
		for _, p := range profiles {
			var got user
			h.do(t, "PATCH", "/api/v1/me", laptop.Token, p.patch).want(t, "PATCH /me: "+p.name, http.StatusOK, &got)
			var again user
			h.do(t, "GET", "/api/v1/me", phone.Token, nil).want(t, "GET /me after "+p.name, http.StatusOK, &again)
			for _, u := range []user{got, again} {
				if u.DisplayName != p.wantName || u.Email != p.wantMail {
					t.Errorf("%s: display_name %q email %q, want %q and %q", p.name, u.DisplayName, u.Email, p.wantName, p.wantMail)
				}
			}
		}

		// Sessions: both devices, exactly one current.
		var list struct {
			Sessions []session `json:"sessions"`
		}
		h.do(t, "GET", "/api/v1/sessions", laptop.Token, nil).want(t, "GET /sessions", http.StatusOK, &list)
		devices := map[string]bool{}
		var current []string
		for _, s := range list.Sessions {
			devices[s.DeviceName] = true
			if s.Current {
				current = append(current, s.DeviceName)
			}
			if s.IP != "127.0.0.1" || s.UserAgent == "" {
				t.Errorf("session %q: ip %q user agent %q, want 127.0.0.1 and the client's agent", s.DeviceName, s.IP, s.UserAgent)
			}
		}
		if len(list.Sessions) != 2 || !devices["Pixel 8"] || !devices["Firefox on Linux"] {
			t.Errorf("GET /sessions = %+v, want Pixel 8 and Firefox on Linux", list.Sessions)
		}
		if len(current) != 1 || current[0] != "Firefox on Linux" {
			t.Errorf("GET /sessions from the laptop: current = %q, want exactly [Firefox on Linux]", current)
		}

		// Log the phone out from the laptop: its token stops working at once.
		h.do(t, "DELETE", fmt.Sprintf("/api/v1/sessions/%d", phone.Session.ID), laptop.Token, nil).
			want(t, "revoke the phone", http.StatusNoContent, nil)
		h.do(t, "GET", "/api/v1/me", phone.Token, nil).
			wantProblem(t, "GET /me with the revoked token", problemWant{http.StatusUnauthorized, "unauthenticated", "invalid_token", ""})
		h.do(t, "DELETE", fmt.Sprintf("/api/v1/sessions/%d", phone.Session.ID), laptop.Token, nil).
			wantProblem(t, "revoke the phone twice", problemWant{http.StatusNotFound, "not_found", "", ""})

		// Password change.
		const newPassword = "quiet-heron-marmalade-4"
		tablet := h.login(t, "pavel_n", password, "Tablet")
		changes := []struct {
			name          string
			current, next string
			want          problemWant
		}{
			{"wrong current password", "not-my-password-7", newPassword, problemWant{http.StatusForbidden, "forbidden", "wrong_password", "current_password"}},
			{"weak new password", password, "password1", problemWant{http.StatusBadRequest, "invalid", "weak_password", "new_password"}},
			{"new password containing the username", password, "xx-pavel_n-xx", problemWant{http.StatusBadRequest, "invalid", "weak_password", "new_password"}},
		}
		for _, c := range changes {
			h.do(t, "POST", "/api/v1/me/password", laptop.Token, map[string]string{"current_password": c.current, "new_password": c.next}).
				wantProblem(t, "change password: "+c.name, c.want)
		}
		h.do(t, "GET", "/api/v1/me", tablet.Token, nil).want(t, "the tablet after refused password changes", http.StatusOK, nil)
		h.do(t, "POST", "/api/v1/me/password", laptop.Token, map[string]string{"current_password": password, "new_password": newPassword}).
			want(t, "change password", http.StatusNoContent, nil)
		h.do(t, "GET", "/api/v1/me", tablet.Token, nil).
			wantProblem(t, "the tablet after the password change", problemWant{http.StatusUnauthorized, "unauthenticated", "invalid_token", ""})
		h.do(t, "GET", "/api/v1/sessions", laptop.Token, nil).want(t, "GET /sessions after the password change", http.StatusOK, &list)
		if len(list.Sessions) != 1 || !list.Sessions[0].Current {
			t.Errorf("sessions after the password change = %+v, want only the laptop's", list.Sessions)
		}
		h.do(t, "POST", "/api/v1/sessions", "", map[string]string{"username": "pavel_n", "password": password}).
			wantProblem(t, "log in with the old password", problemWant{http.StatusUnauthorized, "unauthenticated", "wrong_credentials", ""})
		phone = h.login(t, "pavel_n", newPassword, "Pixel 8")

		// Looking people up.
		h.register(t, "jana")
		lookups := []struct {
			name, path string
			status     int
			username   string
		}{
			{"exact", "/api/v1/users/jana", http.StatusOK, "jana"},
			{"other letter case", "/api/v1/users/JaNa", http.StatusOK, "jana"},
			{"myself", "/api/v1/users/PAVEL_N", http.StatusOK, "Pavel_N"},
			{"unknown", "/api/v1/users/nobody_here", http.StatusNotFound, ""},
			{"not a valid username", "/api/v1/users/x", http.StatusNotFound, ""},
		}
		for _, l := range lookups {
			resp := h.do(t, "GET", l.path, phone.Token, nil)
			if l.status != http.StatusOK {
				resp.wantProblem(t, "look up "+l.name, problemWant{l.status, "not_found", "", ""})
				continue
			}
			var got struct {
				ID          int64
				Username    string
				DisplayName string `json:"display_name"`
			}
			resp.want(t, "look up "+l.name, l.status, &got)
			if got.Username != l.username || got.DisplayName == "" {
				t.Errorf("look up %s: got %+v, want username %q", l.name, got, l.username)
			}
			if bytes.Contains(resp.body, []byte("email")) || bytes.Contains(resp.body, []byte("@")) {
				t.Errorf("look up %s: another user's view shows private data: %s", l.name, resp.body)
			}
		}

		// Logging out ends only this device.
		h.do(t, "DELETE", "/api/v1/sessions/current", laptop.Token, nil).want(t, "log out", http.StatusNoContent, nil)
		h.do(t, "GET", "/api/v1/me", laptop.Token, nil).
			wantProblem(t, "GET /me after logout", problemWant{http.StatusUnauthorized, "unauthenticated", "invalid_token", ""})
		h.do(t, "GET", "/api/v1/me", phone.Token, nil).want(t, "the phone after the laptop logged out", http.StatusOK, nil)

		// Deletion: a wrong password changes nothing; the right one schedules
		// it and logs every device out; logging in again cancels it.
		h.do(t, "POST", "/api/v1/me/deletion", phone.Token, map[string]string{"password": password}).
			wantProblem(t, "request deletion with the old password", problemWant{http.StatusForbidden, "forbidden", "wrong_password", "password"})
		var del struct {
			ScheduledAt time.Time `json:"scheduled_at"`
		}
		h.do(t, "POST", "/api/v1/me/deletion", phone.Token, map[string]string{"password": newPassword}).
			want(t, "request deletion", http.StatusAccepted, &del)
		if want := h.clock.Now().Add(7 * 24 * time.Hour); !del.ScheduledAt.Equal(want) {
			t.Errorf("deletion scheduled at %v, want %v (the default 7-day grace)", del.ScheduledAt, want)
		}
		h.do(t, "GET", "/api/v1/me", phone.Token, nil).
			wantProblem(t, "GET /me after requesting deletion", problemWant{http.StatusUnauthorized, "unauthenticated", "invalid_token", ""})
		u, err := h.svc.UserByUsername(t.Context(), "pavel_n")
		if err != nil || !u.DeletionScheduledAt.Equal(del.ScheduledAt) {
			t.Errorf("after the request the account's deletion is scheduled at %v (err %v), want %v", u.DeletionScheduledAt, err, del.ScheduledAt)
		}
		back := h.login(t, "pavel_n", newPassword, "Pixel 8")
		if back.User.DeletionScheduledAt != nil {
			t.Errorf("login after requesting deletion: user shows deletion_scheduled_at %v, want none", back.User.DeletionScheduledAt)
		}
		h.do(t, "GET", "/api/v1/me", back.Token, nil).want(t, "GET /me after logging in again", http.StatusOK, &me)
		if me.DeletionScheduledAt != nil {
			t.Errorf("GET /me after logging in again: deletion_scheduled_at %v, want none", me.DeletionScheduledAt)
		}
	}, schema...)
}

// TestUnknownRoutes checks that a client that gets a path or method wrong is
// told so in the same problem format as every other error.
func TestUnknownRoutes(t *testing.T) {
	t.Parallel()
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		h := newHarness(t, db, options{})
		tests := []struct {
			name, method, path string
			want               problemWant
			allow              []string // methods the Allow header must list
		}{
			{"unknown path", "GET", "/api/v1/nothing-here", problemWant{http.StatusNotFound, "not_found", "", ""}, nil},
			{"unknown version", "GET", "/api/v2/me", problemWant{http.StatusNotFound, "not_found", "", ""}, nil},
			{"unknown nested path", "POST", "/api/v1/me/nothing", problemWant{http.StatusNotFound, "not_found", "", ""}, nil},
			{"PUT on accounts", "PUT", "/api/v1/accounts", problemWant{http.StatusMethodNotAllowed, "invalid", "method_not_allowed", ""}, []string{"POST"}},
			{"POST on me", "POST", "/api/v1/me", problemWant{http.StatusMethodNotAllowed, "invalid", "method_not_allowed", ""}, []string{"GET", "PATCH"}},
			{"GET on a session", "GET", "/api/v1/sessions/1", problemWant{http.StatusMethodNotAllowed, "invalid", "method_not_allowed", ""}, []string{"DELETE"}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				resp := h.send(t, call{method: tt.method, path: tt.path, mode: checkProblem})
				p := resp.wantProblem(t, tt.method+" "+tt.path, tt.want)
				if p.Instance != tt.path {
					t.Errorf("instance %q, want %q", p.Instance, tt.path)
				}
				allow := resp.header.Get("Allow")
				for _, m := range tt.allow {
					if !strings.Contains(allow, m) {
						t.Errorf("Allow %q, want it to list %s", allow, m)
					}
				}
				if tt.allow != nil && !strings.Contains(p.Detail, tt.allow[0]) {
					t.Errorf("detail %q does not say what is allowed", p.Detail)
				}
			})
		}
	}, schema...)
}

// TestRateLimits checks that a client over a limit is told when to retry,
// that the refused attempt has no effect, and that waiting is enough.
func TestRateLimits(t *testing.T) {
	t.Parallel()
	limit := ratelimit.Limit{Every: time.Minute, Burst: 2}
	tests := []struct {
		name   string
		limits account.Limits
		// attempt makes the i-th request, which succeeds with 201 if allowed.
		attempt func(t *testing.T, h *harness, i int) response
	}{
		{"login", account.Limits{LoginPerIP: limit}, func(t *testing.T, h *harness, i int) response {
			return h.do(t, "POST", "/api/v1/sessions", "", map[string]string{"username": "pavel", "password": password})
		}},
		{"registration", account.Limits{RegisterPerIP: limit}, func(t *testing.T, h *harness, i int) response {
			return h.do(t, "POST", "/api/v1/accounts", "", map[string]string{"username": fmt.Sprintf("user_%c", 'a'+i), "password": password})
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
				h := newHarness(t, db, options{limits: tt.limits})
				if _, err := h.svc.Register(t.Context(), account.RegisterParams{Username: "pavel", Password: password}); err != nil {
					t.Fatal(err)
				}
				for i := range limit.Burst {
					tt.attempt(t, h, i).want(t, fmt.Sprintf("attempt %d", i+1), http.StatusCreated, nil)
				}
				before := countRows(t, db)
				resp := tt.attempt(t, h, limit.Burst)
				p := resp.wantProblem(t, "attempt over the limit", problemWant{http.StatusTooManyRequests, "rate_limited", "too_many_attempts", ""})
				retry, err := strconv.Atoi(resp.header.Get("Retry-After"))
				if err != nil || retry < 1 || retry > int(limit.Every/time.Second) {
					t.Errorf("Retry-After %q, want whole seconds from 1 to %d", resp.header.Get("Retry-After"), int(limit.Every/time.Second))
				}
				if p.RetryAfter != retry {
					t.Errorf("problem retry_after %d, want the Retry-After header's %d", p.RetryAfter, retry)
				}
				if after := countRows(t, db); after != before {
					t.Errorf("the refused attempt changed rows from %+v to %+v", before, after)
				}
				h.clock.Advance(time.Duration(retry) * time.Second)
				tt.attempt(t, h, limit.Burst+1).want(t, "attempt after waiting Retry-After", http.StatusCreated, nil)
			}, schema...)
		})
	}
}

// TestSuspendedAccount checks that a suspended person learns why, both when
// logging in and on a device that was already logged in.
func TestSuspendedAccount(t *testing.T) {
	t.Parallel()
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		h := newHarness(t, db, options{})
		u := h.register(t, "pavel")
		l := h.login(t, "pavel", password, "Pixel 8")
		const reason = "Sending the same link to 300 groups."
		if err := h.svc.Suspend(t.Context(), kurir.UserID(u.ID), h.clock.Now().Add(24*time.Hour), reason); err != nil {
			t.Fatal(err)
		}
		before := countRows(t, db)
		want := problemWant{http.StatusForbidden, "forbidden", "account_suspended", ""}
		for _, c := range []struct {
			name string
			resp response
		}{
			{"log in with the right password", h.do(t, "POST", "/api/v1/sessions", "", map[string]string{"username": "pavel", "password": password})},
			{"use an existing token", h.do(t, "GET", "/api/v1/dialogs", l.Token, nil)},
			{"list sessions with an existing token", h.do(t, "GET", "/api/v1/sessions", l.Token, nil)},
		} {
			p := c.resp.wantProblem(t, c.name, want)
			if !strings.Contains(p.Detail, reason) {
				t.Errorf("%s: detail %q does not give the reason %q", c.name, p.Detail, reason)
			}
		}
		h.do(t, "POST", "/api/v1/sessions", "", map[string]string{"username": "pavel", "password": "not-the-password-1"}).
			wantProblem(t, "log in with a wrong password", problemWant{http.StatusUnauthorized, "unauthenticated", "wrong_credentials", ""})
		// The account can still see why: GET /api/v1/me answers with its state.
		var me struct {
			State       string `json:"state"`
			StateReason string `json:"state_reason"`
		}
		h.do(t, "GET", "/api/v1/me", l.Token, nil).want(t, "me while suspended", http.StatusOK, &me)
		if me.State != "suspended" || me.StateReason != reason {
			t.Errorf("me while suspended = %+v, want suspended with the reason", me)
		}
		if after := countRows(t, db); after != before {
			t.Errorf("refused logins changed rows from %+v to %+v", before, after)
		}
		h.clock.Advance(25 * time.Hour)
		h.do(t, "GET", "/api/v1/me", l.Token, nil).want(t, "the old token once the suspension ended", http.StatusOK, nil)
		h.login(t, "pavel", password, "Laptop")
	}, schema...)
}

// TestProbes checks liveness and readiness, the metrics endpoint and the
// published OpenAPI document.
func TestProbes(t *testing.T) {
	t.Parallel()
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		h := newHarness(t, db, options{})
		for _, p := range []struct{ path, body string }{{"/healthz", "ok\n"}, {"/readyz", "ready\n"}} {
			resp := h.do(t, "GET", p.path, "", nil)
			resp.want(t, p.path, http.StatusOK, nil)
			if string(resp.body) != p.body {
				t.Errorf("%s: body %q, want %q", p.path, resp.body, p.body)
			}
		}

		h.register(t, "pavel")
		h.do(t, "POST", "/api/v1/accounts", "", map[string]string{"username": "pavel", "password": password}).
			want(t, "register a taken name", http.StatusConflict, nil)
		resp := h.do(t, "GET", "/metrics", "", nil)
		resp.want(t, "/metrics", http.StatusOK, nil)
		samples := map[string]string{}
		sc := bufio.NewScanner(bytes.NewReader(resp.body))
		for sc.Scan() {
			if name, value, ok := strings.Cut(sc.Text(), " "); ok && !strings.HasPrefix(name, "#") {
				samples[name] = value
			}
		}
		for _, m := range []struct{ sample, want string }{
			{`kurir_http_requests_total{code="201",operation="register"}`, "1"},
			{`kurir_http_requests_total{code="409",operation="register"}`, "1"},
			{`kurir_http_request_duration_seconds_count{operation="register"}`, "2"},
		} {
			if got := samples[m.sample]; got != m.want {
				t.Errorf("/metrics: %s = %q, want %s", m.sample, got, m.want)
			}
		}

		resp = h.do(t, "GET", "/api/v1/openapi.json", "", nil)
		resp.want(t, "openapi.json", http.StatusOK, nil)
		if ct := resp.header.Get("Content-Type"); ct != "application/json" {
			t.Errorf("openapi.json: Content-Type %q, want application/json", ct)
		}
		var doc struct {
			OpenAPI string                                `json:"openapi"`
			Paths   map[string]map[string]json.RawMessage `json:"paths"`
		}
		if err := json.Unmarshal(resp.body, &doc); err != nil {
			t.Fatalf("openapi.json is not JSON: %v", err)
		}
		if doc.OpenAPI != "3.1.0" {
			t.Errorf("openapi.json: openapi %q, want 3.1.0", doc.OpenAPI)
		}
		ops := h.srv.Spec().Operations()
		if len(ops) < 10 {
			t.Errorf("the spec has %d operations, want every route of the API", len(ops))
		}
		for _, op := range ops {
			raw, ok := doc.Paths[op.Path][strings.ToLower(op.Method)]
			var entry struct {
				OperationID string `json:"operationId"`
			}
			if !ok || json.Unmarshal(raw, &entry) != nil || entry.OperationID != op.ID {
				t.Errorf("openapi.json: no %s %s with operationId %q", op.Method, op.Path, op.ID)
			}
		}
		if served, _ := h.srv.Spec().MarshalJSON(); !bytes.Equal(served, resp.body) {
			t.Errorf("openapi.json differs from the Spec the server validates against")
		}
	}, schema...)
}

// TestReadyzDatabaseDown checks that a node whose database is gone is taken
// out of rotation while it still answers liveness probes.
func TestReadyzDatabaseDown(t *testing.T) {
	t.Parallel()
	db, err := sqldb.Open(t.Context(), sqldbtest.SQLiteURL(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Migrate(t.Context(), schema...); err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, db, options{quiet: true})
	h.do(t, "GET", "/readyz", "", nil).want(t, "/readyz while the database is open", http.StatusOK, nil)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	h.send(t, call{method: "GET", path: "/readyz", mode: checkProblem}).
		wantProblem(t, "/readyz after the database closed", problemWant{http.StatusServiceUnavailable, "unavailable", "", ""})
	h.do(t, "GET", "/healthz", "", nil).want(t, "/healthz after the database closed", http.StatusOK, nil)
	resp := h.do(t, "GET", "/api/v1/me", "kurir_"+strings.Repeat("x", 43), nil)
	p := resp.wantProblem(t, "an authenticated request after the database closed", problemWant{http.StatusInternalServerError, "internal", "", ""})
	if strings.Contains(strings.ToLower(p.Detail), "sql") {
		t.Errorf("500 detail %q leaks the database error", p.Detail)
	}
}

// TestRequestID checks that every response, error or not, carries a request
// ID of its own, which a user can quote in a support request.
func TestRequestID(t *testing.T) {
	t.Parallel()
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		h := newHarness(t, db, options{})
		seen := map[string]string{}
		for _, c := range []call{
			{method: "GET", path: "/healthz"},
			{method: "GET", path: "/readyz"},
			{method: "GET", path: "/metrics"},
			{method: "GET", path: "/api/v1/openapi.json"},
			{method: "GET", path: "/api/v1/me"},
			{method: "GET", path: "/api/v1/nothing", mode: checkProblem},
			{method: "POST", path: "/api/v1/accounts", body: map[string]string{"username": "pavel", "password": password}},
		} {
			resp := h.send(t, c)
			id := resp.header.Get("X-Request-ID")
			if prev, dup := seen[id]; dup {
				t.Errorf("%s %s: X-Request-ID %q was already used by %s", c.method, c.path, id, prev)
			}
			seen[id] = c.path
			if resp.status >= 400 {
				var p httpapi.Problem
				if err := json.Unmarshal(resp.body, &p); err != nil || p.RequestID != id {
					t.Errorf("%s %s: problem request_id %q, want the header's %q", c.method, c.path, p.RequestID, id)
				}
			}
		}
	}, schema...)
}

// TestAuthorizationScheme checks that the token is accepted however the
// client spells the scheme, which HTTP makes case-insensitive.
func TestAuthorizationScheme(t *testing.T) {
	t.Parallel()
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		h := newHarness(t, db, options{})
		h.register(t, "pavel")
		token := h.login(t, "pavel", password, "Pixel 8").Token
		for _, header := range []string{"Bearer " + token, "bearer " + token, "BEARER " + token, "Bearer   " + token} {
			h.send(t, call{method: "GET", path: "/api/v1/me", header: http.Header{"Authorization": {header}}}).
				want(t, fmt.Sprintf("Authorization: %.12s...", header), http.StatusOK, nil)
		}
	}, schema...)
}

// TestDeletedAccount checks that once the grace period is over the account
// is gone for everyone, even while a legal hold keeps its data.
func TestDeletedAccount(t *testing.T) {
	t.Parallel()
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		h := newHarness(t, db, options{})
		h.register(t, "pavel")
		jana := h.register(t, "jana")
		token := h.login(t, "pavel", password, "Pixel 8").Token
		janas := h.login(t, "jana", password, "Phone").Token
		h.do(t, "POST", "/api/v1/me/deletion", janas, map[string]string{"password": password}).
			want(t, "jana asks for deletion", http.StatusAccepted, nil)
		if _, err := h.svc.PlaceHold(t.Context(), kurir.UserID(jana.ID), "Preservation request 2025-17", time.Time{}); err != nil {
			t.Fatal(err)
		}
		h.clock.Advance(7*24*time.Hour + time.Minute)
		if deleted, _, err := h.svc.PurgeDue(t.Context()); err != nil || deleted != 1 {
			t.Fatalf("PurgeDue: deleted %d, %v; want 1", deleted, err)
		}
		h.do(t, "GET", "/api/v1/users/jana", token, nil).
			wantProblem(t, "look up the deleted account", problemWant{http.StatusNotFound, "not_found", "", ""})
		h.do(t, "POST", "/api/v1/sessions", "", map[string]string{"username": "jana", "password": password}).
			wantProblem(t, "log in to the deleted account", problemWant{http.StatusUnauthorized, "unauthenticated", "wrong_credentials", ""})
	}, schema...)
}

// TestConcurrentRegistrations races people for names, some of them
// look-alikes: of each set of names that cannot coexist exactly one gets it,
// the others are told it is taken, and everyone who got one can log in.
func TestConcurrentRegistrations(t *testing.T) {
	t.Parallel()
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		h := newHarness(t, db, options{})
		groups := [][]string{
			{"pavel", "PAVEL", "pave1", "ｐａｖｅｌ"},
			{"jana", "Jana", "JANA"},
			{"olga_k", "olga_K", "o1ga_k"},
			{"mirek"}, {"zuzana"}, {"tomas"}, {"eva_n"}, {"petra"},
		}
		type result struct {
			name   string
			group  int
			status int
		}
		results := make(chan result)
		n := 0
		for g, names := range groups {
			for _, name := range names {
				n++
				go func() {
					resp := h.do(t, "POST", "/api/v1/accounts", "", map[string]string{"username": name, "password": password})
					results <- result{name, g, resp.status}
				}()
			}
		}
		winners := make([][]string, len(groups))
		for range n {
			r := <-results
			switch r.status {
			case http.StatusCreated:
				winners[r.group] = append(winners[r.group], r.name)
			case http.StatusConflict:
			default:
				t.Errorf("register %q: status %d, want 201 or 409", r.name, r.status)
			}
		}
		for g, w := range winners {
			if len(w) != 1 {
				t.Errorf("names %q: registered %q, want exactly one", groups[g], w)
				continue
			}
			h.login(t, w[0], password, "Phone")
		}
		if got := countRows(t, db).users; got != len(groups) {
			t.Errorf("%d users, want %d", got, len(groups))
		}
	}, schema...)
}
