package client_test

import (
	"fmt"
	"testing"
	"time"

	"kurir"
	"kurir/client"
)

// testAppealQueue: a notifier (with their notice's token) and a reporter
// ask for a review of a dismissal; the requests join the appeal queue with
// a due date, triage assigns one (not to who dismissed it), a second
// moderator upholds it and the case is open again; the notifier and the
// reporter see how their request went. A bulk action is followed subject by
// subject.
func testAppealQueue(t *testing.T, s *server) {
	ctx := t.Context()
	owner, _ := s.user(t, "aq_owner")
	pia, _ := s.user(t, "aq_reporter")
	tara, _ := s.staff(t, "aq_triage", kurir.RoleTriage)
	mona, monaU := s.staff(t, "aq_mona", kurir.RoleModerator)
	nico, nicoU := s.staff(t, "aq_nico", kurir.RoleModerator)
	anon := s.client(t)

	ch := must(owner.CreateChannel(ctx, client.NewChat{Title: "Addresses", Username: "aq_addresses"}))(t, "create channel")
	must(pia.Join(ctx, ch.ID))(t, "subscribe")
	post := must(owner.Send(ctx, ch.ID, client.SendParams{Text: "Her home address is ..."}))(t, "post")
	rep := must(pia.Report(ctx, client.ReportParams{Subject: client.MessageSubject(ch.ID, post.Seq), Reason: "personal_details"}))(t, "report")
	rec := must(anon.SubmitNotice(ctx, client.NoticeParams{Explanation: "It is my home address.", Location: fmt.Sprintf("@aq_addresses/%d", post.Seq),
		Category: "personal_details", Name: "Jane Roe", Email: "jane@example.org", GoodFaith: true}))(t, "notice")
	_, err := anon.RequestNoticeReview(ctx, rec.ID, rec.Token, "Look again.")
	wantReason(t, "review before a decision", err, "conflict", "not_dismissed")
	ok(t, "dismiss", mona.DismissCase(ctx, rep.CaseID, "A business address."))

	if st := must(anon.NoticeStatus(ctx, rec.ID, rec.Token))(t, "notice status"); st.Outcome != "dismissed" {
		t.Fatalf("notice status: %+v; want it dismissed with the report's case", st)
	}
	_, err = anon.RequestNoticeReview(ctx, rec.ID, "not-the-token", "Look again.")
	wantCode(t, "review with a wrong token", err, "not_found")
	_, err = anon.RequestNoticeReview(ctx, rec.ID, rec.Token, "")
	wantCode(t, "review without a text", err, "invalid")
	nr := must(anon.RequestNoticeReview(ctx, rec.ID, rec.Token, "It is my home, not a business."))(t, "notice review")
	if nr.State != "pending" || !nr.DueAt.Equal(nr.CreatedAt.Add(7*24*time.Hour)) {
		t.Errorf("notice review: %+v; want pending, due in 7 days", nr)
	}
	_, err = owner.RequestReportReview(ctx, rep.ID, "not mine")
	wantCode(t, "review of someone else's report", err, "not_found")
	rr := must(pia.RequestReportReview(ctx, rep.ID, "The address is private."))(t, "report review")

	queue := must(tara.AppealQueue(ctx, client.AppealFilter{}))(t, "appeal queue")
	var mine client.Appeal
	for _, p := range queue {
		if p.ID == nr.ID {
			mine = p
		}
	}
	if mine.Kind != "dismissal" || mine.NoticeID != rec.ID || mine.DeciderID != monaU.ID || mine.Case == nil || mine.Case.Outcome != "dismissed" || mine.Overdue {
		t.Fatalf("the notifier's request in the queue: %+v", mine)
	}
	wantReason(t, "assign to who dismissed it", tara.AssignAppeal(ctx, nr.ID, monaU.ID), "invalid", "own_decision")
	wantCode(t, "a user assigns", pia.AssignAppeal(ctx, nr.ID, nicoU.ID), "forbidden")
	ok(t, "assign", tara.AssignAppeal(ctx, nr.ID, nicoU.ID))
	if got := must(nico.AppealQueue(ctx, client.AppealFilter{AssigneeID: nicoU.ID}))(t, "nico's appeals"); len(got) != 1 || got[0].ID != nr.ID {
		t.Errorf("nico's appeals: %+v", got)
	}
	_, err = mona.DecideAppeal(ctx, nr.ID, true, "I was wrong")
	wantReason(t, "who dismissed it decides", err, "forbidden", "own_decision")
	must(nico.DecideAppeal(ctx, nr.ID, true, "It is a home address."))(t, "uphold")
	must(nico.DecideAppeal(ctx, rr.ID, false, "Decided on the notice's review."))(t, "reject")

	st := must(anon.NoticeStatus(ctx, rec.ID, rec.Token))(t, "notice status after review")
	if st.Review == nil || st.Review.State != "upheld" || st.State != "received" {
		t.Errorf("notice status after an upheld review: %+v (review %+v)", st, st.Review)
	}
	reps := must(pia.Reports(ctx, 0))(t, "my reports")
	if len(reps) == 0 || reps[0].Review == nil || reps[0].Review.State != "rejected" || reps[0].Review.Reason != "Decided on the notice's review." {
		t.Errorf("reporter's review: %+v", reps)
	}

	// A bulk action shows how each subject fared.
	for _, b := range must(tara.BulkRequests(ctx, "done"))(t, "done bulk actions") {
		got := must(tara.BulkRequest(ctx, b.ID))(t, "bulk action")
		if len(got.Results) != len(got.Subjects) || got.Results[0].State != "done" || got.Results[0].CaseID == 0 {
			t.Errorf("bulk action %d: %+v", b.ID, got.Results)
		}
		break
	}
	_, err = tara.BulkRequest(ctx, 999999)
	wantCode(t, "a bulk action that does not exist", err, "not_found")
}
