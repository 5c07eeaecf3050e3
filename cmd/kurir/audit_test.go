package main

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"kurir"
	"kurir/audit"
	"kurir/sqldb"
)

func TestAuditVerifyAndList(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	c := common{dataDir: dir, logLevel: "error", logFormat: "text"}
	withDB := func(fn func(db *sqldb.DB)) {
		t.Helper()
		db, err := c.openDB(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		fn(db)
	}
	var last audit.Entry
	withDB(func(db *sqldb.DB) {
		for _, e := range []audit.Entry{
			{Actor: 3, Role: kurir.RoleModerator, Action: "case.view", Subject: "message:5:17", Detail: "reported\tfor spam"},
			{Actor: 4, Role: kurir.RoleLegal, Action: "user.export", Subject: "user:9", Detail: `{"request":"LE-2026-7"}`},
			{Action: "user.ban", Subject: "user:9", Detail: "by the operator"},
		} {
			var err error
			if last, err = audit.Record(ctx, db, e); err != nil {
				t.Fatal(err)
			}
		}
	})
	auditCmd := func(args ...string) (string, string, error) {
		return kurirCmd(t, "", append(append([]string{"audit"}, args...), "--data-dir", dir)...)
	}

	out, _, err := auditCmd("verify")
	if err != nil || !strings.Contains(out, "audit log: 3 entries, chain intact") || !strings.Contains(out, "head: 3:"+last.Hash+"\n") {
		t.Fatalf("verify: %q, %v; want 3 entries intact and the head hash", out, err)
	}

	head := "3:" + last.Hash
	out, _, err = auditCmd("verify", "--check-head", head)
	if err != nil || !strings.Contains(out, "entry 3 still has the hash you checked") {
		t.Errorf("verify --check-head: %q, %v", out, err)
	}
	if _, _, err := auditCmd("verify", "--check-head", "4:"+last.Hash); err == nil || !strings.Contains(err.Error(), "fewer than the 4") {
		t.Errorf("verify --check-head past the end: %v, want it to fail", err)
	}
	if _, _, err := auditCmd("verify", "--check-head", "3:abc"); !errors.As(err, new(usageError)) {
		t.Errorf("verify --check-head with a short hash: %v, want a usage error", err)
	}

	out, _, err = auditCmd("list")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if err != nil || len(lines) != 4 {
		t.Fatalf("list: %v\n%s", err, out)
	}
	for i, want := range [][]string{
		{"ID", "ACTOR", "DETAIL"},
		{"3", "system", "-", "user.ban", "user:9", "by the operator", last.At.Format("2006-01-02T15:04:05Z")},
		{"2", "4", "legal", "user.export", `{"request":"LE-2026-7"}`},
		{"1", "3", "moderator", "case.view", "message:5:17", `"reported\tfor spam"`},
	} {
		for _, w := range want {
			if !strings.Contains(lines[i], w) {
				t.Errorf("list line %d = %q, want it to contain %q", i, lines[i], w)
			}
		}
	}
	out, _, err = auditCmd("list", "--actor", "4")
	if err != nil || strings.Count(out, "\n") != 2 || !strings.Contains(out, "user.export") {
		t.Errorf("list --actor 4: %v\n%s", err, out)
	}
	out, _, err = auditCmd("list", "--subject", "user:9", "--limit", "1")
	if err != nil || strings.Count(out, "\n") != 2 || !strings.Contains(out, "user.ban") {
		t.Errorf("list --subject user:9 --limit 1: %v\n%s", err, out)
	}

	exec := func(query string) {
		t.Helper()
		withDB(func(db *sqldb.DB) {
			err := db.WriteTx(ctx, func(tx *sqldb.Tx) error {
				_, err := tx.ExecContext(ctx, query)
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
		})
	}
	exec(`UPDATE audit_log SET detail = 'nothing happened' WHERE id = 2`)
	out, _, err = auditCmd("verify")
	var u usageError
	if err == nil || errors.As(err, &u) || err.Error() != "audit log broken at entry 2: hash does not match its content" || out != "" {
		t.Errorf("verify after tampering: stdout %q, err %v; want it to fail at entry 2", out, err)
	}

	// Someone with write access rewrites the whole log: the chain is intact,
	// but the head written down before no longer matches.
	exec(`DELETE FROM audit_log`)
	exec(`UPDATE audit_head SET last_id = 0, last_hash = ''`)
	withDB(func(db *sqldb.DB) {
		for range 3 {
			if _, err := audit.Record(ctx, db, audit.Entry{Action: "user.create", Subject: "user:1"}); err != nil {
				t.Fatal(err)
			}
		}
	})
	if out, _, err := auditCmd("verify"); err != nil || !strings.Contains(out, "3 entries, chain intact") {
		t.Fatalf("verify after a rewrite: %q, %v", out, err)
	}
	if _, _, err := auditCmd("verify", "--check-head", head); err == nil || !strings.Contains(err.Error(), "rewritten") {
		t.Errorf("verify --check-head after a rewrite: %v, want it to fail", err)
	}

	if _, _, err := auditCmd("check"); !errors.As(err, &u) {
		t.Errorf("unknown command: %v, want a usage error", err)
	}
	if _, _, err := auditCmd("list", "--limit", "-1"); !errors.As(err, &u) {
		t.Errorf("negative limit: %v, want a usage error", err)
	}
}

// TestAuditVerifyAgainstAnchoredHeads rewrites the log from entry 4 onward
// with the chain recomputed: plain verify passes, verify --heads names the
// first anchored head the log no longer matches.
func TestAuditVerifyAgainstAnchoredHeads(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	heads := filepath.Join(t.TempDir(), "audit-heads.log") // kept away from the database
	c := common{dataDir: dir, logLevel: "error", logFormat: "text"}
	db, err := c.openDB(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	anchor := &audit.Anchor{DB: db.Read(), Path: heads, Clock: kurir.SystemClock{}, Log: slog.New(slog.DiscardHandler)}
	record := func(n int) {
		t.Helper()
		for range n {
			if _, err := audit.Record(ctx, db, audit.Entry{Actor: 3, Role: kurir.RoleModerator, Action: "case.view", Subject: "case:1"}); err != nil {
				t.Fatal(err)
			}
		}
		if _, wrote, err := anchor.Once(ctx); err != nil || !wrote {
			t.Fatalf("anchor: %v, %v", wrote, err)
		}
	}
	record(3)
	record(3)
	auditCmd := func(args ...string) (string, error) {
		out, _, err := kurirCmd(t, "", append(append([]string{"audit"}, args...), "--data-dir", dir)...)
		return out, err
	}
	out, err := auditCmd("verify", "--heads", heads)
	if err != nil || !strings.Contains(out, "6 entries, chain intact") || !strings.Contains(out, "2 anchored heads in "+heads+" still match") {
		t.Fatalf("verify --heads: %q, %v", out, err)
	}

	// Someone who can write the database rewrites entries 4 to 6 as
	// something else, and the chain and head with them.
	err = db.WriteTx(ctx, func(tx *sqldb.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM audit_log WHERE id >= 4`); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `UPDATE audit_head SET last_id = 3, last_hash = (SELECT hash FROM audit_log WHERE id = 3)`)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if _, err := audit.Record(ctx, db, audit.Entry{Action: "user.create", Subject: "user:1"}); err != nil {
			t.Fatal(err)
		}
	}
	if out, err := auditCmd("verify"); err != nil || !strings.Contains(out, "6 entries, chain intact") {
		t.Fatalf("plain verify after the rewrite: %q, %v; want it to pass, the chain being recomputed", out, err)
	}
	out, err = auditCmd("verify", "--heads", heads)
	var u usageError
	if err == nil || errors.As(err, &u) || out != "" {
		t.Fatalf("verify --heads after the rewrite: %q, %v; want it to fail", out, err)
	}
	for _, want := range []string{"audit log rewritten: the head on line 2 of " + heads + " (entry 6, anchored ",
		"no longer matches: entry 6's hash was ", "1 of 2 anchored heads fail", "the head on line 1 (entry 3) still matches, so the rewrite began after entry 3"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("verify --heads after the rewrite: %v\nwant it to contain %q", err, want)
		}
	}

	// A heads file that is not evidence is refused, naming the line.
	bad := filepath.Join(t.TempDir(), "bad.log")
	good, _ := os.ReadFile(heads)
	os.WriteFile(bad, append(good, "6:abc\n"...), 0o600)
	if _, err := auditCmd("verify", "--heads", bad); err == nil || !strings.Contains(err.Error(), "line 3: not a head") {
		t.Errorf("verify --heads with a bad line: %v", err)
	}
	os.WriteFile(bad, nil, 0o600)
	if _, err := auditCmd("verify", "--heads", bad); err == nil || !strings.Contains(err.Error(), "has no heads") {
		t.Errorf("verify --heads with an empty file: %v", err)
	}
	if _, err := auditCmd("verify", "--heads", filepath.Join(dir, "missing.log")); err == nil || !strings.Contains(err.Error(), "missing.log") {
		t.Errorf("verify --heads with a missing file: %v", err)
	}
}

// TestServeAnchorsTheAuditHead starts the server on a log with entries: it
// anchors the head at once, to the log and the heads file, and on stopping.
func TestServeAnchorsTheAuditHead(t *testing.T) {
	dir := t.TempDir()
	c := common{dataDir: dir, logLevel: "error", logFormat: "text"}
	db, err := c.openDB(t.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	e, err := audit.Record(t.Context(), db, audit.Entry{Action: "user.ban", Subject: "user:9"})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	out := &lineWatcher{marker: "kurir is serving on ", found: make(chan string, 1)}
	logs := &lineWatcher{marker: `"msg":"audit head"`, found: make(chan string, 1)}
	done := make(chan error, 1)
	args := append([]string{"kurir", "serve", "--addr", "127.0.0.1:0", "--data-dir", dir, "--log-format", "json", "--audit-heads-every", "1s"}, cheap...)
	go func() { done <- run(ctx, args, noEnv, nil, out, logs) }()
	select {
	case <-out.found:
	case err := <-done:
		t.Fatalf("serve exited early: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not start within 30s")
	}
	select {
	case line := <-logs.found:
		if !strings.Contains(line, `"id":1,"hash":"`+e.Hash+`"`) {
			t.Errorf("logged head: %s; want entry 1's hash", line)
		}
	default:
		t.Error("no audit head line in the log at start")
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("serve: %v", err)
	}
	f, err := os.Open(filepath.Join(dir, "audit-heads.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	hs, err := audit.ReadHeads(f)
	if err != nil || len(hs) != 1 || hs[0].ID != 1 || hs[0].Hash != e.Hash {
		t.Fatalf("heads file = %+v, %v; want entry 1's head once", hs, err)
	}

	// A heads file that cannot be written stops the start.
	_, _, err = kurirCmd(t, "", append([]string{"serve", "--addr", "127.0.0.1:0", "--data-dir", dir, "--log-level", "error",
		"--audit-heads", filepath.Join(dir, "no-such-dir", "heads.log")}, cheap...)...)
	if err == nil || !strings.Contains(err.Error(), "--audit-heads") {
		t.Errorf("serve with an unwritable --audit-heads: %v, want it refused", err)
	}
	if _, _, err := kurirCmd(t, "", "serve", "--data-dir", dir, "--audit-heads-every", "10ms"); !errors.As(err, new(usageError)) {
		t.Errorf("serve --audit-heads-every 10ms: %v, want a usage error", err)
	}
}
