package httpapi_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"kurir"
	"kurir/account"
	"kurir/blob"
	"kurir/legal"
	"kurir/legal/mail"
	"kurir/legal/totp"
	"kurir/messaging"
	"kurir/moderation"
	"kurir/sqldb"
	"kurir/sqldb/sqldbtest"
)

// legalPortal is the harness's law-enforcement portal: the service, the
// mail sink officers' codes go to, and the on-call pager.
type legalPortal struct {
	svc   *legal.Service
	mail  *mail.LogSender
	pager *testPager
}

// testPager is the on-call legal staff: it records every page.
type testPager struct{ pages chan legal.Page }

func (p *testPager) Page(_ context.Context, pg legal.Page) error {
	p.pages <- pg
	return nil
}

func newLegalPortal(t testing.TB, db *sqldb.DB, acc *account.Service, msg *messaging.Service, mod *moderation.Service,
	clock *fakeClock, log *slog.Logger) *legalPortal {
	t.Helper()
	blobs, err := blob.OpenFS(filepath.Join(t.TempDir(), "legal-blobs"))
	if err != nil {
		t.Fatal(err)
	}
	p := &legalPortal{mail: &mail.LogSender{Log: slog.New(slog.DiscardHandler)}, pager: &testPager{pages: make(chan legal.Page, 16)}}
	p.svc = legal.NewService(db, blobs, acc, msg, mod, clock, log, legal.Config{Mail: p.mail, Pager: p.pager})
	t.Cleanup(p.svc.Wait) // pages in flight write to the database
	return p
}

// service is Deps.Legal: nil for a harness without the portal.
func (p *legalPortal) service() *legal.Service {
	if p == nil {
		return nil
	}
	return p.svc
}

var codePattern = regexp.MustCompile(`\b[0-9]{6}\b`)

// code returns the last verification code mailed to email.
func (p *legalPortal) code(t testing.TB, email string) string {
	t.Helper()
	sent := p.mail.Sent()
	for i := len(sent) - 1; i >= 0; i-- {
		if sent[i].To == email {
			if c := codePattern.FindString(sent[i].Body); c != "" {
				return c
			}
		}
	}
	t.Fatalf("no code was mailed to %s (mail: %+v)", email, sent)
	return ""
}

type officerJSON struct {
	ID       int64  `json:"id"`
	AgencyID int64  `json:"agency_id"`
	Email    string `json:"email"`
	Verified bool   `json:"email_verified"`
	TOTP     bool   `json:"totp_enabled"`
	Attested bool   `json:"attested"`
}

type officerLoginJSON struct {
	Token   string      `json:"token"`
	Officer officerJSON `json:"officer"`
	Ready   bool        `json:"setup_complete"`
}

type agencyJSON struct {
	ID      int64    `json:"id"`
	Name    string   `json:"name"`
	Country string   `json:"country"`
	Domains []string `json:"domains"`
}

type legalRequestJSON struct {
	ID       int64  `json:"id"`
	Number   string `json:"number"`
	AgencyID int64  `json:"agency_id"`
	Kind     string `json:"kind"`
	State    string `json:"state"`
	Targets  []struct {
		Kind   string `json:"kind"`
		Value  string `json:"value"`
		UserID int64  `json:"user_id"`
	} `json:"targets"`
	Categories []string   `json:"categories"`
	Approved   []string   `json:"approved_categories"`
	DueAt      time.Time  `json:"due_at"`
	ReceivedAt time.Time  `json:"received_at"`
	PagedAt    *time.Time `json:"paged_at"`
	Decision   string     `json:"decision"`
}

type legalDetailJSON struct {
	Request  legalRequestJSON `json:"request"`
	Timeline []struct {
		Kind     string `json:"kind"`
		Actor    string `json:"actor"`
		ActorID  int64  `json:"actor_id"`
		Note     string `json:"note"`
		Internal bool   `json:"internal"`
	} `json:"timeline"`
	Documents []struct {
		ID          int64  `json:"id"`
		Name        string `json:"name"`
		ContentType string `json:"content_type"`
		Size        int64  `json:"size"`
	} `json:"documents"`
}

func (d legalDetailJSON) kinds() []string {
	var out []string
	for _, e := range d.Timeline {
		out = append(out, e.Kind)
	}
	return out
}

