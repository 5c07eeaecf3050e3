package moderation_test

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"kurir"
	"kurir/legal/mail"
	"kurir/media"
	"kurir/media/mediatest"
	"kurir/messaging"
	"kurir/moderation"
)

// flakySender refuses the first fails messages as a mail server that is
// down would, then delivers to its LogSender.
type flakySender struct {
	mail.LogSender
	mu    sync.Mutex
	fails int
}

func (f *flakySender) Send(ctx context.Context, m mail.Message) error {
	f.mu.Lock()
	if f.fails > 0 {
		f.fails--
		f.mu.Unlock()
		return kurir.Errorf(kurir.EUnavailable, "mail server down")
	}
	f.mu.Unlock()
	return f.LogSender.Send(ctx, m)
}

// mailer is a moderation service of e's that mails notifiers through sink.
func (e *env) mailer(sink mail.Sender, cfg moderation.Config) *moderation.Service {
	cfg.Mail, cfg.Site = sink, "https://kurir.example"
	return moderation.NewService(e.db, e.msg, e.acc, e.clock, nil, cfg)
}

func deliver(t *testing.T, mod *moderation.Service, want int) {
	t.Helper()
	n, err := mod.DeliverMail(t.Context(), 100)
	must(t, "DeliverMail", err)
	if n != want {
		t.Fatalf("DeliverMail sent %d mails, want %d", n, want)
	}
}

func TestNotifierIsMailedAReceiptTheDecisionAndItsReversal(t *testing.T) {
	run(t, func(t *testing.T, e *env) {
		sink := &mail.LogSender{Log: slog.New(slog.DiscardHandler)}
		mod := e.mailer(sink, moderation.Config{})
		owner := e.user("owner")
		_, post := e.channel(owner, "leaks")
		rec, err := mod.SubmitNotice(e.ctx, moderation.NoticeParams{Explanation: "Alamat rumah saya dipublikasikan.",
			Location: fmt.Sprintf("https://kurir.example/@leaks/%d", post.Seq), Category: moderation.PersonalDetails,
			Name: "Siti", Email: "siti@example.org", GoodFaith: true, Lang: "id-ID,id;q=0.9,en;q=0.5"})
		must(t, "SubmitNotice", err)
		// An anonymous notice of child sexual abuse gets no mail at all.
		_, err = mod.SubmitNotice(e.ctx, moderation.NoticeParams{Explanation: "Abuse material.", Location: fmt.Sprintf("@leaks/%d", post.Seq),
			Category: moderation.ChildAbuse, GoodFaith: true})
		must(t, "anonymous SubmitNotice", err)

		deliver(t, mod, 1)
		sent := sink.Sent()
		receipt := sent[0]
		link := fmt.Sprintf("https://kurir.example/notices/status?id=%d&token=%s", rec.ID, rec.Token)
		if receipt.To != "siti@example.org" || receipt.Subject != fmt.Sprintf("Pemberitahuan Anda %d telah kami terima", rec.ID) ||
			!strings.Contains(receipt.Body, link) || !strings.Contains(receipt.Body, "Data pribadi") && !strings.Contains(receipt.Body, "Kategori:") {
			t.Fatalf("receipt %+v; want it to siti, in Indonesian, with the status link %s", receipt, link)
		}
		deliver(t, mod, 0) // sent once

		cases, err := mod.Queue(e.ctx, e.admin, moderation.QueueFilter{})
		must(t, "Queue", err)
		if len(cases) != 1 {
			t.Fatalf("queue %+v, want the post's one case", cases)
		}
		act, err := mod.Act(e.ctx, e.mod1, cases[0].ID, moderation.ActParams{Kind: moderation.RemoveMessage, Facts: "doxxing",
			Ground: moderation.GroundIllegal, LegalReference: "GDPR Art. 6"})
		must(t, "Act", err)
		deliver(t, mod, 1)
		decision := sink.Sent()[1]
		if decision.To != "siti@example.org" || decision.Subject != fmt.Sprintf("Keputusan atas pemberitahuan Anda %d", rec.ID) ||
			!strings.Contains(decision.Body, "pesan tersebut dihapus") || !strings.Contains(decision.Body, "oleh seorang manusia") {
			t.Fatalf("decision mail %+v; want the removal, in Indonesian, decided by a person", decision)
		}

		ap, err := mod.FileAppeal(e.ctx, owner, act.ID, "It is my office address, published on purpose.")
		must(t, "FileAppeal", err)
		_, err = mod.DecideAppeal(e.ctx, e.mod2, ap.ID, true, "the address is the company's public one")
		must(t, "DecideAppeal", err)
		deliver(t, mod, 1)
		reversal := sink.Sent()[2]
		// The reviewer's reply was written to the affected user: the
		// notifier learns only that the appeal was upheld, in their language.
		if reversal.Subject != fmt.Sprintf("Keputusan atas pemberitahuan Anda %d dibatalkan", rec.ID) ||
			strings.Contains(reversal.Body, "the address is the company's public one") || !strings.Contains(reversal.Body, "setelah banding") {
			t.Fatalf("reversal mail %+v; want the reversal after an appeal, without the reviewer's words", reversal)
		}
		st, err := mod.Notice(e.ctx, rec.ID, rec.Token)
		must(t, "Notice", err)
		if st.Action == nil || st.Action.Reversed.IsZero() {
			t.Errorf("notice status %+v; want the action shown reversed", st)
		}
		if len(sink.Sent()) != 3 {
			t.Errorf("%d mails in all, want 3 (nothing for the anonymous notice)", len(sink.Sent()))
		}
	})
}

