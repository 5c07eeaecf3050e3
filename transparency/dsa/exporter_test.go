package dsa_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"kurir"
	"kurir/account"
	"kurir/audit"
	"kurir/clocktest"
	"kurir/jurisdiction"
	"kurir/media"
	"kurir/media/mediatest"
	"kurir/messaging"
	"kurir/moderation"
	"kurir/safety"
	"kurir/safety/hashbank"
	"kurir/sqldb"
	"kurir/sqldb/sqldbtest"
	"kurir/transparency/dsa"
	"kurir/transparency/dsa/dsatest"
)

const token = "X|ybqkCFX7ZkIFoLxtI0VAk1JBzMR9jVk4c4EU"

var schema = []sqldb.Migrations{account.Migrations, media.Migrations, messaging.Migrations, hashbank.Migrations, safety.Migrations,
	audit.Migrations, moderation.Migrations, jurisdiction.Migrations, dsa.Migrations}

// world is moderation as it runs: accounts, messaging with country rules,
// and moderators whose actions are the statements of reasons.
type world struct {
	t     *testing.T
	ctx   context.Context
	db    *sqldb.DB
	clock *clocktest.Fake
	acc   *account.Service
	msg   *messaging.Service
	mod   *moderation.Service
	laws  *jurisdiction.Service
	staff moderation.Staff
	admin moderation.Staff
	owner kurir.UserID // owns the channel the messages are in
	news  messaging.Chat
	keys  int
	names int
}

func run(t *testing.T, fn func(t *testing.T, w *world)) {
	t.Helper()
	t.Parallel()
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		t.Parallel()
		clock := clocktest.New(time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC))
		w := &world{t: t, ctx: t.Context(), db: db, clock: clock}
		w.acc = account.NewService(db, clock, nil, account.Config{Argon2: account.CheapArgon2Params, Limits: &account.Limits{}})
		w.laws = jurisdiction.NewService(db, nil, clock, nil)
		w.msg = messaging.NewService(db, nil, clock, nil, messaging.Config{Territory: w.laws})
		w.mod = moderation.NewService(db, w.msg, w.acc, clock, nil, moderation.Config{ReportsPerHour: 1 << 20}) // one reporter files hundreds
		w.staff = moderation.Staff{ID: w.user("mona"), Role: kurir.RoleModerator}
		w.admin = moderation.Staff{ID: w.user("adalove"), Role: kurir.RoleAdmin}
		for _, s := range []moderation.Staff{w.staff, w.admin} {
			must(t, w.acc.SetRole(w.ctx, s.ID, s.Role))
		}
		w.owner = w.user("owner")
		var err error
		w.news, err = w.msg.CreateChannel(w.ctx, w.owner, messaging.NewChat{Title: "News", Username: "newsroom"})
		must(t, err)
		fn(t, w)
	}, schema...)
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func (w *world) user(name string) kurir.UserID {
	w.t.Helper()
	u, err := w.acc.Register(w.ctx, account.RegisterParams{Username: name, Password: "wet-otter-lantern-9"})
	must(w.t, err)
	return u.ID
}

// post sends a message to the channel and returns it as a subject.
func (w *world) post(text string) moderation.Subject {
	w.t.Helper()
	w.keys++
	m, err := w.msg.Send(w.ctx, w.owner, w.news.ID, messaging.SendParams{Text: text, IdempotencyKey: fmt.Sprint("k", w.keys)})
	must(w.t, err)
	return moderation.Subject{Kind: moderation.SubjectMessage, Chat: m.ChatID, Seq: m.Seq}
}

// act has a new reporter report subj, and the moderator decide the case.
func (w *world) act(subj moderation.Subject, cat moderation.Category, p moderation.ActParams) moderation.Action {
	w.t.Helper()
	w.names++
	reporter := w.user(fmt.Sprintf("reporter%d", w.names))
	return w.actOn(reporter, subj, cat, p)
}

