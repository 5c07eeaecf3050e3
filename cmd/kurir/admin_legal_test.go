package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"kurir"
	"kurir/audit"
	"kurir/legal"
	"kurir/legal/mail"
	"kurir/legal/totp"
	"kurir/sqldb/sqldbtest"
)

// TestAdminLegal: the operator registers law-enforcement agencies from the
// command line, and officers of a server over the same database can sign
// up at their domains; disabling an agency keeps its officers out, and
// enabling it lets them in again. Mistakes are usage errors that change
// nothing; every change is in the audit log as the operator's.
func TestAdminLegal(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	c := common{dataDir: dir, logLevel: "error", logFormat: "text"}
	db, err := c.openDB(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	// server is what a running server holds of the portal.
	server := legal.NewService(db, nil, nil, nil, nil, kurir.SystemClock{}, nil, legal.Config{Mail: &mail.LogSender{Log: slog.New(slog.DiscardHandler)}})
	signUp := func(email string) error {
		t.Helper()
		_, err := server.SignUp(ctx, legal.SignUpParams{Email: email, Name: "Officer", Password: "wet-otter-lantern-9"})
		return err
	}

	kurirCmd := func(args ...string) (string, error) {
		t.Helper()
		var out, errOut bytes.Buffer
		err := run(ctx, append(append([]string{"kurir", "admin", "legal"}, args...), "--data-dir", dir), noEnv, strings.NewReader(""), &out, &errOut)
		return out.String(), err
	}
	want := func(what, out string, err error, wantOut ...string) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		for _, w := range wantOut {
			if !strings.Contains(out, w) {
				t.Errorf("%s: output\n%s\nlacks %q", what, out, w)
			}
		}
	}
	legalAudit := func() []string {
		t.Helper()
		entries, err := audit.List(ctx, db.Read(), audit.Filter{})
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, e := range entries {
			if strings.HasPrefix(e.Action, "legal.agency.") {
				if e.Actor != 0 || e.Role != kurir.RoleAdmin {
					t.Errorf("audit entry %+v: want the operator (actor 0, admin)", e)
				}
				out = append(out, e.Action+" "+e.Subject)
			}
		}
		slices.Sort(out)
		return out
	}

	out, err := kurirCmd("agency", "list")
	want("list before any agency", out, err, "No agencies are registered")
	if err := signUp("k.weber@bka.example"); kurir.ErrorReason(err) != "unknown_domain" {
		t.Fatalf("sign up before the agency is registered: %v, want unknown_domain", err)
	}

	out, err = kurirCmd("agency", "add", "Bundeskriminalamt", "--country", "de", "--domains", "bka.example, BKA.Bund.example", "--jurisdiction", "Federal")
	want("add the BKA", out, err, "agency 1: Bundeskriminalamt (DE), officers sign up with addresses at bka.example, bka.bund.example")
	out, err = kurirCmd("agency", "add", "--removal-orders", "Police judiciaire", "--country", "FR", "--domains", "pj.example")
	want("add the PJ", out, err, "agency 2: Police judiciaire (FR)", "its removal orders are enforced in FR at once")
	out, err = kurirCmd("agency", "list")
	want("list", out, err, "Bundeskriminalamt", "bka.example,bka.bund.example", "Federal", "Police judiciaire", "yes", "active")
	if err := signUp("k.weber@bka.example"); err != nil {
		t.Fatalf("sign up at a registered domain: %v", err)
	}

	before := legalAudit()
	for _, c := range []struct {
		name string
		args []string
		msg  string // in the error
	}{
		{"no country", []string{"agency", "add", "Interpol", "--domains", "interpol.example"}, "--country is required"},
		{"an unknown country", []string{"agency", "add", "Interpol", "--country", "XX", "--domains", "interpol.example"}, "--country: "},
		{"no domains", []string{"agency", "add", "Interpol", "--country", "FR"}, "--domains is required"},
		{"a bad domain", []string{"agency", "add", "Interpol", "--country", "FR", "--domains", "not a domain"}, "--domains: "},
		{"no name", []string{"agency", "add", "--country", "FR", "--domains", "interpol.example"}, "want 1 argument(s), got 0"},
		{"an ID that is not one", []string{"agency", "disable", "one"}, `"one" is not an agency ID`},
		{"an unknown agency command", []string{"agency", "remove", "1"}, `unknown command "remove"`},
		{"an unknown command", []string{"officer", "list"}, `unknown command "officer"`},
		{"no command", []string{"agency"}, "say add, list, disable or enable"},
	} {
		_, err := kurirCmd(c.args...)
		var u usageError
		if !errors.As(err, &u) || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("%s: got %v, want a usage error (exit status 2) saying %q", c.name, err, c.msg)
		}
	}
	_, err = kurirCmd("agency", "add", "BKA again", "--country", "DE", "--domains", "bka.example")
	if u := (usageError{}); err == nil || errors.As(err, &u) || !strings.Contains(err.Error(), "already belongs to Bundeskriminalamt") {
		t.Errorf("adding a domain twice: got %v, want a conflict (exit status 1)", err)
	}
	_, err = kurirCmd("agency", "disable", "99")
	if u := (usageError{}); err == nil || errors.As(err, &u) || !strings.Contains(err.Error(), "No agency 99.") {
		t.Errorf("disabling an agency that does not exist: got %v", err)
	}
	if after := legalAudit(); !slices.Equal(after, before) {
		t.Errorf("refused commands changed the audit log from %v to %v", before, after)
	}

	out, err = kurirCmd("agency", "disable", "1")
	want("disable the BKA", out, err, "agency 1 is disabled")
	if err := signUp("m.braun@bka.example"); kurir.ErrorReason(err) != "unknown_domain" {
		t.Errorf("sign up at a disabled agency: %v, want unknown_domain", err)
	}
	out, err = kurirCmd("agency", "list")
	want("list with a disabled agency", out, err, "disabled ")
	out, err = kurirCmd("agency", "enable", "1")
	want("enable the BKA", out, err, "agency 1 is enabled")
	if err := signUp("m.braun@bka.example"); err != nil {
		t.Errorf("sign up at an agency enabled again: %v", err)
	}

	wantAudit := []string{"legal.agency.add agency:1", "legal.agency.add agency:2", "legal.agency.disable agency:1", "legal.agency.disable agency:1"}
	if got := legalAudit(); !slices.Equal(got, wantAudit) {
		t.Errorf("audit log: got %v, want %v", got, wantAudit)
	}

	out, err = kurirCmd("--help")
	want("help", out, err, "agency add NAME --country CC --domains DOMAIN")
	var adminOut bytes.Buffer
	if err := run(ctx, []string{"kurir", "admin", "--help"}, noEnv, strings.NewReader(""), &adminOut, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(adminOut.String(), "legal agency add|list|disable|enable") {
		t.Errorf("kurir admin --help does not name the legal area:\n%s", adminOut.String())
	}
}

