package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"kurir/sqldb"
	"kurir/sqldb/sqldbtest"
)

// cheap keeps password hashing fast in tests; the flags are the operator's.
var cheap = []string{"--password-memory", "64", "--password-time", "1"}

func noEnv(string) string { return "" }

// kurirCmd runs one CLI command to completion and returns its output.
func kurirCmd(t *testing.T, stdin string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err = run(context.Background(), append([]string{"kurir"}, args...), noEnv, strings.NewReader(stdin), &out, &errOut)
	return out.String(), errOut.String(), err
}

// lineWatcher is an io.Writer that reports the first line containing a marker.
type lineWatcher struct {
	mu     sync.Mutex
	buf    bytes.Buffer
	marker string
	found  chan string
	once   sync.Once
}

func (w *lineWatcher) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	for _, line := range strings.Split(w.buf.String(), "\n") {
		if i := strings.Index(line, w.marker); i >= 0 {
			w.once.Do(func() { w.found <- strings.TrimSpace(line[i+len(w.marker):]) })
		}
	}
	return len(p), nil
}

// startServer runs "kurir serve" on 127.0.0.1:0 against dbURL, returns its
// base URL, and stops it (checking it stopped cleanly) when the test ends.
func startServer(t *testing.T, dbURL string, extra ...string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	out := &lineWatcher{marker: "kurir is serving on ", found: make(chan string, 1)}
	var logs bytes.Buffer
	done := make(chan error, 1)
	args := append([]string{"kurir", "serve", "--addr", "127.0.0.1:0", "--database", dbURL, "--data-dir", t.TempDir(), "--log-level", "warn"}, append(cheap, extra...)...)
	go func() { done <- run(ctx, args, noEnv, nil, out, &logs) }()
	var base string
	select {
	case base = <-out.found:
	case err := <-done:
		cancel()
		t.Fatalf("serve exited early: %v\n%s", err, logs.String())
	case <-time.After(30 * time.Second):
		cancel()
		t.Fatal("serve did not start within 30s")
	}
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("serve stopped with error: %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Error("serve did not stop within 30s of SIGTERM")
		}
	})
	return base
}

type apiClient struct {
	t     *testing.T
	base  string
	token string
}

// call sends a JSON request and decodes a JSON (or problem) response into out.
func (c *apiClient) call(method, path string, body any, out any) int {
	c.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, c.base+path, rd)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if out != nil && len(data) > 0 {
		if err := json.Unmarshal(data, out); err != nil {
			c.t.Fatalf("%s %s: decode %q: %v", method, path, data, err)
		}
	}
	return resp.StatusCode
}

type problem struct {
	Status int    `json:"status"`
	Code   string `json:"code"`
	Reason string `json:"reason"`
	Detail string `json:"detail"`
}

type loginResult struct {
	Token   string `json:"token"`
	Session struct {
		ID int64 `json:"id"`
	} `json:"session"`
	User struct {
		Username string `json:"username"`
		Role     string `json:"role"`
	} `json:"user"`
}

func login(t *testing.T, base, user, password, device string) (loginResult, int, problem) {
	t.Helper()
	c := &apiClient{t: t, base: base}
	var raw json.RawMessage
	status := c.call("POST", "/api/v1/sessions", map[string]string{"username": user, "password": password, "device_name": device}, &raw)
	var res loginResult
	var p problem
	if status == http.StatusCreated {
		json.Unmarshal(raw, &res)
	} else {
		json.Unmarshal(raw, &p)
	}
	return res, status, p
}

// TestServeEndToEnd drives the real binary's run() on both engines: the
// operator creates the first admin with the CLI, a user registers, logs in
// on two devices, lists and revokes them, and is refused with the reason
// once an operator suspends them.
func TestServeEndToEnd(t *testing.T) {
	for engine, dbURL := range sqldbtest.URLs(t) {
		t.Run(string(engine), func(t *testing.T) { testServeEndToEnd(t, dbURL) })
	}
	if _, ok := sqldbtest.URLs(t)[sqldb.Postgres]; !ok {
		t.Log(sqldbtest.SkipMessage)
	}
}

