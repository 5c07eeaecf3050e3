package httpapi_test

import (
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"kurir"
	"kurir/audit"
	"kurir/httpapi"
	"kurir/sqldb"
	"kurir/sqldb/sqldbtest"
)

type subjectJSON struct {
	Kind   string `json:"kind"`
	ChatID int64  `json:"chat_id,omitempty"`
	Seq    int64  `json:"seq,omitempty"`
	UserID int64  `json:"user_id,omitempty"`
}

type reportJSON struct {
	ID      int64       `json:"id"`
	CaseID  int64       `json:"case_id"`
	Subject subjectJSON `json:"subject"`
	State   string      `json:"state"`
}

// evidenceJSON is what the server verified about a report, as the API
// shows it.
type evidenceJSON struct {
	Kind            string    `json:"kind"`
	Text            string    `json:"text"`
	Omitted         int       `json:"omitted"`
	SenderID        int64     `json:"sender_id"`
	SenderDevice    int64     `json:"sender_device"`
	RecipientID     int64     `json:"recipient_id"`
	RecipientDevice int64     `json:"recipient_device"`
	SentAt          time.Time `json:"sent_at"`
	EnvelopeID      string    `json:"envelope_id"`
}

// equal reports whether got is present and says what e says.
func (e evidenceJSON) equal(got *evidenceJSON) bool {
	if got == nil {
		return false
	}
	g := *got
	if !g.SentAt.Equal(e.SentAt) {
		return false
	}
	g.SentAt = e.SentAt
	return g == e
}

// caseSignalsJSON is a case's signals as moderators read them.
type caseSignalsJSON struct {
	Signals []struct {
		ReporterID int64         `json:"reporter_id"`
		Comment    string        `json:"comment"`
		Evidence   *evidenceJSON `json:"evidence"`
	} `json:"signals"`
}

type caseJSON struct {
	ID         int64  `json:"id"`
	State      string `json:"state"`
	AssigneeID int64  `json:"assignee_id"`
	History    []struct {
		Kind string `json:"kind"`
	} `json:"history"`
}

// kinds returns the kinds of the case's history, oldest first.
func (c caseJSON) kinds() []string {
	var out []string
	for _, e := range c.History {
		out = append(out, e.Kind)
	}
	return out
}

type actionJSON struct {
	ID         int64       `json:"id"`
	Kind       string      `json:"kind"`
	Subject    subjectJSON `json:"subject"`
	AffectedID int64       `json:"affected_id"`
}

type appealJSON struct {
	ID        int64  `json:"id"`
	State     string `json:"state"`
	DecidedBy int64  `json:"decided_by"`
}

// staff is a person the operator gave a moderation role.
func (h *harness) staff(t *testing.T, name string, role kurir.Role) person {
	t.Helper()
	p := h.person(t, name)
	if err := h.svc.SetRole(t.Context(), kurir.UserID(p.id), role); err != nil {
		t.Fatalf("give %s the role %s: %v", name, role, err)
	}
	return p
}

// publicChannel creates a public channel owned by owner, subscribes each of
// subscribers, and posts text to it.
func (h *harness) publicChannel(t *testing.T, owner person, username, text string, subscribers ...person) (chatJSON, messageJSON) {
	t.Helper()
	var ch chatJSON
	h.do(t, "POST", "/api/v1/chats/channels", owner.token, map[string]any{"title": "Channel " + username, "username": username}).
		want(t, "create channel", http.StatusCreated, &ch)
	for _, s := range subscribers {
		h.do(t, "POST", fmt.Sprintf("/api/v1/chats/%d/join", ch.ID), s.token, nil).want(t, "subscribe", http.StatusOK, nil)
	}
	return ch, h.sendMsg(t, owner, ch.ID, text, "post-"+username)
}

// report files a report through the API, failing the test if it is refused.
func (h *harness) report(t *testing.T, by person, subject subjectJSON, reason string) reportJSON {
	t.Helper()
	var r reportJSON
	h.do(t, "POST", "/api/v1/reports", by.token, map[string]any{"subject": subject, "reason": reason}).
		want(t, "report", http.StatusCreated, &r)
	return r
}

// modRows counts the rows of every table moderation writes, the audit log
// included: a refused request must leave them as they were.
func modRows(t testing.TB, db *sqldb.DB) map[string]int {
	t.Helper()
	n := map[string]int{}
	for _, table := range []string{"mod_cases", "mod_signals", "mod_events", "mod_actions", "mod_appeals", "mod_notices", "mod_flaggers", "audit_log"} {
		var c int
		if err := db.Read().QueryRowContext(t.Context(), "SELECT COUNT(*) FROM "+table).Scan(&c); err != nil {
			t.Fatalf("count %s: %v", table, err)
		}
		n[table] = c
	}
	return n
}

