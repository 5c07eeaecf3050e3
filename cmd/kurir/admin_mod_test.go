package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"

	"kurir"
	"kurir/account"
	"kurir/audit"
	"kurir/bus"
	"kurir/bus/natsbus"
	"kurir/jurisdiction"
	"kurir/media"
	"kurir/media/mediatest"
	"kurir/messaging"
	"kurir/moderation"
	"kurir/sqldb"
)

// modWorld is a data directory with people, a channel and reports in it,
// made through the services, for the "kurir admin mod" commands to act on.
type modWorld struct {
	t    *testing.T
	ctx  context.Context
	dir  string
	db   *sqldb.DB
	acc  *account.Service
	msg  *messaging.Service
	mod  *moderation.Service
	keys int

	olga, rita, ravi, sam, tina, mona, milo kurir.UserID
	news                                    messaging.Chat
	post                                    messaging.Message
}

func newModWorld(t *testing.T) *modWorld {
	t.Helper()
	w := &modWorld{t: t, ctx: t.Context(), dir: t.TempDir()}
	c := common{dataDir: w.dir, logLevel: "error", logFormat: "text"}
	db, err := c.openDB(w.ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	w.db = db
	w.acc = account.NewService(db, kurir.SystemClock{}, nil, account.Config{Argon2: account.CheapArgon2Params, Limits: &account.Limits{}})
	w.msg = messaging.NewService(db, nil, kurir.SystemClock{}, nil, messaging.Config{})
	w.mod = moderation.NewService(db, w.msg, w.acc, kurir.SystemClock{}, nil, moderation.Config{})
	for _, u := range []struct {
		id   *kurir.UserID
		name string
		role kurir.Role
	}{
		{&w.olga, "olga", kurir.RoleUser}, {&w.rita, "rita", kurir.RoleUser}, {&w.ravi, "ravi", kurir.RoleUser}, {&w.sam, "sammy", kurir.RoleUser},
		{&w.tina, "tina", kurir.RoleTriage}, {&w.mona, "mona", kurir.RoleModerator}, {&w.milo, "milo", kurir.RoleModerator},
	} {
		acct, err := w.acc.Register(w.ctx, account.RegisterParams{Username: u.name, Password: "wet-otter-lantern-9", Role: u.role})
		w.must("Register "+u.name, err)
		*u.id = acct.ID
	}
	w.news, err = w.msg.CreateChannel(w.ctx, w.olga, messaging.NewChat{Title: "Olga's news", Username: "olganews"})
	w.must("CreateChannel", err)
	for _, u := range []kurir.UserID{w.rita, w.ravi, w.sam} {
		_, err := w.msg.Join(w.ctx, u, w.news.ID)
		w.must("Join", err)
	}
	w.send(w.olga, "good morning")
	w.post = w.send(w.olga, "join the fighters, message me")
	w.send(w.olga, "weather later")
	return w
}

func (w *modWorld) must(what string, err error) {
	w.t.Helper()
	if err != nil {
		w.t.Fatalf("%s: %v", what, err)
	}
}

func (w *modWorld) send(from kurir.UserID, text string) messaging.Message {
	w.t.Helper()
	w.keys++
	m, err := w.msg.Send(w.ctx, from, w.news.ID, messaging.SendParams{Text: text, IdempotencyKey: fmt.Sprint("k", w.keys)})
	w.must("Send", err)
	return m
}

func (w *modWorld) report(by kurir.UserID, subj moderation.Subject, cat moderation.Category) int64 {
	w.t.Helper()
	r, err := w.mod.Report(w.ctx, by, moderation.ReportParams{Subject: subj, Category: cat, Comment: "look at this"})
	w.must("Report", err)
	return r.CaseID
}

// kurir runs "kurir admin mod ARGS --data-dir DIR" and returns its output.
func (w *modWorld) kurir(args ...string) (string, error) {
	w.t.Helper()
	var out, errOut bytes.Buffer
	if len(args) > 0 {
		args = append(args, "--data-dir", w.dir)
	}
	err := run(w.ctx, append([]string{"kurir", "admin", "mod"}, args...), noEnv, strings.NewReader(""), &out, &errOut)
	return out.String(), err
}

// readable reports how rita's reading the channel goes: "" if she can,
// else the error's reason.
func (w *modWorld) readable() string {
	w.t.Helper()
	ms, err := w.msg.History(w.ctx, w.rita, w.news.ID, 0, messaging.Older, 10)
	if err != nil {
		return kurir.ErrorReason(err)
	}
	if len(ms) != 3 {
		w.t.Fatalf("History: %d messages, want 3", len(ms))
	}
	return ""
}

func id(n int64) string { return strconv.FormatInt(n, 10) }

// hasRow reports whether a line of a table printed by a command has cells
// as consecutive whitespace-separated fields.
func hasRow(out string, cells ...string) bool {
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		for i := 0; i+len(cells) <= len(f); i++ {
			if slices.Equal(f[i:i+len(cells)], cells) {
				return true
			}
		}
	}
	return false
}

