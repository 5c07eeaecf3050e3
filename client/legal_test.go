package client_test

import (
	"bytes"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"kurir"
	"kurir/client"
	"kurir/legal"
	"kurir/legal/totp"
)

var officerCode = regexp.MustCompile(`\b[0-9]{6}\b`)

// officerCodeFor returns the last verification code mailed to email.
func (s *server) officerCodeFor(t *testing.T, email string) string {
	t.Helper()
	sent := s.mail.Sent()
	for i := len(sent) - 1; i >= 0; i-- {
		if sent[i].To == email {
			if c := officerCode.FindString(sent[i].Body); c != "" {
				return c
			}
		}
	}
	t.Fatalf("no code was mailed to %s", email)
	return ""
}

// testLegal drives the law-enforcement portal through the SDK: the legal
// team registers an agency; an officer signs up, asks for a new code,
// verifies, sets up an authenticator, attests and logs in with a code;
// files a disclosure request with a court order attached, answers a
// question, and downloads a package of only the approved category whose
// manifest verifies; the user is told. Other requests are rejected and
// withdrawn, the agency is disabled, and tokens of one kind do not open
// the other's doors.
func testLegal(t *testing.T, s *server) {
	ctx := t.Context()
	team, _ := s.staff(t, "lt_lena", kurir.RoleLegal)
	mod, _ := s.staff(t, "lt_mod", kurir.RoleModerator)
	target, targetU := s.user(t, "lt_target")
	anon := s.client(t)

	_, err := mod.AddAgency(ctx, client.AgencyParams{Name: "Politie", Country: "NL", Domains: []string{"politie.example"}})
	wantReason(t, "a moderator registers an agency", err, "forbidden", "legal_only")
	ag := must(team.AddAgency(ctx, client.AgencyParams{Name: "Politie", Country: "nl", Jurisdiction: "National", Domains: []string{"Politie.example"}, RemovalOrders: true}))(t, "add agency")
	if ag.ID <= 0 || ag.Country != "NL" || !slices.Equal(ag.Domains, []string{"politie.example"}) || !ag.RemovalOrders || !ag.DisabledAt.IsZero() {
		t.Fatalf("add agency: got %+v", ag)
	}
	if as := must(team.Agencies(ctx))(t, "agencies"); len(as) != 1 || as[0].ID != ag.ID {
		t.Fatalf("agencies: got %+v", as)
	}

	const email = "j.devries@politie.example"
	_, err = anon.OfficerSignUp(ctx, client.OfficerSignUpParams{Email: "j.devries@example.org", Name: "Jan de Vries", Password: password})
	wantField(t, "sign up at another domain", err, "email")
	o := must(anon.OfficerSignUp(ctx, client.OfficerSignUpParams{Email: email, Name: "Jan de Vries", Badge: "NL-77", Password: password, Lang: "nl"}))(t, "sign up")
	if o.AgencyID != ag.ID || o.Email != email || o.EmailVerified || o.Badge != "NL-77" {
		t.Fatalf("sign up: got %+v", o)
	}
	first := s.officerCodeFor(t, email)
	s.clock.Advance(time.Minute)
	ok(t, "resend code", anon.ResendOfficerCode(ctx, email))
	if first != s.officerCodeFor(t, email) {
		wantField(t, "verify with the voided code", anon.VerifyOfficerEmail(ctx, email, password, first), "code")
	}
	ok(t, "verify", anon.VerifyOfficerEmail(ctx, email, password, s.officerCodeFor(t, email)))

	setup := must(anon.OfficerLogin(ctx, email, password, ""))(t, "setup login")
	if setup.SetupComplete || setup.Token == "" || !setup.Officer.EmailVerified {
		t.Fatalf("setup login: got %+v", setup)
	}
	sc := anon.WithToken(setup.Token)
	if st := must(sc.OfficerMe(ctx))(t, "officer me"); st.NextStep != "totp" || st.SetupComplete || st.Officer.ID != o.ID {
		t.Fatalf("officer me in a setup session: got %+v", st)
	}
	_, err = sc.LegalRequests(ctx)
	wantReason(t, "requests in a setup session", err, "forbidden", "setup_incomplete")
	ts := must(sc.BeginTOTP(ctx))(t, "begin TOTP")
	key, err := totp.ParseKey(ts.Secret)
	if err != nil || !strings.HasPrefix(ts.URI, "otpauth://totp/") {
		t.Fatalf("begin TOTP: got %+v (%v)", ts, err)
	}
	ok(t, "confirm TOTP", sc.ConfirmTOTP(ctx, key.Code(s.clock.Now())))
	text := must(anon.Attestation(ctx))(t, "attestation")
	if text != legal.Attestation {
		t.Fatalf("attestation: got %q", text)
	}
	ok(t, "attest", sc.Attest(ctx, text))
	_, err = anon.OfficerLogin(ctx, email, password, key.Code(s.clock.Now()))
	wantReason(t, "log in with the code that confirmed the authenticator", err, "unauthenticated", "totp_invalid")
	s.clock.Advance(30 * time.Second)
	sess := must(anon.OfficerLogin(ctx, email, password, key.Code(s.clock.Now())))(t, "log in")
	if !sess.SetupComplete {
		t.Fatalf("log in after setup: got %+v", sess)
	}
	officer := anon.WithToken(sess.Token)
	pub := must(anon.LegalPublicKey(ctx))(t, "public key")

	// A disclosure request under a court order, with the order attached.
	params := client.LegalRequestParams{Kind: "disclosure", Process: "court_order", CaseReference: "NL-2026-13",
		LegalBasis: "Art. 126nd Sv", IssuingAuthority: "Rechtbank Amsterdam",
		Targets:    []client.LegalTarget{{Kind: "user", Value: strconv.FormatInt(targetU.ID, 10)}},
		Categories: []string{"subscriber", "access"}, From: s.clock.Now().AddDate(0, -1, 0), To: s.clock.Now()}
	_, err = officer.FileLegalRequest(ctx, client.LegalRequestParams{Kind: "disclosure", Process: "court_order", CaseReference: "x",
		LegalBasis: "x", IssuingAuthority: "x", Targets: []client.LegalTarget{{Kind: "username", Value: "lt_nobody"}}, Categories: []string{"subscriber"}})
	wantCode(t, "a request about nobody", err, "not_found")
	req := must(officer.FileLegalRequest(ctx, params))(t, "file")
	if req.State != "received" || req.AgencyID != ag.ID || len(req.Targets) != 1 || req.Targets[0].UserID != targetU.ID ||
		!req.From.Equal(params.From) || req.Jurisdiction != "NL" {
		t.Fatalf("file: got %+v", req)
	}
	pdf := []byte("%PDF-1.4\n% court order\n%%EOF\n")
	doc := must(officer.AttachLegalDocument(ctx, req.ID, "order.pdf", bytes.NewReader(pdf), int64(len(pdf))))(t, "attach")
	if doc.Name != "order.pdf" || doc.ContentType != "application/pdf" || doc.Size != int64(len(pdf)) {
		t.Fatalf("attach: got %+v", doc)
	}
	_, err = officer.AttachLegalDocument(ctx, req.ID, "order.html", strings.NewReader("<script>alert(1)</script>"), -1)
	wantReason(t, "attach HTML", err, "invalid", "unsupported_document")
	if rs := must(officer.LegalRequests(ctx))(t, "requests"); len(rs) != 1 || rs[0].ID != req.ID {
		t.Fatalf("requests: got %+v", rs)
	}

	// The legal team works it.
	if q := must(team.LegalQueue(ctx, ""))(t, "queue"); len(q) != 1 || q[0].ID != req.ID {
		t.Fatalf("queue: got %+v", q)
	}
	if q := must(team.LegalQueue(ctx, "approved"))(t, "approved queue"); len(q) != 0 {
		t.Fatalf("queue of approved requests: got %+v", q)
	}
	if e := must(team.LegalEmergencies(ctx))(t, "emergencies"); len(e) != 0 {
		t.Fatalf("emergencies: got %+v", e)
	}
	must(team.StartLegalReview(ctx, req.ID))(t, "start review")
	if r := must(team.AskLegalInfo(ctx, req.ID, "Which accounts of the target?"))(t, "ask"); r.State != "needs_info" {
		t.Fatalf("ask: got %+v", r)
	}
	if r := must(officer.RespondToLegalRequest(ctx, req.ID, "Only this one."))(t, "respond"); r.State != "in_review" {
		t.Fatalf("respond: got %+v", r)
	}
	ok(t, "note", team.NoteLegalRequest(ctx, req.ID, "Access data is out of proportion."))
	rc, ct, err := team.LegalDocumentContent(ctx, doc.ID)
	if err != nil {
		t.Fatalf("document: %v", err)
	}
	body, err := io.ReadAll(rc)
	rc.Close()
	if err != nil || ct != "application/pdf" || !bytes.Equal(body, pdf) {
		t.Fatalf("document: %q (%s), %v; want the PDF as attached", body, ct, err)
	}
	_, _, err = mod.LegalDocumentContent(ctx, doc.ID)
	wantReason(t, "a moderator reads the document", err, "forbidden", "legal_only")
	_, _, err = officer.LegalDocumentContent(ctx, doc.ID)
	wantCode(t, "the officer reads the document back", err, "unauthenticated")
	r := must(team.ApproveLegalRequest(ctx, req.ID, []string{"subscriber"}, "Access data is out of proportion."))(t, "approve")
	if r.State != "approved" || !slices.Equal(r.Approved, []string{"subscriber"}) {
		t.Fatalf("approve: got %+v", r)
	}
	f := must(team.FulfilLegalRequest(ctx, req.ID))(t, "fulfil")
	if f.Request.State != "fulfilled" || f.Package == nil || f.Package.Size <= 0 || f.Package.RequestID != req.ID {
		t.Fatalf("fulfil: got %+v", f)
	}
	review := must(team.ReviewLegalRequest(ctx, req.ID))(t, "review")
	var internal int
	for _, e := range review.Timeline {
		if e.Internal {
			internal++
		}
	}
	if internal != 1 || len(review.Documents) != 1 {
		t.Fatalf("review: %d internal steps, documents %+v; want the note and the order", internal, review.Documents)
	}

	// The officer downloads the package; it verifies and holds only subscriber data.
	view := must(officer.LegalRequest(ctx, req.ID))(t, "request")
	if view.Request.State != "fulfilled" || len(view.Documents) != 1 {
		t.Fatalf("request as the officer sees it: %+v", view)
	}
	for _, e := range view.Timeline {
		if e.Internal {
			t.Errorf("the officer sees an internal step: %+v", e)
		}
	}
	var zip bytes.Buffer
	if n := must(officer.DownloadDisclosure(ctx, req.ID, &zip))(t, "download"); n != f.Package.Size {
		t.Fatalf("download: %d bytes, the package is %d", n, f.Package.Size)
	}
	m, err := legal.VerifyPackage(zip.Bytes(), pub)
	if err != nil {
		t.Fatalf("the package does not verify: %v", err)
	}
	if !slices.Equal(m.Categories, []legal.Category{legal.Subscriber}) {
		t.Fatalf("the package holds %v, want subscriber only", m.Categories)
	}
	if d := must(target.Disclosures(ctx))(t, "disclosures"); len(d) != 1 || d[0].Number != req.Number || !slices.Equal(d[0].Categories, []string{"subscriber"}) {
		t.Fatalf("the target's disclosures: got %+v", d)
	}

	// Rejected and withdrawn.
	other := must(officer.FileLegalRequest(ctx, params))(t, "file another")
	if r := must(team.RejectLegalRequest(ctx, other.ID, "Duplicate of "+req.Number+"."))(t, "reject"); r.State != "rejected" {
		t.Fatalf("reject: got %+v", r)
	}
	third := must(officer.FileLegalRequest(ctx, params))(t, "file a third")
	if r := must(officer.WithdrawLegalRequest(ctx, third.ID, "Filed twice."))(t, "withdraw"); r.State != "withdrawn" {
		t.Fatalf("withdraw: got %+v", r)
	}

	// A removal order of a competent authority is in force at once; the
	// legal team extends it, then contests it.
	ch := must(target.CreateChannel(ctx, client.NewChat{Title: "Channel", Username: "lt_channel"}))(t, "create channel")
	order := must(officer.FileLegalRequest(ctx, client.LegalRequestParams{Kind: "removal", Process: "removal_order", CaseReference: "NL-R-1",
		LegalBasis: "Art. 137d Sr", IssuingAuthority: "Openbaar Ministerie", Targets: []client.LegalTarget{{Kind: "link", Value: "@lt_channel"}}}))(t, "file a removal order")
	if order.EnforcedAt.IsZero() || order.Targets[0].ChatID != ch.ID {
		t.Fatalf("removal order: got %+v, want it enforced on channel %d", order, ch.ID)
	}
	_, err = team.ExtendRemovalOrder(ctx, order.ID, []string{"ZZ"})
	wantField(t, "extend to ZZ", err, "countries")
	must(team.ExtendRemovalOrder(ctx, order.ID, []string{"BE"}))(t, "extend")
	if rs := must(team.ChatRestrictions(ctx, ch.ID))(t, "restrictions"); len(rs) != 2 {
		t.Fatalf("restrictions of the channel after the extension: %+v, want NL and BE", rs)
	}
	must(team.RejectLegalRequest(ctx, order.ID, "Not illegal content."))(t, "contest")
	if rs := must(team.ChatRestrictions(ctx, ch.ID))(t, "restrictions"); len(rs) != 0 {
		t.Fatalf("restrictions of the channel after the order was contested: %+v", rs)
	}

	// Tokens of one kind do not open the other's doors.
	_, err = target.LegalRequests(ctx)
	wantCode(t, "a user's token on the portal", err, "unauthenticated")
	_, err = officer.Me(ctx)
	wantCode(t, "an officer's token as a user's", err, "unauthenticated")
	_, err = officer.LegalQueue(ctx, "")
	wantCode(t, "an officer's token on the legal team's API", err, "unauthenticated")

	if os := must(team.AgencyOfficers(ctx, ag.ID))(t, "officers"); len(os) != 1 || os[0].ID != o.ID || !os[0].TOTPEnabled || !os[0].Attested {
		t.Fatalf("officers: got %+v", os)
	}
	ok(t, "disable the agency", team.SetAgencyDisabled(ctx, ag.ID, true))
	_, err = officer.LegalRequests(ctx)
	wantReason(t, "an officer of a disabled agency", err, "forbidden", "agency_disabled")
	ok(t, "enable the agency", team.SetAgencyDisabled(ctx, ag.ID, false))
	ok(t, "log out", officer.OfficerLogout(ctx))
	_, err = officer.OfficerMe(ctx)
	wantCode(t, "after logging out", err, "unauthenticated")

	// An officer who lost their authenticator, or whose account was misused.
	wantReason(t, "a user disables an officer", target.SetOfficerDisabled(ctx, o.ID, true), "forbidden", "legal_only")
	ok(t, "disable the officer", team.SetOfficerDisabled(ctx, o.ID, true))
	ok(t, "let the officer in again", team.SetOfficerDisabled(ctx, o.ID, false))
	ok(t, "reset the officer", team.ResetOfficer(ctx, o.ID))
	if os := must(team.AgencyOfficers(ctx, ag.ID))(t, "officers after a reset"); len(os) != 1 || os[0].EmailVerified || os[0].TOTPEnabled || os[0].Attested {
		t.Fatalf("officers after a reset: got %+v", os)
	}
	wantCode(t, "reset an unknown officer", team.ResetOfficer(ctx, o.ID+1000), "not_found")
}