// officer signs an officer up at email, verifies the address, sets up an
// authenticator and attests, and returns a ready session's token and the
// authenticator's key.
func (h *harness) officer(t *testing.T, email string) (string, totp.Key) {
	t.Helper()
	h.do(t, "POST", "/api/v1/legal/officers", "", map[string]string{"email": email, "name": "Officer " + email, "password": password}).
		want(t, "sign up "+email, http.StatusCreated, nil)
	h.do(t, "POST", "/api/v1/legal/officers/verify", "", map[string]string{"email": email, "password": password, "code": h.legal.code(t, email)}).
		want(t, "verify "+email, http.StatusNoContent, nil)
	var setup officerLoginJSON
	h.do(t, "POST", "/api/v1/legal/sessions", "", map[string]string{"email": email, "password": password}).
		want(t, "setup login of "+email, http.StatusCreated, &setup)
	var secret struct{ Secret string }
	h.do(t, "POST", "/api/v1/legal/me/totp", setup.Token, nil).want(t, "begin TOTP", http.StatusOK, &secret)
	key, err := totp.ParseKey(secret.Secret)
	if err != nil {
		t.Fatalf("the authenticator secret %q: %v", secret.Secret, err)
	}
	h.do(t, "POST", "/api/v1/legal/me/totp/confirm", setup.Token, map[string]string{"code": key.Code(h.clock.Now())}).
		want(t, "confirm TOTP", http.StatusNoContent, nil)
	h.do(t, "POST", "/api/v1/legal/me/attestation", setup.Token, map[string]string{"statement": legal.Attestation}).
		want(t, "attest", http.StatusNoContent, nil)
	h.clock.Advance(30 * time.Second) // the code confirming the authenticator is spent
	var l officerLoginJSON
	h.do(t, "POST", "/api/v1/legal/sessions", "", map[string]string{"email": email, "password": password, "totp": key.Code(h.clock.Now())}).
		want(t, "log in "+email, http.StatusCreated, &l)
	if !l.Ready {
		t.Fatalf("log in %s after setup: %+v, want setup_complete", email, l)
	}
	return l.Token, key
}

// legalRows counts what filing or attaching could store.
func legalRows(t testing.TB, db *sqldb.DB) map[string]int {
	t.Helper()
	n := map[string]int{}
	for _, table := range []string{"legal_requests", "legal_events", "legal_attachments", "legal_effects", "audit_log"} {
		var c int
		if err := db.Read().QueryRowContext(t.Context(), "SELECT COUNT(*) FROM "+table).Scan(&c); err != nil {
			t.Fatalf("count %s: %v", table, err)
		}
		n[table] = c
	}
	return n
}

// emergency is a well-formed emergency request about targets.
func emergency(targets ...map[string]string) map[string]any {
	return map[string]any{
		"kind": "emergency", "process": "emergency", "case_reference": "BKA-2026-0815",
		"legal_basis": "§ 100j StPO; imminent threat to life", "issuing_authority": "Bundeskriminalamt, Lagezentrum",
		"targets": targets, "categories": []string{"subscriber", "access"},
		"description": "The account announced an attack on a school tomorrow morning.",
	}
}