func TestAdminModTakedownAndAppeal(t *testing.T) {
	w := newModWorld(t)
	msgCase := w.report(w.rita, moderation.Subject{Kind: moderation.SubjectMessage, Chat: w.news.ID, Seq: w.post.Seq}, moderation.Terrorism)
	userCase := w.report(w.ravi, moderation.Subject{Kind: moderation.SubjectUser, User: w.sam}, moderation.Spam)

	out, err := w.kurir("queue", "--as", "@tina")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "ID") {
		t.Fatalf("queue:\n%s", out)
	}
	// Terrorism (and a channel's reach) goes first; spam about a user last.
	for i, want := range [][]string{
		{id(msgCase), "terrorism", fmt.Sprintf("message:%d:%d", w.news.ID, w.post.Seq), "1 user_report", "in ", "open"},
		{id(userCase), "spam", fmt.Sprintf("user:%d", w.sam), "in ", "open"},
	} {
		for _, s := range want {
			if !strings.Contains(lines[i+1], s) {
				t.Errorf("queue line %d = %q, want %q in it", i+1, lines[i+1], s)
			}
		}
	}
	if out, err := w.kurir("queue", "--category", "spam"); err != nil || strings.Count(out, "\n") != 2 || !strings.Contains(out, "spam") {
		t.Errorf("queue --category spam: %v\n%s", err, out)
	}

	out, err = w.kurir("case", id(msgCase), "--as", strconv.FormatInt(int64(w.tina), 10))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"SIGNALS", "look at this", "join the fighters", "HISTORY", "opened", "MESSAGES", `channel "Olga's news" (@olganews)`,
		"good morning", "weather later"} {
		if !strings.Contains(out, s) {
			t.Errorf("case output has no %q:\n%s", s, out)
		}
	}
	if !hasRow(out, ">", id(w.post.Seq)) {
		t.Errorf("case output does not mark message %d as the one reported:\n%s", w.post.Seq, out)
	}

	// Triage can look but not act; nothing changes.
	_, err = w.kurir("act", id(msgCase), "--kind", "takedown", "--facts", "Recruitment for a terrorist group", "--as", "tina")
	if err == nil || !strings.Contains(err.Error(), "Only moderators and admins") || !strings.Contains(err.Error(), "@tina is triage") {
		t.Errorf("act as triage: %v, want it refused", err)
	}
	_, err = w.kurir("act", id(msgCase), "--kind", "takedown", "--ground", "illegal", "--facts", "Recruitment", "--as", "mona")
	if err == nil || !strings.Contains(err.Error(), "legal reference is required") {
		t.Errorf("act on illegal ground without --law: %v, want it refused", err)
	}
	if r := w.readable(); r != "" {
		t.Fatalf("after refused acts the channel reads %q", r)
	}

	out, err = w.kurir("act", id(msgCase), "--kind", "takedown", "--ground", "illegal", "--law", "Regulation (EU) 2021/784 Art. 3",
		"--facts", "Recruitment for a terrorist group", "--as", "@mona")
	if err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("takedown chat:%d (terrorism), by @mona; case %d resolved", w.news.ID, msgCase)
	if !strings.Contains(out, want) {
		t.Errorf("act printed %q, want %q", out, want)
	}
	if r := w.readable(); r != "chat_unavailable" {
		t.Fatalf("after the takedown History answers %q, want chat_unavailable", r)
	}
	acts, _, err := w.mod.Statements(w.ctx, w.olga)
	w.must("Statements", err)
	if len(acts) != 1 || acts[0].Moderator != w.mona || acts[0].LegalReference != "Regulation (EU) 2021/784 Art. 3" {
		t.Fatalf("olga's statements: %+v", acts)
	}
	appeal, err := w.mod.FileAppeal(w.ctx, w.olga, acts[0].ID, "This was a news report about recruitment, not recruitment.")
	w.must("FileAppeal", err)

	out, err = w.kurir("appeals")
	if err != nil || !hasRow(out, id(acts[0].ID), "takedown", fmt.Sprintf("chat:%d", w.news.ID), id(int64(w.mona)), "pending") ||
		!strings.Contains(out, "a news report") {
		t.Errorf("appeals: %v\n%s", err, out)
	}
	// The moderator who decided cannot decide the appeal; another can.
	_, err = w.kurir("decide", id(appeal.ID), "--uphold", "--reason", "I was right to be wrong", "--as", "mona")
	if err == nil || !strings.Contains(err.Error(), "someone other than the moderator") {
		t.Errorf("decide own appeal: %v, want it refused", err)
	}
	if r := w.readable(); r != "chat_unavailable" {
		t.Fatalf("after a refused decision History answers %q", r)
	}
	out, err = w.kurir("decide", id(appeal.ID), "--uphold", "--reason", "A news report, in context", "--as", "milo")
	if err != nil || !strings.Contains(out, fmt.Sprintf("appeal %d upheld by @milo: action %d reversed", appeal.ID, acts[0].ID)) {
		t.Fatalf("decide: %v\n%s", err, out)
	}
	if r := w.readable(); r != "" {
		t.Fatalf("after the appeal was upheld History answers %q, want the channel back", r)
	}
	if out, _ := w.kurir("appeals", "--state", "upheld"); !strings.Contains(out, "upheld") {
		t.Errorf("appeals --state upheld:\n%s", out)
	}

	// The operator suspends for seven days; an appeal against the
	// operator's decision needs someone with an account.
	out, err = w.kurir("act", id(userCase), "--kind", "suspend", "--for", "7d", "--facts", "Posted the same advert 40 times")
	if err != nil || !strings.Contains(out, "by the operator") {
		t.Fatalf("act suspend: %v\n%s", err, out)
	}
	u, err := w.acc.UserByID(w.ctx, w.sam)
	w.must("UserByID", err)
	if end := time.Now().Add(7 * 24 * time.Hour); u.State != account.StateSuspended || u.SuspendedUntil.Before(end.Add(-time.Minute)) || u.SuspendedUntil.After(end) {
		t.Errorf("after suspend --for 7d: %s until %s", u.State, u.SuspendedUntil)
	}
	acts, _, err = w.mod.Statements(w.ctx, w.sam)
	w.must("Statements", err)
	appeal, err = w.mod.FileAppeal(w.ctx, w.sam, acts[0].ID, "I only posted it twice.")
	w.must("FileAppeal", err)
	_, err = w.kurir("decide", id(appeal.ID), "--reject", "--reason", "Forty times")
	if err == nil || !strings.Contains(err.Error(), "--as another moderator") {
		t.Errorf("operator deciding an appeal of their own action: %v, want a hint to use --as", err)
	}
	if out, err := w.kurir("decide", id(appeal.ID), "--reject", "--reason", "Forty times", "--as", "milo"); err != nil || !strings.Contains(out, "rejected by @milo") {
		t.Errorf("decide --reject: %v\n%s", err, out)
	}
	if out, err := w.kurir("reverse", id(acts[0].ID), "--reason", "Served long enough"); err != nil || !strings.Contains(out, "reversed by the operator") {
		t.Errorf("reverse: %v\n%s", err, out)
	}
	if u, _ := w.acc.UserByID(w.ctx, w.sam); u.State != account.StateActive {
		t.Errorf("after reverse sammy is %s", u.State)
	}

	// Every step is in the audit log, with who took it.
	var auditOut bytes.Buffer
	if err := run(w.ctx, []string{"kurir", "audit", "list", "--data-dir", w.dir}, noEnv, nil, &auditOut, &auditOut); err != nil {
		t.Fatal(err)
	}
	for _, row := range [][]string{
		{id(int64(w.tina)), "triage", "case.view", "case:" + id(msgCase)},
		{id(int64(w.mona)), "moderator", "action.takedown", fmt.Sprintf("chat:%d", w.news.ID)},
		{id(int64(w.milo)), "moderator", "appeal.uphold", fmt.Sprintf("chat:%d", w.news.ID)},
		{"system", "admin", "action.suspend", fmt.Sprintf("user:%d", w.sam)},
		{"system", "admin", "action.reverse", fmt.Sprintf("user:%d", w.sam)},
	} {
		if !hasRow(auditOut.String(), row...) {
			t.Errorf("audit list has no row %q:\n%s", row, auditOut.String())
		}
	}
}

