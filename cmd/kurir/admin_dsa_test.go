package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"kurir"
	"kurir/account"
	"kurir/audit"
	"kurir/clocktest"
	"kurir/messaging"
	"kurir/moderation"
	"kurir/transparency/dsa"
	"kurir/transparency/dsa/dsatest"
)

const dsaToken = "X|ybqkCFX7ZkIFoLxtI0VAk1JBzMR9jVk4c4EU"

// dsaActions makes, in the database at dir, n removals of spam and one
// restriction in Russia only (which has no statement), through the
// services, on 2026-11-01, and returns the removals' IDs.
func dsaActions(t *testing.T, dir string, n int) []int64 {
	t.Helper()
	ctx := t.Context()
	c := common{dataDir: dir, logLevel: "error", logFormat: "text"}
	db, err := c.openDB(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	clock := clocktest.New(time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC))
	acc := account.NewService(db, clock, nil, account.Config{Argon2: account.CheapArgon2Params, Limits: &account.Limits{}})
	msg := messaging.NewService(db, nil, clock, nil, messaging.Config{})
	mod := moderation.NewService(db, msg, acc, clock, nil, moderation.Config{})
	user := func(name string, role kurir.Role) kurir.UserID {
		u, err := acc.Register(ctx, account.RegisterParams{Username: name, Password: "wet-otter-lantern-9", Role: role})
		if err != nil {
			t.Fatal(err)
		}
		return u.ID
	}
	owner, reporter := user("olga", kurir.RoleUser), user("rita", kurir.RoleUser)
	staff := moderation.Staff{ID: user("mona", kurir.RoleModerator), Role: kurir.RoleModerator}
	ch, err := msg.CreateChannel(ctx, owner, messaging.NewChat{Title: "News", Username: "olganews"})
	if err != nil {
		t.Fatal(err)
	}
	act := func(i int, p moderation.ActParams) int64 {
		m, err := msg.Send(ctx, owner, ch.ID, messaging.SendParams{Text: fmt.Sprint("spam ", i), IdempotencyKey: fmt.Sprint("k", i)})
		if err != nil {
			t.Fatal(err)
		}
		r, err := mod.Report(ctx, reporter, moderation.ReportParams{Subject: moderation.Subject{Kind: moderation.SubjectMessage, Chat: ch.ID, Seq: m.Seq},
			Category: moderation.Spam})
		if err != nil {
			t.Fatal(err)
		}
		p.Facts = "The same invitation, posted forty times in a minute."
		a, err := mod.Act(ctx, staff, r.CaseID, p)
		if err != nil {
			t.Fatal(err)
		}
		return a.ID
	}
	var ids []int64
	for i := range n {
		ids = append(ids, act(i, moderation.ActParams{Kind: moderation.RemoveMessage}))
	}
	act(n, moderation.ActParams{Kind: moderation.Restrict, Countries: []string{"RU"}})
	return ids
}

// jsonLines decodes each line of out as a statement, strictly, and checks
// it against the schema.
func jsonLines(t *testing.T, out string) []dsa.Statement {
	t.Helper()
	var sts []dsa.Statement
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		dec := json.NewDecoder(bytes.NewReader(sc.Bytes()))
		dec.DisallowUnknownFields()
		var s dsa.Statement
		if err := dec.Decode(&s); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		if err := dsa.Validate(s); err != nil {
			t.Errorf("line %q: %v", sc.Text(), err)
		}
		sts = append(sts, s)
	}
	return sts
}