func wantRowsUnchanged(t testing.TB, db *sqldb.DB, what string, before map[string]int) {
	t.Helper()
	if after := modRows(t, db); !maps.Equal(after, before) {
		t.Errorf("%s changed moderation's tables: rows %v, before %v", what, after, before)
	}
}

// step is one request of a table test.
type step struct {
	method, path string
	body         any
}

// TestModerationAuthorisation: the console's API refuses anyone whose role
// does not allow a step with a 403 problem, and changes nothing; triage
// sorts and escalates but cannot act; only admins name trusted flaggers;
// nobody decides an appeal against their own decision, nor their own
// appeal, nor reverses a decision against themself.
func TestModerationAuthorisation(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		h := newHarness(t, db, options{})
		owner, reader := h.person(t, "olivia"), h.person(t, "rudolf")
		triage := h.staff(t, "theodor", kurir.RoleTriage)
		mod1, mod2 := h.staff(t, "magdalena", kurir.RoleModerator), h.staff(t, "matthias", kurir.RoleModerator)
		boss := h.staff(t, "bernadette", kurir.RoleAdmin)
		ch, post := h.publicChannel(t, owner, "olivia_deals", "Cheap watches", reader)
		rep := h.report(t, reader, subjectJSON{Kind: "message", ChatID: ch.ID, Seq: post.Seq}, "scam")
		c := fmt.Sprintf("/api/v1/moderation/cases/%d", rep.CaseID)

		var (
			dismiss  = step{"POST", c + "/dismiss", map[string]any{"reason": "Nothing wrong."}}
			act      = step{"POST", c + "/actions", map[string]any{"kind": "takedown", "facts": "Counterfeit watches."}}
			reverse  = step{"POST", "/api/v1/moderation/actions/1/reverse", map[string]any{"reason": "Undo."}}
			decide   = step{"POST", "/api/v1/moderation/appeals/1/decision", map[string]any{"uphold": true, "reason": "Fine."}}
			addFlag  = step{"POST", "/api/v1/moderation/flaggers", map[string]any{"user_id": reader.id, "organisation": "Watchdogs"}}
			dropFlag = step{"DELETE", fmt.Sprintf("/api/v1/moderation/flaggers/%d", reader.id), nil}
		)
		everything := []step{
			{"GET", "/api/v1/moderation/cases", nil},
			{"GET", c, nil},
			{"POST", c + "/assign", map[string]any{"user_id": 0}},
			{"POST", c + "/escalate", map[string]any{"note": "Why."}},
			{"POST", c + "/comments", map[string]any{"note": "A note."}},
			dismiss, act, reverse,
			{"GET", "/api/v1/moderation/appeals", nil},
			decide,
			{"GET", c + "/media/1/content", nil},
			{"GET", c + "/media/1/thumbnail", nil},
			{"GET", "/api/v1/moderation/flaggers", nil},
			addFlag, dropFlag,
		}
		refused := func(p person, who string, steps []step, want problemWant) {
			t.Helper()
			before := modRows(t, db)
			for _, s := range steps {
				h.send(t, call{method: s.method, path: s.path, token: p.token, body: s.body}).
					wantProblem(t, s.method+" "+s.path+" "+who, want)
			}
			wantRowsUnchanged(t, db, "requests refused "+who, before)
		}
		refused(person{}, "without a token", everything, problemWant{status: http.StatusUnauthorized, code: "unauthenticated", reason: "missing_token"})
		refused(reader, "as a user", everything, problemWant{status: http.StatusForbidden, code: "forbidden"})
		refused(triage, "as triage", []step{dismiss, act, reverse, decide, addFlag, dropFlag}, problemWant{status: http.StatusForbidden, code: "forbidden"})
		refused(mod1, "as a moderator", []step{addFlag, dropFlag}, problemWant{status: http.StatusForbidden, code: "forbidden"})

		// Triage sorts: assigns to themself and escalates.
		h.do(t, "POST", c+"/assign", triage.token, map[string]any{"user_id": triage.id}).want(t, "triage assigns", http.StatusNoContent, nil)
		h.do(t, "POST", c+"/escalate", triage.token, map[string]any{"note": "Looks organised."}).want(t, "triage escalates", http.StatusNoContent, nil)
		var cs caseJSON
		h.do(t, "GET", c, triage.token, nil).want(t, "case as triage", http.StatusOK, &cs)
		if cs.State != "escalated" || cs.AssigneeID != triage.id || !slices.Equal(cs.kinds(), []string{"opened", "assign", "escalate"}) {
			t.Errorf("case after triage escalated it: %+v", cs)
		}
		h.do(t, "POST", c+"/escalate", triage.token, map[string]any{"note": "Again."}).
			wantProblem(t, "escalate twice", problemWant{status: http.StatusConflict, code: "conflict"})

		// Admins name trusted flaggers.
		h.do(t, addFlag.method, addFlag.path, boss.token, addFlag.body).want(t, "admin adds a flagger", http.StatusNoContent, nil)

		// A moderator acts; the owner appeals; the moderator may not judge it.
		var a actionJSON
		h.do(t, act.method, act.path, mod1.token, act.body).want(t, "moderator acts", http.StatusCreated, &a)
		if a.Kind != "takedown" || a.Subject != (subjectJSON{Kind: "chat", ChatID: ch.ID}) || a.AffectedID != owner.id {
			t.Fatalf("takedown: got %+v", a)
		}
		var ap appealJSON
		h.do(t, "POST", fmt.Sprintf("/api/v1/statements/%d/appeal", a.ID), owner.token, map[string]any{"text": "It is a parody shop."}).
			want(t, "appeal", http.StatusCreated, &ap)
		decision := fmt.Sprintf("/api/v1/moderation/appeals/%d/decision", ap.ID)
		before := modRows(t, db)
		h.do(t, "POST", decision, mod1.token, map[string]any{"uphold": true, "reason": "I was too quick."}).
			wantProblem(t, "decide an appeal of one's own decision", problemWant{status: http.StatusForbidden, code: "forbidden", reason: "own_decision"})
		h.do(t, "POST", decision, triage.token, map[string]any{"uphold": true, "reason": "Fine."}).
			wantProblem(t, "triage decides an appeal", problemWant{status: http.StatusForbidden, code: "forbidden"})
		wantRowsUnchanged(t, db, "refused decisions", before)
		var got appealJSON
		h.do(t, "POST", decision, mod2.token, map[string]any{"uphold": false, "reason": "The shop sells fakes."}).
			want(t, "another moderator decides", http.StatusOK, &got)
		if got.ID != ap.ID || got.State != "rejected" || got.DecidedBy != mod2.id {
			t.Errorf("decided appeal: got %+v", got)
		}
		h.do(t, "POST", decision, mod2.token, map[string]any{"uphold": true, "reason": "Changed my mind."}).
			wantProblem(t, "decide twice", problemWant{status: http.StatusConflict, code: "conflict"})
		h.do(t, "GET", fmt.Sprintf("/api/v1/chats/%d/messages", ch.ID), reader.token, nil).
			wantProblem(t, "read the channel after the rejected appeal", problemWant{status: http.StatusForbidden, code: "forbidden", reason: "chat_unavailable"})

		// Staff are users too: a moderator whose own channel is taken down
		// can neither undo it nor judge their own appeal.
		own, _ := h.publicChannel(t, mod2, "matthias_tips", "Buy now", reader)
		rep2 := h.report(t, reader, subjectJSON{Kind: "chat", ChatID: own.ID}, "scam")
		var a2 actionJSON
		h.do(t, "POST", fmt.Sprintf("/api/v1/moderation/cases/%d/actions", rep2.CaseID), mod1.token, map[string]any{"kind": "takedown", "facts": "Pyramid scheme."}).
			want(t, "take down a moderator's channel", http.StatusCreated, &a2)
		var ap2 appealJSON
		h.do(t, "POST", fmt.Sprintf("/api/v1/statements/%d/appeal", a2.ID), mod2.token, map[string]any{"text": "It is a savings club."}).
			want(t, "the moderator appeals", http.StatusCreated, &ap2)
		decision = fmt.Sprintf("/api/v1/moderation/appeals/%d/decision", ap2.ID)
		before = modRows(t, db)
		h.do(t, "POST", fmt.Sprintf("/api/v1/moderation/actions/%d/reverse", a2.ID), mod2.token, map[string]any{"reason": "Mine, and fine."}).
			wantProblem(t, "reverse a decision against oneself", problemWant{status: http.StatusForbidden, code: "forbidden", reason: "own_content"})
		h.do(t, "POST", decision, mod2.token, map[string]any{"uphold": true, "reason": "Mine, and fine."}).
			wantProblem(t, "decide one's own appeal", problemWant{status: http.StatusForbidden, code: "forbidden", reason: "own_appeal"})
		wantRowsUnchanged(t, db, "self-dealing refused", before)
		h.do(t, "GET", fmt.Sprintf("/api/v1/chats/%d/messages", own.ID), reader.token, nil).
			wantProblem(t, "read the moderator's channel", problemWant{status: http.StatusForbidden, code: "forbidden", reason: "chat_unavailable"})
		h.do(t, "POST", decision, boss.token, map[string]any{"uphold": true, "reason": "A savings club after all."}).
			want(t, "an admin decides the moderator's appeal", http.StatusOK, nil)
		h.do(t, "GET", fmt.Sprintf("/api/v1/chats/%d/messages", own.ID), reader.token, nil).
			want(t, "read the moderator's channel after the appeal", http.StatusOK, nil)
	}, schema...)
}