func (w *world) actOn(reporter kurir.UserID, subj moderation.Subject, cat moderation.Category, p moderation.ActParams) moderation.Action {
	w.t.Helper()
	r, err := w.mod.Report(w.ctx, reporter, moderation.ReportParams{Subject: subj, Category: cat})
	must(w.t, err)
	if p.Facts == "" {
		p.Facts = fmt.Sprintf("Reported as %s; the moderator confirmed it.", cat)
	}
	a, err := w.mod.Act(w.ctx, w.staff, r.CaseID, p)
	must(w.t, err)
	return a
}

// removals makes n messages and removes each.
func (w *world) removals(n int) []moderation.Action {
	w.names++
	reporter := w.user(fmt.Sprintf("reporter%d", w.names))
	var out []moderation.Action
	for i := range n {
		out = append(out, w.actOn(reporter, w.post(fmt.Sprintf("spam %d", i)), moderation.Spam,
			moderation.ActParams{Kind: moderation.RemoveMessage}))
	}
	return out
}

func (w *world) exporter(srv *dsatest.Server) *dsa.Exporter {
	return &dsa.Exporter{DB: w.db, Endpoint: srv.URL, Token: token, Clock: w.clock, Client: srv.Client(), Backoff: time.Millisecond}
}

// submission is a row of dsa_submissions.
type submission struct {
	status, uuid, response string
	attempts               int64
}

func (w *world) submissions() map[int64]submission {
	w.t.Helper()
	rows, err := w.db.Read().QueryContext(w.ctx, `SELECT action_id, puid, status, uuid, response, attempts FROM dsa_submissions`)
	must(w.t, err)
	defer rows.Close()
	out := map[int64]submission{}
	for rows.Next() {
		var id int64
		var puid string
		var s submission
		must(w.t, rows.Scan(&id, &puid, &s.status, &s.uuid, &s.response, &s.attempts))
		if puid != dsa.PUID(id) {
			w.t.Errorf("action %d recorded with PUID %q", id, puid)
		}
		out[id] = s
	}
	must(w.t, rows.Err())
	return out
}

// exported is what Export writes for every action, by PUID.
func (w *world) exported(opts dsa.ExportOptions) map[string]dsa.Statement {
	w.t.Helper()
	out := map[string]dsa.Statement{}
	must(w.t, dsa.Export(w.ctx, w.db.Read(), opts, func(id int64, s dsa.Statement) error {
		if s.PUID != dsa.PUID(id) {
			w.t.Errorf("action %d exported as %q", id, s.PUID)
		}
		out[s.PUID] = s
		return nil
	}))
	return out
}

