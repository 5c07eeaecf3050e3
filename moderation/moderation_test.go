package moderation_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"
	"time"

	"kurir"
	"kurir/account"
	"kurir/audit"
	"kurir/clocktest"
	"kurir/media"
	"kurir/messaging"
	"kurir/moderation"
	"kurir/ratelimit"
	"kurir/safety"
	"kurir/safety/hashbank"
	"kurir/sqldb"
	"kurir/sqldb/sqldbtest"
)

// env is one test's world: accounts, messaging and moderation on a fresh
// database, with staff of every role.
type env struct {
	t     *testing.T
	ctx   context.Context
	db    *sqldb.DB
	clock *clocktest.Fake
	acc   *account.Service
	msg   *messaging.Service
	mod   *moderation.Service
	keys  int

	triage, mod1, mod2, admin moderation.Staff
}

func run(t *testing.T, fn func(t *testing.T, e *env)) {
	t.Helper()
	t.Parallel()
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		t.Parallel()
		clock := clocktest.New(time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC))
		e := &env{t: t, ctx: t.Context(), db: db, clock: clock}
		e.acc = account.NewService(db, clock, nil, account.Config{Argon2: account.CheapArgon2Params, Limits: &account.Limits{}})
		e.msg = messaging.NewService(db, nil, clock, nil, messaging.Config{})
		e.mod = moderation.NewService(db, e.msg, e.acc, clock, nil, moderation.Config{})
		e.triage = e.staff("tina", kurir.RoleTriage)
		e.mod1 = e.staff("mona", kurir.RoleModerator)
		e.mod2 = e.staff("milo", kurir.RoleModerator)
		e.admin = e.staff("adalove", kurir.RoleAdmin)
		fn(t, e)
	}, account.Migrations, media.Migrations, messaging.Migrations, hashbank.Migrations, safety.Migrations, audit.Migrations, moderation.Migrations)
}

func (e *env) user(name string) kurir.UserID {
	e.t.Helper()
	u, err := e.acc.Register(e.ctx, account.RegisterParams{Username: name, Password: "wet-otter-lantern-9"})
	if err != nil {
		e.t.Fatalf("Register %q: %v", name, err)
	}
	return u.ID
}

func (e *env) staff(name string, role kurir.Role) moderation.Staff {
	id := e.user(name)
	must(e.t, "SetRole", e.acc.SetRole(e.ctx, id, role))
	return moderation.Staff{ID: id, Role: role}
}

func (e *env) send(from kurir.UserID, chat messaging.ChatID, text string) messaging.Message {
	e.t.Helper()
	e.keys++
	m, err := e.msg.Send(e.ctx, from, chat, messaging.SendParams{Text: text, IdempotencyKey: fmt.Sprint("k", e.keys)})
	must(e.t, "Send", err)
	return m
}

// channel creates a public channel of owner's with subscribers and one post.
func (e *env) channel(owner kurir.UserID, name string, subs ...kurir.UserID) (messaging.Chat, messaging.Message) {
	e.t.Helper()
	ch, err := e.msg.CreateChannel(e.ctx, owner, messaging.NewChat{Title: "Channel " + name, Username: name})
	must(e.t, "CreateChannel", err)
	for _, s := range subs {
		_, err := e.msg.Join(e.ctx, s, ch.ID)
		must(e.t, "Join", err)
	}
	return ch, e.send(owner, ch.ID, "post in "+name)
}

func (e *env) report(reporter kurir.UserID, subj moderation.Subject, cat moderation.Category) moderation.Report {
	e.t.Helper()
	r, err := e.mod.Report(e.ctx, reporter, moderation.ReportParams{Subject: subj, Category: cat, Comment: "look at this"})
	must(e.t, "Report", err)
	return r
}

func (e *env) caseOf(id int64) moderation.CaseDetail {
	e.t.Helper()
	d, err := e.mod.Case(e.ctx, e.admin, id)
	must(e.t, "Case", err)
	return d
}

