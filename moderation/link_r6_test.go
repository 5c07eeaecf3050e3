package moderation_test

import (
	"fmt"
	"strings"
	"testing"

	"kurir"
	"kurir/audit"
	"kurir/media"
	"kurir/media/mediatest"
	"kurir/messaging"
	"kurir/moderation"
)

// A notice whose location names nothing lets staff choose what it means;
// that choice must not open private conversations to them.
func TestLinkingANoticeToPrivateContent(t *testing.T) {
	run(t, func(t *testing.T, e *env) {
		alice, bob, carol := e.user("alice"), e.user("bobby"), e.user("carol")
		dm, err := e.msg.OpenPrivate(e.ctx, alice, bob)
		must(t, "OpenPrivate", err)
		e.send(alice, dm.ID, "my bank PIN is 4711")
		secret := e.send(bob, dm.ID, "love you")
		g, err := e.msg.CreateGroup(e.ctx, alice, messaging.NewChat{Title: "Family", Members: []kurir.UserID{carol}})
		must(t, "CreateGroup", err)
		e.send(carol, g.ID, "the door code is 1234")
		offer := e.send(alice, g.ID, "selling stolen cards")
		e.send(carol, g.ID, "see you sunday")

		notice := func(email string) moderation.Case {
			t.Helper()
			_, err := e.mod.SubmitNotice(e.ctx, moderation.NoticeParams{Explanation: "Illegal.", Location: "nowhere", Category: moderation.Scam,
				Name: "Jo", Email: email, GoodFaith: true})
			must(t, "SubmitNotice", err)
			q, err := e.mod.Queue(e.ctx, e.admin, moderation.QueueFilter{Source: moderation.SourceNotice})
			must(t, "Queue", err)
			for _, c := range q {
				if c.Subject.Kind == moderation.SubjectNotice {
					return c // one unlinked notice at a time
				}
			}
			t.Fatalf("no unlinked notice case in %+v", q)
			return moderation.Case{}
		}
		c := notice("jo@example.org")
		before := e.caseOf(c.ID)

		// Nobody links a 1:1 conversation, not even an admin.
		for _, by := range []moderation.Staff{e.triage, e.mod1, e.admin} {
			for _, target := range []string{fmt.Sprintf("message:%d:%d", dm.ID, secret.Seq), fmt.Sprintf("chat:%d", dm.ID),
				fmt.Sprintf("https://kurir.example/chats/%d/%d", dm.ID, secret.Seq)} {
				_, err := e.mod.LinkCase(e.ctx, by, c.ID, target)
				wantCode(t, fmt.Sprintf("role %s links %s", by.Role, target), err, kurir.EForbidden, "private_subject")
			}
		}
		// Triage does not link a private group.
		_, err = e.mod.LinkCase(e.ctx, e.triage, c.ID, fmt.Sprintf("message:%d:%d", g.ID, offer.Seq))
		wantCode(t, "triage links a private group's message", err, kurir.EForbidden, "private_subject")
		_, err = e.mod.LinkCase(e.ctx, e.triage, c.ID, fmt.Sprintf("chat:%d", g.ID))
		wantCode(t, "triage links a private group", err, kurir.EForbidden, "private_subject")

		// Nothing changed: the case is still the notice's, and nothing of
		// the conversation shows.
		after := e.caseOf(c.ID)
		if after.Subject != before.Subject || len(after.History) != len(before.History) || len(after.Messages) != 0 || after.Chat != nil {
			t.Fatalf("case after refused links: %+v (history %d, was %d); want it unchanged", after.Case, len(after.History), len(before.History))
		}
		entries, err := audit.List(e.ctx, e.db.Read(), audit.Filter{Limit: 500})
		must(t, "audit.List", err)
		for _, en := range entries {
			if en.Action == "case.link" {
				t.Fatalf("audit has %+v; want no link recorded", en)
			}
		}

		// A moderator links the private group's message: the case shows
		// that message alone, not the family's talk around it.
		into, err := e.mod.LinkCase(e.ctx, e.mod1, c.ID, fmt.Sprintf("message:%d:%d", g.ID, offer.Seq))
		must(t, "moderator links a private group's message", err)
		d := e.caseOf(into)
		if len(d.Messages) != 1 || d.Messages[0].Seq != offer.Seq {
			t.Fatalf("case shows %d messages %+v; want only the linked one", len(d.Messages), d.Messages)
		}
		for _, m := range d.Messages {
			if strings.Contains(m.Text, "door code") || strings.Contains(m.Text, "sunday") {
				t.Errorf("case shows %q from around the linked message", m.Text)
			}
		}
		entries, err = audit.List(e.ctx, e.db.Read(), audit.Filter{Limit: 500})
		must(t, "audit.List", err)
		linked := false
		for _, en := range entries {
			linked = linked || en.Action == "case.link" && en.Actor == e.mod1.ID
		}
		if !linked {
			t.Errorf("no case.link audit entry by the moderator")
		}

		// A file posted only in the private chat: triage may not link it,
		// a moderator may, and the case serves that file and no other.
		files := mediatest.New(t, e.db, e.msg, e.clock, nil, media.Config{})
		upload := func(body string) media.Media {
			t.Helper()
			m, err := files.Upload(e.ctx, alice, media.UploadParams{Name: "scan.pdf", Size: int64(len(body))}, strings.NewReader(body))
			must(t, "Upload", err)
			e.keys++
			_, err = e.msg.Send(e.ctx, alice, dm.ID, messaging.SendParams{IdempotencyKey: fmt.Sprint("r6link", e.keys),
				Media: &messaging.Attachment{MediaID: int64(m.ID), Kind: string(m.Kind), ContentType: m.ContentType, Name: m.Name, Size: m.Size}})
			must(t, "Send", err)
			return m
		}
		passport, other := upload("%PDF-1.4\n% a forged passport\n"), upload("%PDF-1.4\n% a family photo album\n")
		fileCase := notice("files@example.org")
		_, err = e.mod.LinkCase(e.ctx, e.triage, fileCase.ID, fmt.Sprintf("media:%d", passport.ID))
		wantCode(t, "triage links a file posted only in a private chat", err, kurir.EForbidden, "private_subject")
		into, err = e.mod.LinkCase(e.ctx, e.mod1, fileCase.ID, fmt.Sprintf("media:%d", passport.ID))
		must(t, "moderator links a file posted only in a private chat", err)
		must(t, "ReviewMedia of the linked file", e.mod.ReviewMedia(e.ctx, e.mod1, into, int64(passport.ID)))
		wantCode(t, "ReviewMedia of another file of the chat", e.mod.ReviewMedia(e.ctx, e.mod1, into, int64(other.ID)), kurir.ENotFound, "")

		// A member's report of the same group shows the context, as before.
		more := e.send(alice, g.ID, "more cards, cheap")
		r := e.report(carol, msgSubject(more), moderation.Scam)
		if d := e.caseOf(r.CaseID); len(d.Messages) < 3 {
			t.Errorf("a member's report shows %d messages; want the context around it", len(d.Messages))
		}
	})
}