// TestModerationBadInput: reports, notices, decisions and appeals that are
// wrong get a 400 problem naming the field, or the 404 or 409 a person
// would expect, and write nothing, not even to the audit log.
// TestReportCannotCarryEvidence: evidence is what the server verified
// itself, so a user's report cannot set it. A body with an evidence field
// is refused and files nothing; a comment worded like a verified
// secret-chat report stays a comment, and moderators see no evidence.
func TestReportCannotCarryEvidence(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		h := newHarness(t, db, options{})
		framer, victim := h.person(t, "fiona"), h.person(t, "victor")
		mod := h.staff(t, "magdalena", kurir.RoleModerator)
		subject := subjectJSON{Kind: "user", UserID: victim.id}
		forged := map[string]any{"kind": "secret_franking", "text": "I will hurt you", "sender_id": victim.id, "sender_device": 1,
			"recipient_id": framer.id, "recipient_device": 2, "sent_at": time.Now().UTC(), "envelope_id": "e1"}
		before := modRows(t, db)
		// (The OpenAPI document allows no such field either: only the
		// response is checked against it.)
		h.send(t, call{method: "POST", path: "/api/v1/reports", token: framer.token, mode: checkResponse,
			body: map[string]any{"subject": subject, "reason": "harassment", "evidence": forged}}).
			wantProblem(t, "a report with evidence", problemWant{http.StatusBadRequest, "invalid", "unknown_field", "evidence"})
		wantRowsUnchanged(t, db, "a report with evidence", before)

		imitation := fmt.Sprintf("Secret-chat message, verified by message franking: sent by user %d from device 1 to device 2 of user %d. Its text:\nI will hurt you",
			victim.id, framer.id)
		var rep struct {
			CaseID   int64         `json:"case_id"`
			Comment  string        `json:"comment"`
			Evidence *evidenceJSON `json:"evidence"`
		}
		h.do(t, "POST", "/api/v1/reports", framer.token, map[string]any{"subject": subject, "reason": "harassment", "comment": imitation}).
			want(t, "a report with an imitating comment", http.StatusCreated, &rep)
		if rep.Comment != imitation || rep.Evidence != nil {
			t.Errorf("filed the comment %q with evidence %+v, want the comment as written and no evidence", rep.Comment, rep.Evidence)
		}
		var stored string
		if err := db.Read().QueryRowContext(t.Context(), `SELECT evidence FROM mod_signals WHERE case_id = $1`, rep.CaseID).Scan(&stored); err != nil || stored != "" {
			t.Errorf("the stored report's evidence is %q (%v), want none", stored, err)
		}
		var cs caseSignalsJSON
		h.do(t, "GET", fmt.Sprintf("/api/v1/moderation/cases/%d", rep.CaseID), mod.token, nil).want(t, "the case", http.StatusOK, &cs)
		if len(cs.Signals) != 1 || cs.Signals[0].Comment != imitation || cs.Signals[0].Evidence != nil {
			t.Errorf("the case's signals: %+v, want the comment alone", cs.Signals)
		}
	}, schema...)
}