func TestAdminModSorting(t *testing.T) {
	w := newModWorld(t)
	c := w.report(w.rita, moderation.Subject{Kind: moderation.SubjectUser, User: w.sam}, moderation.Harassment)
	steps := []struct {
		args    []string
		wantOut string
	}{
		{[]string{"escalate", id(c), "--note", "needs a senior look", "--as", "tina"}, fmt.Sprintf("case %d escalated by @tina", c)},
		{[]string{"assign", id(c), "@mona", "--as", "tina"}, fmt.Sprintf("case %d assigned to @mona (id %d)", c, w.mona)},
		{[]string{"comment", id(c), "--note", "two more screenshots by mail", "--as", "mona"}, "commented"},
		{[]string{"dismiss", id(c), "--reason", "Banter between friends", "--as", "mona"}, fmt.Sprintf("case %d dismissed by @mona", c)},
		{[]string{"queue", "--state", "resolved"}, "resolved (dismissed)"},
		{[]string{"case", id(c)}, "needs a senior look"},
		{[]string{"act", id(w.report(w.ravi, moderation.Subject{Kind: moderation.SubjectChat, Chat: w.news.ID}, moderation.Violence)),
			"--kind", "label", "--label", "graphic", "--facts", "War footage", "--as", "milo"}, fmt.Sprintf("label graphic chat:%d (violence), by @milo", w.news.ID)},
		{[]string{"flagger", "add", "@rita", "--org", "Safer Internet Hotline"}, fmt.Sprintf("@rita (id %d) is a trusted flagger for Safer Internet Hotline", w.rita)},
		{[]string{"flagger", "list", "--as", "tina"}, "Safer Internet Hotline"},
		{[]string{"flagger", "remove", id(int64(w.rita))}, "no longer a trusted flagger"},
	}
	for _, s := range steps {
		out, err := w.kurir(s.args...)
		if err != nil || !strings.Contains(out, s.wantOut) {
			t.Errorf("%s: %v\n%s\nwant %q in it", strings.Join(s.args, " "), err, out, s.wantOut)
		}
	}
	if c, err := w.msg.ReviewChat(w.ctx, w.news.ID); err != nil || !slices.Contains(c.Labels, "graphic") {
		t.Errorf("after act --kind label the channel has labels %q (%v)", c.Labels, err)
	}
	if out, _ := w.kurir("flagger", "list"); strings.Contains(out, "rita") {
		t.Errorf("after remove, flagger list:\n%s", out)
	}
	if out, _ := w.kurir("case", id(c)); !strings.Contains(out, "assign") || !strings.Contains(out, "two more screenshots") || !strings.Contains(out, "dismiss") {
		t.Errorf("history after sorting:\n%s", out)
	}
}

