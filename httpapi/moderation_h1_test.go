package httpapi_test

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/png"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"kurir"
	"kurir/audit"
	"kurir/moderation"
	"kurir/sqldb"
	"kurir/sqldb/sqldbtest"
)

// TestModerationBanEndsLiveStreams: a ban or a suspension ends every live
// stream of the account at once (each device is told, and closed), other
// people's streams go on, and the account cannot open a new one until the
// decision is reversed.
func TestModerationBanEndsLiveStreams(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		h := newHarness(t, db, options{})
		bad, bystander, rep := h.person(t, "baddie"), h.person(t, "bystander"), h.person(t, "reporter")
		laptop := h.login(t, "baddie", password, "laptop").Token
		mod := h.staff(t, "magdalena", kurir.RoleModerator)
		closed := func(c *websocket.Conn) bool {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			for {
				if _, _, err := c.Read(ctx); err != nil {
					return websocket.CloseStatus(err) != -1
				}
			}
		}
		for i, kind := range []string{"ban", "suspend"} {
			phoneLive, laptopLive, otherLive := h.dialLive(t, bad.token), h.dialLive(t, laptop), h.dialLive(t, bystander.token)
			for _, c := range []*websocket.Conn{phoneLive, laptopLive, otherLive} {
				readFrame(t, c) // hello
			}
			r := h.report(t, rep, subjectJSON{Kind: "user", UserID: bad.id}, "harassment")
			body := map[string]any{"kind": kind, "facts": "Threatened members of a group."}
			if kind == "suspend" {
				body["until"] = h.clock.Now().Add(48 * time.Hour).UTC().Format(time.RFC3339)
			}
			var a actionJSON
			h.do(t, "POST", fmt.Sprintf("/api/v1/moderation/cases/%d/actions", r.CaseID), mod.token, body).want(t, kind, http.StatusCreated, &a)
			for name, c := range map[string]*websocket.Conn{"phone": phoneLive, "laptop": laptopLive} {
				f := readFrame(t, c)
				for f.Type == moderation.FrameDecision {
					// The nudge that a decision awaits them travels on its
					// own bus subject and may come before the end.
					f = readFrame(t, c)
				}
				if f.Type != "resync" {
					t.Errorf("%s: %s's stream got %+v, want a resync frame ending it", kind, name, f)
				}
				if !closed(c) {
					t.Errorf("%s: %s's stream still open", kind, name)
				}
			}
			short, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
			if _, _, err := otherLive.Read(short); websocket.CloseStatus(err) != -1 {
				t.Errorf("%s: a bystander's stream was closed: %v", kind, err)
			}
			cancel()
			otherLive.Close(websocket.StatusNormalClosure, "")
			wsURL := "ws" + h.url[len("http"):] + "/api/v1/live"
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			_, resp, err := websocket.Dial(ctx, wsURL, &websocket.DialOptions{Subprotocols: []string{"kurir.v1", "kurir.token." + bad.token}})
			cancel()
			if err == nil || resp == nil || resp.StatusCode != http.StatusForbidden {
				t.Errorf("%s: reconnecting: %v (response %v), want it refused", kind, err, resp)
			}
			h.do(t, "POST", fmt.Sprintf("/api/v1/moderation/actions/%d/reverse", a.ID), h.staff(t, fmt.Sprintf("reviewer%d", i), kurir.RoleModerator).token,
				map[string]any{"reason": "The messages were quotes."}).want(t, "reverse", http.StatusNoContent, nil)
			again := h.dialLive(t, bad.token)
			readFrame(t, again)
			again.Close(websocket.StatusNormalClosure, "")
		}
	}, schema...)
}

type reversalJSON struct {
	At       time.Time `json:"at"`
	ByAppeal bool      `json:"by_appeal"`
}

