package moderation_test

import (
	"fmt"
	"testing"
	"time"

	"kurir"
	"kurir/moderation"
)

// TestAppealQueueIsOrderedByDueDateAndAssignedToSomeoneElse: each appeal is
// due the configured time after it was filed; the queue puts the soonest
// due first and marks the overdue; an appeal can be assigned to a
// moderator, never to whoever took the decision, and the queue filters by
// assignee.
func TestAppealQueueIsOrderedByDueDateAndAssignedToSomeoneElse(t *testing.T) {
	run(t, func(t *testing.T, e *env) {
		slow := moderation.NewService(e.db, e.msg, e.acc, e.clock, nil, moderation.Config{AppealSLA: 10 * 24 * time.Hour})
		fast := moderation.NewService(e.db, e.msg, e.acc, e.clock, nil, moderation.Config{AppealSLA: 24 * time.Hour})
		appeal := func(mod *moderation.Service, name string) moderation.Appeal {
			owner := e.user(name)
			_, post := e.channel(owner, name+"chan")
			c := e.report(e.user(name+"r"), msgSubject(post), moderation.Spam)
			act, err := e.mod.Act(e.ctx, e.mod1, c.CaseID, moderation.ActParams{Kind: moderation.RemoveMessage, Category: moderation.Spam, Facts: "spam"})
			must(t, "Act", err)
			p, err := mod.FileAppeal(e.ctx, owner, act.ID, "It was not spam.")
			must(t, "FileAppeal", err)
			return p
		}
		first := appeal(slow, "annie")
		if want := e.clock.Now().Add(10 * 24 * time.Hour); !first.Due.Equal(want) {
			t.Errorf("due %v, want %v", first.Due, want)
		}
		e.clock.Advance(time.Hour)
		second := appeal(fast, "bobby")
		q, err := e.mod.Appeals(e.ctx, e.triage, "", 10)
		must(t, "Appeals", err)
		if len(q) != 2 || q[0].ID != second.ID || q[1].ID != first.ID {
			t.Fatalf("queue %v; want the appeal due sooner (%d) before the older one (%d)", ids(q), second.ID, first.ID)
		}
		if q[0].Kind != moderation.AppealDecision || q[0].Decider != e.mod1.ID || q[0].Action.ID != second.ActionID {
			t.Errorf("queued appeal: %+v", q[0])
		}
		if q[0].Overdue(e.clock.Now()) {
			t.Error("an appeal is overdue before its due date")
		}
		e.clock.Advance(25 * time.Hour)
		if q, _ = e.mod.Appeals(e.ctx, e.triage, "", 10); !q[0].Overdue(e.clock.Now()) || q[1].Overdue(e.clock.Now()) {
			t.Errorf("after a day, want only the first overdue: %v %v", q[0].Overdue(e.clock.Now()), q[1].Overdue(e.clock.Now()))
		}

		err = e.mod.AssignAppeal(e.ctx, e.triage, first.ID, e.mod1.ID)
		wantCode(t, "assign to the decider", err, kurir.EInvalid, "own_decision")
		err = e.mod.AssignAppeal(e.ctx, e.triage, first.ID, e.triage.ID)
		wantCode(t, "assign to triage", err, kurir.EInvalid, "not_moderator")
		err = e.mod.AssignAppeal(e.ctx, moderation.Staff{ID: e.user("nobody"), Role: kurir.RoleUser}, first.ID, e.mod2.ID)
		wantCode(t, "a user assigns", err, kurir.EForbidden, "")
		must(t, "AssignAppeal", e.mod.AssignAppeal(e.ctx, e.triage, first.ID, e.mod2.ID))
		mine, err := e.mod.AppealQueue(e.ctx, e.mod2, moderation.AppealFilter{Assignee: e.mod2.ID})
		must(t, "AppealQueue", err)
		if len(mine) != 1 || mine[0].ID != first.ID || mine[0].Assignee != e.mod2.ID {
			t.Errorf("mod2's appeals: %v", ids(mine))
		}
		if _, err := e.mod.DecideAppeal(e.ctx, e.mod2, first.ID, false, "It was spam."); err != nil {
			t.Fatal(err)
		}
		err = e.mod.AssignAppeal(e.ctx, e.triage, first.ID, e.admin.ID)
		wantCode(t, "assign a decided appeal", err, kurir.EConflict, "")
	})
}

func ids(ps []moderation.Appeal) []string {
	var out []string
	for _, p := range ps {
		out = append(out, fmt.Sprintf("%d(%s, due %s)", p.ID, p.Kind, p.Due.Format(time.DateTime)))
	}
	return out
}