// TestExportSubmitsEveryActionOnce: 250 actions of every kind, made
// through moderation, reach the database in three batches (100, 100, 50),
// each statement once, as Export writes it; a second pass sends nothing.
func TestExportSubmitsEveryActionOnce(t *testing.T) {
	run(t, func(t *testing.T, w *world) {
		_, err := w.laws.AddRule(w.ctx, w.admin, jurisdiction.Rule{Scope: "DE", Category: moderation.HateSpeech, LegalRef: "§ 130 StGB"})
		must(t, err)
		must(t, w.laws.Sync(w.ctx))
		flagger := w.user("inhope")
		must(t, w.mod.AddFlagger(w.ctx, w.admin, flagger, "INHOPE"))

		var actions []moderation.Action
		ch := func(name string) moderation.Subject {
			c, err := w.msg.CreateChannel(w.ctx, w.owner, messaging.NewChat{Title: name, Username: name})
			must(t, err)
			return moderation.Subject{Kind: moderation.SubjectChat, Chat: c.ID}
		}
		takedown := w.actOn(flagger, ch("darkchan"), moderation.ChildAbuse, moderation.ActParams{Kind: moderation.TakeDown})
		labelled := w.act(ch("gorechan"), moderation.Violence, moderation.ActParams{Kind: moderation.Label, Label: "graphic"})
		restricted := w.act(w.post("a banned slogan"), moderation.HateSpeech,
			moderation.ActParams{Kind: moderation.Restrict, Ground: moderation.GroundIllegal, LegalReference: "§ 86a StGB", Countries: []string{"DE", "AT", "US"}})
		byRules := w.act(w.post("another slogan"), moderation.HateSpeech, moderation.ActParams{Kind: moderation.Restrict, Ground: moderation.GroundIllegal})
		suspended := w.act(moderation.Subject{Kind: moderation.SubjectUser, User: w.user("spammer")}, moderation.Spam,
			moderation.ActParams{Kind: moderation.Suspend, Until: w.clock.Now().Add(72 * time.Hour)})
		banned := w.act(moderation.Subject{Kind: moderation.SubjectUser, User: w.user("scammer")}, moderation.Scam, moderation.ActParams{Kind: moderation.Ban})
		illegal := w.act(w.post("a threat"), moderation.Violence,
			moderation.ActParams{Kind: moderation.RemoveMessage, Ground: moderation.GroundIllegal, LegalReference: "§ 241 StGB"})
		must(t, w.mod.Reverse(w.ctx, w.admin, banned.ID, "The account was hijacked; the owner has it back."))
		actions = append(actions, takedown, labelled, restricted, byRules, suspended, banned, illegal)
		w.clock.Advance(24 * time.Hour)
		actions = append(actions, w.removals(250-len(actions))...)

		srv := dsatest.New(t, token)
		e := w.exporter(srv)
		sts, ids, err := e.Pending(w.ctx, 1000)
		must(t, err)
		if len(sts) != 250 || len(ids) != 250 || ids[0] != actions[0].ID || !slices.IsSorted(ids) {
			t.Fatalf("Pending: %d statements, IDs from %v, want 250 oldest first", len(sts), ids[:min(3, len(ids))])
		}
		want := w.exported(dsa.ExportOptions{})

		sum, err := e.SubmitPending(w.ctx)
		must(t, err)
		if sum != (dsa.Summary{Batches: 3, Accepted: 250}) {
			t.Errorf("first pass: %v, want 3 batches, 250 accepted", sum)
		}
		stored := srv.Statements()
		if srv.Calls() != 3 || len(stored) != 250 {
			t.Fatalf("the database got %d calls and holds %d statements, want 3 and 250", srv.Calls(), len(stored))
		}
		perBatch := map[int]int{}
		for _, s := range stored {
			perBatch[s.Batch]++
			if w, ok := want[s.PUID]; !ok {
				t.Errorf("%s was not exported", s.PUID)
			} else {
				diffFields(t, s.Statement, w)
			}
		}
		if perBatch[1] != 100 || perBatch[2] != 100 || perBatch[3] != 50 {
			t.Errorf("batches of %v, want 100, 100, 50", perBatch)
		}
		subs := w.submissions()
		uuids := map[string]bool{}
		for _, s := range stored {
			uuids[s.UUID] = true
		}
		for _, a := range actions {
			s := subs[a.ID]
			if s.status != dsa.StatusAccepted || !uuids[s.uuid] || s.attempts != 1 {
				t.Errorf("action %d recorded as %+v, want accepted once with the database's uuid", a.ID, s)
			}
		}

		// What each kind of action became, as the database holds it.
		byPUID := map[string]dsa.Statement{}
		for _, s := range stored {
			byPUID[s.PUID] = s.Statement
		}
		day := "2026-11-01"
		for _, c := range []struct {
			action moderation.Action
			check  func(s dsa.Statement) bool
		}{
			{takedown, func(s dsa.Statement) bool {
				return s.DecisionProvision == "DECISION_PROVISION_PARTIAL_TERMINATION" && s.SourceType == "SOURCE_TRUSTED_FLAGGER" &&
					s.SourceIdentity == "INHOPE" && s.ContentTypeOther == "channel" && s.Category == "STATEMENT_CATEGORY_PROTECTION_OF_MINORS"
			}},
			{labelled, func(s dsa.Statement) bool {
				return slices.Equal(s.DecisionVisibility, []string{"DECISION_VISIBILITY_CONTENT_LABELLED"})
			}},
			{restricted, func(s dsa.Statement) bool {
				return slices.Equal(s.TerritorialScope, []string{"AT", "DE"}) && s.IllegalContentLegalGround == "§ 86a StGB" &&
					slices.Equal(s.DecisionVisibility, []string{"DECISION_VISIBILITY_CONTENT_DISABLED"})
			}},
			{byRules, func(s dsa.Statement) bool {
				return slices.Equal(s.TerritorialScope, []string{"DE"}) && s.IllegalContentLegalGround == "DE: § 130 StGB"
			}},
			{suspended, func(s dsa.Statement) bool {
				return s.DecisionAccount == "DECISION_ACCOUNT_SUSPENDED" && s.EndDateAccountRestriction == "2026-11-04" &&
					s.ContentTypeOther == "account" && len(s.TerritorialScope) == 30
			}},
			{banned, func(s dsa.Statement) bool {
				return s.DecisionAccount == "DECISION_ACCOUNT_TERMINATED" && s.EndDateAccountRestriction == day
			}},
			{illegal, func(s dsa.Statement) bool {
				return s.DecisionGround == "DECISION_GROUND_ILLEGAL_CONTENT" && s.IllegalContentLegalGround == "§ 241 StGB" &&
					s.ContentDate == day && s.ApplicationDate == day
			}},
			{actions[len(actions)-1], func(s dsa.Statement) bool {
				return s.ApplicationDate == "2026-11-02" && s.ContentDate == "2026-11-02" && s.IncompatibleContentGround == "kurir terms of service § 4.18: Spam"
			}},
		} {
			s, ok := byPUID[dsa.PUID(c.action.ID)]
			if !ok || !c.check(s) {
				b, _ := json.MarshalIndent(s, "", "  ")
				t.Errorf("%s action %d became:\n%s", c.action.Kind, c.action.ID, b)
			}
		}

		sum, err = e.SubmitPending(w.ctx)
		must(t, err)
		if sum != (dsa.Summary{}) || srv.Calls() != 3 {
			t.Errorf("second pass: %v and %d calls in all, want nothing sent", sum, srv.Calls())
		}
		// Later passes skip what was done long ago, and still find what
		// is new.
		w.clock.Advance(time.Hour)
		if sum, err := e.SubmitPending(w.ctx); err != nil || sum != (dsa.Summary{}) {
			t.Errorf("third pass: %v, %v", sum, err)
		}
		late := w.removals(1)[0]
		if sum, err := e.SubmitPending(w.ctx); err != nil || sum != (dsa.Summary{Batches: 1, Accepted: 1}) {
			t.Errorf("a pass after one more action: %v, %v", sum, err)
		}
		if s := w.submissions()[late.ID]; s.status != dsa.StatusAccepted {
			t.Errorf("the late action: %+v", s)
		}
		if sts, _, err := e.Pending(w.ctx, 10); err != nil || len(sts) != 0 {
			t.Errorf("Pending after: %d, %v", len(sts), err)
		}
		if n := len(w.exported(dsa.ExportOptions{Pending: true})); n != 0 {
			t.Errorf("export --pending after: %d statements", n)
		}
		if n := len(w.exported(dsa.ExportOptions{Since: time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)})); n != 251-7 {
			t.Errorf("export --since the second day: %d statements, want %d", n, 251-7)
		}
	})
}