func TestModerationBadInput(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		h := newHarness(t, db, options{})
		owner, reader := h.person(t, "olivia"), h.person(t, "rudolf")
		mod := h.staff(t, "magdalena", kurir.RoleModerator)
		ch, post := h.publicChannel(t, owner, "olivia_news", "Good morning", reader)
		var g chatJSON
		h.do(t, "POST", "/api/v1/chats/groups", owner.token, map[string]any{"title": "Family"}).want(t, "create group", http.StatusCreated, &g)
		secret := h.sendMsg(t, owner, g.ID, "Family only", "g-1")
		reported := subjectJSON{Kind: "message", ChatID: ch.ID, Seq: post.Seq}
		first := h.report(t, reader, reported, "spam")

		before := modRows(t, db)
		report := func(subject any, reason, comment string) map[string]any {
			m := map[string]any{"subject": subject, "reason": reason}
			if comment != "" {
				m["comment"] = comment
			}
			return m
		}
		for _, tc := range []struct {
			name string
			by   person
			body any // []byte is sent as it is
			want problemWant
		}{
			{"message that does not exist", reader, report(subjectJSON{Kind: "message", ChatID: ch.ID, Seq: post.Seq + 100}, "scam", ""),
				problemWant{status: http.StatusNotFound, code: "not_found"}},
			{"chat that does not exist", reader, report(subjectJSON{Kind: "chat", ChatID: 999999}, "scam", ""),
				problemWant{status: http.StatusNotFound, code: "not_found"}},
			{"user that does not exist", reader, report(subjectJSON{Kind: "user", UserID: 999999}, "scam", ""),
				problemWant{status: http.StatusNotFound, code: "not_found"}},
			{"message in a group the reporter is not in", reader, report(subjectJSON{Kind: "message", ChatID: g.ID, Seq: secret.Seq}, "scam", ""),
				problemWant{status: http.StatusNotFound, code: "not_found"}},
			{"group the reporter is not in", reader, report(subjectJSON{Kind: "chat", ChatID: g.ID}, "scam", ""),
				problemWant{status: http.StatusNotFound, code: "not_found"}},
			{"the same message twice", reader, report(reported, "scam", "Again!"),
				problemWant{status: http.StatusConflict, code: "conflict", reason: "already_reported"}},
			{"own message", owner, report(reported, "scam", ""),
				problemWant{status: http.StatusBadRequest, code: "invalid", reason: "own_content", field: "subject"}},
			{"oneself", reader, report(subjectJSON{Kind: "user", UserID: reader.id}, "scam", ""),
				problemWant{status: http.StatusBadRequest, code: "invalid", reason: "own_content", field: "subject"}},
			{"unknown reason", reader, report(subjectJSON{Kind: "chat", ChatID: ch.ID}, "ugly", ""),
				problemWant{status: http.StatusBadRequest, code: "invalid", reason: "unknown_reason", field: "reason"}},
			{"comment too long", reader, report(subjectJSON{Kind: "chat", ChatID: ch.ID}, "scam", strings.Repeat("é", 2001)),
				problemWant{status: http.StatusBadRequest, code: "invalid", reason: "too_long", field: "comment"}},
			{"comment with control characters", reader, report(subjectJSON{Kind: "chat", ChatID: ch.ID}, "scam", "see\x1b[31m here"),
				problemWant{status: http.StatusBadRequest, code: "invalid", reason: "invalid_characters", field: "comment"}},
			{"a notice as the subject", reader, report(map[string]any{"kind": "notice", "notice_id": 1}, "scam", ""),
				problemWant{status: http.StatusBadRequest, code: "invalid", reason: "bad_subject", field: "subject"}},
			{"a message without its seq", reader, report(subjectJSON{Kind: "message", ChatID: ch.ID}, "scam", ""),
				problemWant{status: http.StatusBadRequest, code: "invalid", reason: "bad_subject", field: "subject"}},
			{"a chat with a seq", reader, report(subjectJSON{Kind: "chat", ChatID: ch.ID, Seq: 1}, "scam", ""),
				problemWant{status: http.StatusBadRequest, code: "invalid", reason: "bad_subject", field: "subject"}},
			{"a user with a chat", reader, report(subjectJSON{Kind: "user", UserID: owner.id, ChatID: ch.ID}, "scam", ""),
				problemWant{status: http.StatusBadRequest, code: "invalid", reason: "bad_subject", field: "subject"}},
			{"no subject", reader, []byte(`{"reason":"scam"}`),
				problemWant{status: http.StatusBadRequest, code: "invalid", reason: "bad_subject", field: "subject"}},
			{"the subject as a string", reader, []byte(fmt.Sprintf(`{"subject":"message:%d:%d","reason":"scam"}`, ch.ID, post.Seq)),
				problemWant{status: http.StatusBadRequest, code: "invalid", reason: "wrong_type", field: "subject"}},
			{"the subject's chat as a string", reader, []byte(fmt.Sprintf(`{"subject":{"kind":"chat","chat_id":"%d"},"reason":"scam"}`, ch.ID)),
				problemWant{status: http.StatusBadRequest, code: "invalid", reason: "wrong_type", field: "subject.chat_id"}},
			{"the subject as null", reader, []byte(`{"subject":null,"reason":"scam"}`),
				problemWant{status: http.StatusBadRequest, code: "invalid", reason: "wrong_type", field: "subject"}},
			{"the subject cut short", reader, []byte(fmt.Sprintf(`{"subject":{"kind":"chat","chat_id":%d`, ch.ID)),
				problemWant{status: http.StatusBadRequest, code: "invalid", reason: "malformed_json"}},
			{"an unknown field", reader, []byte(fmt.Sprintf(`{"subject":{"kind":"chat","chat_id":%d},"reason":"scam","severity":5}`, ch.ID)),
				problemWant{status: http.StatusBadRequest, code: "invalid", reason: "unknown_field", field: "severity"}},
			{"an unknown field in the subject", reader, []byte(fmt.Sprintf(`{"subject":{"kind":"chat","chat_id":%d,"chat":1},"reason":"scam"}`, ch.ID)),
				problemWant{status: http.StatusBadRequest, code: "invalid", reason: "unknown_field", field: "chat"}},
			{"a field twice", reader, []byte(fmt.Sprintf(`{"subject":{"kind":"chat","chat_id":%d},"reason":"scam","reason":"spam"}`, ch.ID)),
				problemWant{status: http.StatusBadRequest, code: "invalid", reason: "duplicate_field", field: "reason"}},
		} {
			h.send(t, call{method: "POST", path: "/api/v1/reports", token: tc.by.token, body: tc.body, mode: checkResponse}).
				wantProblem(t, "report "+tc.name, tc.want)
		}
		wantRowsUnchanged(t, db, "refused reports", before)

		notice := func(change func(map[string]any)) map[string]any {
			m := map[string]any{"explanation": "The channel sells counterfeit medicine.", "location": "@olivia_news",
				"category": "unsafe_products", "name": "Rita Meyer", "email": "rita@example.org", "good_faith": true}
			change(m)
			return m
		}
		for _, tc := range []struct {
			name   string
			body   map[string]any
			field  string
			reason string
		}{
			{"no explanation", notice(func(m map[string]any) { delete(m, "explanation") }), "explanation", "required"},
			{"a blank explanation", notice(func(m map[string]any) { m["explanation"] = " \n " }), "explanation", "required"},
			{"an explanation too long", notice(func(m map[string]any) { m["explanation"] = strings.Repeat("x", 5001) }), "explanation", "too_long"},
			{"no location", notice(func(m map[string]any) { delete(m, "location") }), "location", "required"},
			{"no category", notice(func(m map[string]any) { delete(m, "category") }), "category", "unknown_category"},
			{"an unknown category", notice(func(m map[string]any) { m["category"] = "rudeness" }), "category", "unknown_category"},
			{"no name", notice(func(m map[string]any) { delete(m, "name") }), "name", "required"},
			{"no email", notice(func(m map[string]any) { delete(m, "email") }), "email", "required"},
			{"a bad email", notice(func(m map[string]any) { m["email"] = "rita at example" }), "email", "bad_email"},
			{"without good faith", notice(func(m map[string]any) { m["good_faith"] = false }), "good_faith", "required"},
			{"an unknown field", notice(func(m map[string]any) { m["phone"] = "+49 30 1234" }), "phone", "unknown_field"},
		} {
			h.send(t, call{method: "POST", path: "/api/v1/notices", body: tc.body, mode: checkResponse}).
				wantProblem(t, "notice with "+tc.name, problemWant{status: http.StatusBadRequest, code: "invalid", reason: tc.reason, field: tc.field})
		}
		h.do(t, "GET", "/api/v1/notices/999999?token=abc", "", nil).
			wantProblem(t, "status of a notice that does not exist", problemWant{status: http.StatusNotFound, code: "not_found"})
		wantRowsUnchanged(t, db, "refused notices", before)

		c := fmt.Sprintf("/api/v1/moderation/cases/%d/actions", first.CaseID)
		for _, tc := range []struct {
			name string
			path string
			body map[string]any
			want problemWant
		}{
			{"an unknown kind", c, map[string]any{"kind": "erase", "facts": "Spam."},
				problemWant{status: http.StatusBadRequest, code: "invalid", reason: "unknown_action", field: "kind"}},
			{"no facts", c, map[string]any{"kind": "takedown", "facts": ""},
				problemWant{status: http.StatusBadRequest, code: "invalid", reason: "required", field: "facts"}},
			{"an end to a takedown", c, map[string]any{"kind": "takedown", "facts": "Spam.", "until": "2030-01-01T00:00:00Z"},
				problemWant{status: http.StatusBadRequest, code: "invalid", reason: "not_temporary", field: "until"}},
			{"a suspension without an end", c, map[string]any{"kind": "suspend", "facts": "Spam."},
				problemWant{status: http.StatusBadRequest, code: "invalid", reason: "in_past", field: "until"}},
			{"illegal without the law", c, map[string]any{"kind": "takedown", "facts": "Spam.", "ground": "illegal"},
				problemWant{status: http.StatusBadRequest, code: "invalid", reason: "required", field: "legal_reference"}},
			{"an unknown ground", c, map[string]any{"kind": "takedown", "facts": "Spam.", "ground": "vibes"},
				problemWant{status: http.StatusBadRequest, code: "invalid", reason: "unknown_ground", field: "ground"}},
			{"an unknown category", c, map[string]any{"kind": "takedown", "facts": "Spam.", "category": "rudeness"},
				problemWant{status: http.StatusBadRequest, code: "invalid", reason: "unknown_category", field: "category"}},
			{"a case that does not exist", "/api/v1/moderation/cases/999999/actions", map[string]any{"kind": "takedown", "facts": "Spam."},
				problemWant{status: http.StatusNotFound, code: "not_found"}},
		} {
			h.send(t, call{method: "POST", path: tc.path, token: mod.token, body: tc.body, mode: checkResponse}).
				wantProblem(t, "act with "+tc.name, tc.want)
		}
		wantRowsUnchanged(t, db, "refused actions", before)

		var a actionJSON
		h.do(t, "POST", c, mod.token, map[string]any{"kind": "remove_message", "facts": "Spam."}).want(t, "remove the post", http.StatusCreated, &a)
		before = modRows(t, db)
		appeal := fmt.Sprintf("/api/v1/statements/%d/appeal", a.ID)
		for _, tc := range []struct {
			name string
			by   person
			path string
			text string
			want problemWant
		}{
			{"no text", owner, appeal, "  ", problemWant{status: http.StatusBadRequest, code: "invalid", reason: "required", field: "text"}},
			{"a text too long", owner, appeal, strings.Repeat("x", 2001), problemWant{status: http.StatusBadRequest, code: "invalid", reason: "too_long", field: "text"}},
			{"someone else's decision", reader, appeal, "Bring it back.", problemWant{status: http.StatusNotFound, code: "not_found"}},
			{"a decision that does not exist", owner, "/api/v1/statements/999999/appeal", "Why?", problemWant{status: http.StatusNotFound, code: "not_found"}},
		} {
			h.send(t, call{method: "POST", path: tc.path, token: tc.by.token, body: map[string]any{"text": tc.text}, mode: checkResponse}).
				wantProblem(t, "appeal with "+tc.name, tc.want)
		}
		wantRowsUnchanged(t, db, "refused appeals", before)
	}, schema...)
}

