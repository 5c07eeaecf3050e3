package httpapi_test

import (
	"fmt"
	"maps"
	"net/http"
	"testing"

	"kurir"
	"kurir/sqldb"
	"kurir/sqldb/sqldbtest"
)

// Staff link a notice that named nothing to what it means, but not to a
// conversation between two people; and triage does not see who notified.
func TestNoticeLinksStopAtPrivateChatsAndTriageSeesNoNotifier(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		h := newHarness(t, db, options{})
		alice, bob := h.person(t, "alice"), h.person(t, "bobby")
		tina, mona := h.staff(t, "tina", kurir.RoleTriage), h.staff(t, "mona", kurir.RoleModerator)
		var dm chatJSON
		h.do(t, "PUT", fmt.Sprintf("/api/v1/users/%d/chat", bob.id), alice.token, nil).want(t, "open private chat", http.StatusOK, &dm)
		pin := h.sendMsg(t, alice, dm.ID, "my bank PIN is 4711", "k1")
		h.do(t, "POST", "/api/v1/notices", "", map[string]any{"explanation": "Fraud.", "location": "nowhere", "category": "scam",
			"name": "Nora Notifier", "email": "nora@example.org", "good_faith": true}).want(t, "notice", http.StatusCreated, nil)
		var q struct {
			Cases []struct {
				ID int64 `json:"id"`
			} `json:"cases"`
		}
		h.do(t, "GET", "/api/v1/moderation/cases", tina.token, nil).want(t, "queue", http.StatusOK, &q)
		if len(q.Cases) != 1 {
			t.Fatalf("queue %+v, want the notice's case", q.Cases)
		}
		link := fmt.Sprintf("/api/v1/moderation/cases/%d/subject", q.Cases[0].ID)
		before := modRows(t, db)
		for _, who := range []person{tina, mona} {
			h.do(t, "POST", link, who.token, map[string]string{"subject": fmt.Sprintf("message:%d:%d", dm.ID, pin.Seq)}).
				wantProblem(t, "link a private conversation", problemWant{status: http.StatusForbidden, code: "forbidden", reason: "private_subject"})
		}
		if after := modRows(t, db); !maps.Equal(before, after) {
			t.Fatalf("refused links wrote rows: %v, then %v", before, after)
		}

		type caseJSON struct {
			Messages []struct {
				Text string `json:"text"`
			} `json:"messages"`
			Notices []struct {
				Name     string `json:"name"`
				Email    string `json:"email"`
				Withheld bool   `json:"identity_withheld"`
			} `json:"notices"`
		}
		var d caseJSON
		h.do(t, "GET", fmt.Sprintf("/api/v1/moderation/cases/%d", q.Cases[0].ID), tina.token, nil).want(t, "case as triage", http.StatusOK, &d)
		if len(d.Messages) != 0 || len(d.Notices) != 1 || d.Notices[0].Email != "" || d.Notices[0].Name != "" || !d.Notices[0].Withheld {
			t.Errorf("triage's case view %+v; want no messages and the notifier withheld", d)
		}
		d = caseJSON{}
		h.do(t, "GET", fmt.Sprintf("/api/v1/moderation/cases/%d", q.Cases[0].ID), mona.token, nil).want(t, "case as moderator", http.StatusOK, &d)
		if len(d.Notices) != 1 || d.Notices[0].Email != "nora@example.org" || d.Notices[0].Name != "Nora Notifier" || d.Notices[0].Withheld {
			t.Errorf("moderator's case view %+v; want the notifier's name and address", d.Notices)
		}
	}, schema...)
}