func TestNoticeMailIsRetriedAfterTheMailServerFails(t *testing.T) {
	run(t, func(t *testing.T, e *env) {
		sink := &flakySender{LogSender: mail.LogSender{Log: slog.New(slog.DiscardHandler)}, fails: 2}
		mod := e.mailer(sink, moderation.Config{})
		_, err := mod.SubmitNotice(e.ctx, moderation.NoticeParams{Explanation: "Scam shop.", Location: "@nowhere",
			Category: moderation.Scam, Name: "Jo", Email: "jo@example.org", GoodFaith: true})
		must(t, "SubmitNotice", err)
		deliver(t, mod, 0) // refused once
		deliver(t, mod, 0) // not due again yet
		e.clock.Advance(time.Minute)
		deliver(t, mod, 0) // refused twice
		e.clock.Advance(time.Minute)
		deliver(t, mod, 0) // the second wait is two minutes
		e.clock.Advance(time.Minute)
		deliver(t, mod, 1)
		if got := sink.Sent(); len(got) != 1 || got[0].To != "jo@example.org" || !strings.HasPrefix(got[0].Subject, "We received your notice") {
			t.Fatalf("sent %+v, want the English receipt", got)
		}
		cases, _ := mod.Queue(e.ctx, e.admin, moderation.QueueFilter{Source: moderation.SourceNotice})
		d, err := mod.Case(e.ctx, e.admin, cases[0].ID)
		must(t, "Case", err)
		if len(d.Notices) != 1 || len(d.Notices[0].Mail) != 1 {
			t.Fatalf("case notices %+v", d.Notices)
		}
		if m := d.Notices[0].Mail[0]; m.Kind != "receipt" || m.State != "sent" || m.Attempts != 3 || m.Sent.IsZero() {
			t.Errorf("receipt status %+v; want sent on the third attempt", m)
		}
		// A dismissal is a decision too.
		must(t, "Dismiss", mod.Dismiss(e.ctx, e.mod1, cases[0].ID, "the shop is a real one"))
		deliver(t, mod, 1)
		if got := sink.Sent()[1]; !strings.Contains(got.Body, "we took no action") {
			t.Errorf("decision mail %+v; want no action taken", got)
		}
	})
}