// TestServerErrorsAreRetried: a database that answers 500 and then 503
// gets the batch a third time, and takes it.
func TestServerErrorsAreRetried(t *testing.T) {
	run(t, func(t *testing.T, w *world) {
		as := w.removals(3)
		srv := dsatest.New(t, token)
		srv.AnswerNext(http.StatusInternalServerError, http.StatusServiceUnavailable)
		e := w.exporter(srv)
		n, err := e.SubmitBatch(w.ctx)
		if err != nil || n != 3 {
			t.Fatalf("SubmitBatch = %d, %v; want 3 accepted", n, err)
		}
		if srv.Calls() != 3 || len(srv.Statements()) != 3 {
			t.Errorf("%d calls, %d statements; want 3 calls, 3 statements", srv.Calls(), len(srv.Statements()))
		}
		for _, a := range as {
			if s := w.submissions()[a.ID]; s.status != dsa.StatusAccepted || s.attempts != 3 {
				t.Errorf("action %d: %+v, want accepted after 3 calls", a.ID, s)
			}
		}

		// A database down for longer than the tries leaves them pending.
		w.removals(2)
		srv.AnswerNext(http.StatusBadGateway, http.StatusBadGateway)
		e.Attempts = 2
		sum, err := e.SubmitPending(w.ctx)
		if kurir.ErrorCode(err) != kurir.EUnavailable || sum.Accepted != 0 {
			t.Fatalf("SubmitPending = %v, %v; want EUnavailable", sum, err)
		}
		errored := 0
		for _, s := range w.submissions() {
			if s.status == dsa.StatusError {
				errored++
				if !strings.Contains(s.response, "HTTP 502") {
					t.Errorf("recorded %q, want the last answer", s.response)
				}
			}
		}
		if errored != 2 {
			t.Errorf("%d recorded as error, want 2", errored)
		}
		sum, err = e.SubmitPending(w.ctx)
		if err != nil || sum.Accepted != 2 {
			t.Errorf("next pass: %v, %v; want the 2 accepted", sum, err)
		}
	})
}

