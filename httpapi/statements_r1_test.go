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

// TestStatementNewsAndLanguage: a decision taken with a reason template
// reaches the affected user's live stream as a "decision" frame and counts
// in GET /statements/unseen; GET /statements in Indonesian gives the
// template's facts in Indonesian (what the moderator added as typed) and
// the clause of the terms, and clears the count. An unknown template is a
// 400 problem that changes nothing.
func TestStatementNewsAndLanguage(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		h := newHarness(t, db, options{})
		owner, reader := h.person(t, "olivia"), h.person(t, "rudolf")
		mod := h.staff(t, "magdalena", kurir.RoleModerator)
		ch, post := h.publicChannel(t, owner, "olivia_ads", "Followers murah", reader)
		rep := h.report(t, reader, subjectJSON{Kind: "message", ChatID: ch.ID, Seq: post.Seq}, "spam")
		live := h.dialLive(t, owner.token)
		if f := readFrame(t, live); f.Type != "hello" {
			t.Fatalf("first frame %+v, want hello", f)
		}
		unseen := func(what string, want int) {
			t.Helper()
			var u struct {
				Unseen int `json:"unseen"`
			}
			h.do(t, "GET", "/api/v1/statements/unseen", owner.token, nil).want(t, what, http.StatusOK, &u)
			if u.Unseen != want {
				t.Errorf("%s: unseen = %d, want %d", what, u.Unseen, want)
			}
		}
		unseen("before any decision", 0)

		acts := fmt.Sprintf("/api/v1/moderation/cases/%d/actions", rep.CaseID)
		before := modRows(t, db)
		h.do(t, "POST", acts, mod.token, map[string]any{"kind": "remove_message", "template": "no_such_template"}).
			wantProblem(t, "an unknown template", problemWant{status: http.StatusBadRequest, code: "invalid", reason: "unknown_template", field: "template"})
		wantRowsUnchanged(t, db, "an unknown template", before)
		unseen("after a refused decision", 0)

		const added = "Posted 40 times in an hour."
		var a actionJSON
		h.do(t, "POST", acts, mod.token, map[string]any{"kind": "remove_message", "template": "spam", "facts": added}).
			want(t, "act with a template", http.StatusCreated, &a)
		for {
			f := readFrame(t, live) // the removal's update may come first
			if f.Type == "decision" {
				break
			}
			if f.Type != "update" && f.Type != "chat_event" {
				t.Fatalf("live frame %+v while waiting for the decision", f)
			}
		}
		unseen("after the decision", 1)

		var sts struct {
			Statements []struct {
				ID     int64  `json:"id"`
				Lang   string `json:"lang"`
				Ground string `json:"ground"`
				Facts  string `json:"facts"`
			} `json:"statements"`
		}
		h.send(t, call{method: "GET", path: "/api/v1/statements", token: owner.token, header: http.Header{"Accept-Language": {"id-ID,id;q=0.9,en;q=0.5"}}}).
			want(t, "statements in Indonesian", http.StatusOK, &sts)
		if len(sts.Statements) != 1 {
			t.Fatalf("statements: %+v, want one", sts.Statements)
		}
		st := sts.Statements[0]
		if want := "Obrolan ini mengirim banyak pesan iklan berulang yang tidak diminta.\n\n" + added; st.Lang != "id" || st.Facts != want {
			t.Errorf("facts (%s) = %q, want %q", st.Lang, st.Facts, want)
		}
		if !strings.Contains(st.Ground, "Ketentuan layanan § 4.18: Spam") {
			t.Errorf("ground = %q, want the clause of the terms", st.Ground)
		}
		unseen("after reading the statements", 0)
	}, schema...)
}