// TestLegalPortal is the portal end to end over HTTP: the legal team
// registers an agency; an officer signs up (a wrong domain is refused),
// verifies the address, sets up an authenticator and attests; a replayed
// code is refused; the officer files an emergency request that pages
// on-call staff and attaches a court order; the legal team approves only
// subscriber data of the subscriber and access data asked for and fulfils
// it; the officer downloads a package whose manifest verifies and holds
// only subscriber data; the user is told. Another agency's officer sees
// none of it, and neither users nor officers reach what is not theirs.
func TestLegalPortal(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		h := newHarness(t, db, options{legal: true})
		lena := h.staff(t, "lena_legal", kurir.RoleLegal)
		moritz := h.staff(t, "moritz_mod", kurir.RoleModerator)
		mallory := h.person(t, "mallory")

		var bka, gn agencyJSON
		h.do(t, "POST", "/api/v1/legal-team/agencies", moritz.token, map[string]any{"name": "Bundeskriminalamt", "country": "DE", "domains": []string{"bka.example"}}).
			wantProblem(t, "a moderator registers an agency", problemWant{http.StatusForbidden, "forbidden", "legal_only", ""})
		h.do(t, "POST", "/api/v1/legal-team/agencies", lena.token, map[string]any{"name": "Bundeskriminalamt", "country": "DE", "domains": []string{"bka.example"}}).
			want(t, "register the BKA", http.StatusCreated, &bka)
		h.do(t, "POST", "/api/v1/legal-team/agencies", lena.token, map[string]any{"name": "Gendarmerie nationale", "country": "fr", "domains": []string{"gn.example"}}).
			want(t, "register the Gendarmerie", http.StatusCreated, &gn)
		if bka.Country != "DE" || !slices.Equal(bka.Domains, []string{"bka.example"}) || gn.Country != "FR" {
			t.Fatalf("agencies: %+v, %+v", bka, gn)
		}
		var agencies struct{ Agencies []agencyJSON }
		h.do(t, "GET", "/api/v1/legal-team/agencies", lena.token, nil).want(t, "agencies", http.StatusOK, &agencies)
		if len(agencies.Agencies) != 2 {
			t.Fatalf("agencies: %+v, want the two registered", agencies.Agencies)
		}

		// Sign-up: only at a registered domain.
		const email = "k.weber@bka.example"
		h.do(t, "POST", "/api/v1/legal/officers", "", map[string]string{"email": "k.weber@gmail.example", "name": "Karin Weber", "password": password}).
			wantProblem(t, "sign up at an unregistered domain", problemWant{http.StatusBadRequest, "invalid", "unknown_domain", "email"})
		var o officerJSON
		h.do(t, "POST", "/api/v1/legal/officers", "", map[string]string{"email": email, "name": "Karin Weber", "badge": "4711", "password": password}).
			want(t, "sign up", http.StatusCreated, &o)
		if o.AgencyID != bka.ID || o.Verified || o.TOTP || o.Attested {
			t.Fatalf("sign up: %+v, want an unverified officer of the BKA", o)
		}
		h.do(t, "POST", "/api/v1/legal/sessions", "", map[string]string{"email": email, "password": password}).
			wantProblem(t, "log in before verifying", problemWant{http.StatusForbidden, "forbidden", "email_unverified", ""})
		h.do(t, "POST", "/api/v1/legal/officers/verify", "", map[string]string{"email": email, "password": password, "code": h.legal.code(t, email)}).
			want(t, "verify", http.StatusNoContent, nil)

		// A setup session may only set up the authenticator.
		var setup officerLoginJSON
		h.do(t, "POST", "/api/v1/legal/sessions", "", map[string]string{"email": email, "password": password}).
			want(t, "setup login", http.StatusCreated, &setup)
		if setup.Ready || setup.Token == "" {
			t.Fatalf("setup login: %+v", setup)
		}
		h.do(t, "GET", "/api/v1/legal/requests", setup.Token, nil).
			wantProblem(t, "requests in a setup session", problemWant{http.StatusForbidden, "forbidden", "setup_incomplete", ""})
		var me struct {
			NextStep string `json:"next_step"`
			Ready    bool   `json:"setup_complete"`
		}
		h.do(t, "GET", "/api/v1/legal/me", setup.Token, nil).want(t, "me", http.StatusOK, &me)
		if me.NextStep != "totp" || me.Ready {
			t.Fatalf("me in a setup session: %+v, want next step totp", me)
		}
		var secret struct{ Secret, URI string }
		h.do(t, "POST", "/api/v1/legal/me/totp", setup.Token, nil).want(t, "begin TOTP", http.StatusOK, &secret)
		key, err := totp.ParseKey(secret.Secret)
		if err != nil || !strings.HasPrefix(secret.URI, "otpauth://totp/") {
			t.Fatalf("begin TOTP: %+v (%v)", secret, err)
		}
		confirmCode := key.Code(h.clock.Now())
		h.do(t, "POST", "/api/v1/legal/me/totp/confirm", setup.Token, map[string]string{"code": confirmCode}).
			want(t, "confirm TOTP", http.StatusNoContent, nil)
		var att struct{ Text string }
		h.do(t, "GET", "/api/v1/legal/attestation", "", nil).want(t, "attestation", http.StatusOK, &att)
		h.do(t, "POST", "/api/v1/legal/me/attestation", setup.Token, map[string]string{"statement": "I am a police officer."}).
			wantProblem(t, "attest in other words", problemWant{http.StatusBadRequest, "invalid", "attestation_mismatch", "statement"})
		h.do(t, "POST", "/api/v1/legal/me/attestation", setup.Token, map[string]string{"statement": att.Text}).
			want(t, "attest", http.StatusNoContent, nil)

		// Logging in again: the code that confirmed the authenticator is spent.
		h.do(t, "POST", "/api/v1/legal/sessions", "", map[string]string{"email": email, "password": password}).
			wantProblem(t, "log in without a code", problemWant{http.StatusUnauthorized, "unauthenticated", "totp_required", ""})
		h.do(t, "POST", "/api/v1/legal/sessions", "", map[string]string{"email": email, "password": password, "totp": confirmCode}).
			wantProblem(t, "log in with a replayed code", problemWant{http.StatusUnauthorized, "unauthenticated", "totp_invalid", ""})
		h.clock.Advance(30 * time.Second)
		var sess officerLoginJSON
		h.do(t, "POST", "/api/v1/legal/sessions", "", map[string]string{"email": email, "password": password, "totp": key.Code(h.clock.Now())}).
			want(t, "log in with a code", http.StatusCreated, &sess)
		if !sess.Ready || !sess.Officer.TOTP || !sess.Officer.Attested {
			t.Fatalf("log in after setup: %+v, want setup_complete", sess)
		}
		officer := sess.Token

		// Bad requests file nothing.
		before := legalRows(t, db)
		noBasis := emergency(map[string]string{"kind": "username", "value": "@mallory"})
		delete(noBasis, "legal_basis")
		h.send(t, call{method: "POST", path: "/api/v1/legal/requests", token: officer, body: noBasis, mode: checkResponse}).
			wantProblem(t, "a request without a legal basis", problemWant{http.StatusBadRequest, "invalid", "required", "legal_basis"})
		h.do(t, "POST", "/api/v1/legal/requests", officer, emergency(map[string]string{"kind": "username", "value": "@mallory"}, map[string]string{"kind": "username", "value": "@nobody_here"})).
			wantProblem(t, "a request about an unknown account", problemWant{http.StatusNotFound, "not_found", "", "targets"})
		if after := legalRows(t, db); !maps.Equal(after, before) {
			t.Fatalf("refused requests changed rows from %v to %v", before, after)
		}

		// An emergency request pages the on-call legal staff.
		var filed legalRequestJSON
		h.do(t, "POST", "/api/v1/legal/requests", officer, emergency(map[string]string{"kind": "username", "value": "@mallory"})).
			want(t, "file an emergency request", http.StatusCreated, &filed)
		if !regexp.MustCompile(`^LE-\d{4}-\d{6}$`).MatchString(filed.Number) || filed.State != "received" || filed.AgencyID != bka.ID ||
			len(filed.Targets) != 1 || filed.Targets[0].UserID != mallory.id || !filed.DueAt.Equal(filed.ReceivedAt.Add(time.Hour)) {
			t.Fatalf("filed: %+v", filed)
		}
		select {
		case pg := <-h.legal.pager.pages:
			if pg.Number != filed.Number || pg.Kind != legal.Emergency || pg.Agency != "Bundeskriminalamt" {
				t.Errorf("page: %+v, want request %s of the BKA", pg, filed.Number)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("no page for the emergency request within 10 s")
		}
		h.legal.svc.Wait() // the page is on the timeline
		reqPath := fmt.Sprintf("/api/v1/legal/requests/%d", filed.ID)

		// Documents: PDF, PNG or JPEG, within the size limit; only the legal team reads them.
		before = legalRows(t, db)
		h.send(t, call{method: "POST", path: reqPath + "/documents?name=order.txt", token: officer, body: []byte("This is a court order, honest."), contentType: "text/plain"}).
			wantProblem(t, "a text file", problemWant{http.StatusBadRequest, "invalid", "unsupported_document", "file"})
		big := append([]byte("%PDF-1.7\n"), bytes.Repeat([]byte("x"), 20<<20)...)
		if p := h.send(t, call{method: "POST", path: reqPath + "/documents?name=huge.pdf", token: officer, body: big, contentType: "application/pdf"}); p.status == http.StatusRequestEntityTooLarge {
			p.wantProblem(t, "a document over 20 MiB", problemWant{http.StatusRequestEntityTooLarge, "invalid", "body_too_large", "file"})
		} else {
			p.wantProblem(t, "a document over 20 MiB", problemWant{http.StatusBadRequest, "invalid", "too_large", "file"})
		}
		if after := legalRows(t, db); !maps.Equal(after, before) {
			t.Fatalf("refused documents changed rows from %v to %v", before, after)
		}
		pdf := []byte("%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n")
		var doc struct {
			ID          int64  `json:"id"`
			Name        string `json:"name"`
			ContentType string `json:"content_type"`
			Size        int64  `json:"size"`
		}
		h.send(t, call{method: "POST", path: reqPath + "/documents?name=" + "court%20order.pdf", token: officer, body: pdf, contentType: "application/octet-stream"}).
			want(t, "attach a PDF", http.StatusCreated, &doc)
		if doc.Name != "court order.pdf" || doc.ContentType != "application/pdf" || doc.Size != int64(len(pdf)) {
			t.Fatalf("attach a PDF: %+v", doc)
		}
		docPath := fmt.Sprintf("/api/v1/legal-team/documents/%d", doc.ID)
		h.do(t, "GET", docPath, officer, nil).
			wantProblem(t, "the officer reads the document", problemWant{http.StatusUnauthorized, "unauthenticated", "invalid_token", ""})
		h.do(t, "GET", docPath, moritz.token, nil).
			wantProblem(t, "a moderator reads the document", problemWant{http.StatusForbidden, "forbidden", "legal_only", ""})
		got := h.do(t, "GET", docPath, lena.token, nil)
		got.want(t, "the legal team reads the document", http.StatusOK, nil)
		for header, want := range map[string]string{
			"Content-Type": "application/pdf", "X-Content-Type-Options": "nosniff",
			"Content-Disposition": `attachment; filename="court order.pdf"`,
		} {
			if v := got.header.Get(header); v != want {
				t.Errorf("document: %s %q, want %q", header, v, want)
			}
		}
		if csp := got.header.Get("Content-Security-Policy"); !strings.Contains(csp, "sandbox") {
			t.Errorf("document: Content-Security-Policy %q, want a sandbox", csp)
		}
		if !bytes.Equal(got.body, pdf) {
			t.Errorf("document: got %q, want the PDF as filed", got.body)
		}

		// The legal team sees the emergency, approves a narrower scope and fulfils it.
		var banner struct{ Requests []legalRequestJSON }
		h.do(t, "GET", "/api/v1/legal-team/emergencies", lena.token, nil).want(t, "emergencies", http.StatusOK, &banner)
		if len(banner.Requests) != 1 || banner.Requests[0].ID != filed.ID || banner.Requests[0].PagedAt == nil {
			t.Fatalf("emergencies: %+v, want the paged request", banner.Requests)
		}
		var queue struct{ Requests []legalRequestJSON }
		h.do(t, "GET", "/api/v1/legal-team/requests?state=received", lena.token, nil).want(t, "queue", http.StatusOK, &queue)
		if len(queue.Requests) != 1 || queue.Requests[0].ID != filed.ID {
			t.Fatalf("queue of received requests: %+v", queue.Requests)
		}
		h.do(t, "GET", "/api/v1/legal-team/requests?state=open", lena.token, nil).
			wantProblem(t, "a queue of an unknown state", problemWant{http.StatusBadRequest, "invalid", "unknown_state", "state"})
		teamPath := fmt.Sprintf("/api/v1/legal-team/requests/%d", filed.ID)
		h.do(t, "POST", teamPath+"/review", lena.token, nil).want(t, "start review", http.StatusOK, nil)
		h.do(t, "POST", teamPath+"/notes", lena.token, map[string]string{"text": "Threat is specific; subscriber data suffices."}).
			want(t, "note", http.StatusNoContent, nil)
		h.do(t, "POST", teamPath+"/approval", lena.token, map[string]any{"categories": []string{"content"}}).
			wantProblem(t, "approve what was not asked for", problemWant{http.StatusBadRequest, "invalid", "not_requested", "categories"})
		var approved legalRequestJSON
		h.do(t, "POST", teamPath+"/approval", lena.token, map[string]any{"categories": []string{"subscriber"}, "reason": "Access data is not necessary to locate the person."}).
			want(t, "approve subscriber data", http.StatusOK, &approved)
		if approved.State != "approved" || !slices.Equal(approved.Approved, []string{"subscriber"}) || !slices.Equal(approved.Categories, []string{"subscriber", "access"}) {
			t.Fatalf("approved: %+v", approved)
		}
		var fulfilled struct {
			Request legalRequestJSON `json:"request"`
			Package *struct {
				SHA256 string `json:"sha256"`
				Size   int64  `json:"size"`
			} `json:"package"`
		}
		h.do(t, "POST", teamPath+"/fulfilment", lena.token, nil).want(t, "fulfil", http.StatusOK, &fulfilled)
		if fulfilled.Request.State != "fulfilled" || fulfilled.Package == nil {
			t.Fatalf("fulfil: %+v", fulfilled)
		}
		var review legalDetailJSON
		h.do(t, "GET", teamPath, lena.token, nil).want(t, "review", http.StatusOK, &review)
		if k := review.kinds(); !slices.Contains(k, "note") || !slices.Contains(k, "paged") || len(review.Documents) != 1 {
			t.Errorf("the legal team's view: timeline %v, documents %+v; want the note, the page and the PDF", k, review.Documents)
		}

		// The officer follows the request and downloads a package that verifies.
		var view legalDetailJSON
		h.do(t, "GET", reqPath, officer, nil).want(t, "the officer's view", http.StatusOK, &view)
		if view.Request.State != "fulfilled" || !slices.Equal(view.Request.Approved, []string{"subscriber"}) ||
			view.Request.Decision != "Access data is not necessary to locate the person." || len(view.Documents) != 1 {
			t.Fatalf("the officer's view: %+v", view.Request)
		}
		for _, e := range view.Timeline {
			if e.Internal || e.Kind == "note" || e.Kind == "paged" || e.ActorID != 0 {
				t.Errorf("the officer sees an internal step or a staff ID: %+v", e)
			}
		}
		if k := view.kinds(); !slices.Contains(k, "filed") || !slices.Contains(k, "approved") || !slices.Contains(k, "fulfilled") {
			t.Errorf("the officer's timeline: %v", k)
		}
		pkg := h.do(t, "GET", reqPath+"/package", officer, nil)
		pkg.want(t, "download the package", http.StatusOK, nil)
		if ct, cd := pkg.header.Get("Content-Type"), pkg.header.Get("Content-Disposition"); ct != "application/zip" ||
			cd != `attachment; filename=`+filed.Number+`.zip` || pkg.header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("package headers: Content-Type %q, Content-Disposition %q, nosniff %q", ct, cd, pkg.header.Get("X-Content-Type-Options"))
		}
		var pub struct {
			Algorithm string `json:"algorithm"`
			PublicKey string `json:"public_key"`
		}
		h.do(t, "GET", "/api/v1/legal/public-key", "", nil).want(t, "public key", http.StatusOK, &pub)
		key64, err := base64.StdEncoding.DecodeString(pub.PublicKey)
		if err != nil || pub.Algorithm != "Ed25519" {
			t.Fatalf("public key: %+v (%v)", pub, err)
		}
		m, err := legal.VerifyPackage(pkg.body, ed25519.PublicKey(key64))
		if err != nil {
			t.Fatalf("the package does not verify: %v", err)
		}
		if m.Request != filed.Number || !slices.Equal(m.Categories, []legal.Category{legal.Subscriber}) || len(m.Files) == 0 {
			t.Fatalf("manifest: %+v, want subscriber data of %s", m, filed.Number)
		}
		for _, f := range m.Files {
			if f.Category != legal.Subscriber || f.UserID != kurir.UserID(mallory.id) {
				t.Errorf("the package holds %s (%s of user %d), beyond the approved scope", f.Name, f.Category, f.UserID)
			}
		}
		if len(pkg.body) != int(fulfilled.Package.Size) {
			t.Errorf("package: %d bytes, the fulfilment said %d", len(pkg.body), fulfilled.Package.Size)
		}

		// The user whose data was disclosed is told.
		var told struct {
			Disclosures []struct {
				Number     string   `json:"number"`
				Categories []string `json:"categories"`
				Country    string   `json:"country"`
			} `json:"disclosures"`
		}
		h.do(t, "GET", "/api/v1/me/disclosures", mallory.token, nil).want(t, "disclosures", http.StatusOK, &told)
		if len(told.Disclosures) != 1 || told.Disclosures[0].Number != filed.Number || !slices.Equal(told.Disclosures[0].Categories, []string{"subscriber"}) ||
			told.Disclosures[0].Country != "DE" {
			t.Errorf("mallory's disclosures: %+v", told.Disclosures)
		}
		h.do(t, "GET", "/api/v1/me/disclosures", lena.token, nil).want(t, "lena's disclosures", http.StatusOK, &told)
		if len(told.Disclosures) != 0 {
			t.Errorf("a user whose data was not disclosed is told of %+v", told.Disclosures)
		}

		// Another agency's officer sees none of it.
		other, _ := h.officer(t, "c.martin@gn.example")
		h.do(t, "GET", reqPath, other, nil).
			wantProblem(t, "another agency's request", problemWant{http.StatusNotFound, "not_found", "", ""})
		h.do(t, "GET", reqPath+"/package", other, nil).
			wantProblem(t, "another agency's package", problemWant{http.StatusNotFound, "not_found", "", ""})
		h.do(t, "POST", reqPath+"/withdrawal", other, map[string]string{"reason": "mine now"}).
			wantProblem(t, "withdraw another agency's request", problemWant{http.StatusNotFound, "not_found", "", ""})
		var theirs struct{ Requests []legalRequestJSON }
		h.do(t, "GET", "/api/v1/legal/requests", other, nil).want(t, "the other agency's requests", http.StatusOK, &theirs)
		if len(theirs.Requests) != 0 {
			t.Errorf("the other agency lists %+v", theirs.Requests)
		}
		var ours struct{ Requests []legalRequestJSON }
		h.do(t, "GET", "/api/v1/legal/requests", officer, nil).want(t, "the BKA's requests", http.StatusOK, &ours)
		if len(ours.Requests) != 1 || ours.Requests[0].ID != filed.ID {
			t.Errorf("the BKA lists %+v", ours.Requests)
		}

		// Users are not officers, officers are not users, and moderators are not the legal team.
		h.do(t, "GET", "/api/v1/legal/requests", mallory.token, nil).
			wantProblem(t, "a user's token on the portal", problemWant{http.StatusUnauthorized, "unauthenticated", "invalid_session", ""})
		h.do(t, "GET", "/api/v1/legal/requests", lena.token, nil).
			wantProblem(t, "the legal team's token on the portal", problemWant{http.StatusUnauthorized, "unauthenticated", "invalid_session", ""})
		h.do(t, "GET", "/api/v1/legal/requests", "", nil).
			wantProblem(t, "the portal without a token", problemWant{http.StatusUnauthorized, "unauthenticated", "missing_token", ""})
		h.do(t, "GET", "/api/v1/legal-team/requests", officer, nil).
			wantProblem(t, "an officer on the legal team's API", problemWant{http.StatusUnauthorized, "unauthenticated", "invalid_token", ""})
		h.do(t, "GET", "/api/v1/me", officer, nil).
			wantProblem(t, "an officer's token as a user's", problemWant{http.StatusUnauthorized, "unauthenticated", "invalid_token", ""})
		for _, c := range []struct{ method, path string }{
			{"GET", "/api/v1/legal-team/requests"}, {"GET", teamPath}, {"GET", "/api/v1/legal-team/emergencies"},
			{"GET", "/api/v1/legal-team/agencies"}, {"POST", teamPath + "/fulfilment"},
		} {
			h.do(t, c.method, c.path, moritz.token, nil).
				wantProblem(t, "a moderator: "+c.method+" "+c.path, problemWant{http.StatusForbidden, "forbidden", "legal_only", ""})
			h.do(t, c.method, c.path, mallory.token, nil).
				wantProblem(t, "a user: "+c.method+" "+c.path, problemWant{http.StatusForbidden, "forbidden", "legal_only", ""})
		}

		// Logging out ends the session.
		h.do(t, "DELETE", "/api/v1/legal/sessions/current", officer, nil).want(t, "log out", http.StatusNoContent, nil)
		h.do(t, "GET", "/api/v1/legal/me", officer, nil).
			wantProblem(t, "after logging out", problemWant{http.StatusUnauthorized, "unauthenticated", "invalid_session", ""})
	}, schema...)
}