// TestReportersAndNotifiersLearnOfAReversal: once the action a report or a
// notice led to is reversed, the reporter's list and the notice's status
// say so, and whether it was on the affected user's appeal.
func TestReportersAndNotifiersLearnOfAReversal(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		h := newHarness(t, db, options{})
		owner, rep := h.person(t, "olivia"), h.person(t, "rudolf")
		mod1, mod2 := h.staff(t, "magdalena", kurir.RoleModerator), h.staff(t, "matthias", kurir.RoleModerator)
		shop, _ := h.publicChannel(t, owner, "olivia_shop", "Cheap watches", rep)
		news, _ := h.publicChannel(t, owner, "olivia_news", "Daily news", rep)

		var receipt struct {
			ID    int64  `json:"id"`
			Token string `json:"token"`
		}
		h.do(t, "POST", "/api/v1/notices", "", map[string]any{"explanation": "Sells counterfeit watches.", "location": "@olivia_shop",
			"category": "scam", "name": "Nora Notifier", "email": "nora@example.org", "good_faith": true}).want(t, "notice", http.StatusCreated, &receipt)
		rShop := h.report(t, rep, subjectJSON{Kind: "chat", ChatID: shop.ID}, "scam")
		rNews := h.report(t, rep, subjectJSON{Kind: "chat", ChatID: news.ID}, "fake")

		takeDown := func(caseID int64) actionJSON {
			t.Helper()
			var a actionJSON
			h.do(t, "POST", fmt.Sprintf("/api/v1/moderation/cases/%d/actions", caseID), mod1.token, map[string]any{"kind": "takedown", "facts": "Counterfeits."}).
				want(t, "take down", http.StatusCreated, &a)
			return a
		}
		aShop, aNews := takeDown(rShop.CaseID), takeDown(rNews.CaseID)

		type noticeStatusJSON struct {
			Outcome  string        `json:"outcome"`
			Reversal *reversalJSON `json:"reversal"`
		}
		status := func() noticeStatusJSON {
			t.Helper()
			var st noticeStatusJSON
			h.do(t, "GET", fmt.Sprintf("/api/v1/notices/%d?token=%s", receipt.ID, url.QueryEscape(receipt.Token)), "", nil).want(t, "notice status", http.StatusOK, &st)
			return st
		}
		type myReportsJSON struct {
			Reports []struct {
				CaseID   int64         `json:"case_id"`
				Outcome  string        `json:"outcome"`
				Reversal *reversalJSON `json:"reversal"`
			} `json:"reports"`
		}
		reports := func() map[int64]*reversalJSON {
			t.Helper()
			var l myReportsJSON
			h.do(t, "GET", "/api/v1/reports", rep.token, nil).want(t, "my reports", http.StatusOK, &l)
			out := map[int64]*reversalJSON{}
			for _, r := range l.Reports {
				if r.Outcome != "actioned" {
					t.Errorf("report on case %d: outcome %q, want actioned", r.CaseID, r.Outcome)
				}
				out[r.CaseID] = r.Reversal
			}
			return out
		}
		if st, got := status(), reports(); st.Reversal != nil || got[rShop.CaseID] != nil || got[rNews.CaseID] != nil {
			t.Fatalf("before any reversal: notice %+v, reports %v; want no reversal", st, got)
		}

		// Staff reverse the shop's takedown of their own accord.
		h.clock.Advance(time.Hour)
		h.do(t, "POST", fmt.Sprintf("/api/v1/moderation/actions/%d/reverse", aShop.ID), mod2.token, map[string]any{"reason": "Genuine watches."}).
			want(t, "reverse", http.StatusNoContent, nil)
		reversedAt := h.clock.Now()
		st := status()
		if st.Outcome != "actioned" || st.Reversal == nil || st.Reversal.ByAppeal || st.Reversal.At.Sub(reversedAt).Abs() > time.Second {
			t.Errorf("notice after the reversal: %+v (reversal %+v), want reversed at %v, not by appeal", st, st.Reversal, reversedAt)
		}
		got := reports()
		if r := got[rShop.CaseID]; r == nil || r.ByAppeal {
			t.Errorf("report on the shop after the reversal: %+v, want reversed, not by appeal", r)
		}
		if got[rNews.CaseID] != nil {
			t.Errorf("report on the news channel shows a reversal %+v; its decision stands", got[rNews.CaseID])
		}

		// The owner appeals the news channel's takedown, and it is upheld.
		var ap appealJSON
		h.do(t, "POST", fmt.Sprintf("/api/v1/statements/%d/appeal", aNews.ID), owner.token, map[string]any{"text": "The news is real."}).
			want(t, "appeal", http.StatusCreated, &ap)
		h.do(t, "POST", fmt.Sprintf("/api/v1/moderation/appeals/%d/decision", ap.ID), mod2.token, map[string]any{"uphold": true, "reason": "Sourced."}).
			want(t, "uphold", http.StatusOK, nil)
		if r := reports()[rNews.CaseID]; r == nil || !r.ByAppeal {
			t.Errorf("report on the news channel after the upheld appeal: %+v, want reversed by appeal", r)
		}
	}, schema...)
}

