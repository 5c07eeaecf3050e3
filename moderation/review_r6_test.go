package moderation_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/textproto"
	"strings"
	"testing"
	"time"

	"kurir"
	"kurir/audit"
	"kurir/legal/mail"
	"kurir/moderation"
)

// The notice form takes any address: the mail it causes carries none of
// the notifier's words, and one address gets a bounded number of receipts.
func TestNoticeMailCarriesNoNotifierTextAndReceiptsPerAddressAreBounded(t *testing.T) {
	run(t, func(t *testing.T, e *env) {
		sink := &mail.LogSender{Log: slog.New(slog.DiscardHandler)}
		mod := e.mailer(sink, moderation.Config{})
		owner := e.user("owner")
		_, post := e.channel(owner, "bazaar")
		lure := fmt.Sprintf("@bazaar/%d\n\nIMPORTANT: your account will be closed today.\nConfirm your password at https://evil.example/login", post.Seq)
		_, err := mod.SubmitNotice(e.ctx, moderation.NoticeParams{Explanation: "Scam.", Location: lure, Category: moderation.Scam,
			Name: "Victim", Email: "victim@example.org", GoodFaith: true})
		must(t, "SubmitNotice", err)
		deliver(t, mod, 1)
		q, err := mod.Queue(e.ctx, e.admin, moderation.QueueFilter{})
		must(t, "Queue", err)
		must(t, "Dismiss", mod.Dismiss(e.ctx, e.mod1, q[0].ID, "a real shop"))
		deliver(t, mod, 1)
		for _, m := range sink.Sent() {
			if strings.Contains(m.Body, "evil.example") || strings.Contains(m.Body, "IMPORTANT") || strings.Contains(m.Body, "@bazaar") {
				t.Errorf("%q mail repeats the notifier's location:\n%s", m.Subject, m.Body)
			}
		}

		// Seven more notices naming one address (in any case) in a day:
		// all are accepted, five more receipts go out in the day, and the
		// next day receipts go out again.
		for i := range 7 {
			email := "victim@example.org"
			if i%2 == 1 {
				email = "Victim@Example.org"
			}
			_, err := mod.SubmitNotice(e.ctx, moderation.NoticeParams{Explanation: "Scam.", Location: fmt.Sprintf("nowhere %d", i),
				Category: moderation.Scam, Name: "Victim", Email: email, GoodFaith: true})
			must(t, fmt.Sprintf("notice %d", i), err)
		}
		deliver(t, mod, 4) // the first receipt counts too
		e.clock.Advance(25 * time.Hour)
		_, err = mod.SubmitNotice(e.ctx, moderation.NoticeParams{Explanation: "Scam.", Location: "nowhere again",
			Category: moderation.Scam, Name: "Victim", Email: "victim@example.org", GoodFaith: true})
		must(t, "notice the next day", err)
		deliver(t, mod, 1)
		all, err := mod.Queue(e.ctx, e.admin, moderation.QueueFilter{Source: moderation.SourceNotice})
		must(t, "Queue", err)
		if len(all) != 8 {
			t.Errorf("%d notice cases open, want 8: every notice is accepted", len(all))
		}
	})
}

// smtpRefusal is a sender whose server refuses every recipient, quoting
// the address as real servers do.
type smtpRefusal struct{}

func (smtpRefusal) Send(ctx context.Context, m mail.Message) error {
	e := kurir.Invalid("to", "refused_address", "The mail server refused this e-mail address.")
	e.Err = fmt.Errorf("mail: smtp mx.example:25: RCPT TO: %w", &textproto.Error{Code: 550, Msg: "5.1.1 <" + m.To + ">: user unknown"})
	return e
}

func TestARefusedMailIsLoggedAndShownWithoutTheServersReply(t *testing.T) {
	run(t, func(t *testing.T, e *env) {
		var logs bytes.Buffer
		mod := moderation.NewService(e.db, e.msg, e.acc, e.clock, slog.New(slog.NewTextHandler(&logs, nil)),
			moderation.Config{Mail: smtpRefusal{}, Site: "https://kurir.example"})
		_, err := mod.SubmitNotice(e.ctx, moderation.NoticeParams{Explanation: "Scam.", Location: "nowhere", Category: moderation.Scam,
			Name: "Jo", Email: "jo.private@example.org", GoodFaith: true})
		must(t, "SubmitNotice", err)
		deliver(t, mod, 0)
		q, _ := mod.Queue(e.ctx, e.admin, moderation.QueueFilter{})
		d := e.caseOf(q[0].ID)
		m := d.Notices[0].Mail[0]
		if m.State != "failed" || !strings.Contains(m.Error, "550") || strings.Contains(m.Error, "jo.private") || strings.Contains(m.Error, "user unknown") {
			t.Errorf("mail status %+v; want failed with the SMTP code and not the server's reply", m)
		}
		if !strings.Contains(logs.String(), "550") || strings.Contains(logs.String(), "jo.private") {
			t.Errorf("log %q; want the code without the address", logs.String())
		}
	})
}