// TestNotifiersAndReportersCanContestADismissal: a notifier (with their
// notice's token) and a reporter can each ask, once, for a review of a
// dismissal; it joins the appeal queue, someone other than who dismissed
// it decides, and upheld it reopens the case.
func TestNotifiersAndReportersCanContestADismissal(t *testing.T) {
	run(t, func(t *testing.T, e *env) {
		owner := e.user("owner")
		_, post := e.channel(owner, "leaks")
		rec, err := e.mod.SubmitNotice(e.ctx, moderation.NoticeParams{Explanation: "It publishes my home address.",
			Location: fmt.Sprintf("@leaks/%d", post.Seq), Category: moderation.PersonalDetails, Name: "Jane Roe", Email: "jane@example.org", GoodFaith: true})
		must(t, "SubmitNotice", err)
		reporter := e.user("rita")
		rep := e.report(reporter, msgSubject(post), moderation.PersonalDetails)

		_, err = e.mod.RequestNoticeReview(e.ctx, rec.ID, rec.Token, "Please look again.")
		wantCode(t, "review of an open case", err, kurir.EConflict, "not_dismissed")
		must(t, "Dismiss", e.mod.Dismiss(e.ctx, e.mod1, rep.CaseID, "A public business address."))

		_, err = e.mod.RequestNoticeReview(e.ctx, rec.ID, "wrong-token", "Please look again.")
		wantCode(t, "wrong token", err, kurir.ENotFound, "")
		_, err = e.mod.RequestNoticeReview(e.ctx, rec.ID, rec.Token, "  ")
		wantCode(t, "empty text", err, kurir.EInvalid, "")
		_, err = e.mod.RequestReportReview(e.ctx, owner, rep.ID, "not my report")
		wantCode(t, "someone else's report", err, kurir.ENotFound, "")
		if q, _ := e.mod.Appeals(e.ctx, e.admin, "", 10); len(q) != 0 {
			t.Fatalf("refused requests queued %v", ids(q))
		}

		nr, err := e.mod.RequestNoticeReview(e.ctx, rec.ID, rec.Token, "It is my home, not a business.")
		must(t, "RequestNoticeReview", err)
		_, err = e.mod.RequestNoticeReview(e.ctx, rec.ID, rec.Token, "again")
		wantCode(t, "a second request", err, kurir.EConflict, "already_appealed")
		rr, err := e.mod.RequestReportReview(e.ctx, reporter, rep.ID, "The address is private.")
		must(t, "RequestReportReview", err)
		if nr.Kind != moderation.AppealDismissal || nr.Decider != e.mod1.ID || nr.Notice != rec.ID || rr.User != reporter {
			t.Errorf("requests: %+v / %+v", nr, rr)
		}

		q, err := e.mod.Appeals(e.ctx, e.mod2, "", 10)
		must(t, "Appeals", err)
		if len(q) != 2 || q[0].Case == nil || q[0].Case.ID != rep.CaseID || q[0].Case.Outcome != "dismissed" {
			t.Fatalf("appeal queue: %v (case %+v)", ids(q), q[0].Case)
		}
		err = e.mod.AssignAppeal(e.ctx, e.triage, nr.ID, e.mod1.ID)
		wantCode(t, "assign to who dismissed it", err, kurir.EInvalid, "own_decision")
		_, err = e.mod.DecideAppeal(e.ctx, e.mod1, nr.ID, true, "I was wrong")
		wantCode(t, "who dismissed it decides", err, kurir.EForbidden, "own_decision")

		_, err = e.mod.DecideAppeal(e.ctx, e.mod2, rr.ID, false, "A business address.")
		must(t, "reject the reporter's request", err)
		if d := e.caseOf(rep.CaseID); d.Case.State != moderation.StateResolved {
			t.Errorf("a rejected review reopened the case: %s", d.Case.State)
		}
		revs, err := e.mod.ReportReviews(e.ctx, reporter, []int64{rep.CaseID})
		must(t, "ReportReviews", err)
		if revs[rep.CaseID].State != moderation.AppealRejected || revs[rep.CaseID].Reason != "A business address." {
			t.Errorf("the reporter's review: %+v", revs[rep.CaseID])
		}

		_, err = e.mod.DecideAppeal(e.ctx, e.mod2, nr.ID, true, "It is a home address after all.")
		must(t, "uphold the notifier's request", err)
		d := e.caseOf(rep.CaseID)
		if d.Case.State != moderation.StateOpen || d.Case.Outcome != "" {
			t.Fatalf("upheld review: case %s/%s, want open again", d.Case.State, d.Case.Outcome)
		}
		st, err := e.mod.Notice(e.ctx, rec.ID, rec.Token)
		must(t, "Notice", err)
		if st.Review == nil || st.Review.State != moderation.AppealUpheld || st.State != "received" {
			t.Errorf("notice status after the review: %s, review %+v", st.State, st.Review)
		}
		// Reopened, the case is acted on as usual.
		if _, err := e.mod.Act(e.ctx, e.mod2, rep.CaseID, moderation.ActParams{Kind: moderation.RemoveMessage, Category: moderation.PersonalDetails,
			Facts: "A private home address."}); err != nil {
			t.Fatalf("act on the reopened case: %v", err)
		}
		// An actioned case cannot be contested as a dismissal; and after
		// the appeal window a dismissal cannot be either.
		_, err = e.mod.RequestReportReview(e.ctx, reporter, rep.ID, "again")
		wantCode(t, "review of an actioned case", err, kurir.EConflict, "")
		_, post2 := e.channel(e.user("other"), "other")
		rep2 := e.report(reporter, msgSubject(post2), moderation.Spam)
		must(t, "Dismiss", e.mod.Dismiss(e.ctx, e.mod1, rep2.CaseID, "not spam"))
		e.clock.Advance(184 * 24 * time.Hour)
		_, err = e.mod.RequestReportReview(e.ctx, reporter, rep2.ID, "late")
		wantCode(t, "after the window", err, kurir.EForbidden, "appeal_window_closed")
	})
}
