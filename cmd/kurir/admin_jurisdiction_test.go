package main

import (
	"bytes"
	"errors"
	"slices"
	"strings"
	"testing"

	"kurir"
	"kurir/audit"
	"kurir/jurisdiction"
	"kurir/moderation"
)

// TestAdminJurisdiction: the operator withdraws from a market, restricts
// another, and manages the country rules from the command line; a server
// over the same database applies each change; mistakes are usage errors
// that change nothing; every change is in the audit log as the operator's.
func TestAdminJurisdiction(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	c := common{dataDir: dir, logLevel: "error", logFormat: "text"}
	db, err := c.openDB(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	// server is what a running server holds of the policy.
	server := jurisdiction.NewService(db, nil, kurir.SystemClock{}, nil)

	kurirCmd := func(args ...string) (string, error) {
		t.Helper()
		var out, errOut bytes.Buffer
		err := run(ctx, append(append([]string{"kurir", "admin", "jurisdiction"}, args...), "--data-dir", dir), noEnv, strings.NewReader(""), &out, &errOut)
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
	jurAudit := func() []string {
		t.Helper()
		entries, err := audit.List(ctx, db.Read(), audit.Filter{})
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, e := range entries {
			if strings.HasPrefix(e.Action, "jurisdiction.") {
				if e.Actor != 0 || e.Role != kurir.RoleAdmin {
					t.Errorf("audit entry %+v: want the operator (actor 0, admin)", e)
				}
				out = append(out, e.Action+" "+e.Subject)
			}
		}
		return out
	}
	admitted := func(country string) error {
		t.Helper()
		if err := server.Sync(ctx); err != nil {
			t.Fatal(err)
		}
		return server.Admit(kurir.Location{Declared: country}, "en")
	}

	out, err := kurirCmd("set", "de", "--status", "withdrawn", "--note", "Pending a court ruling.")
	want("set DE withdrawn", out, err, "DE (Germany) is withdrawn")
	if err := admitted("DE"); kurir.ErrorReason(err) != "market_withdrawn" {
		t.Errorf("after withdrawing from DE, someone there is admitted with %v; want market_withdrawn", err)
	}
	out, err = kurirCmd("set", "RU", "--status", "restricted", "--off", "signup, public_chats")
	want("set RU restricted", out, err, "RU (Russian Federation) is restricted: signup, public_chats off")

	out, err = kurirCmd("rule", "add", "DE", "hate_speech", "--law", "§ 130 StGB")
	want("add a DE rule", out, err, "rule 1: hate_speech is illegal in DE under § 130 StGB")
	out, err = kurirCmd("rule", "add", "eu", "terrorism", "--law", "Directive (EU) 2017/541")
	want("add an EU rule", out, err, "rule 2: terrorism is illegal in EU")

	before := jurAudit()
	for _, c := range []struct {
		name string
		args []string
		msg  string // in the error
	}{
		{"no status", []string{"set", "DE"}, "--status is required"},
		{"an unknown country", []string{"set", "ZZ", "--status", "withdrawn"}, "CC: "},
		{"an unknown status", []string{"set", "DE", "--status", "closed"}, "--status: "},
		{"restricted with nothing off", []string{"set", "DE", "--status", "restricted"}, "--off: "},
		{"an unknown feature", []string{"set", "DE", "--status", "restricted", "--off", "voice"}, `--off: Unknown feature "voice"`},
		{"no country", []string{"set", "--status", "open"}, "want 1 argument(s), got 0"},
		{"an unknown scope", []string{"rule", "add", "XX", "hate_speech", "--law", "x"}, "SCOPE: "},
		{"an unknown category", []string{"rule", "add", "DE", "blasphemy", "--law", "§ 166 StGB"}, `CATEGORY "blasphemy": want one of child_abuse, terrorism`},
		{"no law", []string{"rule", "add", "DE", "terrorism"}, "--law is required"},
		{"a rule ID that is not one", []string{"rule", "remove", "one"}, `"one" is not a rule ID`},
		{"a rule command that is not one", []string{"rule", "edit", "1"}, `unknown command "edit"`},
		{"where of an unknown category", []string{"where", "blasphemy"}, `CATEGORY "blasphemy"`},
		{"an unknown command", []string{"ban", "DE"}, `unknown command "ban"`},
	} {
		_, err := kurirCmd(c.args...)
		var u usageError
		if !errors.As(err, &u) || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("%s: got %v, want a usage error (exit status 2) saying %q", c.name, err, c.msg)
		}
	}
	_, err = kurirCmd("rule", "add", "DE", "hate_speech", "--law", "§ 130 StGB")
	if u := (usageError{}); err == nil || errors.As(err, &u) || !strings.Contains(err.Error(), "already a rule for hate_speech in DE") {
		t.Errorf("adding the DE rule again: got %v, want a conflict (exit status 1)", err)
	}
	_, err = kurirCmd("rule", "remove", "99")
	if err == nil || !strings.Contains(err.Error(), "No country rule 99.") {
		t.Errorf("removing a rule that does not exist: got %v", err)
	}
	if after := jurAudit(); !slices.Equal(after, before) {
		t.Errorf("refused commands wrote to the audit log: %q, before %q", after, before)
	}

	out, err = kurirCmd("list")
	want("list", out, err,
		"DE       Germany             withdrawn   -                    ",
		"operator  Pending a court ruling.",
		"RU       Russian Federation  restricted  signup,public_chats",
		"1   DE     hate_speech  § 130 StGB",
		"2   EU     terrorism    Directive (EU) 2017/541")

	out, err = kurirCmd("where", "hate_speech")
	want("where hate_speech", out, err, "DE       Germany  § 130 StGB")
	if n := strings.Count(out, "\n"); n != 2 {
		t.Errorf("where hate_speech: %d lines, want the header and DE:\n%s", n, out)
	}
	out, err = kurirCmd("where", "terrorism")
	want("where terrorism", out, err, "AT       Austria", "SE       Sweden")
	if n := strings.Count(out, "\n"); n != 1+len(jurisdiction.Groups["EU"]) {
		t.Errorf("where terrorism: %d lines, want the header and the %d EU countries:\n%s", n, len(jurisdiction.Groups["EU"]), out)
	}
	out, err = kurirCmd("where", "spam")
	want("where spam", out, err, "No country rule makes spam illegal anywhere.")

	out, err = kurirCmd("rule", "remove", "1")
	want("remove the DE rule", out, err, "rule 1 removed")
	if err := server.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if rs := server.IllegalIn(moderation.HateSpeech); len(rs) != 0 {
		t.Errorf("after removing the DE rule, hate speech is illegal in %+v", rs)
	}
	out, err = kurirCmd("set", "DE", "--status", "open")
	want("reopen DE", out, err, "DE (Germany) is open; its policy is removed")
	if err := admitted("DE"); err != nil {
		t.Errorf("after reopening DE, someone there is refused: %v", err)
	}
	out, err = kurirCmd("list")
	want("list after", out, err, "RU ")
	if strings.Contains(out, "Germany") || strings.Contains(out, "hate_speech") {
		t.Errorf("list after reopening DE and removing its rule:\n%s", out)
	}

	wantAudit := []string{"jurisdiction.policy country:DE", "jurisdiction.rule.remove scope:DE", "jurisdiction.rule.add scope:EU",
		"jurisdiction.rule.add scope:DE", "jurisdiction.policy country:RU", "jurisdiction.policy country:DE"}
	if got := jurAudit(); !slices.Equal(got, wantAudit) {
		t.Errorf("audit log, newest first:\n got %q\nwant %q", got, wantAudit)
	}
}