// TestLegalOfficerSteps covers the steps around a request: more
// information asked and answered, a withdrawal, a rejection, a disabled
// agency, and bad path and body input.
func TestLegalOfficerSteps(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		h := newHarness(t, db, options{legal: true})
		admin := h.staff(t, "anja_boss", kurir.RoleAdmin)
		h.person(t, "suspect_one")
		var ag agencyJSON
		h.do(t, "POST", "/api/v1/legal-team/agencies", admin.token, map[string]any{"name": "Politie", "country": "NL", "domains": []string{"politie.example"}}).
			want(t, "an admin registers an agency", http.StatusCreated, &ag)
		officer, _ := h.officer(t, "j.devries@politie.example")

		file := func(what string) legalRequestJSON {
			t.Helper()
			var r legalRequestJSON
			h.do(t, "POST", "/api/v1/legal/requests", officer, map[string]any{
				"kind": "disclosure", "process": "subpoena", "case_reference": what, "legal_basis": "Art. 126nc Sv",
				"issuing_authority": "Officier van justitie Amsterdam", "targets": []map[string]string{{"kind": "username", "value": "suspect_one"}},
				"categories": []string{"subscriber"},
			}).want(t, "file "+what, http.StatusCreated, &r)
			return r
		}
		asked := file("NL-1")
		teamPath := fmt.Sprintf("/api/v1/legal-team/requests/%d", asked.ID)
		h.do(t, "POST", teamPath+"/info", admin.token, map[string]string{"question": ""}).
			wantProblem(t, "an empty question", problemWant{http.StatusBadRequest, "invalid", "required", "question"})
		var r legalRequestJSON
		h.do(t, "POST", teamPath+"/info", admin.token, map[string]string{"question": "Which period do you need?"}).want(t, "ask", http.StatusOK, &r)
		if r.State != "needs_info" {
			t.Fatalf("after asking: %+v", r)
		}
		reqPath := fmt.Sprintf("/api/v1/legal/requests/%d", asked.ID)
		h.do(t, "POST", reqPath+"/response", officer, map[string]string{"answer": " "}).
			wantProblem(t, "an empty answer", problemWant{http.StatusBadRequest, "invalid", "required", "answer"})
		h.do(t, "POST", reqPath+"/response", officer, map[string]string{"answer": "January 2026."}).want(t, "answer", http.StatusOK, &r)
		if r.State != "in_review" {
			t.Fatalf("after answering: %+v", r)
		}
		h.do(t, "POST", teamPath+"/rejection", admin.token, map[string]string{"reason": "A subpoena does not reach this data here."}).
			want(t, "reject", http.StatusOK, &r)
		if r.State != "rejected" || r.Decision == "" {
			t.Fatalf("after rejecting: %+v", r)
		}
		h.do(t, "POST", teamPath+"/fulfilment", admin.token, nil).
			wantProblem(t, "fulfil a rejected request", problemWant{http.StatusConflict, "conflict", "wrong_state", ""})

		withdrawn := file("NL-2")
		h.do(t, "POST", fmt.Sprintf("/api/v1/legal/requests/%d/withdrawal", withdrawn.ID), officer, map[string]string{"reason": "Case closed."}).
			want(t, "withdraw", http.StatusOK, &r)
		if r.State != "withdrawn" {
			t.Fatalf("after withdrawing: %+v", r)
		}
		h.do(t, "GET", fmt.Sprintf("/api/v1/legal/requests/%d/package", withdrawn.ID), officer, nil).
			wantProblem(t, "the package of a withdrawn request", problemWant{http.StatusConflict, "conflict", "not_fulfilled", ""})

		for _, c := range []struct {
			name, method, path string
			want               problemWant
		}{
			{"a request ID that is not a number", "GET", "/api/v1/legal/requests/abc", problemWant{http.StatusBadRequest, "invalid", "invalid_id", "id"}},
			{"a request that does not exist", "GET", "/api/v1/legal/requests/99999", problemWant{http.StatusNotFound, "not_found", "", ""}},
			{"a document that does not exist", "GET", "/api/v1/legal-team/documents/99999", problemWant{http.StatusNotFound, "not_found", "", ""}},
		} {
			token := officer
			if strings.HasPrefix(c.path, "/api/v1/legal-team") {
				token = admin.token
			}
			h.send(t, call{method: c.method, path: c.path, token: token, mode: checkResponse}).wantProblem(t, c.name, c.want)
		}
		h.send(t, call{method: "POST", path: "/api/v1/legal/requests", token: officer, body: []byte(`{"kind": "emergency", "extra": 1}`), mode: checkResponse}).
			wantProblem(t, "an unknown field", problemWant{http.StatusBadRequest, "invalid", "unknown_field", "extra"})
		h.send(t, call{method: "POST", path: "/api/v1/legal/sessions", body: []byte(`{"email": "j.devries@politie.example", "password": "wrong-wrong-wrong-1"}`)}).
			wantProblem(t, "a wrong password", problemWant{http.StatusUnauthorized, "unauthenticated", "wrong_credentials", ""})

		// A disabled agency's officers are kept out.
		h.do(t, "POST", fmt.Sprintf("/api/v1/legal-team/agencies/%d/disabled", ag.ID), admin.token, map[string]bool{"disabled": true}).
			want(t, "disable the agency", http.StatusNoContent, nil)
		h.do(t, "GET", "/api/v1/legal/requests", officer, nil).
			wantProblem(t, "an officer of a disabled agency", problemWant{http.StatusForbidden, "forbidden", "agency_disabled", ""})
		var officers struct {
			Officers []officerJSON `json:"officers"`
		}
		h.do(t, "GET", fmt.Sprintf("/api/v1/legal-team/agencies/%d/officers", ag.ID), admin.token, nil).want(t, "officers", http.StatusOK, &officers)
		if len(officers.Officers) != 1 || officers.Officers[0].Email != "j.devries@politie.example" {
			t.Errorf("officers of the agency: %+v", officers.Officers)
		}
	}, schema...)
}