func TestNoticeLocationsAppLinksAndLinkingACase(t *testing.T) {
	run(t, func(t *testing.T, e *env) {
		owner, member := e.user("owner"), e.user("member")
		ch, post := e.channel(owner, "bazaar")
		g, err := e.msg.CreateGroup(e.ctx, owner, messaging.NewChat{Title: "Back room", Members: []kurir.UserID{member}})
		must(t, "CreateGroup", err)
		secret := e.send(owner, g.ID, "selling stolen cards")
		inv, err := e.msg.CreateInvite(e.ctx, owner, g.ID, time.Time{}, 0)
		must(t, "CreateInvite", err)
		long := strings.Repeat("Seller offers stolen cards. ", 100) // 2,800 characters
		notice := func(loc, email string) moderation.Case {
			t.Helper()
			rec, err := e.mod.SubmitNotice(e.ctx, moderation.NoticeParams{Explanation: long, Location: loc, Category: moderation.Scam,
				Name: "Jo", Email: email, GoodFaith: true})
			must(t, "SubmitNotice "+loc, err)
			q, _ := e.mod.Queue(e.ctx, e.admin, moderation.QueueFilter{Source: moderation.SourceNotice})
			for _, c := range q {
				d := e.caseOf(c.ID)
				for _, n := range d.Notices {
					if n.ID == rec.ID {
						return c
					}
				}
			}
			t.Fatalf("no case holds notice %d", rec.ID)
			return moderation.Case{}
		}
		for _, tc := range []struct {
			loc  string
			want moderation.Subject
		}{
			{fmt.Sprintf("https://kurir.example/chats/%d/%d", ch.ID, post.Seq), msgSubject(post)},
			{fmt.Sprintf("/chats/%d", ch.ID), moderation.Subject{Kind: moderation.SubjectChat, Chat: ch.ID}},
			{"https://kurir.example/join/" + inv.Code, moderation.Subject{Kind: moderation.SubjectChat, Chat: g.ID}},
			// A private group's message is nothing a visitor can see.
			{fmt.Sprintf("https://kurir.example/chats/%d/%d", g.ID, secret.Seq), moderation.Subject{Kind: moderation.SubjectNotice}},
		} {
			c := notice(tc.loc, fmt.Sprintf("n%d@example.org", len(tc.loc)))
			got := c.Subject
			if tc.want.Kind == moderation.SubjectNotice {
				got.Notice = 0
			}
			if got != tc.want {
				t.Errorf("notice at %s filed about %+v, want %+v", tc.loc, c.Subject, tc.want)
			}
		}

		// Reviewers read the whole explanation and the location as given.
		dead := notice(fmt.Sprintf("https://kurir.example/chats/%d/%d", g.ID, secret.Seq), "other@example.org")
		d := e.caseOf(dead.ID)
		if len(d.Notices) != 1 || d.Notices[0].Explanation != strings.TrimSpace(long) || !strings.Contains(d.Notices[0].Location, "/chats/") {
			t.Fatalf("case notices %+v; want the whole explanation and the location", d.Notices)
		}
		_, err = e.mod.Act(e.ctx, e.mod1, dead.ID, moderation.ActParams{Kind: moderation.RemoveMessage, Facts: "x"})
		wantCode(t, "act on an unlinked notice case", err, kurir.EInvalid, "wrong_subject")

		// Bad links change nothing.
		_, err = e.mod.LinkCase(e.ctx, e.triage, dead.ID, "somewhere")
		wantCode(t, "link to nowhere", err, kurir.EInvalid, "bad_subject")
		_, err = e.mod.LinkCase(e.ctx, e.triage, dead.ID, fmt.Sprintf("message:%d:999", g.ID))
		wantCode(t, "link to a missing message", err, kurir.ENotFound, "")
		_, err = e.mod.LinkCase(e.ctx, moderation.Staff{ID: member}, dead.ID, fmt.Sprintf("chat:%d", g.ID))
		wantCode(t, "a user links a case", err, kurir.EForbidden, "")
		r := e.report(member, msgSubject(secret), moderation.Scam)
		_, err = e.mod.LinkCase(e.ctx, e.mod1, r.CaseID, fmt.Sprintf("chat:%d", g.ID))
		wantCode(t, "link a report's case", err, kurir.EInvalid, "not_a_notice")

		// A moderator sees the private group (triage may not: see
		// TestLinkingANoticeToPrivateContent): the link resolves, and as
		// the message has a case from a member's report, the notice joins it.
		into, err := e.mod.LinkCase(e.ctx, e.mod1, dead.ID, fmt.Sprintf("https://kurir.example/chats/%d/%d", g.ID, secret.Seq))
		must(t, "LinkCase", err)
		if into != r.CaseID {
			t.Fatalf("linked into case %d, want the report's case %d", into, r.CaseID)
		}
		merged, joined := e.caseOf(dead.ID), e.caseOf(r.CaseID)
		if merged.State != moderation.StateResolved || merged.Outcome != "merged" {
			t.Errorf("the notice's old case is %s/%s, want resolved/merged", merged.State, merged.Outcome)
		}
		if joined.SignalCount != 2 || len(joined.Notices) != 1 || len(joined.Case.Sources) != 2 {
			t.Errorf("joined case has %d signals, notices %+v, sources %v; want the report and the notice", joined.SignalCount, joined.Notices, joined.Case.Sources)
		}
		_, err = e.mod.Act(e.ctx, e.mod1, r.CaseID, moderation.ActParams{Kind: moderation.RemoveMessage, Facts: "sells stolen cards"})
		must(t, "Act on the linked case", err)

		// A notice's case with no other case for its subject is re-pointed.
		lone := notice("@nobody-here", "third@example.org")
		into, err = e.mod.LinkCase(e.ctx, e.triage, lone.ID, "@owner")
		must(t, "LinkCase user", err)
		c := e.caseOf(into)
		if into != lone.ID || c.Subject != (moderation.Subject{Kind: moderation.SubjectUser, User: owner}) || c.Signals[0].Comment == "" {
			t.Errorf("relinked case %d: %+v; want case %d about the owner's account", into, c.Case, lone.ID)
		}
		_, err = e.mod.Act(e.ctx, e.mod1, lone.ID, moderation.ActParams{Kind: moderation.Suspend, Facts: "scams", Until: e.clock.Now().Add(time.Hour)})
		must(t, "Act on the relinked case", err)
	})
}