// TestRefusedStatementsAreRecordedAsFailed: a 422 naming one statement
// marks it failed with the database's reason; the rest of its batch goes
// in the next call. It is not sent again until retried by hand.
func TestRefusedStatementsAreRecordedAsFailed(t *testing.T) {
	run(t, func(t *testing.T, w *world) {
		as := w.removals(5)
		srv := dsatest.New(t, token)
		refused := as[2].ID
		srv.Refuse(dsa.PUID(refused), "decision_facts", "The decision facts contain personal data.")
		var logs syncBuffer
		e := w.exporter(srv)
		e.Log = slog.New(slog.NewTextHandler(&logs, nil))
		sum, err := e.SubmitPending(w.ctx)
		must(t, err)
		if sum != (dsa.Summary{Batches: 2, Accepted: 4, Failed: 1}) {
			t.Errorf("pass: %v, want 2 batches, 4 accepted, 1 failed", sum)
		}
		subs := w.submissions()
		if s := subs[refused]; s.status != dsa.StatusFailed || !strings.Contains(s.response, "personal data") {
			t.Errorf("refused statement recorded as %+v", s)
		}
		if !strings.Contains(logs.String(), "refused a statement") || !strings.Contains(logs.String(), fmt.Sprint("action=", refused)) {
			t.Errorf("the refusal was not logged:\n%s", logs.String())
		}
		calls := srv.Calls()
		if sum, err := e.SubmitPending(w.ctx); err != nil || sum != (dsa.Summary{}) || srv.Calls() != calls {
			t.Errorf("a failed statement was sent again: %v, %v", sum, err)
		}

		// Fixed at the database's end, and retried by hand, long after.
		w.clock.Advance(time.Hour)
		if sum, err := e.SubmitPending(w.ctx); err != nil || sum != (dsa.Summary{}) {
			t.Errorf("a pass an hour later: %v, %v", sum, err)
		}
		srv.ClearRefusals()
		if n, err := e.Retry(w.ctx); err != nil || n != 1 {
			t.Fatalf("Retry = %d, %v", n, err)
		}
		if sum, err := e.SubmitPending(w.ctx); err != nil || sum.Accepted != 1 {
			t.Errorf("after Retry: %v, %v", sum, err)
		}
		if s := w.submissions()[refused]; s.status != dsa.StatusAccepted {
			t.Errorf("after Retry: %+v", s)
		}

		// A 4xx that names no statement fails the whole batch.
		w.removals(3)
		srv.AnswerNext(http.StatusBadRequest)
		sum, err = e.SubmitPending(w.ctx)
		if err != nil || sum != (dsa.Summary{Batches: 1, Failed: 3}) {
			t.Errorf("after a 400: %v, %v; want the batch of 3 failed", sum, err)
		}
	})
}

