package main

import (
	"fmt"
	"strings"
	"testing"

	"kurir/client"
	"kurir/sqldb/sqldbtest"
)

// TestChatReport: a message, a group and a user are reported from the
// terminal; a second report of the same message is refused clearly; the
// reasons are listed in the language asked for.
func TestChatReport(t *testing.T) {
	base := startServer(t, sqldbtest.SQLiteURL(t))
	sdk := registerUsers(t, base, "alice", "bobby")
	g, err := sdk[1].CreateGroup(t.Context(), client.NewChat{Title: "Pills", Members: []int64{mustMe(t, sdk[0])}})
	if err != nil {
		t.Fatal(err)
	}
	bad, err := sdk[1].Send(t.Context(), g.ID, client.SendParams{Text: "cheap pills, dm me"})
	if err != nil {
		t.Fatal(err)
	}
	alice := newChatUser(t)
	alice.must(chatPassword+"\n", "login", "--server", base, "--username", "alice")

	out := alice.must("", "report", "--chat", fmt.Sprint(g.ID), "--seq", fmt.Sprint(bad.Seq), "--reason", "illegal_drugs", "--comment", "selling pills")
	if !strings.Contains(out, fmt.Sprintf("reported message %d of chat %d", bad.Seq, g.ID)) {
		t.Errorf("report printed %q", out)
	}
	_, errOut, err := alice.run("", "report", "--chat", fmt.Sprint(g.ID), "--seq", fmt.Sprint(bad.Seq), "--reason", "spam")
	if err == nil || !strings.Contains(err.Error()+errOut, "already reported") {
		t.Errorf("a second report: err %v, stderr %q; want it refused as already reported", err, errOut)
	}
	alice.must("", "report", "--chat", fmt.Sprint(g.ID), "--reason", "spam")
	alice.must("", "report", "--user", "@bobby", "--reason", "scam")
	_, _, err = alice.run("", "report", "--chat", fmt.Sprint(g.ID), "--seq", "9999", "--reason", "spam")
	if err == nil {
		t.Error("reporting a message that does not exist succeeded")
	}
	_, _, err = alice.run("", "report", "--chat", fmt.Sprint(g.ID))
	if err == nil {
		t.Error("a report without a reason succeeded")
	}
	_, _, err = alice.run("", "report", "--chat", fmt.Sprint(g.ID), "--reason", "boring")
	if err == nil {
		t.Error("a report with an unknown reason succeeded")
	}
	alice.env["LANG"] = "ru_RU.UTF-8"
	if out := alice.must("", "report", "--reasons"); !strings.Contains(out, "illegal_drugs") || !strings.Contains(out, "Незаконные наркотики") {
		t.Errorf("--reasons in Russian printed %q", out)
	}
	reps, err := sdk[0].Reports(t.Context(), 10)
	if err != nil || len(reps) != 3 {
		t.Errorf("alice has %d reports (%v), want 3", len(reps), err)
	}
}

func mustMe(t *testing.T, c *client.Client) int64 {
	t.Helper()
	me, err := c.Me(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return me.ID
}