// TestLegalNotConfigured: a server without the portal says so, after
// checking who asks.
func TestLegalNotConfigured(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		h := newHarness(t, db, options{})
		lena := h.staff(t, "lena_legal", kurir.RoleLegal)
		user := h.person(t, "ulla")
		unavailable := problemWant{http.StatusServiceUnavailable, "unavailable", "no_legal", ""}
		h.do(t, "GET", "/api/v1/legal/attestation", "", nil).wantProblem(t, "the attestation", unavailable)
		h.do(t, "GET", "/api/v1/legal/me", "some-token", nil).wantProblem(t, "an officer's me", unavailable)
		h.do(t, "GET", "/api/v1/legal-team/requests", lena.token, nil).wantProblem(t, "the queue", unavailable)
		h.do(t, "GET", "/api/v1/legal-team/requests", user.token, nil).
			wantProblem(t, "the queue as a user", problemWant{http.StatusForbidden, "forbidden", "legal_only", ""})
		var told struct {
			Disclosures []any `json:"disclosures"`
		}
		h.do(t, "GET", "/api/v1/me/disclosures", user.token, nil).want(t, "disclosures", http.StatusOK, &told)
		if told.Disclosures == nil || len(told.Disclosures) != 0 {
			t.Errorf("disclosures without the portal: %+v, want an empty list", told.Disclosures)
		}
	}, schema...)
}

