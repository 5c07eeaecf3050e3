package legal

import (
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"kurir"
	"kurir/account"
	"kurir/audit"
	"kurir/blob"
	"kurir/clocktest"
	"kurir/jurisdiction"
	"kurir/media"
	"kurir/messaging"
	"kurir/moderation"
	"kurir/sqldb"
	"kurir/sqldb/sqldbtest"
)

// world is one test's platform: accounts, messaging with jurisdictions,
// moderation, and the legal service with a recording pager.
type world struct {
	t     *testing.T
	ctx   context.Context
	db    *sqldb.DB
	clock *clocktest.Fake
	acc   *account.Service
	msg   *messaging.Service
	mod   *moderation.Service
	svc   *Service
	pages *pages
	legal Staff
}

type pages struct {
	mu   sync.Mutex
	got  []Page
	when []time.Time
}

func (p *pages) Page(ctx context.Context, pg Page) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.got = append(p.got, pg)
	p.when = append(p.when, time.Now())
	return nil
}

var worldSchema = []sqldb.Migrations{account.Migrations, media.Migrations, messaging.Migrations, audit.Migrations, moderation.Migrations,
	jurisdiction.Migrations, Migrations}

func run(t *testing.T, fn func(t *testing.T, w *world)) {
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		clock := clocktest.New(time.Date(2026, 11, 29, 9, 0, 0, 0, time.UTC))
		w := &world{t: t, ctx: t.Context(), db: db, clock: clock, pages: &pages{}}
		w.acc = account.NewService(db, clock, nil, account.Config{Argon2: account.CheapArgon2Params, Limits: &account.Limits{}})
		laws := jurisdiction.NewService(db, nil, clock, nil)
		w.msg = messaging.NewService(db, nil, clock, nil, messaging.Config{Territory: laws})
		w.mod = moderation.NewService(db, w.msg, w.acc, clock, nil, moderation.Config{})
		blobs, err := blob.OpenFS(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		w.svc = NewService(db, blobs, w.acc, w.msg, w.mod, clock, nil, Config{Pager: w.pages})
		t.Cleanup(w.svc.Wait)
		lawyer := w.user("lawrence")
		w.legal = Staff{ID: lawyer, Role: kurir.RoleLegal}
		fn(t, w)
	}, worldSchema...)
}

func (w *world) user(name string) kurir.UserID {
	w.t.Helper()
	u, err := w.acc.Register(w.ctx, account.RegisterParams{Username: name, Password: "wet-otter-lantern-9", Phone: phoneOf(name)})
	if err != nil {
		w.t.Fatal(err)
	}
	return u.ID
}

func phoneOf(name string) string { return fmt.Sprintf("+49151%07d", len(name)*1000+int(name[0])) }

// officer registers an agency (if new) and returns a ready session of one
// of its officers, written directly: signing up is tested with officers.go.
func (w *world) officer(agency, country string, removal bool) OfficerSession {
	w.t.Helper()
	as, _ := w.svc.Agencies(w.ctx)
	var ag Agency
	for _, a := range as {
		if a.Name == agency {
			ag = a
		}
	}
	if ag.ID == 0 {
		var err error
		ag, err = w.svc.AddAgency(w.ctx, w.legal, Agency{Name: agency, Country: country, Domains: []string{strings.ToLower(agency) + ".example"}, Removal: removal})
		if err != nil {
			w.t.Fatal(err)
		}
	}
	var id int64
	err := w.db.WriteTx(w.ctx, func(tx *sqldb.Tx) error {
		return tx.QueryRowContext(w.ctx, `INSERT INTO legal_officers (agency_id, email, name, password_hash, verified_at, totp_enabled_at, attested_at, created_at)
			VALUES ($1, $2, 'Officer', 'x', 1, 1, 1, 1) RETURNING id`, ag.ID, fmt.Sprintf("o%d@%s", time.Now().UnixNano(), ag.Domains[0])).Scan(&id)
	})
	if err != nil {
		w.t.Fatal(err)
	}
	return OfficerSession{Officer: Officer{ID: id, AgencyID: ag.ID, Verified: true, TOTP: true, Attested: true}, SecondFactor: true}
}

