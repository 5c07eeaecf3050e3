package httpapi_test

import (
	"fmt"
	"maps"
	"net/http"
	"strings"
	"testing"

	"kurir"
	"kurir/sqldb"
	"kurir/sqldb/sqldbtest"
)

// noticeCaseJSON is a case as the console reads a notice's.
type noticeCaseJSON struct {
	ID      int64       `json:"id"`
	Subject subjectJSON `json:"subject"`
	State   string      `json:"state"`
	Lang    string      `json:"lang"`
	Country string      `json:"country"`
	Notices []struct {
		ID          int64  `json:"id"`
		Location    string `json:"location"`
		Explanation string `json:"explanation"`
		Email       string `json:"email"`
		Lang        string `json:"lang"`
		Country     string `json:"country"`
		Mail        []struct {
			Kind  string `json:"kind"`
			State string `json:"state"`
		} `json:"mail"`
	} `json:"notices"`
}

func TestNoticeCasesShowTheWholeNoticeQueueByOriginAndLinkToASubject(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		h := newHarness(t, db, options{places: testPlaces})
		owner, member, admin, tina := h.person(t, "owner"), h.person(t, "member"), h.staff(t, "adalove", kurir.RoleAdmin), h.staff(t, "tina", kurir.RoleTriage)
		ch, post := h.publicChannel(t, owner, "bazaar", "counterfeit pills, cheap")
		var g chatJSON
		h.do(t, "POST", "/api/v1/chats/groups", owner.token, map[string]any{"title": "Back room", "members": []int64{member.id}}).
			want(t, "create group", http.StatusCreated, &g)

		long := strings.Repeat("These pills are counterfeit. ", 60) // 1,740 characters
		notice := func(location, email, accept, ip string) int64 {
			t.Helper()
			var rec struct {
				ID int64 `json:"id"`
			}
			h.send(t, call{method: "POST", path: "/api/v1/notices", header: http.Header{"Accept-Language": {accept}, "X-Forwarded-For": {ip}},
				body: map[string]any{"explanation": long, "location": location, "category": "unsafe_products", "name": "Rita",
					"email": email, "good_faith": true}}).want(t, "notice at "+location, http.StatusCreated, &rec)
			return rec.ID
		}
		notice(fmt.Sprintf("https://kurir.example/chats/%d/%d", ch.ID, post.Seq), "rita@example.org", "de-DE,de;q=0.9", "127.0.0.12")
		dead := notice(fmt.Sprintf("https://kurir.example/chats/%d", g.ID), "otto@example.org", "ru", "127.0.0.42")

		queue := func(query string) []noticeCaseJSON {
			t.Helper()
			var out struct {
				Cases []noticeCaseJSON `json:"cases"`
			}
			h.do(t, "GET", "/api/v1/moderation/cases?"+query, tina.token, nil).want(t, "queue "+query, http.StatusOK, &out)
			return out.Cases
		}
		de := queue("lang=de&country=DE")
		if len(de) != 1 || de[0].Subject != (subjectJSON{Kind: "message", ChatID: ch.ID, Seq: post.Seq}) || de[0].Lang != "de" || de[0].Country != "DE" {
			t.Fatalf("German queue %+v; want the post's case, from de/DE", de)
		}
		if got := queue("lang=fr"); len(got) != 0 {
			t.Errorf("French queue %+v, want none", got)
		}
		ru := queue("country=AT")
		if len(ru) != 1 || ru[0].Subject.Kind != "notice" {
			t.Fatalf("Austrian queue %+v; want the private group's notice, which named nothing a visitor sees", ru)
		}
		h.do(t, "GET", "/api/v1/moderation/cases?lang=deutsch", tina.token, nil).
			wantProblem(t, "queue by a bad language", problemWant{status: http.StatusBadRequest, code: "invalid", reason: "bad_language", field: "lang"})
		h.do(t, "GET", "/api/v1/moderation/cases?country=ZZ", tina.token, nil).
			wantProblem(t, "queue by a bad country", problemWant{status: http.StatusBadRequest, code: "invalid", reason: "bad_country", field: "country"})

		var d noticeCaseJSON
		h.do(t, "GET", fmt.Sprintf("/api/v1/moderation/cases/%d", ru[0].ID), tina.token, nil).want(t, "case", http.StatusOK, &d)
		if len(d.Notices) != 1 || d.Notices[0].ID != dead || d.Notices[0].Explanation != strings.TrimSpace(long) ||
			!strings.HasSuffix(d.Notices[0].Location, fmt.Sprintf("/chats/%d", g.ID)) || d.Notices[0].Lang != "ru" || d.Notices[0].Country != "AT" {
			t.Fatalf("case notices %+v; want the whole notice as given", d.Notices)
		}
		if m := d.Notices[0].Mail; len(m) != 1 || m[0].Kind != "receipt" || m[0].State != "pending" {
			t.Errorf("notice mail %+v; want the receipt waiting to be sent", m)
		}

		// Bad links are refused and change nothing.
		link := fmt.Sprintf("/api/v1/moderation/cases/%d/subject", ru[0].ID)
		before := modRows(t, db)
		h.do(t, "POST", link, tina.token, map[string]string{"subject": "nowhere"}).
			wantProblem(t, "link to nowhere", problemWant{status: http.StatusBadRequest, code: "invalid", reason: "bad_subject", field: "subject"})
		h.do(t, "POST", link, tina.token, map[string]string{"subject": fmt.Sprintf("message:%d:99", g.ID)}).
			wantProblem(t, "link to a missing message", problemWant{status: http.StatusNotFound, code: "not_found"})
		h.do(t, "POST", link, member.token, map[string]string{"subject": fmt.Sprintf("chat:%d", g.ID)}).
			wantProblem(t, "a user links a case", problemWant{status: http.StatusForbidden, code: "forbidden"})
		h.do(t, "POST", fmt.Sprintf("/api/v1/moderation/cases/%d/subject", de[0].ID), admin.token, map[string]string{"subject": fmt.Sprintf("chat:%d", g.ID)}).
			wantProblem(t, "link a located case", problemWant{status: http.StatusBadRequest, code: "invalid", reason: "not_a_notice", field: "case"})
		// Triage does not choose a private group's content to read.
		h.do(t, "POST", link, tina.token, map[string]string{"subject": fmt.Sprintf("https://kurir.example/chats/%d", g.ID)}).
			wantProblem(t, "triage links a private group", problemWant{status: http.StatusForbidden, code: "forbidden", reason: "private_subject"})
		if after := modRows(t, db); !maps.Equal(before, after) {
			t.Fatalf("refused links wrote rows: %v, then %v", before, after)
		}

		// Staff who may act link it to the group; it can then be acted on.
		var linked struct {
			CaseID int64 `json:"case_id"`
		}
		h.do(t, "POST", link, admin.token, map[string]string{"subject": fmt.Sprintf("https://kurir.example/chats/%d", g.ID)}).
			want(t, "link", http.StatusOK, &linked)
		h.do(t, "GET", fmt.Sprintf("/api/v1/moderation/cases/%d", linked.CaseID), admin.token, nil).want(t, "linked case", http.StatusOK, &d)
		if linked.CaseID != ru[0].ID || d.Subject != (subjectJSON{Kind: "chat", ChatID: g.ID}) {
			t.Fatalf("linked case %d is about %+v; want case %d about the group", linked.CaseID, d.Subject, ru[0].ID)
		}
		h.do(t, "POST", fmt.Sprintf("/api/v1/moderation/cases/%d/actions", d.ID), admin.token,
			map[string]any{"kind": "takedown", "facts": "Sells counterfeit medicine.", "ground": "terms"}).want(t, "take the group down", http.StatusCreated, nil)

		// Reports name a file by media_id alone.
		for _, s := range []map[string]any{
			{"kind": "media"},
			{"kind": "media", "media_id": 7, "chat_id": ch.ID},
			{"kind": "message", "chat_id": ch.ID, "seq": post.Seq, "media_id": 7},
		} {
			h.do(t, "POST", "/api/v1/reports", member.token, map[string]any{"subject": s, "reason": "spam"}).
				wantProblem(t, fmt.Sprintf("report %v", s), problemWant{status: http.StatusBadRequest, code: "invalid", reason: "bad_subject", field: "subject"})
		}
		h.do(t, "POST", "/api/v1/reports", member.token, map[string]any{"subject": map[string]any{"kind": "media", "media_id": 999999}, "reason": "spam"}).
			wantProblem(t, "report a file nobody posted", problemWant{status: http.StatusNotFound, code: "not_found"})
	}, schema...)
}