func testServeEndToEnd(t *testing.T, dbURL string) {
	base := startServer(t, dbURL)

	// The first administrator comes from the CLI, against the same database
	// the running server uses.
	out, errOut, err := kurirCmd(t, "Admin-pass-for-tests-9\n", append([]string{"admin", "user", "create", "--database", dbURL, "--role", "admin", "alice"}, cheap...)...)
	if err != nil {
		t.Fatalf("admin user create: %v\n%s", err, errOut)
	}
	if !strings.Contains(out, "created user alice") || !strings.Contains(out, "role admin") {
		t.Errorf("admin user create printed %q", out)
	}
	adm, status, p := login(t, base, "alice", "Admin-pass-for-tests-9", "ops laptop")
	if status != http.StatusCreated || adm.User.Role != "admin" {
		t.Fatalf("admin login: status %d role %q problem %+v", status, adm.User.Role, p)
	}

	// A person registers and logs in from two devices.
	anon := &apiClient{t: t, base: base}
	var me struct {
		ID       int64  `json:"id"`
		Username string `json:"username"`
	}
	if st := anon.call("POST", "/api/v1/accounts", map[string]string{"username": "Bobby", "password": "a long and unusual passphrase"}, &me); st != http.StatusCreated {
		t.Fatalf("register: status %d", st)
	}
	phone, _, _ := login(t, base, "bobby", "a long and unusual passphrase", "Phone")
	laptop, st, p := login(t, base, "BOBBY", "a long and unusual passphrase", "Laptop")
	if st != http.StatusCreated {
		t.Fatalf("second login: %d %+v", st, p)
	}
	bob := &apiClient{t: t, base: base, token: laptop.Token}
	var list struct {
		Sessions []struct {
			ID         int64  `json:"id"`
			DeviceName string `json:"device_name"`
			Current    bool   `json:"current"`
		} `json:"sessions"`
	}
	bob.call("GET", "/api/v1/sessions", nil, &list)
	if len(list.Sessions) != 2 {
		t.Fatalf("devices = %+v, want Phone and Laptop", list.Sessions)
	}
	for _, s := range list.Sessions {
		if (s.DeviceName == "Laptop") != s.Current {
			t.Errorf("device %q current=%v", s.DeviceName, s.Current)
		}
	}

	// Revoking the phone logs it out.
	if st := bob.call("DELETE", fmt.Sprintf("/api/v1/sessions/%d", phone.Session.ID), nil, nil); st != http.StatusNoContent {
		t.Fatalf("revoke: status %d", st)
	}
	var pp problem
	if st := (&apiClient{t: t, base: base, token: phone.Token}).call("GET", "/api/v1/me", nil, &pp); st != http.StatusUnauthorized || pp.Reason != "invalid_token" {
		t.Errorf("revoked token: status %d %+v, want 401 invalid_token", st, pp)
	}

	// An operator suspends bob: the open session and new logins are refused, with the reason.
	if _, errOut, err := kurirCmd(t, "", "admin", "user", "suspend", "bobby", "--database", dbURL, "--for", "24h", "--reason", "Spam in public groups"); err != nil {
		t.Fatalf("suspend: %v\n%s", err, errOut)
	}
	pp = problem{}
	if st := bob.call("GET", "/api/v1/dialogs", nil, &pp); st != http.StatusForbidden || pp.Reason != "account_suspended" || !strings.Contains(pp.Detail, "Spam in public groups") {
		t.Errorf("suspended session: status %d %+v, want 403 account_suspended with the reason", st, pp)
	}
	if _, st, p := login(t, base, "bobby", "a long and unusual passphrase", "Tablet"); st != http.StatusForbidden || p.Reason != "account_suspended" || !strings.Contains(p.Detail, "Spam in public groups") {
		t.Errorf("suspended login: status %d %+v", st, p)
	}

	// Reinstated, bob can act again.
	if _, errOut, err := kurirCmd(t, "", "admin", "user", "reinstate", "--database", dbURL, "bobby"); err != nil {
		t.Fatalf("reinstate: %v\n%s", err, errOut)
	}
	if st := bob.call("GET", "/api/v1/me", nil, &me); st != http.StatusOK || me.Username != "Bobby" {
		t.Errorf("after reinstate: status %d, me %+v", st, me)
	}

	// The operator's list shows both accounts and bob's state.
	out, _, err = kurirCmd(t, "", "admin", "user", "list", "--database", dbURL)
	if err != nil || !strings.Contains(out, "alice") || !strings.Contains(out, "Bobby") {
		t.Errorf("user list: %v\n%s", err, out)
	}
}