// TestModerationTakedownLive: a subscriber connected to the live stream
// sees the channel go dark the moment a moderator takes it down, and come
// back when the decision is reversed; reading it in between is refused with
// the reason. The moderator's view of the case and both decisions are in the
// audit log, whose chain still verifies.
func TestModerationTakedownLive(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		h := newHarness(t, db, options{})
		owner, sub := h.person(t, "olivia"), h.person(t, "sebastian")
		mod := h.staff(t, "magdalena", kurir.RoleModerator)
		ch, post := h.publicChannel(t, owner, "olivia_live", "Hello, subscribers", sub)
		rep := h.report(t, sub, subjectJSON{Kind: "chat", ChatID: ch.ID}, "hate_speech")
		messages := fmt.Sprintf("/api/v1/chats/%d/messages", ch.ID)

		live := h.dialLive(t, sub.token)
		hello := readFrame(t, live)
		if hello.Type != "hello" || len(hello.LargeChats) != 1 || hello.LargeChats[0].ChatID != ch.ID {
			t.Fatalf("hello = %+v, want the channel among large chats", hello)
		}
		seen := hello.LargeChats[0].Seq
		// next returns the next change to the channel, skipping those the
		// hello already covered (they may still be on their way).
		next := func() liveFrame {
			t.Helper()
			for {
				f := readFrame(t, live)
				if f.Type == "chat_event" && f.Event.ChatID == ch.ID && f.Event.Seq <= seen {
					continue
				}
				seen = max(seen, f.Event.Seq)
				return f
			}
		}

		c := fmt.Sprintf("/api/v1/moderation/cases/%d", rep.CaseID)
		h.do(t, "GET", c, mod.token, nil).want(t, "moderator views the case", http.StatusOK, nil)
		var a actionJSON
		h.do(t, "POST", c+"/actions", mod.token, map[string]any{"kind": "takedown", "facts": "Calls for violence against a group."}).
			want(t, "take down", http.StatusCreated, &a)
		if f := next(); f.Type != "chat_event" || f.Event.ChatID != ch.ID || f.Event.Kind != "takedown" {
			t.Fatalf("frame after the takedown = %+v, want a takedown chat_event", f)
		}
		for _, p := range []person{sub, owner} {
			h.do(t, "GET", messages, p.token, nil).
				wantProblem(t, "read the channel after the takedown", problemWant{status: http.StatusForbidden, code: "forbidden", reason: "chat_unavailable"})
		}

		h.do(t, "POST", fmt.Sprintf("/api/v1/moderation/actions/%d/reverse", a.ID), mod.token, map[string]any{"reason": "Misread the post."}).
			want(t, "reverse", http.StatusNoContent, nil)
		if f := next(); f.Type != "chat_event" || f.Event.ChatID != ch.ID || f.Event.Kind != "reinstated" {
			t.Fatalf("frame after the reversal = %+v, want a reinstated chat_event", f)
		}
		var page struct{ Messages []messageJSON }
		h.do(t, "GET", messages, sub.token, nil).want(t, "read the channel after the reversal", http.StatusOK, &page)
		if !slices.ContainsFunc(page.Messages, func(m messageJSON) bool { return m.Seq == post.Seq && m.Text == post.Text }) {
			t.Errorf("channel after the reversal: %+v, want the post", page.Messages)
		}

		// The audit log holds what the moderator saw and did.
		entries, err := audit.List(t.Context(), db.Read(), audit.Filter{Actor: kurir.UserID(mod.id)})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, e := range entries {
			if e.Role != kurir.RoleModerator {
				t.Errorf("audit entry %+v: role %q, want moderator", e, e.Role)
			}
			got = append(got, e.Action+" "+e.Subject)
		}
		chat := fmt.Sprintf("chat:%d", ch.ID)
		want := []string{"action.reverse " + chat, "action.takedown " + chat, fmt.Sprintf("case.view case:%d", rep.CaseID)}
		if !slices.Equal(got, want) {
			t.Errorf("the moderator's audit entries, newest first: %q, want %q", got, want)
		}
		if r, err := audit.Verify(t.Context(), db.Read()); err != nil || !r.OK {
			t.Errorf("audit chain: %+v, %v", r, err)
		}
		live.Close(websocket.StatusNormalClosure, "")
	}, schema...)
}