func TestANotifierCountsOncePerCase(t *testing.T) {
	run(t, func(t *testing.T, e *env) {
		owner := e.user("owner")
		_, post := e.channel(owner, "spamhub")
		p := moderation.NoticeParams{Explanation: "Spam.", Location: fmt.Sprintf("@spamhub/%d", post.Seq), Category: moderation.Spam,
			Name: "Jo", Email: "jo@example.org", GoodFaith: true, IP: "203.0.113.9"}
		first, err := e.mod.SubmitNotice(e.ctx, p)
		must(t, "SubmitNotice", err)
		p.Email = "JO@example.org"
		_, err = e.mod.SubmitNotice(e.ctx, p)
		wantCode(t, "the same notifier again", err, kurir.EConflict, "already_notified")
		p.Email = "someone@example.org"
		_, err = e.mod.SubmitNotice(e.ctx, p)
		must(t, "another notifier", err)
		anon := moderation.NoticeParams{Explanation: "Abuse.", Location: p.Location, Category: moderation.ChildAbuse, GoodFaith: true, IP: "198.51.100.4"}
		_, err = e.mod.SubmitNotice(e.ctx, anon)
		must(t, "anonymous notice", err)
		before, _ := e.mod.Queue(e.ctx, e.admin, moderation.QueueFilter{})
		// A second anonymous notice from the same network (an office, a
		// carrier's NAT, a hotline) is accepted and recorded, but does not
		// weigh in the case again.
		again, err := e.mod.SubmitNotice(e.ctx, anon)
		must(t, "the same network's anonymous notice again", err)
		st, err := e.mod.Notice(e.ctx, first.ID, first.Token)
		must(t, "Notice", err)
		q, _ := e.mod.Queue(e.ctx, e.admin, moderation.QueueFilter{})
		if len(q) != 1 || q[0].SignalCount != 4 || st.State != "received" {
			t.Fatalf("queue %+v; want one case with four signals", q)
		}
		if len(before) != 1 || q[0].Priority != before[0].Priority {
			t.Errorf("priority %d after the same network's second notice, %d before; want it unchanged", q[0].Priority, before[0].Priority)
		}
		if d := e.caseOf(q[0].ID); len(d.Notices) != 4 || d.Notices[3].ID != again.ID {
			t.Errorf("case notices %+v; want the second anonymous notice recorded", d.Notices)
		}
	})
}

