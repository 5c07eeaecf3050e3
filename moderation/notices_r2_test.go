package moderation_test

import (
	"fmt"
	"testing"
	"time"

	"kurir/moderation"
)

// TestNotifiersAreErasedAfterRetention: a notifier's name and e-mail
// address, and the mail sent to them, are kept while the case can still be
// contested and for the retention period after, not while a review is
// pending, and are then erased; the notice itself stays.
func TestNotifiersAreErasedAfterRetention(t *testing.T) {
	run(t, func(t *testing.T, e *env) {
		const window, keep = 183 * 24 * time.Hour, 30 * 24 * time.Hour
		mod := moderation.NewService(e.db, e.msg, e.acc, e.clock, nil, moderation.Config{AppealWindow: window, NoticeRetention: keep})
		_, post := e.channel(e.user("owner"), "leaks")
		rec, err := mod.SubmitNotice(e.ctx, moderation.NoticeParams{Explanation: "It publishes my home address.",
			Location: fmt.Sprintf("@leaks/%d", post.Seq), Category: moderation.PersonalDetails, Name: "Jane Roe", Email: "jane@example.org", GoodFaith: true})
		must(t, "SubmitNotice", err)
		st, err := mod.Notice(e.ctx, rec.ID, rec.Token)
		must(t, "Notice", err)
		var caseID int64
		must(t, "case", e.db.Read().QueryRowContext(e.ctx, `SELECT case_id FROM mod_notices WHERE id = $1`, rec.ID).Scan(&caseID))
		must(t, "Dismiss", mod.Dismiss(e.ctx, e.mod1, caseID, "A business address."))
		review, err := mod.RequestNoticeReview(e.ctx, rec.ID, rec.Token, "It is my home.")
		must(t, "RequestNoticeReview", err)

		notifier := func() moderation.NoticeRecord {
			d := e.caseOf(caseID)
			if len(d.Notices) != 1 {
				t.Fatalf("case notices: %+v", d.Notices)
			}
			return d.Notices[0]
		}
		mailTo := func() (n int) {
			must(t, "mail", e.db.Read().QueryRowContext(e.ctx, `SELECT COUNT(*) FROM mod_mail WHERE notice_id = $1 AND (rcpt <> '' OR body <> '')`, rec.ID).Scan(&n))
			return n
		}
		if mailTo() == 0 {
			t.Fatal("no mail to the notifier: the test proves nothing")
		}

		e.clock.Advance(window + keep - time.Hour)
		n, err := mod.EraseNotifiers(e.ctx)
		must(t, "EraseNotifiers", err)
		if n != 0 || notifier().Email == "" {
			t.Fatalf("erased %d notifiers an hour before their retention runs out", n)
		}
		e.clock.Advance(2 * time.Hour)
		if n, _ = mod.EraseNotifiers(e.ctx); n != 0 || notifier().Email == "" {
			t.Fatalf("erased %d notifiers while a review of their case is pending", n)
		}
		_, err = mod.DecideAppeal(e.ctx, e.mod2, review.ID, false, "It is listed as the business's address.")
		must(t, "DecideAppeal", err)
		n, err = mod.EraseNotifiers(e.ctx)
		must(t, "EraseNotifiers", err)
		if n != 1 {
			t.Fatalf("erased %d notifiers, want 1", n)
		}
		rec2 := notifier()
		if rec2.Name != "" || rec2.Email != "" || rec2.Erased.IsZero() || rec2.Explanation != "It publishes my home address." || rec2.Location != st.Location {
			t.Errorf("notice after erasure: %+v", rec2)
		}
		if k := mailTo(); k != 0 {
			t.Errorf("%d mails still carry the notifier's address or words", k)
		}
		if n, _ := mod.EraseNotifiers(e.ctx); n != 0 {
			t.Errorf("erased the same notifier twice")
		}
		if _, err := mod.Notice(e.ctx, rec.ID, rec.Token); err != nil {
			t.Errorf("the notifier can no longer follow their notice: %v", err)
		}
	})
}