// stallSender sends slowly: while it sends, the claim runs out and
// another node tries the same mail.
type stallSender struct {
	mail.LogSender
	during func()
}

func (s *stallSender) Send(ctx context.Context, m mail.Message) error {
	s.during()
	return s.LogSender.Send(ctx, m)
}

func TestAMailWhoseClaimRanOutIsRecordedByItsNewOwner(t *testing.T) {
	run(t, func(t *testing.T, e *env) {
		other := e.mailer(&flakySender{LogSender: mail.LogSender{Log: slog.New(slog.DiscardHandler)}, fails: 1}, moderation.Config{})
		slow := &stallSender{LogSender: mail.LogSender{Log: slog.New(slog.DiscardHandler)}}
		mod := e.mailer(slow, moderation.Config{})
		slow.during = func() {
			e.clock.Advance(time.Hour) // past any claim
			deliver(t, other, 0)       // the other node claims it and is refused
		}
		_, err := mod.SubmitNotice(e.ctx, moderation.NoticeParams{Explanation: "Scam.", Location: "nowhere", Category: moderation.Scam,
			Name: "Jo", Email: "jo@example.org", GoodFaith: true})
		must(t, "SubmitNotice", err)
		deliver(t, mod, 1)
		q, _ := mod.Queue(e.ctx, e.admin, moderation.QueueFilter{})
		if m := e.caseOf(q[0].ID).Notices[0].Mail[0]; m.State != "pending" || m.Attempts != 1 {
			t.Errorf("mail status %+v; want the other node's record (pending after one refused try), not the stale node's", m)
		}
	})
}

func TestAFailedOwnInitiativeDecisionLeavesNothingInTheQueue(t *testing.T) {
	run(t, func(t *testing.T, e *env) {
		p := moderation.ActParams{Kind: moderation.Suspend, Category: moderation.Spam, Facts: "spam", Until: e.clock.Now().Add(time.Hour)}
		self := moderation.Subject{Kind: moderation.SubjectUser, User: e.mod1.ID}
		// A moderator cannot decide about their own account: the decision
		// fails after its signal is filed.
		_, err := e.mod.ActOnOwnInitiative(e.ctx, e.mod1, self, p, "")
		wantCode(t, "own account", err, kurir.EForbidden, "own_content")
		if q, _ := e.mod.Queue(e.ctx, e.admin, moderation.QueueFilter{}); len(q) != 0 {
			t.Fatalf("queue %+v after a failed decision; want it empty", q)
		}
		// Joining an existing case, the failed signal is taken back out.
		r := e.report(e.user("alice"), self, moderation.Spam)
		before := e.caseOf(r.CaseID)
		_, err = e.mod.ActOnOwnInitiative(e.ctx, e.mod1, self, p, "")
		wantCode(t, "own account again", err, kurir.EForbidden, "own_content")
		after := e.caseOf(r.CaseID)
		if after.State != moderation.StateOpen || after.SignalCount != 1 || len(after.Signals) != 1 || after.Priority != before.Priority ||
			fmt.Sprint(after.Sources) != fmt.Sprint(before.Sources) {
			t.Errorf("case after a failed decision: %+v; want it as before (%+v)", after.Case, before.Case)
		}
	})
}

func TestListReadsAreAuditedOnceAMinutePerFilter(t *testing.T) {
	run(t, func(t *testing.T, e *env) {
		count := func(action string) int {
			t.Helper()
			entries, err := audit.List(e.ctx, e.db.Read(), audit.Filter{Limit: 1000})
			must(t, "audit.List", err)
			n := 0
			for _, en := range entries {
				if en.Action == action && en.Actor == e.triage.ID {
					n++
				}
			}
			return n
		}
		read := func() {
			t.Helper()
			_, err := e.mod.Appeals(e.ctx, e.triage, "", 0)
			must(t, "Appeals", err)
			_, err = e.mod.BulkRequests(e.ctx, e.triage, "", 0)
			must(t, "BulkRequests", err)
			_, err = e.mod.Flaggers(e.ctx, e.triage)
			must(t, "Flaggers", err)
		}
		for range 5 {
			read()
		}
		_, err := e.mod.Appeals(e.ctx, e.triage, moderation.AppealRejected, 0) // another filter
		must(t, "Appeals rejected", err)
		for _, a := range []string{"bulk.list", "flaggers.view"} {
			if n := count(a); n != 1 {
				t.Errorf("%d %s entries after five reads in a minute, want 1", n, a)
			}
		}
		if n := count("appeals.view"); n != 2 {
			t.Errorf("%d appeals.view entries, want 2 (one per filter)", n)
		}
		e.clock.Advance(61 * time.Second)
		read()
		if n := count("flaggers.view"); n != 2 {
			t.Errorf("%d flaggers.view entries a minute later, want 2", n)
		}
	})
}