func TestQueueByLanguageAndCountry(t *testing.T) {
	run(t, func(t *testing.T, e *env) {
		owner, hans, ali := e.user("owner"), e.user("hans"), e.user("alia")
		_, p1 := e.channel(owner, "chanone")
		_, p2 := e.channel(owner, "chantwo")
		at := kurir.WithLocation(e.ctx, kurir.Location{Network: "AT"})
		r1, err := e.mod.Report(at, hans, moderation.ReportParams{Subject: msgSubject(p1), Category: moderation.Spam, Lang: "de-AT,de;q=0.9"})
		must(t, "Report de", err)
		eg := kurir.WithLocation(e.ctx, kurir.Location{Network: "FR", Declared: "EG"})
		r2, err := e.mod.Report(eg, ali, moderation.ReportParams{Subject: msgSubject(p2), Category: moderation.Spam, Lang: "ar"})
		must(t, "Report ar", err)
		// A later reporter does not change where the case came from.
		_, err = e.mod.Report(eg, ali, moderation.ReportParams{Subject: msgSubject(p1), Category: moderation.Spam, Lang: "ar"})
		must(t, "Report ar on de", err)
		for _, tc := range []struct {
			f    moderation.QueueFilter
			want int64
		}{
			{moderation.QueueFilter{Lang: "de"}, r1.CaseID},
			{moderation.QueueFilter{Lang: "AR"}, r2.CaseID},
			{moderation.QueueFilter{Country: "at"}, r1.CaseID},
			{moderation.QueueFilter{Country: "EG"}, r2.CaseID}, // the declared country first
			{moderation.QueueFilter{Country: "FR"}, 0},
			{moderation.QueueFilter{Lang: "de", Country: "EG"}, 0},
		} {
			q, err := e.mod.Queue(e.ctx, e.triage, tc.f)
			must(t, "Queue", err)
			if tc.want == 0 && len(q) != 0 || tc.want != 0 && (len(q) != 1 || q[0].ID != tc.want) {
				t.Errorf("queue %+v: %+v, want case %d", tc.f, q, tc.want)
			}
		}
		if c := e.caseOf(r1.CaseID); c.Lang != "de" || c.Country != "AT" {
			t.Errorf("case origin %q/%q, want de/AT", c.Lang, c.Country)
		}
		for _, f := range []moderation.QueueFilter{{Lang: "deutsch"}, {Lang: "d1"}, {Country: "XX"}, {Country: "AUT"}} {
			_, err := e.mod.Queue(e.ctx, e.triage, f)
			wantCode(t, fmt.Sprintf("queue %+v", f), err, kurir.EInvalid, "")
		}
	})
}

func TestReportsAreLimitedPerAccountPerHour(t *testing.T) {
	run(t, func(t *testing.T, e *env) {
		mod := moderation.NewService(e.db, e.msg, e.acc, e.clock, nil, moderation.Config{ReportsPerHour: 2})
		owner, eager, ngo := e.user("owner"), e.user("eager"), e.user("hotline")
		must(t, "AddFlagger", mod.AddFlagger(e.ctx, e.admin, ngo, "Hotline"))
		var posts []messaging.Message
		for i := range 4 {
			_, p := e.channel(owner, fmt.Sprintf("chan%d", i))
			posts = append(posts, p)
		}
		report := func(who kurir.UserID, p messaging.Message) error {
			_, err := mod.Report(e.ctx, who, moderation.ReportParams{Subject: msgSubject(p), Category: moderation.Spam})
			return err
		}
		must(t, "report 1", report(eager, posts[0]))
		e.clock.Advance(10 * time.Minute)
		must(t, "report 2", report(eager, posts[1]))
		err := report(eager, posts[2])
		wantCode(t, "a third report within the hour", err, kurir.ERateLimited, "too_many_reports")
		var ke *kurir.Error
		if !asError(err, &ke) || ke.RetryAfter != 50*time.Minute {
			t.Errorf("retry after %v, want 50m (when the first report is an hour old)", ke)
		}
		for i := range 3 {
			must(t, fmt.Sprint("flagger report ", i), report(ngo, posts[i]))
		}
		e.clock.Advance(51 * time.Minute)
		must(t, "a report an hour later", report(eager, posts[2]))
	})
}