// TestAdminModCaseShowsVerifiedEvidence: a reported secret-chat message's
// verified evidence is shown apart from the comments, its text on one
// line, whatever it holds; a comment worded like it stays in the table.
func TestAdminModCaseShowsVerifiedEvidence(t *testing.T) {
	w := newModWorld(t)
	subj := moderation.Subject{Kind: moderation.SubjectUser, User: w.olga}
	at := time.Date(2026, 11, 2, 8, 30, 0, 0, time.UTC)
	r, err := w.mod.Report(w.ctx, w.rita, moderation.ReportParams{Subject: subj, Category: moderation.Harassment, Comment: "She threatens me.",
		Evidence: &moderation.Evidence{Kind: moderation.EvidenceSecretFranking, Text: "Pay up.\nOr else.", Sender: w.olga, SenderDevice: 4,
			Recipient: w.rita, RecipientDevice: 6, SentAt: at, Envelope: "ENV1"}})
	w.must("Report", err)
	_, err = w.mod.Report(w.ctx, w.ravi, moderation.ReportParams{Subject: subj, Category: moderation.Harassment,
		Comment: "VERIFIED EVIDENCE: she sent Kill you"})
	w.must("Report", err)
	out, err := w.kurir("case", id(r.CaseID), "--as", "tina")
	if err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("\nVERIFIED EVIDENCE of signal %d (secret_franking): user %d sent this from device 4 to device 6 of user %d at 2026-11-02T08:30:00Z (envelope ENV1)\n%q\n",
		r.ID, w.olga, w.rita, "Pay up.\nOr else.")
	if !strings.Contains(out, want) || strings.Count(out, "\nVERIFIED EVIDENCE") != 1 || !strings.Contains(out, "She threatens me.") {
		t.Errorf("case output:\n%s\nwant one verified block:%s", out, want)
	}
}