// TestAdminDSA: the operator exports the statements of reasons as JSON
// lines, submits them by hand to a database that checks them field by
// field, and sees what became of them; mistakes are usage errors.
func TestAdminDSA(t *testing.T) {
	dir := t.TempDir()
	ids := dsaActions(t, dir, 3)
	srv := dsatest.New(t, dsaToken)
	tokenFile := filepath.Join(dir, "dsa-token")
	if err := os.WriteFile(tokenFile, []byte(dsaToken+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	kurirDSA := func(args ...string) (string, string, error) {
		t.Helper()
		return kurirCmd(t, "", append(append([]string{"admin", "dsa"}, args...), "--data-dir", dir)...)
	}

	out, errOut, err := kurirDSA("export")
	if err != nil {
		t.Fatalf("export: %v\n%s", err, errOut)
	}
	sts := jsonLines(t, out)
	if len(sts) != 3 || !strings.Contains(errOut, "3 statements written") {
		t.Fatalf("export wrote %d statements (%s), want 3", len(sts), errOut)
	}
	for i, s := range sts {
		if s.PUID != dsa.PUID(ids[i]) || s.ApplicationDate != "2026-11-01" || s.Category != "STATEMENT_CATEGORY_OTHER_VIOLATION_TC" {
			t.Errorf("statement %d: %+v", i, s)
		}
	}
	// With the servers' --terms-url, a decision on the terms links its clause.
	out, _, err = kurirDSA("export", "--terms-url", "https://kurir.example/terms")
	if err != nil {
		t.Fatalf("export --terms-url: %v", err)
	}
	for i, s := range jsonLines(t, out) {
		if !strings.HasPrefix(s.DecisionGroundReferenceURL, "https://kurir.example/terms#clause-") || sts[i].DecisionGroundReferenceURL != "" {
			t.Errorf("statement %d links %q with --terms-url and %q without; want its clause, and nothing", i, s.DecisionGroundReferenceURL, sts[i].DecisionGroundReferenceURL)
		}
	}
	if out, _, err := kurirDSA("export", "--since", "2026-11-02"); err != nil || out != "" {
		t.Errorf("export --since the next day: %q, %v", out, err)
	}
	if out, _, err := kurirDSA("export", "--since", "2026-11-01", "--pending"); err != nil || len(jsonLines(t, out)) != 3 {
		t.Errorf("export --since that day --pending: %q, %v", out, err)
	}

	// A wrong token: nothing is accepted, the command fails saying why,
	// and the statements stay pending.
	wrong := filepath.Join(dir, "old-token")
	if err := os.WriteFile(wrong, []byte("an old token"), 0o600); err != nil {
		t.Fatal(err)
	}
	out, _, err = kurirDSA("submit", "--endpoint", srv.URL, "--token-file", wrong)
	if err == nil || !strings.Contains(err.Error(), "check the token") || !strings.Contains(out, "0 accepted") {
		t.Errorf("submit with a wrong token: %q, %v", out, err)
	}
	if out, _, _ := kurirDSA("status"); !strings.Contains(out, "pending 3, accepted 0, refused 0, skipped 1") {
		t.Errorf("status after a wrong token:\n%s", out)
	}

	srv.Refuse(dsa.PUID(ids[1]), "decision_facts", "The facts name a person.")
	out, _, err = kurirDSA("submit", "--endpoint", srv.URL, "--token-file", tokenFile)
	if err != nil || !strings.Contains(out, "2 batches: 2 accepted, 1 failed, 0 skipped") {
		t.Errorf("submit: %q, %v", out, err)
	}
	if got := srv.Statements(); len(got) != 2 || got[0].PUID != sts[0].PUID || got[1].PUID != sts[2].PUID {
		t.Errorf("the database holds %+v", got)
	} else {
		diffStatement(t, got[0].Statement, sts[0])
	}
	out, _, err = kurirDSA("status")
	if err != nil || !strings.Contains(out, "pending 0, accepted 2, refused 1, skipped 1") ||
		!hasRow(out, id(ids[1])) || !strings.Contains(out, "The facts name a person.") {
		t.Errorf("status:\n%s (%v)", out, err)
	}
	if out, _, err := kurirDSA("export", "--pending"); err != nil || out != "" {
		t.Errorf("export --pending after: %q, %v", out, err)
	}

	srv.ClearRefusals()
	out, _, err = kurirDSA("submit", "--endpoint", srv.URL, "--token-file", tokenFile, "--retry-failed")
	if err != nil || !strings.Contains(out, "1 refused statements made pending again") || !strings.Contains(out, "1 accepted") {
		t.Errorf("submit --retry-failed: %q, %v", out, err)
	}
	if len(srv.Statements()) != 3 {
		t.Errorf("the database holds %d statements, want 3", len(srv.Statements()))
	}

	// Every pass is in the audit log as the operator's.
	c := common{dataDir: dir, logLevel: "error", logFormat: "text"}
	db, err := c.openDB(t.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	entries, err := audit.List(t.Context(), db.Read(), audit.Filter{})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	passes := 0
	for _, e := range entries {
		if e.Action == "admin.dsa_submit" && e.Role == kurir.RoleAdmin && strings.Contains(e.Detail, srv.URL) {
			passes++
		}
	}
	if passes != 3 {
		t.Errorf("%d submissions in the audit log, want 3", passes)
	}

	var usage usageError
	empty := filepath.Join(dir, "empty")
	if err := os.WriteFile(empty, []byte(" \n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"submit", "--token-file", tokenFile},
		{"submit", "--endpoint", "ftp://transparency.example", "--token-file", tokenFile},
		{"submit", "--endpoint", srv.URL},
		{"submit", "--endpoint", srv.URL, "--token-file", filepath.Join(dir, "missing")},
		{"submit", "--endpoint", srv.URL, "--token-file", empty},
		{"export", "--since", "yesterday"},
		{"export", "extra"},
		{"publish"},
	} {
		if _, _, err := kurirDSA(args...); !errors.As(err, &usage) {
			t.Errorf("%q: %v, want a usage error", args, err)
		}
	}
}

func diffStatement(t *testing.T, got, want dsa.Statement) {
	t.Helper()
	g, _ := json.Marshal(got)
	w, _ := json.Marshal(want)
	if !bytes.Equal(g, w) {
		t.Errorf("the database holds\n%s\nexport wrote\n%s", g, w)
	}
}

// TestServeSubmitsDSAStatements: a server started with --dsa-endpoint and
// --dsa-token-file submits the statements of reasons by itself; one flag
// without the other is refused.
func TestServeSubmitsDSAStatements(t *testing.T) {
	dir := t.TempDir()
	ids := dsaActions(t, dir, 2)
	srv := dsatest.New(t, dsaToken)
	tokenFile := filepath.Join(dir, "dsa-token")
	if err := os.WriteFile(tokenFile, []byte(dsaToken), 0o600); err != nil {
		t.Fatal(err)
	}
	var usage usageError
	if _, _, err := kurirCmd(t, "", "serve", "--data-dir", dir, "--dsa-endpoint", srv.URL); !errors.As(err, &usage) ||
		!strings.Contains(err.Error(), "go together") {
		t.Errorf("serve with --dsa-endpoint alone: %v", err)
	}
	startServer(t, "sqlite:"+filepath.Join(dir, "kurir.db"), "--dsa-endpoint", srv.URL, "--dsa-token-file", tokenFile)
	deadline := time.Now().Add(30 * time.Second)
	for len(srv.Statements()) < 2 {
		if time.Now().After(deadline) {
			t.Fatalf("the server submitted %d statements in 30s, want 2", len(srv.Statements()))
		}
		time.Sleep(20 * time.Millisecond)
	}
	got := srv.Statements()
	if got[0].PUID != dsa.PUID(ids[0]) || got[1].PUID != dsa.PUID(ids[1]) || srv.Calls() != 1 {
		t.Errorf("the server submitted %+v in %d calls", got, srv.Calls())
	}
}