// TestWrongTokenIsRecordedAndLogged: a 401 leaves the batch pending with
// the answer recorded, says so in the log and in the error, and the next
// pass with the right token sends it.
func TestWrongTokenIsRecordedAndLogged(t *testing.T) {
	run(t, func(t *testing.T, w *world) {
		as := w.removals(4)
		srv := dsatest.New(t, token)
		var logs syncBuffer
		e := w.exporter(srv)
		e.Token = "an old token"
		e.Log = slog.New(slog.NewTextHandler(&logs, nil))
		sum, err := e.SubmitPending(w.ctx)
		if kurir.ErrorCode(err) != kurir.EUnauthenticated || sum.Accepted != 0 || srv.Calls() != 1 {
			t.Fatalf("SubmitPending = %v, %v after %d calls; want EUnauthenticated after one", sum, err, srv.Calls())
		}
		if !strings.Contains(logs.String(), "check the token") || !strings.Contains(logs.String(), "status=401") {
			t.Errorf("the 401 was not logged:\n%s", logs.String())
		}
		for _, a := range as {
			if s := w.submissions()[a.ID]; s.status != dsa.StatusError || !strings.Contains(s.response, "HTTP 401") {
				t.Errorf("action %d recorded as %+v", a.ID, s)
			}
		}
		if sts, _, _ := e.Pending(w.ctx, 10); len(sts) != 4 {
			t.Errorf("%d pending after a 401, want 4", len(sts))
		}
		e.Token = token
		if sum, err := e.SubmitPending(w.ctx); err != nil || sum.Accepted != 4 {
			t.Errorf("with the right token: %v, %v", sum, err)
		}
	})
}

// TestSubmittedBeforeCountsAsAccepted: a statement the database already
// holds (sent by this node before a crash, or by another node) is recorded
// as accepted, not failed; two nodes at once submit each statement once.
func TestSubmittedBeforeCountsAsAccepted(t *testing.T) {
	run(t, func(t *testing.T, w *world) {
		as := w.removals(150)
		srv := dsatest.New(t, token)
		sts, _, err := w.exporter(srv).Pending(w.ctx, 1)
		must(t, err)
		srv.Put(sts[0])

		var wg sync.WaitGroup
		sums := make([]dsa.Summary, 2)
		for i := range sums {
			e := w.exporter(srv)
			wg.Go(func() {
				var err error
				sums[i], err = e.SubmitPending(w.ctx)
				if err != nil {
					t.Errorf("node %d: %v", i, err)
				}
			})
		}
		wg.Wait()
		if got := len(srv.Statements()); got != 150 {
			t.Errorf("the database holds %d statements, want 150", got)
		}
		if sums[0].Failed+sums[1].Failed != 0 {
			t.Errorf("failures: %v, %v", sums[0], sums[1])
		}
		subs := w.submissions()
		for _, a := range as {
			if subs[a.ID].status != dsa.StatusAccepted {
				t.Errorf("action %d: %+v", a.ID, subs[a.ID])
			}
		}
		if s := subs[as[0].ID]; !strings.Contains(s.response, "already") {
			t.Errorf("the statement sent before is recorded as %+v", s)
		}
	})
}

