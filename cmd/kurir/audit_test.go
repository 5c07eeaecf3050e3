package main

import (
	"errors"
	"strings"
	"testing"

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
