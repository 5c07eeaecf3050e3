package httpapi_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"kurir"
	"kurir/sqldb"
	"kurir/sqldb/sqldbtest"
)

// TestBannedAccountCanStillReadItsStatementAndAppeal: a ban refuses a
// normal login and every other request, but a restricted login lets the
// account read the decision against it and appeal it (DSA Arts. 17 and 20),
// and the upheld appeal lets it back in.
func TestBannedAccountCanStillReadItsStatementAndAppeal(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		h := newHarness(t, db, options{})
		spammer, reader := h.person(t, "sammy_spam"), h.person(t, "rita_reader")
		mod1, mod2 := h.staff(t, "magdalena", kurir.RoleModerator), h.staff(t, "matthias", kurir.RoleModerator)
		rep := h.report(t, reader, subjectJSON{Kind: "user", UserID: spammer.id}, "spam")
		var act actionJSON
		h.do(t, "POST", fmt.Sprintf("/api/v1/moderation/cases/%d/actions", rep.CaseID), mod1.token,
			map[string]any{"kind": "ban", "facts": "Sent the same advert to 400 people."}).want(t, "ban", http.StatusCreated, &act)

		h.do(t, "GET", "/api/v1/dialogs", spammer.token, nil).
			wantProblem(t, "the banned account's old token", problemWant{status: 403, code: "forbidden", reason: "account_banned"})
		h.do(t, "POST", "/api/v1/sessions", "", map[string]any{"username": "sammy_spam", "password": password}).
			wantProblem(t, "a normal login", problemWant{status: 403, code: "forbidden", reason: "account_banned"})
		h.do(t, "POST", "/api/v1/sessions", "", map[string]any{"username": "sammy_spam", "password": "wrong password here"}).
			wantProblem(t, "a restricted login with a wrong password", problemWant{status: 401, code: "unauthenticated", reason: "wrong_credentials"})
		var l loginResult
		h.do(t, "POST", "/api/v1/sessions", "", map[string]any{"username": "sammy_spam", "password": password, "restricted": true}).
			want(t, "a restricted login", http.StatusCreated, &l)

		var me struct {
			State       string `json:"state"`
			StateReason string `json:"state_reason"`
		}
		h.do(t, "GET", "/api/v1/me", l.Token, nil).want(t, "me, restricted", http.StatusOK, &me)
		if me.State != "banned" || me.StateReason == "" {
			t.Errorf("me = %+v, want banned with the reason", me)
		}
		h.do(t, "GET", "/api/v1/dialogs", l.Token, nil).
			wantProblem(t, "the chat list with a restricted token", problemWant{status: 403, code: "forbidden", reason: "account_banned"})
		h.do(t, "POST", "/api/v1/reports", l.Token, map[string]any{"subject": subjectJSON{Kind: "user", UserID: reader.id}, "reason": "spam"}).
			wantProblem(t, "a report with a restricted token", problemWant{status: 403, code: "forbidden", reason: "account_banned"})

		var sts struct {
			Statements []struct {
				ID          int64  `json:"id"`
				Action      string `json:"action"`
				Restriction string `json:"restriction"`
				CanAppeal   bool   `json:"can_appeal"`
			} `json:"statements"`
		}
		h.do(t, "GET", "/api/v1/statements?lang=ru", l.Token, nil).want(t, "statements, restricted", http.StatusOK, &sts)
		if len(sts.Statements) != 1 || sts.Statements[0].Action != "ban" || !sts.Statements[0].CanAppeal || !strings.Contains(sts.Statements[0].Restriction, "заблокирован") {
			t.Fatalf("statements = %+v, want the ban, in Russian, open to appeal", sts)
		}
		var ap appealJSON
		h.do(t, "POST", fmt.Sprintf("/api/v1/statements/%d/appeal", act.ID), l.Token, map[string]any{"text": "I run a bakery; those were my customers."}).
			want(t, "appeal, restricted", http.StatusCreated, &ap)
		h.do(t, "POST", fmt.Sprintf("/api/v1/moderation/appeals/%d/decision", ap.ID), mod2.token, map[string]any{"uphold": true, "reason": "Opted-in customers."}).
			want(t, "uphold", http.StatusOK, nil)
		h.do(t, "GET", "/api/v1/dialogs", l.Token, nil).want(t, "the chat list once the ban is reversed", http.StatusOK, nil)
		h.do(t, "DELETE", "/api/v1/sessions/current", l.Token, nil).want(t, "log out", http.StatusNoContent, nil)
	}, schema...)
}