// TestActionsOutsideTheEEAAreSkipped: content withheld only outside the
// EEA has no statement in the database; it is recorded as skipped, never
// sent, and not exported.
func TestActionsOutsideTheEEAAreSkipped(t *testing.T) {
	run(t, func(t *testing.T, w *world) {
		ru := w.act(w.post("a slogan"), moderation.Elections, moderation.ActParams{Kind: moderation.Restrict, Countries: []string{"RU", "BY"}})
		noRules := w.act(w.post("another"), moderation.Copyright, moderation.ActParams{Kind: moderation.Restrict})
		removed := w.removals(1)[0]
		srv := dsatest.New(t, token)
		sum, err := w.exporter(srv).SubmitPending(w.ctx)
		must(t, err)
		if sum != (dsa.Summary{Batches: 1, Accepted: 1, Skipped: 2}) {
			t.Errorf("pass: %v", sum)
		}
		subs := w.submissions()
		for _, id := range []int64{ru.ID, noRules.ID} {
			if s := subs[id]; s.status != dsa.StatusSkipped || s.attempts != 0 || !strings.Contains(s.response, "EEA") {
				t.Errorf("action %d: %+v", id, s)
			}
		}
		if stored := srv.Statements(); len(stored) != 1 || stored[0].PUID != dsa.PUID(removed.ID) {
			t.Errorf("the database holds %v", stored)
		}
		if got := w.exported(dsa.ExportOptions{}); len(got) != 1 {
			t.Errorf("exported %d statements, want 1", len(got))
		}
	})
}

// TestRunSubmitsUntilStopped: the background job submits at once and
// again each interval, and returns when its context ends.
func TestRunSubmitsUntilStopped(t *testing.T) {
	run(t, func(t *testing.T, w *world) {
		w.removals(2)
		srv := dsatest.New(t, token)
		e := w.exporter(srv)
		ctx, stop := context.WithCancel(w.ctx)
		done := make(chan struct{})
		go func() { e.Run(ctx, 10*time.Millisecond); close(done) }()
		waitFor(t, func() bool { return len(srv.Statements()) == 2 })
		w.removals(1)
		waitFor(t, func() bool { return len(srv.Statements()) == 3 })
		stop()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatal("Run did not return")
		}
	})
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("timed out")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// syncBuffer is a log sink safe for the exporter's goroutine and the test's.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestFileRemovedThroughAMessageCaseIsDatedByItsUpload: a file removed
// everywhere from the case of the message that carried it is exported as a
// file, with the day it was uploaded as the content's date.
func TestFileRemovedThroughAMessageCaseIsDatedByItsUpload(t *testing.T) {
	run(t, func(t *testing.T, w *world) {
		files := mediatest.New(t, w.db, w.msg, w.clock, nil, media.Config{})
		body := "%PDF-1.4\n% a leaflet\n"
		m, err := files.Upload(w.ctx, w.owner, media.UploadParams{Name: "leaflet.pdf", Size: int64(len(body))}, strings.NewReader(body))
		must(t, err)
		w.clock.Advance(48 * time.Hour)
		msg, err := w.msg.Send(w.ctx, w.owner, w.news.ID, messaging.SendParams{IdempotencyKey: "file",
			Media: &messaging.Attachment{MediaID: int64(m.ID), Kind: string(m.Kind), ContentType: m.ContentType, Name: m.Name, Size: m.Size}})
		must(t, err)
		a := w.act(moderation.Subject{Kind: moderation.SubjectMessage, Chat: msg.ChatID, Seq: msg.Seq}, moderation.Spam,
			moderation.ActParams{Kind: moderation.RemoveMedia})
		s, ok := w.exported(dsa.ExportOptions{})[dsa.PUID(a.ID)]
		if !ok || s.ContentDate != "2026-11-01" || s.ApplicationDate != "2026-11-03" {
			b, _ := json.MarshalIndent(s, "", "  ")
			t.Errorf("the file's removal (found %v) was exported as:\n%s\nwant content date 2026-11-01, applied 2026-11-03", ok, b)
		}
	})
}