// FuzzReportEndpoint posts arbitrary bytes to POST /api/v1/reports on a real
// server, as a subscriber of a public channel. Whatever the body, the
// server never fails (5xx); every refusal is a problem+json matching the
// document and writes nothing, not even to the audit log; and a report is
// filed only from a body the OpenAPI document allows.
func FuzzReportEndpoint(f *testing.F) {
	db := sqldbtest.SQLite(f, schema...)
	h := newHarness(f, db, options{quiet: true})
	owner := h.register(f, "olivia")
	ownerToken := h.login(f, "olivia", password, "test").Token
	reader := h.register(f, "rudolf")
	token := h.login(f, "rudolf", password, "test").Token
	var ch chatJSON
	h.do(f, "POST", "/api/v1/chats/channels", ownerToken, map[string]any{"title": "News", "username": "olivia_news"}).
		want(f, "create channel", http.StatusCreated, &ch)
	h.do(f, "POST", fmt.Sprintf("/api/v1/chats/%d/join", ch.ID), token, nil).want(f, "subscribe", http.StatusOK, nil)
	var post messageJSON
	h.do(f, "POST", fmt.Sprintf("/api/v1/chats/%d/messages", ch.ID), ownerToken, map[string]any{"text": "Hello", "idempotency_key": "p-1"}).
		want(f, "post", http.StatusCreated, &post)

	for _, s := range httpapi.RequestBodySeeds {
		f.Add([]byte(s))
	}
	for _, s := range []string{
		`{"subject":{"kind":"message","chat_id":%[1]d,"seq":%[2]d},"reason":"scam","comment":"Phishing"}`,
		`{"subject":{"kind":"chat","chat_id":%[1]d},"reason":"spam"}`,
		`{"subject":{"kind":"user","user_id":%[3]d},"reason":"harassment"}`,
		`{"subject":{"kind":"user","user_id":%[4]d},"reason":"harassment"}`,
		`{"subject":{"kind":"notice","notice_id":1},"reason":"scam"}`,
		`{"subject":{"kind":"message","chat_id":%[1]d},"reason":"scam"}`,
		`{"subject":{"kind":"chat","chat_id":%[1]d,"seq":0,"user_id":0},"reason":"scam"}`,
		`{"subject":{"kind":"chat","chat_id":-%[1]d},"reason":"scam"}`,
		`{"subject":{"kind":"chat","chat_id":9223372036854775807},"reason":"scam"}`,
		`{"subject":{"kind":"chat","chat_id":1e3},"reason":"scam"}`,
		`{"subject":{"kind":"chat","chat_id":%[1]d},"reason":"scam","comment":"\u0000"}`,
		`{"subject":"message:%[1]d:%[2]d","reason":"scam"}`,
		`{"subject":{"kind":"chat","chat_id":%[1]d,"chat_id":2},"reason":"scam"}`,
		`{"subject":{"Kind":"chat","chat_id":%[1]d},"reason":"scam"}`,
		`{"subject":null,"reason":"scam"}`,
		`{"subject":{},"reason":""}`,
	} {
		f.Add(fmt.Appendf(nil, s, ch.ID, post.Seq, owner.ID, reader.ID))
	}
	spec := h.srv.Spec()
	f.Fuzz(func(t *testing.T, body []byte) {
		if body == nil {
			body = []byte{} // send an empty body, not none
		}
		before := modRows(t, db)
		resp := h.send(t, call{method: "POST", path: "/api/v1/reports", token: token, body: body, mode: checkResponse})
		after := modRows(t, db)
		switch {
		case resp.status == http.StatusCreated:
			if err := spec.ValidateRequest("POST", "/api/v1/reports", "application/json", body); err != nil {
				t.Errorf("filed a report from %q, which the document refuses: %v", body, err)
			}
			if after["mod_signals"] != before["mod_signals"]+1 {
				t.Errorf("201 for %q, but signals went from %d to %d", body, before["mod_signals"], after["mod_signals"])
			}
		case resp.status >= 400 && resp.status < 500:
			if !maps.Equal(after, before) {
				t.Errorf("%d for %q, but rows changed from %v to %v", resp.status, body, before, after)
			}
		default:
			t.Errorf("status %d for %q: %s", resp.status, body, resp.body)
		}
	})
}