// TestLegalRemovalOrder: a removal order from a competent authority
// withholds a channel in the issuing country at once; the legal team
// extends it to another country, and rejecting it lifts it everywhere.
func TestLegalRemovalOrder(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		h := newHarness(t, db, options{legal: true})
		lena := h.staff(t, "lena_legal", kurir.RoleLegal)
		owner := h.person(t, "owner")
		ch, _ := h.publicChannel(t, owner, "hate_channel", "a post")
		h.do(t, "POST", "/api/v1/legal-team/agencies", lena.token, map[string]any{"name": "BKA", "country": "DE", "domains": []string{"bka.example"}, "removal_orders": true}).
			want(t, "register a competent authority", http.StatusCreated, nil)
		officer, _ := h.officer(t, "k.weber@bka.example")
		restrictions := func() [][]string {
			t.Helper()
			var v struct{ Restrictions []restrictionJSON }
			h.do(t, "GET", fmt.Sprintf("/api/v1/moderation/chats/%d/restrictions", ch.ID), lena.token, nil).want(t, "restrictions", http.StatusOK, &v)
			var out [][]string
			for _, r := range v.Restrictions {
				out = append(out, r.Scope)
			}
			return out
		}

		var order struct {
			ID         int64      `json:"id"`
			Number     string     `json:"number"`
			EnforcedAt *time.Time `json:"enforced_at"`
		}
		h.do(t, "POST", "/api/v1/legal/requests", officer, map[string]any{
			"kind": "removal", "process": "removal_order", "case_reference": "BKA-R-1", "legal_basis": "§ 86a StGB",
			"issuing_authority": "Bundeskriminalamt", "targets": []map[string]string{{"kind": "link", "value": "https://kurir.example/@hate_channel"}},
		}).want(t, "file a removal order", http.StatusCreated, &order)
		if order.EnforcedAt == nil {
			t.Fatalf("a removal order of a competent authority: %+v, want it enforced at once", order)
		}
		if got := restrictions(); len(got) != 1 || !slices.Equal(got[0], []string{"DE"}) {
			t.Fatalf("restrictions after the order: %v, want the channel withheld in DE", got)
		}
		select {
		case pg := <-h.legal.pager.pages:
			if pg.Number != order.Number || !pg.Enforced {
				t.Errorf("page %+v, want the enforced order %s", pg, order.Number)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("no page for the removal order within 10 s")
		}

		path := fmt.Sprintf("/api/v1/legal-team/requests/%d", order.ID)
		h.do(t, "POST", path+"/extension", lena.token, map[string]any{"countries": []string{"XX"}}).
			wantProblem(t, "extend to an unknown country", problemWant{http.StatusBadRequest, "invalid", "unknown_country", "countries"})
		h.do(t, "POST", path+"/extension", lena.token, map[string]any{"countries": []string{"at"}}).want(t, "extend to Austria", http.StatusOK, nil)
		if got := restrictions(); len(got) != 2 || !slices.Equal(got[1], []string{"AT"}) {
			t.Fatalf("restrictions after the extension: %v, want DE and AT", got)
		}
		h.do(t, "POST", path+"/rejection", lena.token, map[string]string{"reason": "Satire, not propaganda."}).want(t, "contest", http.StatusOK, nil)
		if got := restrictions(); len(got) != 0 {
			t.Fatalf("restrictions after the order was contested: %v, want none", got)
		}
		h.do(t, "POST", path+"/extension", lena.token, map[string]any{"countries": []string{"FR"}}).
			wantProblem(t, "extend a closed order", problemWant{http.StatusConflict, "conflict", "wrong_state", ""})
	}, schema...)
}