func must(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func wantCode(t *testing.T, what string, err error, code kurir.Code, reason string) {
	t.Helper()
	if kurir.ErrorCode(err) != code || reason != "" && kurir.ErrorReason(err) != reason {
		t.Errorf("%s: got %q/%q (%v), want %q/%q", what, kurir.ErrorCode(err), kurir.ErrorReason(err), err, code, reason)
	}
}

func msgSubject(m messaging.Message) moderation.Subject {
	return moderation.Subject{Kind: moderation.SubjectMessage, Chat: m.ChatID, Seq: m.Seq}
}

func TestReportsAboutOneSubjectJoinOneCaseAndCountEachReporterOnce(t *testing.T) {
	run(t, func(t *testing.T, e *env) {
		owner, a, b := e.user("owner"), e.user("alice"), e.user("bobby")
		_, post := e.channel(owner, "news", a, b)
		r1 := e.report(a, msgSubject(post), moderation.Spam)
		r2 := e.report(b, msgSubject(post), moderation.Terrorism)
		if r1.CaseID != r2.CaseID {
			t.Fatalf("two reports of one message opened cases %d and %d", r1.CaseID, r2.CaseID)
		}
		_, err := e.mod.Report(e.ctx, a, moderation.ReportParams{Subject: msgSubject(post), Category: moderation.Violence})
		wantCode(t, "second report by the same reporter", err, kurir.EConflict, "already_reported")
		d := e.caseOf(r1.CaseID)
		if d.SignalCount != 2 || len(d.Case.Sources) != 1 {
			t.Errorf("case counts %d signals from %v, want 2 user reports", d.SignalCount, d.Case.Sources)
		}
		if d.Category != moderation.Terrorism {
			t.Errorf("case category %q, want the most severe reported (terrorism)", d.Category)
		}
		if want := e.clock.Now().Add(time.Hour); !d.Due.Equal(want) {
			t.Errorf("due %v, want the terrorism SLA of one hour: %v", d.Due, want)
		}
		if len(d.Messages) != 1 || d.Messages[0].Text != "post in news" {
			t.Errorf("case context %+v, want the reported post", d.Messages)
		}
		if d.Signals[0].Detail != "post in news" {
			t.Errorf("evidence kept with the report: %q", d.Signals[0].Detail)
		}
	})
}

func TestPriorityPutsSevereCategoriesReachAndTrustedFlaggersFirst(t *testing.T) {
	run(t, func(t *testing.T, e *env) {
		owner, small, a, b, ngo := e.user("owner"), e.user("smallowner"), e.user("alice"), e.user("bobby"), e.user("hotline")
		subs := []kurir.UserID{a, b}
		for i := range 30 {
			subs = append(subs, e.user(fmt.Sprintf("sub%02d", i)))
		}
		_, big := e.channel(owner, "bignews", subs...)
		_, tiny := e.channel(small, "tinynews", a, b)
		spamBig := e.report(a, msgSubject(big), moderation.Spam)
		spamTiny := e.report(a, msgSubject(tiny), moderation.Spam)
		csam := e.report(b, moderation.Subject{Kind: moderation.SubjectUser, User: small}, moderation.ChildAbuse)
		must(t, "AddFlagger", e.mod.AddFlagger(e.ctx, e.admin, ngo, "Hotline e.V."))
		wantCode(t, "moderator adds a flagger", e.mod.AddFlagger(e.ctx, e.mod1, a, "x"), kurir.EForbidden, "")

		q, err := e.mod.Queue(e.ctx, e.triage, moderation.QueueFilter{})
		must(t, "Queue", err)
		order := func(q []moderation.Case) []int64 {
			var ids []int64
			for _, c := range q {
				ids = append(ids, c.ID)
			}
			return ids
		}
		if got := order(q); len(got) != 3 || got[0] != csam.CaseID || got[1] != spamBig.CaseID || got[2] != spamTiny.CaseID {
			t.Errorf("queue %v, want child abuse %d, then spam with more reach %d, then %d", got, csam.CaseID, spamBig.CaseID, spamTiny.CaseID)
		}
		before := q[2].Priority
		flagged := e.report(ngo, msgSubject(tiny), moderation.Spam)
		if flagged.CaseID != spamTiny.CaseID {
			t.Fatalf("flagger's report opened case %d, want it to join %d", flagged.CaseID, spamTiny.CaseID)
		}
		q, _ = e.mod.Queue(e.ctx, e.triage, moderation.QueueFilter{Source: moderation.SourceFlagger})
		if len(q) != 1 || q[0].ID != spamTiny.CaseID || q[0].Priority <= before+15 {
			t.Errorf("queue of flagged cases %+v; want case %d with priority above %d", q, spamTiny.CaseID, before+15)
		}
		q, _ = e.mod.Queue(e.ctx, e.triage, moderation.QueueFilter{Category: moderation.ChildAbuse})
		if len(q) != 1 || q[0].ID != csam.CaseID {
			t.Errorf("child abuse queue: %+v", q)
		}
	})
}

func TestReporterTrackRecordWeighsTheirReports(t *testing.T) {
	run(t, func(t *testing.T, e *env) {
		owner, crier, good := e.user("owner"), e.user("crier"), e.user("goodeye")
		ch, _ := e.channel(owner, "daily", crier, good)
		// The crier's first three reports are dismissed; the good eye's acted on.
		for i := range 3 {
			m := e.send(owner, ch.ID, fmt.Sprint("fine post ", i))
			r := e.report(crier, msgSubject(m), moderation.Spam)
			must(t, "Dismiss", e.mod.Dismiss(e.ctx, e.mod1, r.CaseID, "nothing wrong"))
			m2 := e.send(owner, ch.ID, fmt.Sprint("bad post ", i))
			r2 := e.report(good, msgSubject(m2), moderation.Spam)
			_, err := e.mod.Act(e.ctx, e.mod1, r2.CaseID, moderation.ActParams{Kind: moderation.RemoveMessage, Facts: "advertising"})
			must(t, "Act", err)
		}
		m1, m2 := e.send(owner, ch.ID, "one"), e.send(owner, ch.ID, "two")
		fromCrier := e.report(crier, msgSubject(m1), moderation.Spam)
		fromGood := e.report(good, msgSubject(m2), moderation.Spam)
		c1, c2 := e.caseOf(fromCrier.CaseID), e.caseOf(fromGood.CaseID)
		if c1.Priority >= c2.Priority {
			t.Errorf("priority of a report from a reporter always dismissed %d >= one always acted on %d", c1.Priority, c2.Priority)
		}
	})
}

func TestBadReportsAreRefusedAndWriteNothing(t *testing.T) {
	run(t, func(t *testing.T, e *env) {
		owner, a, outsider := e.user("owner"), e.user("alice"), e.user("outsider")
		g, err := e.msg.CreateGroup(e.ctx, owner, messaging.NewChat{Title: "Closed", Members: []kurir.UserID{a}})
		must(t, "CreateGroup", err)
		secret := e.send(owner, g.ID, "members only")
		own := e.send(a, g.ID, "mine")
		for _, tc := range []struct {
			name     string
			reporter kurir.UserID
			p        moderation.ReportParams
			code     kurir.Code
		}{
			{"message in a chat the reporter cannot see", outsider, moderation.ReportParams{Subject: msgSubject(secret), Category: moderation.Spam}, kurir.ENotFound},
			{"nonexistent message", a, moderation.ReportParams{Subject: moderation.Subject{Kind: moderation.SubjectMessage, Chat: g.ID, Seq: 999}, Category: moderation.Spam}, kurir.ENotFound},
			{"nonexistent chat", a, moderation.ReportParams{Subject: moderation.Subject{Kind: moderation.SubjectChat, Chat: 999}, Category: moderation.Spam}, kurir.ENotFound},
			{"nonexistent user", a, moderation.ReportParams{Subject: moderation.Subject{Kind: moderation.SubjectUser, User: 999}, Category: moderation.Spam}, kurir.ENotFound},
			{"own message", a, moderation.ReportParams{Subject: msgSubject(own), Category: moderation.Spam}, kurir.EInvalid},
			{"unknown reason", a, moderation.ReportParams{Subject: msgSubject(secret), Category: "meh"}, kurir.EInvalid},
			{"oversized comment", a, moderation.ReportParams{Subject: msgSubject(secret), Category: moderation.Spam, Comment: strings.Repeat("x", 2001)}, kurir.EInvalid},
			{"comment with control characters", a, moderation.ReportParams{Subject: msgSubject(secret), Category: moderation.Spam, Comment: "a\x00b"}, kurir.EInvalid},
		} {
			_, err := e.mod.Report(e.ctx, tc.reporter, tc.p)
			wantCode(t, tc.name, err, tc.code, "")
		}
		q, err := e.mod.Queue(e.ctx, e.admin, moderation.QueueFilter{})
		must(t, "Queue", err)
		if len(q) != 0 {
			t.Errorf("bad reports opened %d cases", len(q))
		}
		_, err = e.mod.Queue(e.ctx, moderation.Staff{ID: a, Role: kurir.RoleUser}, moderation.QueueFilter{})
		wantCode(t, "a user lists cases", err, kurir.EForbidden, "")
		_, err = e.mod.Case(e.ctx, moderation.Staff{ID: a, Role: kurir.RoleUser}, 1)
		wantCode(t, "a user opens a case", err, kurir.EForbidden, "")
	})
}

// TestReportEvidence: what the server verified before filing a report is
// kept in full beside the reporter's comment, not in it, and reads back
// the same from the case and from the reporter's reports; a report without
// any (every report a user files) has none, and evidence that could not
// have been verified is refused and files nothing.
func TestReportEvidence(t *testing.T) {
	run(t, func(t *testing.T, e *env) {
		sender, reporter, other := e.user("sender"), e.user("recipient"), e.user("other")
		text := strings.Repeat("Pay me or else. ", moderation.MaxEvidenceText/16) // all 4,096 characters
		ev := moderation.Evidence{Kind: moderation.EvidenceSecretFranking, Text: text, Sender: sender, SenderDevice: 7,
			Recipient: reporter, RecipientDevice: 9, SentAt: time.Date(2026, 10, 31, 22, 15, 3, 123456789, time.UTC), Envelope: "env-1"}
		subj := moderation.Subject{Kind: moderation.SubjectUser, User: sender}

		for _, tc := range []struct {
			name   string
			edit   func(ev *moderation.Evidence)
			reason string
		}{
			{"an unknown kind", func(ev *moderation.Evidence) { ev.Kind = "trust_me" }, "unknown_evidence"},
			{"text too long", func(ev *moderation.Evidence) { ev.Text += "!" }, "too_long"},
			{"a control character", func(ev *moderation.Evidence) { ev.Text = "see \x1b[2J here" }, "invalid_characters"},
			{"a C1 control character", func(ev *moderation.Evidence) { ev.Text = "see \u009b2J here" }, "invalid_characters"},
			{"invalid UTF-8", func(ev *moderation.Evidence) { ev.Text = "see \xff" }, "invalid_utf8"},
		} {
			bad := ev
			tc.edit(&bad)
			_, err := e.mod.Report(e.ctx, reporter, moderation.ReportParams{Subject: subj, Category: moderation.Harassment, Evidence: &bad})
			wantCode(t, tc.name, err, kurir.EInvalid, tc.reason)
		}
		if q, err := e.mod.Queue(e.ctx, e.admin, moderation.QueueFilter{}); err != nil || len(q) != 0 {
			t.Fatalf("refused evidence opened cases %+v (%v)", q, err)
		}

		filed, err := e.mod.Report(e.ctx, reporter, moderation.ReportParams{Subject: subj, Category: moderation.Harassment,
			Comment: "Threats, again.", Evidence: &ev})
		must(t, "Report with evidence", err)
		plain, err := e.mod.Report(e.ctx, other, moderation.ReportParams{Subject: subj, Category: moderation.Harassment,
			Comment: "Secret-chat message, verified by message franking: sent by user 1. Its text: I will hurt you"})
		must(t, "Report without evidence", err)
		if plain.CaseID != filed.CaseID || plain.Evidence != nil {
			t.Fatalf("the plain report joined case %d with evidence %+v, want case %d and none", plain.CaseID, plain.Evidence, filed.CaseID)
		}

		want := ev
		want.SentAt = want.SentAt.Truncate(time.Microsecond) // stored to the microsecond, like every time
		check := func(where string, got *moderation.Evidence, comment string) {
			t.Helper()
			if got == nil || *got != want {
				t.Errorf("%s: evidence %+v, want %+v", where, got, want)
			}
			if comment != "Threats, again." {
				t.Errorf("%s: comment %q, want only the reporter's words", where, comment)
			}
		}
		check("the report as filed", filed.Evidence, filed.Comment)
		d := e.caseOf(filed.CaseID)
		if len(d.Signals) != 2 {
			t.Fatalf("case %d has %d signals, want 2", d.ID, len(d.Signals))
		}
		check("the case's first signal", d.Signals[0].Evidence, d.Signals[0].Comment)
		if g := d.Signals[1]; g.Evidence != nil || g.Reporter != other {
			t.Errorf("the plain report's signal: evidence %+v from %d, want none from %d", g.Evidence, g.Reporter, other)
		}
		mine, err := e.mod.Reports(e.ctx, reporter, 0)
		must(t, "Reports", err)
		if len(mine) != 1 {
			t.Fatalf("reporter has %d reports, want 1", len(mine))
		}
		check("the reporter's reports", mine[0].Evidence, mine[0].Comment)
		theirs, err := e.mod.Reports(e.ctx, other, 0)
		must(t, "Reports", err)
		if len(theirs) != 1 || theirs[0].Evidence != nil {
			t.Errorf("the plain reporter's reports: %+v, want one without evidence", theirs)
		}
	})
}

func TestTakedownStatementAppealAndReversal(t *testing.T) {
	run(t, func(t *testing.T, e *env) {
		owner, a := e.user("owner"), e.user("alice")
		ch, post := e.channel(owner, "propaganda", a)
		r := e.report(a, msgSubject(post), moderation.Terrorism)

		_, err := e.mod.Act(e.ctx, e.triage, r.CaseID, moderation.ActParams{Kind: moderation.TakeDown, Facts: "x"})
		wantCode(t, "triage takes down", err, kurir.EForbidden, "")
		must(t, "triage escalates", e.mod.Escalate(e.ctx, e.triage, r.CaseID, "looks like IS propaganda"))
		_, err = e.mod.Act(e.ctx, e.mod1, r.CaseID, moderation.ActParams{Kind: moderation.TakeDown})
		wantCode(t, "act without facts", err, kurir.EInvalid, "required")
		_, err = e.mod.Act(e.ctx, e.mod1, r.CaseID, moderation.ActParams{Kind: moderation.TakeDown, Facts: "x", Ground: moderation.GroundIllegal})
		wantCode(t, "illegal ground without the law", err, kurir.EInvalid, "required")

		act, err := e.mod.Act(e.ctx, e.mod1, r.CaseID, moderation.ActParams{Kind: moderation.TakeDown, Ground: moderation.GroundIllegal,
			LegalReference: "Regulation (EU) 2021/784", Facts: "The channel posts recruitment material of a listed terrorist organisation."})
		must(t, "Act", err)
		if act.Affected != owner || act.Subject.Kind != moderation.SubjectChat {
			t.Errorf("action affects %d on %v, want the channel's owner %d", act.Affected, act.Subject, owner)
		}
		_, err = e.msg.History(e.ctx, a, ch.ID, 0, messaging.Older, 10)
		wantCode(t, "subscriber reads the channel taken down", err, kurir.EForbidden, "chat_unavailable")
		_, err = e.mod.Act(e.ctx, e.mod1, r.CaseID, moderation.ActParams{Kind: moderation.Ban, Facts: "x"})
		wantCode(t, "act on a resolved case", err, kurir.EConflict, "")

		acts, appeals, err := e.mod.Statements(e.ctx, owner)
		must(t, "Statements", err)
		if len(acts) != 1 || len(appeals) != 0 {
			t.Fatalf("owner's statements: %+v, %+v", acts, appeals)
		}
		st := e.mod.Statement(acts[0], nil, "ru-RU,ru;q=0.9")
		if st.Lang != "ru" || !strings.Contains(st.Restriction, "канал") || !strings.Contains(st.Ground, "2021/784") || st.Category != "Терроризм" {
			t.Errorf("statement in Russian: %+v", st)
		}
		if !strings.Contains(st.Automation, "человеком") {
			t.Errorf("statement says %q; want it to say a person decided", st.Automation)
		}
		if nobody, _, _ := e.mod.Statements(e.ctx, a); len(nobody) != 0 {
			t.Errorf("the reporter is shown %d statements about someone else's channel", len(nobody))
		}

		_, err = e.mod.FileAppeal(e.ctx, a, act.ID, "not mine but unfair")
		wantCode(t, "someone else appeals", err, kurir.ENotFound, "")
		p, err := e.mod.FileAppeal(e.ctx, owner, act.ID, "This is news reporting, not propaganda.")
		must(t, "FileAppeal", err)
		_, err = e.mod.FileAppeal(e.ctx, owner, act.ID, "again")
		wantCode(t, "appeal twice", err, kurir.EConflict, "already_appealed")

		_, err = e.mod.DecideAppeal(e.ctx, e.mod1, p.ID, true, "I was wrong")
		wantCode(t, "the deciding moderator decides the appeal", err, kurir.EForbidden, "own_decision")
		_, err = e.mod.DecideAppeal(e.ctx, e.triage, p.ID, true, "x")
		wantCode(t, "triage decides an appeal", err, kurir.EForbidden, "")
		pending, err := e.mod.Appeals(e.ctx, e.mod2, "", 10)
		must(t, "Appeals", err)
		if len(pending) != 1 || pending[0].Action.ID != act.ID {
			t.Fatalf("appeal queue: %+v", pending)
		}
		_, err = e.mod.DecideAppeal(e.ctx, e.mod2, p.ID, true, "Journalistic context; the post reports on the attack.")
		must(t, "DecideAppeal", err)
		if got := e.msg; got != nil {
			h, err := e.msg.History(e.ctx, a, ch.ID, 0, messaging.Older, 10)
			must(t, "History after the appeal", err)
			if len(h) != 1 {
				t.Errorf("channel after the appeal has %d messages, want its post back", len(h))
			}
		}
		acts, appeals, _ = e.mod.Statements(e.ctx, owner)
		if acts[0].Reversed.IsZero() || appeals[act.ID].State != moderation.AppealUpheld {
			t.Errorf("after the appeal: action %+v, appeal %+v", acts[0], appeals[act.ID])
		}
		st = e.mod.Statement(acts[0], new(appeals[act.ID]), "ar")
		if st.Reversed == "" || st.AppealStatus == "" {
			t.Errorf("Arabic statement after reversal: %+v", st)
		}
		_, err = e.mod.DecideAppeal(e.ctx, e.mod2, p.ID, false, "again")
		wantCode(t, "decide twice", err, kurir.EConflict, "")

		reps, err := e.mod.Reports(e.ctx, a, 10)
		must(t, "Reports", err)
		if len(reps) != 1 || reps[0].State != moderation.StateResolved || reps[0].Outcome != "actioned" {
			t.Errorf("the reporter sees their report as %+v", reps)
		}

		res, err := audit.Verify(e.ctx, e.db.Read())
		must(t, "audit.Verify", err)
		entries, err := audit.List(e.ctx, e.db.Read(), audit.Filter{Limit: 100})
		must(t, "audit.List", err)
		var kinds []string
		for _, en := range entries {
			kinds = append(kinds, en.Action)
		}
		for _, want := range []string{"case.escalate", "action.takedown", "appeal.uphold"} {
			if !strings.Contains(strings.Join(kinds, " "), want) {
				t.Errorf("audit log %v lacks %s", kinds, want)
			}
		}
		if !res.OK {
			t.Errorf("audit chain broken: %+v", res)
		}
	})
}

func TestAppealWindowCloses(t *testing.T) {
	run(t, func(t *testing.T, e *env) {
		owner, a := e.user("owner"), e.user("alice")
		g, err := e.msg.CreateGroup(e.ctx, owner, messaging.NewChat{Title: "G", Members: []kurir.UserID{a}})
		must(t, "CreateGroup", err)
		m := e.send(owner, g.ID, "buy now")
		r := e.report(a, msgSubject(m), moderation.Scam)
		act, err := e.mod.Act(e.ctx, e.mod1, r.CaseID, moderation.ActParams{Kind: moderation.Suspend, Facts: "scam links",
			Until: e.clock.Now().Add(7 * 24 * time.Hour)})
		must(t, "Act suspend", err)
		u, err := e.acc.UserByID(e.ctx, owner)
		must(t, "UserByID", err)
		if u.State != account.StateSuspended {
			t.Errorf("account state %q after suspension", u.State)
		}
		e.clock.Advance(184 * 24 * time.Hour)
		_, err = e.mod.FileAppeal(e.ctx, owner, act.ID, "please")
		wantCode(t, "appeal after six months", err, kurir.EForbidden, "appeal_window_closed")
	})
}

func TestRemoveMessageAndReverse(t *testing.T) {
	run(t, func(t *testing.T, e *env) {
		owner, a := e.user("owner"), e.user("alice")
		ch, post := e.channel(owner, "deals", a)
		r := e.report(a, msgSubject(post), moderation.Scam)
		act, err := e.mod.Act(e.ctx, e.mod1, r.CaseID, moderation.ActParams{Kind: moderation.RemoveMessage, Facts: "phishing link"})
		must(t, "Act", err)
		if act.Excerpt != "post in deals" {
			t.Errorf("action keeps %q of the message", act.Excerpt)
		}
		if h, _ := e.msg.History(e.ctx, a, ch.ID, 0, messaging.Older, 10); len(h) != 0 {
			t.Errorf("history after removal: %+v", h)
		}
		wantCode(t, "triage reverses", e.mod.Reverse(e.ctx, e.triage, act.ID, "x"), kurir.EForbidden, "")
		must(t, "Reverse", e.mod.Reverse(e.ctx, e.mod2, act.ID, "it was a real deal"))
		if h, _ := e.msg.History(e.ctx, a, ch.ID, 0, messaging.Older, 10); len(h) != 1 {
			t.Errorf("history after reversal has %d messages, want 1", len(h))
		}
		wantCode(t, "Reverse twice", e.mod.Reverse(e.ctx, e.mod2, act.ID, "again"), kurir.EConflict, "")
	})
}

func TestNoticesFromPeopleWithoutAnAccount(t *testing.T) {
	run(t, func(t *testing.T, e *env) {
		owner := e.user("owner")
		_, post := e.channel(owner, "leaks")
		good := moderation.NoticeParams{Explanation: "It publishes my home address.", Location: "https://kurir.example/@leaks/" + fmt.Sprint(post.Seq),
			Category: moderation.PersonalDetails, Name: "Jane Roe", Email: "jane@example.org", GoodFaith: true}
		for _, tc := range []struct {
			name  string
			edit  func(p *moderation.NoticeParams)
			field string
		}{
			{"no explanation", func(p *moderation.NoticeParams) { p.Explanation = " " }, "explanation"},
			{"no location", func(p *moderation.NoticeParams) { p.Location = "" }, "location"},
			{"no name", func(p *moderation.NoticeParams) { p.Name = "" }, "name"},
			{"no email", func(p *moderation.NoticeParams) { p.Email = "" }, "email"},
			{"bad email", func(p *moderation.NoticeParams) { p.Email = "jane at home" }, "email"},
			{"no good faith", func(p *moderation.NoticeParams) { p.GoodFaith = false }, "good_faith"},
			{"oversized explanation", func(p *moderation.NoticeParams) { p.Explanation = strings.Repeat("é", 5001) }, "explanation"},
			{"unknown category", func(p *moderation.NoticeParams) { p.Category = "bad" }, "category"},
		} {
			p := good
			tc.edit(&p)
			_, err := e.mod.SubmitNotice(e.ctx, p)
			var ke *kurir.Error
			if kurir.ErrorCode(err) != kurir.EInvalid || !asError(err, &ke) || ke.Field != tc.field {
				t.Errorf("%s: got %v, want invalid %s", tc.name, err, tc.field)
			}
		}
		if q, _ := e.mod.Queue(e.ctx, e.admin, moderation.QueueFilter{}); len(q) != 0 {
			t.Fatalf("bad notices opened %d cases", len(q))
		}
		// Child sexual abuse notices may be anonymous.
		anon := good
		anon.Name, anon.Email, anon.Category, anon.Location = "", "", moderation.ChildAbuse, "somewhere else entirely"
		ra, err := e.mod.SubmitNotice(e.ctx, anon)
		must(t, "anonymous CSAM notice", err)

		rec, err := e.mod.SubmitNotice(e.ctx, good)
		must(t, "SubmitNotice", err)
		st, err := e.mod.Notice(e.ctx, rec.ID, rec.Token)
		must(t, "Notice", err)
		if st.State != "received" {
			t.Errorf("new notice state %q", st.State)
		}
		_, err = e.mod.Notice(e.ctx, rec.ID, "wrong-token")
		wantCode(t, "status with a wrong token", err, kurir.ENotFound, "")
		q, _ := e.mod.Queue(e.ctx, e.admin, moderation.QueueFilter{Source: moderation.SourceNotice})
		if len(q) != 2 {
			t.Fatalf("notice queue has %d cases, want 2", len(q))
		}
		var located moderation.Case
		for _, c := range q {
			if c.Subject.Kind == moderation.SubjectMessage {
				located = c
			}
		}
		if located.Subject != msgSubject(post) {
			t.Fatalf("the notice's location did not resolve to the post: %+v", q)
		}
		_, err = e.mod.Act(e.ctx, e.mod1, located.ID, moderation.ActParams{Kind: moderation.RemoveMessage, Facts: "doxxing", Ground: moderation.GroundIllegal, LegalReference: "GDPR Art. 6"})
		must(t, "Act", err)
		st, _ = e.mod.Notice(e.ctx, rec.ID, rec.Token)
		if st.State != "decided" || st.Outcome != "actioned" || st.Action == nil || st.Action.AutomatedDecision {
			t.Errorf("decided notice: %+v", st)
		}
		sa, _ := e.mod.Notice(e.ctx, ra.ID, ra.Token)
		if sa.State != "received" {
			t.Errorf("anonymous notice %+v", sa)
		}
	})
}

func TestDetectionFlagsOpenCases(t *testing.T) {
	run(t, func(t *testing.T, e *env) {
		author := e.user("author")
		_, err := e.db.Read().QueryContext(e.ctx, `SELECT 1`)
		must(t, "db", err)
		must(t, "insert signals", e.db.WriteTx(e.ctx, func(tx *sqldb.Tx) error {
			for _, r := range []struct{ action, cats string }{{"flag", "terrorism"}, {"block", "spam"}, {"hold", "CHILD_SAFETY"}} {
				if _, err := tx.ExecContext(e.ctx, `INSERT INTO safety_signals (source, action, categories, rules, author_id, field, excerpt, created_at)
					VALUES ('text_rule', $1, $2, 'rule', $3, 'text', 'bad words', 1)`, r.action, r.cats, author); err != nil {
					return err
				}
			}
			return nil
		}))
		n, err := e.mod.IntakeDetection(e.ctx, 100)
		must(t, "IntakeDetection", err)
		if n != 2 {
			t.Errorf("filed %d signals, want the flag and the hold (not the block)", n)
		}
		n, _ = e.mod.IntakeDetection(e.ctx, 100)
		if n != 0 {
			t.Errorf("second intake filed %d again", n)
		}
		q, _ := e.mod.Queue(e.ctx, e.admin, moderation.QueueFilter{})
		if len(q) != 1 || q[0].Category != moderation.ChildAbuse || q[0].SignalCount != 2 || q[0].Sources[0] != moderation.SourceTextRule {
			t.Errorf("queue after intake: %+v", q)
		}
	})
}

func asError(err error, target **kurir.Error) bool {
	e, ok := err.(*kurir.Error)
	*target = e
	return ok
}

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

func TestLabelAChannel(t *testing.T) {
	run(t, func(t *testing.T, e *env) {
		owner, a := e.user("owner"), e.user("alice")
		ch, post := e.channel(owner, "warzone", a)
		r := e.report(a, msgSubject(post), moderation.Violence)
		_, err := e.mod.Act(e.ctx, e.mod1, r.CaseID, moderation.ActParams{Kind: moderation.Label, Facts: "x"})
		wantCode(t, "label without a label", err, kurir.EInvalid, "label_required")
		_, err = e.mod.Act(e.ctx, e.mod1, r.CaseID, moderation.ActParams{Kind: moderation.Label, Label: "nice", Facts: "x"})
		wantCode(t, "unknown label", err, kurir.EInvalid, "unknown_label")
		act, err := e.mod.Act(e.ctx, e.mod1, r.CaseID, moderation.ActParams{Kind: moderation.Label, Label: "graphic", Facts: "Front-line footage with casualties."})
		must(t, "Act label", err)
		c, err := e.msg.Chat(e.ctx, a, ch.ID)
		must(t, "Chat", err)
		if len(c.Labels) != 1 || c.Labels[0] != "graphic" || c.Unavailable != "" {
			t.Errorf("labelled channel: labels %v, unavailable %q; want [graphic] and still readable", c.Labels, c.Unavailable)
		}
		if h, err := e.msg.History(e.ctx, a, ch.ID, 0, messaging.Older, 10); err != nil || len(h) != 1 {
			t.Errorf("history of a labelled channel: %v, %v", h, err)
		}
		acts, _, _ := e.mod.Statements(e.ctx, owner)
		if st := e.mod.Statement(acts[0], nil, "id"); !strings.Contains(st.Restriction, "kekerasan grafis") {
			t.Errorf("Indonesian statement of a label: %q", st.Restriction)
		}
		must(t, "Reverse", e.mod.Reverse(e.ctx, e.mod2, act.ID, "news value"))
		c, _ = e.msg.Chat(e.ctx, a, ch.ID)
		if len(c.Labels) != 0 {
			t.Errorf("labels after reversal: %v", c.Labels)
		}
	})
}

func TestStaffDoNotDecideAboutThemselvesAndAReversalAnswersAPendingAppeal(t *testing.T) {
	run(t, func(t *testing.T, e *env) {
		a := e.user("alice")
		g, err := e.msg.CreateGroup(e.ctx, e.mod1.ID, messaging.NewChat{Title: "Staff room", Members: []kurir.UserID{a}})
		must(t, "CreateGroup", err)
		own := e.send(e.mod1.ID, g.ID, "moderators' own words")
		r := e.report(a, msgSubject(own), moderation.HateSpeech)
		_, err = e.mod.Act(e.ctx, e.mod1, r.CaseID, moderation.ActParams{Kind: moderation.RemoveMessage, Facts: "x"})
		wantCode(t, "act on one's own message", err, kurir.EForbidden, "own_content")
		wantCode(t, "dismiss a case about one's own message", e.mod.Dismiss(e.ctx, e.mod1, r.CaseID, "fine"), kurir.EForbidden, "own_content")
		act, err := e.mod.Act(e.ctx, e.mod2, r.CaseID, moderation.ActParams{Kind: moderation.RemoveMessage, Facts: "insults a group"})
		must(t, "another moderator acts", err)
		p, err := e.mod.FileAppeal(e.ctx, e.mod1.ID, act.ID, "it was a quote")
		must(t, "FileAppeal", err)
		must(t, "Reverse", e.mod.Reverse(e.ctx, e.admin, act.ID, "it was a quote"))
		_, appeals, _ := e.mod.Statements(e.ctx, e.mod1.ID)
		if got := appeals[act.ID]; got.ID != p.ID || got.State != moderation.AppealUpheld {
			t.Errorf("the appeal after a direct reversal: %+v; want it upheld, not left pending", got)
		}
		if pending, _ := e.mod.Appeals(e.ctx, e.admin, "", 10); len(pending) != 0 {
			t.Errorf("appeal queue after the reversal: %+v", pending)
		}
	})
}

func TestNoticesAreRateLimitedByNetwork(t *testing.T) {
	run(t, func(t *testing.T, e *env) {
		mod := moderation.NewService(e.db, e.msg, e.acc, e.clock, nil, moderation.Config{NoticesPerIP: ratelimit.PerHour(2)})
		p := moderation.NoticeParams{Explanation: "Illegal.", Location: "@nowhere", Category: moderation.Scam, Name: "Jo", Email: "jo@example.org", GoodFaith: true, IP: "203.0.113.7"}
		for i := range 2 {
			_, err := mod.SubmitNotice(e.ctx, p)
			must(t, fmt.Sprint("notice ", i), err)
		}
		_, err := mod.SubmitNotice(e.ctx, p)
		wantCode(t, "a third notice within the hour", err, kurir.ERateLimited, "too_many_notices")
		p.IP = "198.51.100.1"
		_, err = mod.SubmitNotice(e.ctx, p)
		must(t, "a notice from another network", err)
		e.clock.Advance(time.Hour)
		p.IP = "203.0.113.7"
		_, err = mod.SubmitNotice(e.ctx, p)
		must(t, "a notice an hour later", err)
	})
}