// syncBuffer is a bytes.Buffer that a server's logger and a test share.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestServeLegalPortal runs "kurir serve" with e-mail to the log and an
// on-call webhook: an agency registered at the command line, an officer
// signs up with the code the log shows, sets up an authenticator and
// attests, and an emergency request fires the webhook.
func TestServeLegalPortal(t *testing.T) {
	for _, bad := range [][]string{{"--mail", "smtp://mail.example"}, {"--legal-pager-url", "ftp://pager.example/hook"}} {
		_, _, err := kurirCmd(t, "", append([]string{"serve", "--data-dir", t.TempDir()}, bad...)...)
		if u := (usageError{}); !errors.As(err, &u) || !strings.Contains(err.Error(), bad[0]) {
			t.Errorf("serve %v: got %v, want a usage error naming %s", bad, err, bad[0])
		}
	}

	pages := make(chan legal.Page, 4)
	pager := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var p legal.Page
		if err := json.NewDecoder(r.Body).Decode(&p); err != nil || r.Header.Get("Content-Type") != "application/json" {
			t.Errorf("the pager got %s %v", r.Header.Get("Content-Type"), err)
		}
		pages <- p
	}))
	t.Cleanup(pager.Close)

	dbURL := sqldbtest.SQLiteURL(t)
	ctx, cancel := context.WithCancel(context.Background())
	out := &lineWatcher{marker: "kurir is serving on ", found: make(chan string, 1)}
	logs := &syncBuffer{}
	done := make(chan error, 1)
	args := append([]string{"kurir", "serve", "--addr", "127.0.0.1:0", "--database", dbURL, "--data-dir", t.TempDir(), "--log-level", "info",
		"--mail", "log:", "--legal-pager-url", pager.URL}, cheap...)
	go func() { done <- run(ctx, args, noEnv, nil, out, logs) }()
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
		if err := <-done; err != nil {
			t.Errorf("serve stopped with error: %v", err)
		}
	})
	if !strings.Contains(logs.String(), "verification codes included") {
		t.Errorf("serve with --mail log: does not warn that codes go to the log:\n%s", logs.String())
	}

	if _, errOut, err := kurirCmd(t, "", "admin", "legal", "agency", "add", "Bundeskriminalamt", "--country", "DE", "--domains", "bka.example", "--database", dbURL); err != nil {
		t.Fatalf("agency add: %v\n%s", err, errOut)
	}
	anon := &apiClient{t: t, base: base}
	if st := anon.call("POST", "/api/v1/accounts", map[string]string{"username": "mallory", "password": "a long and unusual passphrase"}, nil); st != http.StatusCreated {
		t.Fatalf("register the target: status %d", st)
	}
	const email = "k.weber@bka.example"
	if st := anon.call("POST", "/api/v1/legal/officers", map[string]string{"email": email, "name": "Karin Weber", "password": "wet-otter-lantern-9"}, nil); st != http.StatusCreated {
		t.Fatalf("sign up: status %d", st)
	}
	code := regexp.MustCompile(`portal code is ([0-9]{6})`).FindStringSubmatch(logs.String())
	if code == nil {
		t.Fatalf("the log shows no code:\n%s", logs.String())
	}
	if st := anon.call("POST", "/api/v1/legal/officers/verify", map[string]string{"email": email, "password": "wet-otter-lantern-9", "code": code[1]}, nil); st != http.StatusNoContent {
		t.Fatalf("verify: status %d", st)
	}
	var sess struct{ Token string }
	if st := anon.call("POST", "/api/v1/legal/sessions", map[string]string{"email": email, "password": "wet-otter-lantern-9"}, &sess); st != http.StatusCreated {
		t.Fatalf("log in: status %d", st)
	}
	officer := &apiClient{t: t, base: base, token: sess.Token}
	var secret struct{ Secret string }
	if st := officer.call("POST", "/api/v1/legal/me/totp", nil, &secret); st != http.StatusOK {
		t.Fatalf("begin TOTP: status %d", st)
	}
	key, err := totp.ParseKey(secret.Secret)
	if err != nil {
		t.Fatal(err)
	}
	// Confirming makes this session a second-factor one: no second login.
	if st := officer.call("POST", "/api/v1/legal/me/totp/confirm", map[string]string{"code": key.Code(time.Now())}, nil); st != http.StatusNoContent {
		t.Fatalf("confirm TOTP: status %d", st)
	}
	if st := officer.call("POST", "/api/v1/legal/me/attestation", map[string]string{"statement": legal.Attestation}, nil); st != http.StatusNoContent {
		t.Fatalf("attest: status %d", st)
	}
	var filed struct{ Number string }
	st := officer.call("POST", "/api/v1/legal/requests", map[string]any{
		"kind": "emergency", "process": "emergency", "case_reference": "BKA-1", "legal_basis": "§ 100j StPO",
		"issuing_authority": "BKA", "targets": []map[string]string{{"kind": "username", "value": "mallory"}},
		"categories": []string{"subscriber"}, "description": "Imminent threat to life.",
	}, &filed)
	if st != http.StatusCreated {
		t.Fatalf("file an emergency: status %d", st)
	}
	select {
	case pg := <-pages:
		if pg.Number != filed.Number || pg.Kind != legal.Emergency || pg.Agency != "Bundeskriminalamt" {
			t.Errorf("page %+v, want emergency %s of the BKA", pg, filed.Number)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the on-call webhook was not called within 10 s")
	}
}