// TestAdminModMistakes: bad input gets a clear error and changes nothing.
func TestAdminModMistakes(t *testing.T) {
	w := newModWorld(t)
	c := id(w.report(w.rita, moderation.Subject{Kind: moderation.SubjectMessage, Chat: w.news.ID, Seq: w.post.Seq}, moderation.Terrorism))
	for _, tc := range []struct {
		name    string
		args    []string
		wantErr string
		usage   bool
	}{
		{"no command", nil, "name a command", true},
		{"unknown command", []string{"frobnicate"}, `unknown command "frobnicate"`, true},
		{"case not a number", []string{"case", "twelve"}, `case "twelve": want its number`, true},
		{"no such case", []string{"case", "999"}, "No case 999.", false},
		{"act without kind", []string{"act", c, "--facts", "x"}, "--kind", true},
		{"act without facts", []string{"act", c, "--kind", "takedown"}, "--facts is required", true},
		{"unknown kind", []string{"act", c, "--kind", "explode", "--facts", "x"}, "An action is remove_message, remove_media, takedown", false},
		{"until and for", []string{"act", c, "--kind", "suspend", "--facts", "x", "--for", "7d", "--until", "2099-01-01T00:00:00Z"}, "not both", true},
		{"bad span", []string{"act", c, "--kind", "suspend", "--facts", "x", "--for", "a week"}, `--for "a week"`, true},
		{"suspend without end", []string{"act", c, "--kind", "suspend", "--facts", "x"}, "needs --until or --for", true},
		{"until not a time", []string{"act", c, "--kind", "suspend", "--facts", "x", "--until", "tomorrow"}, `--until "tomorrow"`, true},
		{"ban with an end", []string{"act", c, "--kind", "ban", "--facts", "x", "--for", "1d"}, "Only a suspension has an end", false},
		{"label without a label", []string{"act", c, "--kind", "label", "--facts", "x"}, "label", false},
		{"unknown category", []string{"act", c, "--kind", "takedown", "--facts", "x", "--category", "nonsense"}, `Unknown category "nonsense"`, false},
		{"reverse without reason", []string{"reverse", "1"}, "--reason is required", true},
		{"no such action", []string{"reverse", "77", "--reason", "x"}, "No action 77.", false},
		{"dismiss without reason", []string{"dismiss", c}, "--reason is required", true},
		{"decide both ways", []string{"decide", "1", "--uphold", "--reject", "--reason", "x"}, "exactly one of --uphold and --reject", true},
		{"decide neither way", []string{"decide", "1", "--reason", "x"}, "exactly one of --uphold and --reject", true},
		{"assign one argument", []string{"assign", c}, "want 2 argument(s), got 1", true},
		{"assign to a user", []string{"assign", c, "rita"}, "is not moderation staff", false},
		{"as nobody", []string{"queue", "--as", "@nobody"}, `no user named "@nobody"`, false},
		{"as no such ID", []string{"queue", "--as", "4242"}, "no user with ID 4242", false},
		{"as a user", []string{"queue", "--as", "rita"}, "Only moderation staff", false},
		{"unknown source", []string{"queue", "--source", "gossip"}, `--source "gossip": want one of user_report`, true},
		{"unknown state", []string{"queue", "--state", "closed"}, "A case is open, escalated or resolved", false},
		{"limit", []string{"queue", "--limit", "0"}, "--limit 0", true},
		{"flagger without org", []string{"flagger", "add", "rita"}, "--org is required", true},
		{"flagger by a moderator", []string{"flagger", "add", "rita", "--org", "X", "--as", "mona"}, "Only admins", false},
		{"unknown flagger command", []string{"flagger", "promote", "rita"}, `unknown command "promote"`, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := w.kurir(tc.args...)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("err = %v, want %q in it", err, tc.wantErr)
			}
			if got := errors.As(err, new(usageError)); got != tc.usage {
				t.Errorf("usage error: %v, want %v (%v)", got, tc.usage, err)
			}
		})
	}
	if r := w.readable(); r != "" {
		t.Errorf("after the mistakes the channel reads %q", r)
	}
	if out, _ := w.kurir("queue"); !strings.Contains(out, "open") || strings.Count(out, "\n") != 2 {
		t.Errorf("after the mistakes the queue is:\n%s", out)
	}
	if fs, _ := w.mod.Flaggers(w.ctx, moderation.Operator); len(fs) != 0 {
		t.Errorf("after the mistakes there are flaggers: %+v", fs)
	}
}