func wantErr(t *testing.T, what string, err error, code kurir.Code, field string) {
	t.Helper()
	var e *kurir.Error
	if kurir.ErrorCode(err) != code {
		t.Fatalf("%s: %v, want %s", what, err, code)
	}
	if field != "" && (!asKurir(err, &e) || e.Field != field) {
		t.Errorf("%s: %v, want field %s", what, err, field)
	}
}

func asKurir(err error, e **kurir.Error) bool {
	k, ok := err.(*kurir.Error)
	*e = k
	return ok
}

func (w *world) count(table string) int {
	var n int
	if err := w.db.Read().QueryRowContext(w.ctx, "SELECT COUNT(*) FROM "+table).Scan(&n); err != nil {
		w.t.Fatal(err)
	}
	return n
}

// TestBadRequestsAreRefusedWhole: a request missing its legal basis, with a
// target that does not exist, of the wrong process or asking the wrong
// things is refused with the field named, and nothing is filed.
func TestBadRequestsAreRefusedWhole(t *testing.T) {
	run(t, func(t *testing.T, w *world) {
		sess := w.officer("BKA", "DE", false)
		suspect := w.user("suspect")
		good := NewRequest{Kind: Disclosure, CaseReference: "ST 12/26", LegalBasis: "§ 100g StPO", Process: CourtOrder,
			IssuingAuthority: "Amtsgericht Köln", Targets: []Target{{Kind: TargetUser, Value: fmt.Sprint(suspect)}}, Categories: []Category{Subscriber}}
		for _, c := range []struct {
			name  string
			edit  func(p *NewRequest)
			code  kurir.Code
			field string
		}{
			{"no legal basis", func(p *NewRequest) { p.LegalBasis = "  " }, kurir.EInvalid, "legal_basis"},
			{"no case reference", func(p *NewRequest) { p.CaseReference = "" }, kurir.EInvalid, "case_reference"},
			{"unknown kind", func(p *NewRequest) { p.Kind = "wiretap" }, kurir.EInvalid, "kind"},
			{"emergency under a subpoena", func(p *NewRequest) { p.Kind = Emergency }, kurir.EInvalid, "process"},
			{"unknown user", func(p *NewRequest) { p.Targets[0].Value = "987654" }, kurir.ENotFound, "targets"},
			{"unknown username", func(p *NewRequest) { p.Targets = []Target{{Kind: TargetUsername, Value: "@nobodyhere"}} }, kurir.ENotFound, "targets"},
			{"malformed phone", func(p *NewRequest) { p.Targets = []Target{{Kind: TargetPhone, Value: "0151 123"}} }, kurir.EInvalid, "targets"},
			{"unknown data category", func(p *NewRequest) { p.Categories = []Category{"location"} }, kurir.EInvalid, "categories"},
			{"nothing asked", func(p *NewRequest) { p.Categories = nil }, kurir.EInvalid, "categories"},
			{"a removal naming an account", func(p *NewRequest) { p.Kind, p.Process, p.Categories = Removal, RemovalOrder, nil }, kurir.EInvalid, "targets"},
			{"backwards dates", func(p *NewRequest) { p.From, p.To = w.clock.Now(), w.clock.Now().Add(-time.Hour) }, kurir.EInvalid, "date_from"},
			{"past deadline", func(p *NewRequest) { p.Deadline = w.clock.Now().Add(-time.Hour) }, kurir.EInvalid, "deadline"},
			{"unknown country", func(p *NewRequest) { p.Jurisdiction = "XX" }, kurir.EInvalid, "jurisdiction"},
		} {
			p := good
			p.Targets = append([]Target(nil), good.Targets...)
			c.edit(&p)
			_, err := w.svc.File(w.ctx, sess, p)
			wantErr(t, c.name, err, c.code, c.field)
		}
		if n := w.count("legal_requests"); n != 0 {
			t.Errorf("%d requests filed by refused attempts", n)
		}
		incomplete := sess
		incomplete.SecondFactor = false
		_, err := w.svc.File(w.ctx, incomplete, good)
		wantErr(t, "without a second factor", err, kurir.EForbidden, "")
		r, err := w.svc.File(w.ctx, sess, good)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(r.Number, "LE-2026-") || r.State != Received || r.Targets[0].User != suspect ||
			!r.Due.Equal(w.clock.Now().AddDate(0, 0, 10)) {
			t.Errorf("filed %+v", r)
		}
	})
}