func TestCLIHelpAndMistakes(t *testing.T) {
	dbURL := sqldbtest.SQLiteURL(t)
	tests := []struct {
		name       string
		args       []string
		wantErr    string // "" means success
		usage      bool   // the error is a command-line mistake (exit 2)
		wantOut    string // in stdout
		wantErrOut string // in stderr
	}{
		{name: "help", args: []string{"help"}, wantOut: "kurir serve"},
		{name: "help serve", args: []string{"help", "serve"}, wantErr: errHelpShown.Error(), wantOut: "KURIR_ADDR"},
		{name: "serve -h", args: []string{"serve", "-h"}, wantErr: errHelpShown.Error(), wantOut: "KURIR_DATABASE_URL"},
		{name: "admin help", args: []string{"admin", "--help"}, wantOut: "user suspend"},
		{name: "create help", args: []string{"admin", "user", "create", "--help"}, wantErr: errHelpShown.Error(), wantOut: "asked twice"},
		{name: "version", args: []string{"version"}, wantOut: "kurir "},
		{name: "no command", args: nil, wantErr: "no command given", usage: true, wantErrOut: "Commands:"},
		{name: "unknown command", args: []string{"serv"}, wantErr: `unknown command "serv"`, usage: true},
		{name: "unknown flag", args: []string{"serve", "--adr", "x"}, wantErr: "flag provided but not defined: -adr", usage: true, wantErrOut: "Flags:"},
		{name: "bad log level", args: []string{"serve", "--log-level", "loud"}, wantErr: `--log-level "loud"`, usage: true},
		{name: "bad database url", args: []string{"admin", "user", "list", "--database", "mysql://x"}, wantErr: "want sqlite:PATH or postgres://"},
		{name: "unknown user", args: []string{"admin", "user", "show", "--database", dbURL, "nobody"}, wantErr: `no user named "nobody"`},
		{name: "weak password", args: append([]string{"admin", "user", "create", "--database", dbURL, "carol"}, cheap...), wantErr: "common passwords"},
		{name: "bad role", args: append([]string{"admin", "user", "create", "--database", dbURL, "--role", "king", "dave"}, cheap...), wantErr: `Unknown role "king"`},
		{name: "suspend without reason", args: []string{"admin", "user", "suspend", "--database", dbURL, "--for", "1h", "x"}, wantErr: "--reason is required", usage: true},
		{name: "missing argument", args: []string{"admin", "user", "role", "--database", dbURL, "x"}, wantErr: "want 2 argument(s), got 1", usage: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stdin := ""
			if tt.name == "weak password" {
				stdin = "password\n"
			}
			out, errOut, err := kurirCmd(t, stdin, tt.args...)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("err = %v, want success", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("err = %v, want it to contain %q", err, tt.wantErr)
			}
			var u usageError
			if got := errors.As(err, &u); got != tt.usage {
				t.Errorf("usage error = %v, want %v (err %v)", got, tt.usage, err)
			}
			if !strings.Contains(out, tt.wantOut) {
				t.Errorf("stdout = %q, want it to contain %q", out, tt.wantOut)
			}
			if !strings.Contains(errOut, tt.wantErrOut) {
				t.Errorf("stderr = %q, want it to contain %q", errOut, tt.wantErrOut)
			}
		})
	}
}

func TestAdminCreateGeneratesPassword(t *testing.T) {
	dbURL := sqldbtest.SQLiteURL(t)
	out, errOut, err := kurirCmd(t, "", append([]string{"admin", "user", "create", "--database", dbURL, "--role", "moderator", "mod_one"}, cheap...)...)
	if err != nil {
		t.Fatalf("%v\n%s", err, errOut)
	}
	_, pw, ok := strings.Cut(out, "password: ")
	if !ok {
		t.Fatalf("no generated password in %q", out)
	}
	pw = strings.TrimSpace(strings.SplitN(pw, "\n", 2)[0])
	base := startServer(t, dbURL)
	if res, st, p := login(t, base, "mod_one", pw, "cli"); st != http.StatusCreated || res.User.Role != "moderator" {
		t.Errorf("login with generated password: %d %+v %+v", st, res, p)
	}
}