// TestModerationRoutesByRoleAreAudited: every staff route, as a user,
// triage, a moderator and an admin. A role below the route's is refused
// with 403 and nothing is written, not even to the audit log; a role that
// may gets the route's status, and the audit log gains exactly the
// entries the step owes, with the right actor and role. Triage cannot ban,
// and nobody decides an appeal against their own decision.
func TestModerationRoutesByRoleAreAudited(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		h := newHarness(t, db, options{})
		roles := []kurir.Role{kurir.RoleUser, kurir.RoleTriage, kurir.RoleModerator, kurir.RoleAdmin}
		as := map[kurir.Role]person{
			kurir.RoleUser:      h.person(t, "ulrich"),
			kurir.RoleTriage:    h.staff(t, "theodor", kurir.RoleTriage),
			kurir.RoleModerator: h.staff(t, "magdalena", kurir.RoleModerator),
			kurir.RoleAdmin:     h.staff(t, "bernadette", kurir.RoleAdmin),
		}
		// decider takes the decisions that reversals and appeals are about.
		decider := h.staff(t, "matthias", kurir.RoleModerator)
		deciderStaff := moderation.Staff{ID: kurir.UserID(decider.id), Role: kurir.RoleModerator}
		small := moderation.NewService(db, h.msg, h.svc, h.clock, nil, moderation.Config{BulkApprovalAbove: 1})

		n := 0
		type world struct {
			owner, reader person
			chat          int64
			caseID        int64
			media, action int64
			appeal, bulk  int64
			sha256        string
			size          int // of the picture posted, which no other world posts
		}
		// photo posts a size x 30 PNG, returning its media ID and hash.
		photo := func(owner person, chat int64, size int) (int64, string) {
			var b bytes.Buffer
			if err := png.Encode(&b, image.NewGray(image.Rect(0, 0, size, 30))); err != nil {
				t.Fatal(err)
			}
			var up struct {
				ID     int64  `json:"id"`
				SHA256 string `json:"sha256"`
			}
			h.upload(t, owner.token, "?name=p.png", "image/png", b.Bytes()).want(t, "upload", http.StatusCreated, &up)
			n++
			h.do(t, "POST", fmt.Sprintf("/api/v1/chats/%d/messages", chat), owner.token, map[string]any{"media_id": up.ID, "idempotency_key": fmt.Sprint("photo", n)}).
				want(t, "post photo", http.StatusCreated, nil)
			return up.ID, up.SHA256
		}
		// fresh makes a channel with a reported photo post, so that no step
		// finds what an earlier step did.
		fresh := func(t *testing.T) world {
			n++
			w := world{owner: h.person(t, fmt.Sprintf("owner%03d", n)), reader: h.person(t, fmt.Sprintf("reader%03d", n))}
			ch, _ := h.publicChannel(t, w.owner, fmt.Sprintf("chan_%03d", n), "Cheap watches", w.reader)
			w.chat, w.size = ch.ID, 10+n
			w.media, w.sha256 = photo(w.owner, ch.ID, w.size)
			var seq int64
			if err := db.Read().QueryRowContext(t.Context(), `SELECT MAX(seq) FROM messages WHERE chat_id = $1`, ch.ID).Scan(&seq); err != nil {
				t.Fatal(err)
			}
			w.caseID = h.report(t, w.reader, subjectJSON{Kind: "message", ChatID: ch.ID, Seq: seq}, "scam").CaseID
			return w
		}
		withAction := func(t *testing.T) world {
			w := fresh(t)
			a, err := h.mod.Act(t.Context(), deciderStaff, w.caseID, moderation.ActParams{Kind: moderation.TakeDown, Facts: "Counterfeits."})
			if err != nil {
				t.Fatal(err)
			}
			w.action = a.ID
			return w
		}
		withAppeal := func(t *testing.T) world {
			w := withAction(t)
			p, err := h.mod.FileAppeal(t.Context(), kurir.UserID(w.owner.id), w.action, "Genuine watches.")
			if err != nil {
				t.Fatal(err)
			}
			w.appeal = p.ID
			return w
		}
		// withNoticeCase adds a notice whose location names nothing, so
		// that it has a case of its own (in caseID) for staff to link.
		withNoticeCase := func(t *testing.T) world {
			w := fresh(t)
			rec, err := h.mod.SubmitNotice(t.Context(), moderation.NoticeParams{Explanation: "Sells fake watches.", Location: "somewhere in a private group",
				Category: moderation.Scam, Name: "Nora", Email: "nora@example.org", GoodFaith: true})
			if err != nil {
				t.Fatal(err)
			}
			if err := db.Read().QueryRowContext(t.Context(), `SELECT case_id FROM mod_notices WHERE id = $1`, rec.ID).Scan(&w.caseID); err != nil {
				t.Fatal(err)
			}
			return w
		}
		withPendingBulk := func(t *testing.T) world {
			w := fresh(t)
			// The same file, posted in a second channel: two targets.
			n++
			other, _ := h.publicChannel(t, w.owner, fmt.Sprintf("chan_%03d", n), "More watches")
			if _, sha := photo(w.owner, other.ID, w.size); sha != w.sha256 {
				t.Fatalf("the same picture uploaded twice has hashes %s and %s", w.sha256, sha)
			}
			bk, err := small.RequestBulk(t.Context(), deciderStaff, moderation.BulkParams{Kind: moderation.TakeDown, SHA256: w.sha256,
				Category: moderation.Scam, Facts: "Counterfeit watch adverts."})
			if err != nil || !bk.NeedsApproval {
				t.Fatalf("pending bulk action: %+v, %v", bk, err)
			}
			w.bulk = bk.ID
			return w
		}

		type step struct {
			name   string
			setup  func(t *testing.T) world
			method string
			path   func(w world) string
			body   func(w world) any
			min    kurir.Role // the least role allowed
			status int
			// audit is the actions the step adds to the audit log, newest
			// last; "decider:" marks an entry the decider is the actor of
			// (bulk actions act as who requested them). nil: the route
			// belongs to another change and need add at most one entry.
			audit []string
		}
		caseP := func(suffix string) func(w world) string {
			return func(w world) string { return fmt.Sprintf("/api/v1/moderation/cases/%d%s", w.caseID, suffix) }
		}
		fixed := func(p string) func(world) string { return func(world) string { return p } }
		noBody := func(world) any { return nil }
		body := func(v map[string]any) func(world) any { return func(world) any { return v } }
		bulkBody := func(w world) any {
			return map[string]any{"kind": "takedown", "sha256": w.sha256, "category": "scam", "facts": "Counterfeit watch adverts."}
		}
		steps := []step{
			{"queue", fresh, "GET", fixed("/api/v1/moderation/cases"), noBody, kurir.RoleTriage, 200, nil},
			{"view case", fresh, "GET", caseP(""), noBody, kurir.RoleTriage, 200, []string{"case.view"}},
			{"assign", fresh, "POST", caseP("/assign"), body(map[string]any{"user_id": 0}), kurir.RoleTriage, 204, []string{"case.assign"}},
			{"escalate", fresh, "POST", caseP("/escalate"), body(map[string]any{"note": "Organised."}), kurir.RoleTriage, 204, []string{"case.escalate"}},
			{"comment", fresh, "POST", caseP("/comments"), body(map[string]any{"note": "A note."}), kurir.RoleTriage, 204, []string{"case.comment"}},
			{"link notice", withNoticeCase, "POST", caseP("/subject"), func(w world) any { return map[string]any{"subject": fmt.Sprintf("chat:%d", w.chat)} },
				kurir.RoleTriage, 200, []string{"case.link"}},
			{"media content", fresh, "GET", func(w world) string {
				return fmt.Sprintf("/api/v1/moderation/cases/%d/media/%d/content", w.caseID, w.media)
			},
				noBody, kurir.RoleTriage, 200, []string{"case.media"}},
			{"media thumbnail", fresh, "GET", func(w world) string {
				return fmt.Sprintf("/api/v1/moderation/cases/%d/media/%d/thumbnail", w.caseID, w.media)
			},
				noBody, kurir.RoleTriage, 200, []string{"case.media"}},
			{"review account", fresh, "GET", func(w world) string { return fmt.Sprintf("/api/v1/moderation/users/%d", w.owner.id) },
				noBody, kurir.RoleTriage, 200, []string{"user.view"}},
			{"appeals", withAppeal, "GET", fixed("/api/v1/moderation/appeals"), noBody, kurir.RoleTriage, 200, []string{"appeals.view"}},
			{"flaggers", fresh, "GET", fixed("/api/v1/moderation/flaggers"), noBody, kurir.RoleTriage, 200, nil},
			{"bulk list", withPendingBulk, "GET", fixed("/api/v1/moderation/bulk"), noBody, kurir.RoleTriage, 200, []string{"bulk.list"}},
			{"dismiss", fresh, "POST", caseP("/dismiss"), body(map[string]any{"reason": "Nothing wrong."}), kurir.RoleModerator, 204, []string{"case.dismiss"}},
			{"take down", fresh, "POST", caseP("/actions"), body(map[string]any{"kind": "takedown", "facts": "Counterfeits."}), kurir.RoleModerator, 201,
				[]string{"action.takedown"}},
			{"ban", fresh, "POST", caseP("/actions"), body(map[string]any{"kind": "ban", "facts": "Counterfeits, again."}), kurir.RoleModerator, 201,
				[]string{"action.ban"}},
			{"reverse", withAction, "POST", func(w world) string { return fmt.Sprintf("/api/v1/moderation/actions/%d/reverse", w.action) },
				body(map[string]any{"reason": "Genuine."}), kurir.RoleModerator, 204, []string{"action.reverse"}},
			{"decide appeal", withAppeal, "POST", func(w world) string { return fmt.Sprintf("/api/v1/moderation/appeals/%d/decision", w.appeal) },
				body(map[string]any{"uphold": true, "reason": "Genuine."}), kurir.RoleModerator, 200, []string{"appeal.uphold"}},
			{"bulk preview", fresh, "POST", fixed("/api/v1/moderation/bulk/preview"), bulkBody, kurir.RoleModerator, 200, []string{"bulk.preview"}},
			{"bulk request", fresh, "POST", fixed("/api/v1/moderation/bulk"), bulkBody, kurir.RoleModerator, 201,
				[]string{"bulk.request", "bulk.run", "action.takedown"}},
			{"bulk approve", withPendingBulk, "POST", func(w world) string { return fmt.Sprintf("/api/v1/moderation/bulk/%d/approve", w.bulk) },
				noBody, kurir.RoleModerator, 200, []string{"bulk.run", "decider:action.takedown", "decider:action.takedown"}},
			{"bulk reject", withPendingBulk, "POST", func(w world) string { return fmt.Sprintf("/api/v1/moderation/bulk/%d/reject", w.bulk) },
				body(map[string]any{"reason": "Too broad."}), kurir.RoleModerator, 204, []string{"bulk.reject"}},
			{"add flagger", fresh, "POST", fixed("/api/v1/moderation/flaggers"), nil, kurir.RoleAdmin, 204, []string{"flagger.add"}},
			{"remove flagger", fresh, "DELETE", nil, noBody, kurir.RoleAdmin, 204, []string{"flagger.remove"}},
		}
		rank := map[kurir.Role]int{kurir.RoleUser: 0, kurir.RoleTriage: 1, kurir.RoleModerator: 2, kurir.RoleAdmin: 3}
		auditCount := func(t *testing.T) int {
			var c int
			if err := db.Read().QueryRowContext(t.Context(), `SELECT COUNT(*) FROM audit_log`).Scan(&c); err != nil {
				t.Fatal(err)
			}
			return c
		}
		for _, s := range steps {
			for _, role := range roles {
				t.Run(s.name+"/"+string(role), func(t *testing.T) {
					w := s.setup(t)
					path, b := "", any(nil)
					switch s.name {
					case "add flagger":
						path, b = s.path(w), map[string]any{"user_id": w.reader.id, "organisation": "Watchdogs"}
					case "remove flagger":
						if err := h.mod.AddFlagger(t.Context(), moderation.Operator, kurir.UserID(w.reader.id), "Watchdogs"); err != nil {
							t.Fatal(err)
						}
						path = fmt.Sprintf("/api/v1/moderation/flaggers/%d", w.reader.id)
					default:
						path, b = s.path(w), s.body(w)
					}
					p := as[role]
					before, rows := auditCount(t), modRows(t, db)
					res := h.send(t, call{method: s.method, path: path, token: p.token, body: b})
					if rank[role] < rank[s.min] {
						res.wantProblem(t, "as "+string(role), problemWant{status: http.StatusForbidden, code: "forbidden"})
						wantRowsUnchanged(t, db, "refused", rows)
						return
					}
					if res.status != s.status {
						t.Fatalf("as %s: status %d, want %d: %s", role, res.status, s.status, res.body)
					}
					added := auditCount(t) - before
					if s.audit == nil && added > 1 || s.audit != nil && added != len(s.audit) {
						t.Fatalf("as %s: %d audit entries added, want %v", role, added, s.audit)
					}
					if added == 0 {
						return
					}
					entries, err := audit.List(t.Context(), db.Read(), audit.Filter{Limit: added})
					if err != nil {
						t.Fatal(err)
					}
					for i, e := range entries {
						actor, want := p.id, ""
						if s.audit != nil {
							want = s.audit[len(s.audit)-1-i] // entries are newest first
						}
						if rest, ok := strings.CutPrefix(want, "decider:"); ok {
							want, actor = rest, decider.id
						} else if e.Role != role {
							t.Errorf("as %s: audit entry %q has role %q", role, e.Action, e.Role)
						}
						if int64(e.Actor) != actor || want != "" && e.Action != want {
							t.Errorf("as %s: audit entry %d is %q by %d, want %q by %d", role, i, e.Action, e.Actor, want, actor)
						}
					}
				})
			}
		}

		// Triage cannot ban, and the decider cannot judge the appeal of their own decision.
		w, other := withAppeal(t), fresh(t)
		rows := modRows(t, db)
		h.do(t, "POST", fmt.Sprintf("/api/v1/moderation/cases/%d/actions", other.caseID), as[kurir.RoleTriage].token, map[string]any{"kind": "ban", "facts": "x"}).
			wantProblem(t, "triage bans", problemWant{status: http.StatusForbidden, code: "forbidden"})
		wantRowsUnchanged(t, db, "triage's ban refused", rows)
		if u, err := h.svc.UserByID(t.Context(), kurir.UserID(other.owner.id)); err != nil || u.State != "active" {
			t.Errorf("after triage tried to ban them the owner is %q (%v)", u.State, err)
		}
		h.do(t, "POST", fmt.Sprintf("/api/v1/moderation/appeals/%d/decision", w.appeal), decider.token, map[string]any{"uphold": false, "reason": "I was right."}).
			wantProblem(t, "decide the appeal of one's own decision", problemWant{status: http.StatusForbidden, code: "forbidden", reason: "own_decision"})
		wantRowsUnchanged(t, db, "own decision refused", rows)
	}, schema...)
}