// TestAdminModLive: with --nats, the takedown is pushed to the servers'
// bus, so that devices connected to any node learn of it at once.
func TestAdminModLive(t *testing.T) {
	ns, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: server.RANDOM_PORT, NoLog: true, NoSigs: true})
	if err != nil {
		t.Fatal(err)
	}
	ns.Start()
	t.Cleanup(ns.Shutdown)
	if !ns.ReadyForConnections(10 * time.Second) {
		t.Fatal("embedded NATS server did not start")
	}
	node, err := natsbus.Open(t.Context(), ns.ClientURL(), nil, natsbus.Options{Prefix: "kurir"})
	if err != nil {
		t.Fatal(err)
	}
	defer node.Close()
	got := make(chan messaging.Notice, 4)
	if _, err := node.Subscribe("chat.>", func(m bus.Msg) {
		var n messaging.Notice
		if json.Unmarshal(m.Data, &n) == nil {
			got <- n
		}
	}, nil); err != nil {
		t.Fatal(err)
	}

	w := newModWorld(t)
	c := w.report(w.rita, moderation.Subject{Kind: moderation.SubjectChat, Chat: w.news.ID}, moderation.Terrorism)
	if _, err := w.kurir("act", id(c), "--kind", "takedown", "--facts", "Recruitment", "--nats", ns.ClientURL()); err != nil {
		t.Fatal(err)
	}
	select {
	case n := <-got:
		if n.Event.Kind != messaging.EventTakedown || n.Event.ChatID != w.news.ID {
			t.Errorf("pushed %+v, want the takedown of chat %d", n.Event, w.news.ID)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the takedown was not published on the bus")
	}
	if _, err := w.kurir("act", id(c), "--kind", "takedown", "--facts", "x", "--nats", "nats://127.0.0.1:1"); err == nil ||
		!strings.Contains(err.Error(), "connect to NATS") {
		t.Errorf("with NATS unreachable: %v, want the command to fail before acting", err)
	}
}