// TestRemovalOrderIsEnforcedInTheIssuingCountry: a removal order from a
// competent authority withholds the channel at once in its country, and
// nowhere else; the owner has a statement of reasons naming the law; the
// legal team is paged; contesting the order lifts it.
func TestRemovalOrderIsEnforcedInTheIssuingCountry(t *testing.T) {
	run(t, func(t *testing.T, w *world) {
		owner := w.user("channelowner")
		ch, err := w.msg.CreateChannel(w.ctx, owner, messaging.NewChat{Title: "Recruiting", Username: "recruitnow"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.msg.Send(w.ctx, owner, ch.ID, messaging.SendParams{Text: "join us", IdempotencyKey: "k"}); err != nil {
			t.Fatal(err)
		}
		sess := w.officer("PHAROS", "FR", true)
		start := time.Now()
		r, err := w.svc.File(w.ctx, sess, NewRequest{Kind: Removal, Process: RemovalOrder, CaseReference: "PH-77", LegalBasis: "Art. 6-1 LCEN",
			IssuingAuthority: "OCLCTIC", Targets: []Target{{Kind: TargetLink, Value: "https://kurir.example/@recruitnow"}}})
		if err != nil {
			t.Fatal(err)
		}
		took := time.Since(start)
		if r.Enforced.IsZero() || took > 60*time.Second {
			t.Errorf("enforced %v after %v", r.Enforced, took)
		}
		read := func(country string) error {
			_, err := w.msg.History(kurir.WithLocation(w.ctx, kurir.Location{Network: country}), owner, ch.ID, 0, messaging.Older, 10)
			return err
		}
		if err := read("FR"); kurir.ErrorCode(err) != kurir.ELegal {
			t.Errorf("in France after the order: %v", err)
		}
		if err := read("DE"); err != nil {
			t.Errorf("in Germany: %v", err)
		}
		// An order for another country than the agency's waits for review.
		elsewhere, err := w.svc.File(w.ctx, sess, NewRequest{Kind: Removal, Process: RemovalOrder, CaseReference: "PH-78", LegalBasis: "Art. 6-1 LCEN",
			IssuingAuthority: "OCLCTIC", Jurisdiction: "US", Targets: []Target{{Kind: TargetLink, Value: "@recruitnow"}}})
		if err != nil {
			t.Fatal(err)
		}
		if !elsewhere.Enforced.IsZero() || read("US") != nil {
			t.Errorf("an order of a French agency for the US was enforced at once: %v, %v", elsewhere.Enforced, read("US"))
		}
		sts, _, err := w.mod.Statements(w.ctx, owner)
		if err != nil || len(sts) != 1 || sts[0].Kind != moderation.Restrict || sts[0].Source != moderation.SourceLegal ||
			sts[0].LegalReference != "Art. 6-1 LCEN" {
			t.Errorf("owner's statements = %+v, %v", sts, err)
		}
		w.svc.Wait()
		enforced := map[string]bool{}
		for _, p := range w.pages.got {
			enforced[p.Number] = p.Enforced
		}
		if len(w.pages.got) != 2 || !enforced[r.Number] || enforced[elsewhere.Number] {
			t.Errorf("pages = %+v; want both orders paged, the French one enforced", w.pages.got)
		}
		if _, err := w.svc.Extend(w.ctx, w.legal, r.ID, []string{"be", "XX"}); kurir.ErrorCode(err) != kurir.EInvalid {
			t.Errorf("extend to XX: %v", err)
		}
		if _, err := w.svc.Extend(w.ctx, w.legal, r.ID, []string{"BE"}); err != nil {
			t.Fatal(err)
		}
		if err := read("BE"); kurir.ErrorCode(err) != kurir.ELegal {
			t.Errorf("in Belgium after extending: %v", err)
		}
		if _, err := w.svc.Reject(w.ctx, w.legal, r.ID, "The order names no provision our review can confirm."); err != nil {
			t.Fatal(err)
		}
		for _, c := range []string{"FR", "BE"} {
			if err := read(c); err != nil {
				t.Errorf("in %s after contesting: %v", c, err)
			}
		}
		v, err := w.svc.Request(w.ctx, sess, r.ID)
		if err != nil {
			t.Fatal(err)
		}
		var kinds []string
		for _, e := range v.Timeline {
			kinds = append(kinds, e.Kind)
		}
		if got := strings.Join(kinds, " "); got != "filed enforced extended rejected lifted lifted" {
			t.Errorf("the officer's timeline = %s (internal steps such as the page are not in it)", got)
		}
	})
}

// TestEUTerroristContentOrderAppliesInEveryMember: an order under
// Regulation (EU) 2021/784 withholds the content in every member state.
func TestEUTerroristContentOrderAppliesInEveryMember(t *testing.T) {
	run(t, func(t *testing.T, w *world) {
		owner := w.user("channelowner")
		ch, _ := w.msg.CreateChannel(w.ctx, owner, messaging.NewChat{Title: "Propaganda", Username: "propaganda"})
		post, _ := w.msg.Send(w.ctx, owner, ch.ID, messaging.SendParams{Text: "attack video", IdempotencyKey: "k"})
		sess := w.officer("BKA", "DE", true)
		r, err := w.svc.File(w.ctx, sess, NewRequest{Kind: Removal, Process: TCORemovalOrder, CaseReference: "TCO-1", LegalBasis: "Regulation (EU) 2021/784 Art. 3",
			IssuingAuthority: "BKA", Targets: []Target{{Kind: TargetLink, Value: fmt.Sprintf("@propaganda/%d", post.Seq)}}})
		if err != nil {
			t.Fatal(err)
		}
		if !r.Due.Equal(r.Received.Add(time.Hour)) {
			t.Errorf("due %v, want an hour after %v", r.Due, r.Received)
		}
		for country, withheld := range map[string]bool{"DE": true, "IE": true, "FI": true, "NO": false, "US": false} {
			ms, err := w.msg.History(kurir.WithLocation(w.ctx, kurir.Location{Network: country}), owner, ch.ID, 0, messaging.Older, 10)
			if err != nil || (ms[0].Withheld != nil) != withheld {
				t.Errorf("in %s: %+v, %v; want withheld %v", country, ms, err, withheld)
			}
		}
	})
}

// TestPreservationHoldsTheTargetsData: a preservation request places a hold
// on each target account at once, for 90 days.
func TestPreservationHoldsTheTargetsData(t *testing.T) {
	run(t, func(t *testing.T, w *world) {
		a, b := w.user("firstsuspect"), w.user("secondsuspect")
		sess := w.officer("FBI", "US", false)
		r, err := w.svc.File(w.ctx, sess, NewRequest{Kind: Preservation, Process: PreservationReq, CaseReference: "FBI-1",
			LegalBasis: "18 U.S.C. § 2703(f)", IssuingAuthority: "FBI Field Office",
			Targets: []Target{{Kind: TargetUsername, Value: "@firstsuspect"}, {Kind: TargetPhone, Value: phoneOf("secondsuspect")}}})
		if err != nil {
			t.Fatal(err)
		}
		if !r.PreservedUntil.Equal(w.clock.Now().Add(PreservePeriod)) {
			t.Errorf("preserved until %v", r.PreservedUntil)
		}
		var holds int
		w.db.Read().QueryRowContext(w.ctx, `SELECT COUNT(*) FROM legal_holds WHERE user_id IN ($1, $2) AND reference = $3`, a, b, r.Number).Scan(&holds)
		if holds != 2 {
			t.Errorf("%d holds placed, want 2", holds)
		}
	})
}

// TestWorkflowAndAuthorisation: the legal team moves a request through its
// states, and only allowed moves; officers see only their agency's
// requests; staff without the legal role see none.
func TestWorkflowAndAuthorisation(t *testing.T) {
	run(t, func(t *testing.T, w *world) {
		suspect := w.user("suspect")
		bka, other := w.officer("BKA", "DE", false), w.officer("NCA", "GB", false)
		r, err := w.svc.File(w.ctx, bka, NewRequest{Kind: Disclosure, Process: Subpoena, CaseReference: "1", LegalBasis: "§ 100j StPO",
			IssuingAuthority: "Staatsanwaltschaft", Targets: []Target{{Kind: TargetUser, Value: fmt.Sprint(suspect)}},
			Categories: []Category{Subscriber, Content}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.svc.Request(w.ctx, other, r.ID); kurir.ErrorCode(err) != kurir.ENotFound {
			t.Errorf("another agency reads the request: %v", err)
		}
		if rs, _ := w.svc.Requests(w.ctx, other); len(rs) != 0 {
			t.Errorf("another agency lists %d requests", len(rs))
		}
		mod := Staff{ID: w.user("modestine"), Role: kurir.RoleModerator}
		if _, err := w.svc.Queue(w.ctx, mod, ""); kurir.ErrorCode(err) != kurir.EForbidden {
			t.Errorf("a moderator reads the legal queue: %v", err)
		}
		if _, _, err := w.svc.Fulfil(w.ctx, w.legal, r.ID); kurir.ErrorCode(err) != kurir.EConflict {
			t.Errorf("fulfil before approval: %v", err)
		}
		if _, err := w.svc.AskInfo(w.ctx, w.legal, r.ID, "Please attach the order."); err != nil {
			t.Fatal(err)
		}
		if _, err := w.svc.Respond(w.ctx, other, r.ID, "here"); kurir.ErrorCode(err) != kurir.ENotFound {
			t.Errorf("another agency answers: %v", err)
		}
		if _, err := w.svc.Respond(w.ctx, bka, r.ID, "Attached."); err != nil {
			t.Fatal(err)
		}
		if _, err := w.svc.Approve(w.ctx, w.legal, r.ID, []Category{Subscriber, Content}, ""); kurir.ErrorCode(err) != kurir.EInvalid {
			t.Errorf("content under a subpoena approved: %v", err)
		}
		if _, err := w.svc.Approve(w.ctx, w.legal, r.ID, []Category{Access}, ""); kurir.ErrorCode(err) != kurir.EInvalid {
			t.Errorf("approved a category not asked for: %v", err)
		}
		a, err := w.svc.Approve(w.ctx, w.legal, r.ID, []Category{Subscriber}, "Subscriber data only: content needs a warrant.")
		if err != nil {
			t.Fatal(err)
		}
		if len(a.Approved) != 1 || a.Answered.IsZero() {
			t.Errorf("approved %+v", a)
		}
		if _, err := w.svc.Reject(w.ctx, w.legal, r.ID, "too late"); kurir.ErrorCode(err) != kurir.EConflict {
			t.Errorf("rejected after approval: %v", err)
		}
		if err := w.svc.Note(w.ctx, w.legal, r.ID, "Checked the court's seal."); err != nil {
			t.Fatal(err)
		}
		v, _ := w.svc.Request(w.ctx, bka, r.ID)
		for _, e := range v.Timeline {
			if e.Kind == "note" {
				t.Error("the officer sees the legal team's internal note")
			}
		}
		rv, err := w.svc.Review(w.ctx, w.legal, r.ID)
		if err != nil || rv.Timeline[len(rv.Timeline)-1].Kind != "note" {
			t.Errorf("review timeline %+v, %v", rv.Timeline, err)
		}
	})
}

// TestDocuments: only PDF, PNG and JPEG documents are taken, by content and
// within the size limit; only the legal team reads them.
func TestDocuments(t *testing.T) {
	run(t, func(t *testing.T, w *world) {
		suspect := w.user("suspect")
		bka := w.officer("BKA", "DE", false)
		w.svc.cfg.MaxAttachment = 1 << 10
		r, err := w.svc.File(w.ctx, bka, NewRequest{Kind: Disclosure, Process: CourtOrder, CaseReference: "1", LegalBasis: "§ 100g StPO",
			IssuingAuthority: "AG", Targets: []Target{{Kind: TargetUser, Value: fmt.Sprint(suspect)}}, Categories: []Category{Subscriber}})
		if err != nil {
			t.Fatal(err)
		}
		_, err = w.svc.Attach(w.ctx, bka, r.ID, "order.pdf", strings.NewReader("<html>not a pdf</html>"))
		wantErr(t, "an HTML file called .pdf", err, kurir.EInvalid, "file")
		_, err = w.svc.Attach(w.ctx, bka, r.ID, "big.pdf", strings.NewReader("%PDF-1.7\n"+strings.Repeat("x", 2<<10)))
		wantErr(t, "an oversized PDF", err, kurir.EInvalid, "file")
		if n := w.count("legal_attachments"); n != 0 {
			t.Errorf("%d documents stored by refused uploads", n)
		}
		a, err := w.svc.Attach(w.ctx, bka, r.ID, "../../court order.pdf", strings.NewReader("%PDF-1.7\nsigned"))
		if err != nil {
			t.Fatal(err)
		}
		if a.Name != "court order.pdf" || a.ContentType != "application/pdf" {
			t.Errorf("document %+v", a)
		}
		if _, _, err := w.svc.Document(w.ctx, Staff{ID: suspect, Role: kurir.RoleModerator}, a.ID); kurir.ErrorCode(err) != kurir.EForbidden {
			t.Errorf("a moderator reads the document: %v", err)
		}
		_, rc, err := w.svc.Document(w.ctx, w.legal, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		rc.Close()

		// Past the limit a document is refused before its upload is read.
		w.svc.cfg.MaxAttachments = 2
		if _, err := w.svc.Attach(w.ctx, bka, r.ID, "second.pdf", strings.NewReader("%PDF-1.7\nsecond")); err != nil {
			t.Fatal(err)
		}
		third := &watchedReader{Reader: strings.NewReader("%PDF-1.7\nthird")}
		_, err = w.svc.Attach(w.ctx, bka, r.ID, "third.pdf", third)
		if kurir.ErrorReason(err) != "too_many_documents" || third.read {
			t.Errorf("a third document of two allowed: %v, its upload read: %v", err, third.read)
		}
		if n := w.count("legal_attachments"); n != 2 {
			t.Errorf("%d documents stored, want 2", n)
		}
	})
}

// watchedReader says whether anything read it.
type watchedReader struct {
	io.Reader
	read bool
}

func (r *watchedReader) Read(p []byte) (int, error) {
	r.read = true
	return r.Reader.Read(p)
}

// TestEmergencyPagesOnCallStaff: an emergency request pages on-call staff,
// is due within the hour, and heads the legal team's queue.
func TestEmergencyPagesOnCallStaff(t *testing.T) {
	run(t, func(t *testing.T, w *world) {
		victim := w.user("missingperson")
		sess := w.officer("Polizei", "DE", false)
		if _, err := w.svc.File(w.ctx, sess, NewRequest{Kind: Disclosure, Process: Subpoena, CaseReference: "routine", LegalBasis: "x",
			IssuingAuthority: "y", Targets: []Target{{Kind: TargetUser, Value: fmt.Sprint(victim)}}, Categories: []Category{Subscriber}}); err != nil {
			t.Fatal(err)
		}
		r, err := w.svc.File(w.ctx, sess, NewRequest{Kind: Emergency, Process: EmergencyBasis, CaseReference: "E-1", LegalBasis: "§ 34 StGB",
			IssuingAuthority: "Polizei Berlin", Description: "A missing child; the account's owner may know where.",
			Targets: []Target{{Kind: TargetUser, Value: fmt.Sprint(victim)}}, Categories: []Category{Subscriber, Access}})
		if err != nil {
			t.Fatal(err)
		}
		w.svc.Wait()
		if len(w.pages.got) != 1 || w.pages.got[0].Kind != Emergency {
			t.Fatalf("pages %+v", w.pages.got)
		}
		q, err := w.svc.Queue(w.ctx, w.legal, "")
		if err != nil || len(q) != 2 || q[0].ID != r.ID {
			t.Errorf("queue %+v, %v; want the emergency first", q, err)
		}
		if es, _ := w.svc.Emergencies(w.ctx, w.legal); len(es) != 1 || !es[0].Due.Equal(r.Received.Add(time.Hour)) {
			t.Errorf("emergencies %+v", es)
		}
		got, _ := w.svc.Review(w.ctx, w.legal, r.ID)
		if got.Request.Paged.IsZero() {
			t.Error("the page is not recorded on the request")
		}
	})
}