func TestAUserReportsAFileAndAMessageCaseRemovesItsFileEverywhere(t *testing.T) {
	run(t, func(t *testing.T, e *env) {
		files := mediatest.New(t, e.db, e.msg, e.clock, nil, media.Config{})
		owner, reader, outsider := e.user("owner"), e.user("reader"), e.user("outsider")
		ch, _ := e.channel(owner, "pics", reader)
		g, err := e.msg.CreateGroup(e.ctx, owner, messaging.NewChat{Title: "private"})
		must(t, "CreateGroup", err)
		body := []byte("%PDF-1.4\n% an abusive leaflet\n")
		up := func(name string) media.Media {
			m, err := files.Upload(e.ctx, owner, media.UploadParams{Name: name, Size: int64(len(body))}, strings.NewReader(string(body)))
			must(t, "Upload", err)
			return m
		}
		post := func(chat messaging.ChatID, m media.Media) messaging.Message {
			e.keys++
			msg, err := e.msg.Send(e.ctx, owner, chat, messaging.SendParams{IdempotencyKey: fmt.Sprint("m", e.keys),
				Media: &messaging.Attachment{MediaID: int64(m.ID), Kind: string(m.Kind), ContentType: m.ContentType, Name: m.Name, Size: m.Size}})
			must(t, "Send", err)
			return msg
		}
		shown, hidden := up("a.pdf"), up("b.pdf")
		withFile := post(ch.ID, shown)
		post(g.ID, hidden)

		fileSubj := func(m media.Media) moderation.Subject {
			return moderation.Subject{Kind: moderation.SubjectMedia, Media: int64(m.ID)}
		}
		_, err = e.mod.Report(e.ctx, reader, moderation.ReportParams{Subject: fileSubj(hidden), Category: moderation.Spam})
		wantCode(t, "a file in a chat the reporter is not in", err, kurir.ENotFound, "")
		_, err = e.mod.Report(e.ctx, owner, moderation.ReportParams{Subject: fileSubj(shown), Category: moderation.Spam})
		wantCode(t, "one's own file", err, kurir.EInvalid, "own_content")
		_, err = e.mod.Report(e.ctx, reader, moderation.ReportParams{Subject: moderation.Subject{Kind: moderation.SubjectMedia, Media: 999999}, Category: moderation.Spam})
		wantCode(t, "no such file", err, kurir.ENotFound, "")
		// The public channel's file is visible even to someone outside it.
		fr := e.report(outsider, fileSubj(shown), moderation.ChildAbuse)
		if d := e.caseOf(fr.CaseID); d.Subject != fileSubj(shown) || !strings.Contains(d.Signals[0].Detail, shown.SHA256.String()) {
			t.Errorf("file case %+v, detail %q; want the file with its SHA-256", d.Subject, d.Signals[0].Detail)
		}

		// A message case shows the message's file and can remove it
		// everywhere.
		mr := e.report(reader, msgSubject(withFile), moderation.ChildAbuse)
		d := e.caseOf(mr.CaseID)
		if d.Media == nil || d.Media.ID != shown.ID || d.Media.SHA256 != shown.SHA256 {
			t.Fatalf("message case media %+v; want the attached file with its hash", d.Media)
		}
		a, err := e.mod.Act(e.ctx, e.mod1, mr.CaseID, moderation.ActParams{Kind: moderation.RemoveMedia, Facts: "abuse material"})
		must(t, "Act remove_media on a message case", err)
		if a.Subject != fileSubj(shown) || a.Affected != owner {
			t.Errorf("action %+v; want it on the file, against its owner", a)
		}
		_, err = files.Upload(e.ctx, owner, media.UploadParams{Name: "again.pdf", Size: int64(len(body))}, strings.NewReader(string(body)))
		wantCode(t, "uploading the removed file again", err, kurir.EForbidden, "media_removed")
		plain := e.send(owner, ch.ID, "just text")
		pr := e.report(reader, msgSubject(plain), moderation.Spam)
		_, err = e.mod.Act(e.ctx, e.mod1, pr.CaseID, moderation.ActParams{Kind: moderation.RemoveMedia, Facts: "x"})
		wantCode(t, "remove_media on a message without a file", err, kurir.EInvalid, "no_media")
	})
}

func TestQueueViewsAreAuditedOncePerMinuteAndFilter(t *testing.T) {
	run(t, func(t *testing.T, e *env) {
		views := func() (n int) {
			t.Helper()
			must(t, "count", e.db.Read().QueryRowContext(e.ctx, `SELECT COUNT(*) FROM audit_log WHERE action = 'queue.view' AND actor_id = $1`, e.triage.ID).Scan(&n))
			return n
		}
		queue := func(f moderation.QueueFilter) {
			t.Helper()
			_, err := e.mod.Queue(e.ctx, e.triage, f)
			must(t, "Queue", err)
		}
		queue(moderation.QueueFilter{})
		queue(moderation.QueueFilter{}) // the console's refresh
		if n := views(); n != 1 {
			t.Fatalf("%d queue views audited, want 1", n)
		}
		queue(moderation.QueueFilter{Category: moderation.ChildAbuse})
		if n := views(); n != 2 {
			t.Fatalf("after another filter %d queue views audited, want 2", n)
		}
		e.clock.Advance(time.Minute)
		queue(moderation.QueueFilter{})
		if n := views(); n != 3 {
			t.Fatalf("a minute later %d queue views audited, want 3", n)
		}
		_, err := e.mod.Queue(e.ctx, moderation.Staff{ID: e.user("nosy")}, moderation.QueueFilter{})
		wantCode(t, "a user's queue", err, kurir.EForbidden, "")
	})
}