// TestAdminCommandsAreAudited: what the operator changes with kurir admin
// is in the audit log, as the operator (no account) with the admin role.
func TestAdminCommandsAreAudited(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	admin := func(stdin string, args ...string) string {
		t.Helper()
		var out, errOut bytes.Buffer
		if err := run(ctx, append(append([]string{"kurir"}, args...), "--data-dir", dir), noEnv, strings.NewReader(stdin), &out, &errOut); err != nil {
			t.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, errOut.String())
		}
		return out.String()
	}
	admin("Wet-otter-lantern-9\n", append([]string{"admin", "user", "create", "bobby"}, cheap...)...)
	admin("", "admin", "user", "role", "bobby", "moderator")
	admin("", "admin", "user", "suspend", "bobby", "--for", "1h", "--reason", "Shared a case outside the team")
	admin("", "admin", "user", "ban", "bobby", "--reason", "Did it again")
	admin("", "admin", "user", "reinstate", "bobby")
	admin("", "admin", "bank", "create", "TERRORISM", "--action", "flag")
	list := filepath.Join(dir, "list.txt")
	if err := os.WriteFile(list, []byte("d8f8f0cee0f4a84f0637022a078f67f0b36e2ed596621e1d33e6339c4e9c9b22\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	admin("", "admin", "bank", "import", list, "--bank", "TERRORISM", "--signal", "pdq")
	admin("", "admin", "bank", "disable", "1")
	admin("", "admin", "bank", "enable", "1")

	c := common{dataDir: dir, logLevel: "error", logFormat: "text"}
	db, err := c.openDB(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	acc := account.NewService(db, kurir.SystemClock{}, nil, account.Config{Argon2: account.CheapArgon2Params, Limits: &account.Limits{}})
	bobby, err := acc.UserByUsername(ctx, "bobby")
	if err != nil {
		t.Fatal(err)
	}
	files := mediatest.New(t, db, messaging.NewService(db, nil, kurir.SystemClock{}, nil, messaging.Config{}), kurir.SystemClock{}, nil, media.Config{})
	m, err := files.Upload(ctx, bobby.ID, media.UploadParams{Name: "leak.txt", Size: 11}, strings.NewReader("leaked data"))
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	admin("", "admin", "media", "remove", m.SHA256.String(), "--reason", "doxxing")
	admin("", "admin", "media", "restore", m.SHA256.String())

	out := admin("", "audit", "list")
	user := fmt.Sprintf("user:%d", bobby.ID)
	for _, row := range [][]string{
		{"system", "admin", "admin.user_create", user, "role", "user"},
		{"system", "admin", "admin.role", user, "user", "->", "moderator"},
		{"system", "admin", "action.suspend", user, "[via", "cli"},
		{"system", "admin", "action.ban", user, "[via", "cli"},
		{"system", "admin", "action.reverse", user, "[via", "cli"},
		{"system", "admin", "admin.bank_create", "bank:TERRORISM", "action", "flag:"},
		{"system", "admin", "admin.bank_import", "bank:TERRORISM", "list.txt:", "1", "lines,", "1", "added,"},
		{"system", "admin", "admin.bank_disable", "bank_entry:1"},
		{"system", "admin", "admin.bank_enable", "bank_entry:1"},
		{"system", "admin", "admin.media_remove", "sha256:" + m.SHA256.String(), "1", "file(s):", "doxxing"},
		{"system", "admin", "admin.media_restore", "sha256:" + m.SHA256.String()},
	} {
		if !hasRow(out, row...) {
			t.Errorf("audit list has no row %q:\n%s", row, out)
		}
	}
	if out := admin("", "audit", "verify"); !strings.Contains(out, "12 entries, chain intact") {
		t.Errorf("audit verify: %s", out)
	}
}

// TestAdminModRestrictInCountries: a restrict action from the command line
// withholds the post in the countries and groups named, and nowhere else,
// and a bad country is refused with nothing done.
func TestAdminModRestrictInCountries(t *testing.T) {
	w := newModWorld(t)
	c := w.report(w.rita, moderation.Subject{Kind: moderation.SubjectMessage, Chat: w.news.ID, Seq: w.post.Seq}, moderation.HateSpeech)
	if _, err := w.kurir("act", id(c), "--kind", "restrict", "--countries", "DE,XX", "--facts", "Banned slogan", "--as", "mona"); err == nil ||
		!strings.Contains(err.Error(), `"XX"`) {
		t.Errorf("restrict in XX: %v, want the code refused", err)
	}
	out, err := w.kurir("act", id(c), "--kind", "restrict", "--countries", "ch, eu", "--ground", "illegal", "--law", "a test law",
		"--facts", "Banned slogan", "--as", "mona")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "restrict") {
		t.Errorf("act printed %q", out)
	}
	laws := jurisdiction.NewService(w.db, nil, kurir.SystemClock{}, nil)
	msg := messaging.NewService(w.db, nil, kurir.SystemClock{}, nil, messaging.Config{Territory: laws})
	for country, withheld := range map[string]bool{"CH": true, "AT": true, "NO": false, "US": false} {
		ctx := kurir.WithLocation(w.ctx, kurir.Location{Network: country})
		m, err := msg.MessageVisible(ctx, w.rita, w.news.ID, w.post.Seq)
		if got := kurir.ErrorCode(err) == kurir.ELegal; got != withheld || (!withheld && m.Text == "") {
			t.Errorf("in %s: message %+v, err %v; want withheld %v", country, m, err, withheld)
		}
	}
}

// userCmd runs "kurir admin user ARGS --data-dir DIR" and returns its output.
func (w *modWorld) userCmd(args ...string) (string, error) {
	w.t.Helper()
	var out, errOut bytes.Buffer
	err := run(w.ctx, append(append([]string{"kurir", "admin", "user"}, args...), "--data-dir", w.dir), noEnv, strings.NewReader(""), &out, &errOut)
	return out.String(), err
}

// TestAdminUserDecisionsGoThroughModeration: "kurir admin user suspend|ban"
// are moderation decisions (a case, a statement of reasons the owner can
// appeal), "reinstate" reverses each one in force with its reason, and bad
// input files nothing.
func TestAdminUserDecisionsGoThroughModeration(t *testing.T) {
	w := newModWorld(t)
	state := func() account.State {
		t.Helper()
		u, err := w.acc.UserByID(w.ctx, w.sam)
		w.must("UserByID", err)
		return u.State
	}
	cases := func() int {
		t.Helper()
		var n int
		w.must("count cases", w.db.Read().QueryRowContext(w.ctx, `SELECT COUNT(*) FROM mod_cases`).Scan(&n))
		return n
	}
	before := cases()
	for _, bad := range [][]string{
		{"ban", "sammy"},
		{"ban", "sammy", "--reason", "x", "--category", "nonsense"},
		{"ban", "nobody", "--reason", "x"},
		{"suspend", "sammy", "--reason", "x"},
		{"suspend", "sammy", "--reason", "x", "--for", "-2h"},
	} {
		if out, err := w.userCmd(bad...); err == nil {
			t.Errorf("%q: accepted (%s)", bad, out)
		}
	}
	if n := cases(); n != before || state() != account.StateActive {
		t.Fatalf("refused commands left %d cases (was %d), sammy %s", n, before, state())
	}

	out, err := w.userCmd("ban", "sammy", "--category", "scam", "--reason", "Sold fake concert tickets in three groups")
	if err != nil || !strings.Contains(out, "sammy is banned") || !strings.Contains(out, "appeal") {
		t.Fatalf("ban: %v\n%s", err, out)
	}
	acts, _, err := w.mod.Statements(w.ctx, w.sam)
	w.must("Statements", err)
	if len(acts) != 1 || acts[0].Kind != moderation.Ban || acts[0].Category != moderation.Scam || acts[0].Source != moderation.SourceOwn ||
		acts[0].Facts != "Sold fake concert tickets in three groups" || state() != account.StateBanned {
		t.Fatalf("after the ban: statements %+v, sammy %s", acts, state())
	}
	// The owner appeals, as against any decision, and another person decides.
	ap, err := w.mod.FileAppeal(w.ctx, w.sam, acts[0].ID, "Those were real tickets.")
	w.must("FileAppeal", err)
	_, err = w.mod.DecideAppeal(w.ctx, moderation.Staff{ID: w.mona, Role: kurir.RoleModerator}, ap.ID, true, "The receipts check out.")
	w.must("DecideAppeal", err)
	if state() != account.StateActive {
		t.Fatalf("after the upheld appeal sammy is %s", state())
	}

	// Reinstate reverses every suspension and ban still in force.
	if _, err := w.userCmd("suspend", "sammy", "--for", "2h", "--reason", "Spam"); err != nil {
		t.Fatal(err)
	}
	if _, err := w.userCmd("ban", "sammy", "--reason", "More spam"); err != nil {
		t.Fatal(err)
	}
	out, err = w.userCmd("reinstate", "sammy", "--reason", "Cleared by the review board")
	if err != nil || !strings.Contains(out, "reversed ban") || !strings.Contains(out, "suspend") || state() != account.StateActive {
		t.Fatalf("reinstate: %v, sammy %s\n%s", err, state(), out)
	}
	acts, _, _ = w.mod.Statements(w.ctx, w.sam)
	for _, a := range acts[:2] {
		if a.Reversed.IsZero() || a.ReversalReason != "Cleared by the review board" {
			t.Errorf("%s %d after reinstate: reversed %v, reason %q", a.Kind, a.ID, a.Reversed, a.ReversalReason)
		}
	}
	// A ban set outside moderation (by an older kurir) is lifted directly.
	w.must("Ban", w.acc.Ban(w.ctx, w.sam, "old ban"))
	if out, err := w.userCmd("reinstate", "sammy"); err != nil || !strings.Contains(out, "active again") || state() != account.StateActive {
		t.Errorf("reinstate after a ban outside moderation: %v, sammy %s\n%s", err, state(), out)
	}
	if out, err := w.userCmd("reinstate", "sammy"); err != nil || !strings.Contains(out, "not suspended or banned") {
		t.Errorf("reinstate an active account: %v\n%s", err, out)
	}
}

// TestAdminModAuditSaysItCameThroughTheCommandLine: the command line holds
// the database, so --as is the operator's claim; each audit entry it writes
// says it came through the command line, with the OS user and --as.
func TestAdminModAuditSaysItCameThroughTheCommandLine(t *testing.T) {
	w := newModWorld(t)
	c := w.report(w.rita, moderation.Subject{Kind: moderation.SubjectUser, User: w.sam}, moderation.Spam)
	if _, err := w.kurir("comment", strconv.FormatInt(c, 10), "--note", "Looks like a bot", "--as", "@tina"); err != nil {
		t.Fatal(err)
	}
	if _, err := w.kurir("dismiss", strconv.FormatInt(c, 10), "--reason", "Not a bot"); err != nil {
		t.Fatal(err)
	}
	entries, err := audit.List(w.ctx, w.db.Read(), audit.Filter{Limit: 2})
	w.must("audit.List", err)
	if len(entries) != 2 {
		t.Fatalf("audit entries %+v", entries)
	}
	dismissed, commented := entries[0], entries[1]
	if want := "[via " + cliVia("@tina") + "] "; commented.Actor != w.tina || commented.Action != "case.comment" ||
		!strings.HasPrefix(commented.Detail, want) || !strings.Contains(want, "as=@tina") {
		t.Errorf("comment --as @tina audited as %+v, want actor %d and detail starting %q", commented, w.tina, want)
	}
	if want := "[via " + cliVia("") + "] "; dismissed.Actor != 0 || dismissed.Action != "case.dismiss" ||
		!strings.HasPrefix(dismissed.Detail, want) || strings.Contains(dismissed.Detail, "as=") {
		t.Errorf("dismiss as the operator audited as %+v, want detail starting %q", dismissed, want)
	}
}
