package client_test

import (
	"strconv"
	"strings"
	"testing"

	"kurir"
	"kurir/client"
)

// testNoticeCases: a notice whose location names nothing a visitor can see
// is a case about the notice, shown whole with its receipt mail; triage
// links it to the account it means, and the queue filters by origin.
func testNoticeCases(t *testing.T, s *server) {
	ctx := t.Context()
	_, sam := s.user(t, "sam_spammer")
	tess, _ := s.staff(t, "tess_triage", kurir.RoleTriage)
	anon := s.client(t)
	explanation := strings.Repeat("He runs a fake shop from a private group. ", 40)
	rec := must(anon.SubmitNotice(ctx, client.NoticeParams{Explanation: explanation, Location: "https://kurir.example/chats/999999",
		Category: "scam", Name: "Vera", Email: "vera@example.org", GoodFaith: true}))(t, "notice")

	var caseID int64
	for _, c := range must(tess.Queue(ctx, client.QueueFilter{Source: "notice"}))(t, "notice queue") {
		if c.Subject.Kind == client.SubjectNotice {
			d := must(tess.Case(ctx, c.ID))(t, "case")
			if len(d.Notices) == 1 && d.Notices[0].ID == rec.ID {
				caseID = c.ID
				n := d.Notices[0]
				if n.Explanation != strings.TrimSpace(explanation) || n.Location != "https://kurir.example/chats/999999" || n.Email != "" || !n.IdentityWithheld || // triage is not shown who notified
					len(n.Mail) != 1 || n.Mail[0].Kind != "receipt" {
					t.Fatalf("notice as reviewers see it: %+v", n)
				}
			}
		}
	}
	if caseID == 0 {
		t.Fatalf("no case about notice %d", rec.ID)
	}
	_, err := tess.LinkCase(ctx, caseID, "somewhere")
	wantReason(t, "link to nowhere", err, "invalid", "bad_subject")
	into := must(tess.LinkCase(ctx, caseID, "user:"+strconv.FormatInt(sam.ID, 10)))(t, "link")
	if d := must(tess.Case(ctx, into))(t, "linked case"); into != caseID || d.Subject != client.UserSubject(sam.ID) {
		t.Errorf("linked case %d is about %+v, want case %d about the account %d", into, d.Subject, caseID, sam.ID)
	}
	_, err = tess.Queue(ctx, client.QueueFilter{Country: "ZZ"})
	wantReason(t, "queue by a country that is not one", err, "invalid", "bad_country")
	if cs := must(tess.Queue(ctx, client.QueueFilter{Lang: "xh"}))(t, "queue by language"); len(cs) != 0 {
		t.Errorf("queue of cases signalled in Xhosa: %+v, want none", cs)
	}
	_, err = tess.Report(ctx, client.ReportParams{Subject: client.MediaSubject(999999), Reason: "spam"})
	wantReason(t, "report a file nobody posted", err, "not_found", "")
}
