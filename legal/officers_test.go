package legal

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"kurir"
	"kurir/account"
	"kurir/audit"
	"kurir/clocktest"
	"kurir/legal/mail"
	"kurir/legal/totp"
	"kurir/sqldb"
	"kurir/sqldb/sqldbtest"
)

// officerEnv is a legal service on a fresh database with one agency, BKA
// at bka.bund.de, and a mailbox that keeps what the service sends.
type officerEnv struct {
	t      *testing.T
	ctx    context.Context
	db     *sqldb.DB
	clock  *clocktest.Fake
	mail   *mail.LogSender
	svc    *Service
	agency int64
}

const officerPassword = "correct horse battery staple"

func runOfficers(t *testing.T, fn func(t *testing.T, e *officerEnv)) {
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		e := &officerEnv{t: t, ctx: t.Context(), db: db, clock: clocktest.New(time.Time{}), mail: &mail.LogSender{Log: slog.New(slog.DiscardHandler)}}
		e.svc = NewService(db, nil, nil, nil, nil, e.clock, nil, Config{Mail: e.mail, Argon2: account.CheapArgon2Params})
		e.agency = e.exec(`INSERT INTO legal_agencies (name, country, domains, created_at) VALUES ('BKA', 'DE', 'bka.bund.de', 1) RETURNING id`)
		fn(t, e)
	}, audit.Migrations, Migrations)
}

// exec runs a statement returning one number, or none.
func (e *officerEnv) exec(query string, args ...any) int64 {
	e.t.Helper()
	var n int64
	err := e.db.WriteTx(e.ctx, func(tx *sqldb.Tx) error {
		if !strings.Contains(query, "RETURNING") {
			_, err := tx.ExecContext(e.ctx, query, args...)
			return err
		}
		return tx.QueryRowContext(e.ctx, query, args...).Scan(&n)
	})
	if err != nil {
		e.t.Fatalf("%s: %v", query, err)
	}
	return n
}

func (e *officerEnv) count(query string, args ...any) int {
	e.t.Helper()
	var n int
	if err := e.db.Read().QueryRowContext(e.ctx, query, args...).Scan(&n); err != nil {
		e.t.Fatalf("%s: %v", query, err)
	}
	return n
}

var codeInMail = regexp.MustCompile(`^Your kurir law-enforcement portal code is ([0-9]{6})\. It expires in 30 minutes\.$`)

// lastCode returns the code in the last mail, which must be to to.
func (e *officerEnv) lastCode(to string) string {
	e.t.Helper()
	sent := e.mail.Sent()
	if len(sent) == 0 {
		e.t.Fatal("no mail was sent")
	}
	m := sent[len(sent)-1]
	c := codeInMail.FindStringSubmatch(m.Body)
	if m.To != to || c == nil {
		e.t.Fatalf("last mail = %+v; want the code to %s", m, to)
	}
	return c[1]
}

func (e *officerEnv) signUp(email string) Officer {
	e.t.Helper()
	o, err := e.svc.SignUp(e.ctx, SignUpParams{Email: email, Name: "Jana Schmidt", Badge: "KOK 4711", Password: officerPassword})
	if err != nil {
		e.t.Fatalf("SignUp(%s): %v", email, err)
	}
	return o
}

// verified signs an officer up and verifies the address.
func (e *officerEnv) verified(email string) Officer {
	e.t.Helper()
	o := e.signUp(email)
	if err := e.svc.VerifyEmail(e.ctx, email, officerPassword, e.lastCode(email)); err != nil {
		e.t.Fatalf("VerifyEmail: %v", err)
	}
	o.Verified = true
	return o
}

func (e *officerEnv) login(email, code string) (string, OfficerSession) {
	e.t.Helper()
	token, _, err := e.svc.Login(e.ctx, email, officerPassword, code, "192.0.2.7")
	if err != nil {
		e.t.Fatalf("Login(%s, code %q): %v", email, code, err)
	}
	sess, err := e.svc.Authenticate(e.ctx, token)
	if err != nil {
		e.t.Fatalf("Authenticate: %v", err)
	}
	return token, sess
}

// withTOTP sets up an authenticator on a setup session and returns its key.
func (e *officerEnv) withTOTP(sess OfficerSession) totp.Key {
	e.t.Helper()
	secret, _, err := e.svc.BeginTOTP(e.ctx, sess)
	if err != nil {
		e.t.Fatalf("BeginTOTP: %v", err)
	}
	key, err := totp.ParseKey(secret)
	if err != nil {
		e.t.Fatal(err)
	}
	if err := e.svc.ConfirmTOTP(e.ctx, sess, key.Code(e.clock.Now())); err != nil {
		e.t.Fatalf("ConfirmTOTP: %v", err)
	}
	return key
}

// ready takes an officer through every step and returns a ready session.
func (e *officerEnv) ready(email string) (string, OfficerSession, totp.Key) {
	e.t.Helper()
	e.verified(email)
	token, sess := e.login(email, "")
	key := e.withTOTP(sess)
	if err := e.svc.Attest(e.ctx, sess, Attestation); err != nil {
		e.t.Fatalf("Attest: %v", err)
	}
	sess, err := e.svc.Authenticate(e.ctx, token)
	if err != nil {
		e.t.Fatalf("Authenticate: %v", err)
	}
	return token, sess, key
}

func (e *officerEnv) actions(officer int64) []string {
	e.t.Helper()
	entries, err := audit.List(e.ctx, e.db.Read(), audit.Filter{Subject: fmt.Sprintf("officer:%d", officer)})
	if err != nil {
		e.t.Fatal(err)
	}
	var out []string
	for _, en := range slices.Backward(entries) {
		out = append(out, en.Action)
	}
	return out
}

// wantErr fails unless err has the code and reason (and field, if given).
func wantOfficerErr(t *testing.T, err error, code kurir.Code, reason string, field ...string) {
	t.Helper()
	if kurir.ErrorCode(err) != code || kurir.ErrorReason(err) != reason {
		t.Fatalf("err = %v (reason %q); want %s, reason %q", err, kurir.ErrorReason(err), code, reason)
	}
	var ke *kurir.Error
	if errors.As(err, &ke) && len(field) > 0 && ke.Field != field[0] {
		t.Fatalf("err field = %q; want %q", ke.Field, field[0])
	}
}

func TestOfficerSignUpRefusals(t *testing.T) {
	runOfficers(t, func(t *testing.T, e *officerEnv) {
		e.exec(`INSERT INTO legal_agencies (name, country, domains, created_at, disabled_at) VALUES ('Old', 'FR', 'old.gouv.fr', 1, 2)`)
		good := SignUpParams{Email: "jana@bka.bund.de", Name: "Jana", Password: officerPassword}
		tests := []struct {
			name          string
			change        func(p *SignUpParams)
			code          kurir.Code
			reason, field string
		}{
			{"unknown domain", func(p *SignUpParams) { p.Email = "jana@example.com" }, kurir.EInvalid, "unknown_domain", "email"},
			{"subdomain", func(p *SignUpParams) { p.Email = "jana@wiesbaden.bka.bund.de" }, kurir.EInvalid, "unknown_domain", "email"},
			{"parent domain", func(p *SignUpParams) { p.Email = "jana@bund.de" }, kurir.EInvalid, "unknown_domain", "email"},
			{"lookalike domain", func(p *SignUpParams) { p.Email = "jana@evilbka.bund.de" }, kurir.EInvalid, "unknown_domain", "email"},
			{"disabled agency", func(p *SignUpParams) { p.Email = "paul@old.gouv.fr" }, kurir.EInvalid, "unknown_domain", "email"},
			{"no address", func(p *SignUpParams) { p.Email = " " }, kurir.EInvalid, "required", "email"},
			{"display name", func(p *SignUpParams) { p.Email = "Jana <jana@bka.bund.de>" }, kurir.EInvalid, "invalid_email", "email"},
			{"not an address", func(p *SignUpParams) { p.Email = "jana at bka.bund.de" }, kurir.EInvalid, "invalid_email", "email"},
			{"no name", func(p *SignUpParams) { p.Name = "  " }, kurir.EInvalid, "required", "name"},
			{"long name", func(p *SignUpParams) { p.Name = strings.Repeat("a", 201) }, kurir.EInvalid, "too_long", "name"},
			{"two-line name", func(p *SignUpParams) { p.Name = "Jana\nSchmidt" }, kurir.EInvalid, "invalid_characters", "name"},
			{"long badge", func(p *SignUpParams) { p.Badge = strings.Repeat("1", 101) }, kurir.EInvalid, "too_long", "badge"},
			{"weak password", func(p *SignUpParams) { p.Password = "password1" }, kurir.EInvalid, "weak_password", "password"},
			{"password with the name", func(p *SignUpParams) { p.Password = "jana.r0cks!" }, kurir.EInvalid, "weak_password", "password"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				p := good
				tt.change(&p)
				_, err := e.svc.SignUp(e.ctx, p)
				wantOfficerErr(t, err, tt.code, tt.reason, tt.field)
			})
		}
		_, err := e.svc.SignUp(e.ctx, SignUpParams{Email: "jana@example.com", Name: "Jana", Password: officerPassword})
		if got, want := kurir.ErrorMessage(err), "No registered agency uses the domain example.com; ask your agency to register with the operator."; got != want {
			t.Errorf("message = %q; want %q", got, want)
		}
		if n := e.count(`SELECT COUNT(*) FROM legal_officers`); n != 0 {
			t.Errorf("%d officers written; want none", n)
		}
		if n := e.count(`SELECT COUNT(*) FROM audit_log`); n != 0 {
			t.Errorf("%d audit entries written; want none", n)
		}
		if n := len(e.mail.Sent()); n != 0 {
			t.Errorf("%d mails sent; want none", n)
		}
	})
}

func TestOfficerSignUpAndVerify(t *testing.T) {
	runOfficers(t, func(t *testing.T, e *officerEnv) {
		o, err := e.svc.SignUp(e.ctx, SignUpParams{Email: " Jana.Schmidt@BKA.Bund.DE ", Name: " Jana Schmidt ", Badge: "KOK 4711", Password: officerPassword, Lang: "ru-RU,ru;q=0.9"})
		if err != nil {
			t.Fatal(err)
		}
		want := Officer{ID: o.ID, AgencyID: e.agency, Email: "jana.schmidt@bka.bund.de", Name: "Jana Schmidt", Badge: "KOK 4711", Lang: "ru", CreatedAt: e.clock.Now()}
		if o != want {
			t.Fatalf("SignUp = %+v; want %+v", o, want)
		}
		code := e.lastCode(o.Email)
		if subject := e.mail.Sent()[0].Subject; subject != "Your kurir law-enforcement portal code" {
			t.Errorf("subject = %q", subject)
		}
		var stored, hash string
		if err := e.db.Read().QueryRowContext(e.ctx, `SELECT code_hash, password_hash FROM legal_officers WHERE id = $1`, o.ID).Scan(&stored, &hash); err != nil {
			t.Fatal(err)
		}
		if stored == "" || strings.Contains(stored, code) || strings.Contains(hash, officerPassword) {
			t.Errorf("stored code %q, password %q: the code and password must be kept only as hashes", stored, hash)
		}

		// Signing an unverified address up again takes it over: the first
		// password no longer verifies it, so whoever signed it up first
		// cannot keep it once its owner verifies.
		again, err := e.svc.SignUp(e.ctx, SignUpParams{Email: "JANA.SCHMIDT@bka.bund.de", Name: "Someone Else", Password: "another good passphrase"})
		if err != nil || again.ID != o.ID {
			t.Fatalf("signing an unverified address up again: %+v, %v", again, err)
		}
		if n := e.count(`SELECT COUNT(*) FROM legal_officers`); n != 1 {
			t.Errorf("%d officers after signing an address up again; want 1", n)
		}
		wantOfficerErr(t, e.svc.VerifyEmail(e.ctx, o.Email, officerPassword, e.lastCode(o.Email)), kurir.EForbidden, "wrong_password", "password")
		if _, err := e.svc.SignUp(e.ctx, SignUpParams{Email: o.Email, Name: "Jana Schmidt", Password: officerPassword}); err != nil {
			t.Fatal(err)
		}
		code = e.lastCode(o.Email)

		_, _, err = e.svc.Login(e.ctx, o.Email, officerPassword, "", "")
		wantOfficerErr(t, err, kurir.EForbidden, "email_unverified")

		wantOfficerErr(t, e.svc.VerifyEmail(e.ctx, o.Email, officerPassword, "12ab56"), kurir.EInvalid, "invalid_code", "code")
		wantOfficerErr(t, e.svc.VerifyEmail(e.ctx, "nobody@bka.bund.de", officerPassword, code), kurir.ENotFound, "officer_not_found", "email")
		if err := e.svc.VerifyEmail(e.ctx, "Jana.Schmidt@bka.bund.de", officerPassword, code[:3]+" "+code[3:]); err != nil {
			t.Fatalf("VerifyEmail: %v", err)
		}
		got, err := e.svc.officer(e.ctx, e.db.Read(), o.ID)
		if err != nil || !got.Verified || got.TOTP || got.Attested {
			t.Fatalf("officer after verifying = %+v, %v; want verified only", got, err)
		}
		if n := e.count(`SELECT COUNT(*) FROM legal_officers WHERE code_hash = '' AND code_attempts = 0 AND verified_at > 0`); n != 1 {
			t.Error("verifying did not clear the code")
		}
		wantOfficerErr(t, e.svc.VerifyEmail(e.ctx, o.Email, officerPassword, code), kurir.EConflict, "already_verified")
		wantOfficerErr(t, e.svc.ResendCode(e.ctx, o.Email), kurir.EConflict, "already_verified")

		if got, want := e.actions(o.ID), []string{"legal.officer.signup", "legal.officer.signup_again", "legal.officer.signup_again", "legal.officer.verify"}; !slices.Equal(got, want) {
			t.Errorf("audit = %q; want %q", got, want)
		}
	})
}

func TestOfficerWrongCodes(t *testing.T) {
	runOfficers(t, func(t *testing.T, e *officerEnv) {
		o := e.signUp("jana@bka.bund.de")
		code := e.lastCode(o.Email)
		wrong := fmt.Sprintf("%06d", (officerAtoi(code)+1)%1_000_000)
		for i := 1; i <= 4; i++ {
			err := e.svc.VerifyEmail(e.ctx, o.Email, officerPassword, wrong)
			wantOfficerErr(t, err, kurir.EInvalid, "wrong_code", "code")
			if want := fmt.Sprintf("%d attempts left", 5-i); !strings.Contains(kurir.ErrorMessage(err), want) {
				t.Errorf("attempt %d: %q; want it to say %q", i, kurir.ErrorMessage(err), want)
			}
		}
		wantOfficerErr(t, e.svc.VerifyEmail(e.ctx, o.Email, officerPassword, wrong), kurir.EInvalid, "code_void", "code")
		// The right code is no good once the code is void.
		wantOfficerErr(t, e.svc.VerifyEmail(e.ctx, o.Email, officerPassword, code), kurir.EInvalid, "code_void", "code")
		if n := e.count(`SELECT code_attempts FROM legal_officers WHERE id = $1`, o.ID); n != 5 {
			t.Errorf("code_attempts = %d; want 5", n)
		}

		e.clock.Advance(time.Minute)
		if err := e.svc.ResendCode(e.ctx, o.Email); err != nil {
			t.Fatal(err)
		}
		if err := e.svc.VerifyEmail(e.ctx, o.Email, officerPassword, e.lastCode(o.Email)); err != nil {
			t.Fatalf("VerifyEmail with the new code: %v", err)
		}
		want := []string{"legal.officer.signup"}
		for range 5 {
			want = append(want, "legal.officer.code_wrong")
		}
		want = append(want, "legal.officer.code", "legal.officer.verify")
		if got := e.actions(o.ID); !slices.Equal(got, want) {
			t.Errorf("audit = %q; want %q", got, want)
		}
	})
}

// TestOfficerCodesExhausted: asking for new codes does not reset the count
// of wrong ones: after ten, no more codes are checked or sent.
func TestOfficerCodesExhausted(t *testing.T) {
	runOfficers(t, func(t *testing.T, e *officerEnv) {
		o := e.signUp("jana@bka.bund.de")
		for round := range 2 {
			code := e.lastCode(o.Email)
			wrong := fmt.Sprintf("%06d", (officerAtoi(code)+1)%1_000_000)
			for range 5 {
				e.svc.VerifyEmail(e.ctx, o.Email, officerPassword, wrong)
			}
			e.clock.Advance(time.Minute)
			err := e.svc.ResendCode(e.ctx, o.Email)
			if round == 0 && err != nil {
				t.Fatal(err)
			}
			if round == 1 {
				wantOfficerErr(t, err, kurir.EForbidden, "codes_exhausted", "code")
			}
		}
		wantOfficerErr(t, e.svc.VerifyEmail(e.ctx, o.Email, officerPassword, e.lastCode(o.Email)), kurir.EForbidden, "codes_exhausted", "code")
		if n := e.count(`SELECT COUNT(*) FROM legal_officers WHERE verified_at <> 0`); n != 0 {
			t.Errorf("%d officers verified", n)
		}
	})
}

// TestOfficerSignUpsPerDomainAreLimited: a flood of made-up addresses at an
// agency's domain is refused after twenty, with nothing stored.
func TestOfficerSignUpsPerDomainAreLimited(t *testing.T) {
	runOfficers(t, func(t *testing.T, e *officerEnv) {
		for i := range 20 {
			e.signUp(fmt.Sprintf("officer%d@bka.bund.de", i))
		}
		_, err := e.svc.SignUp(e.ctx, SignUpParams{Email: "officer20@bka.bund.de", Name: "Flood", Password: "wet-otter-lantern-9"})
		if kurir.ErrorCode(err) != kurir.ERateLimited {
			t.Fatalf("the 21st sign-up: %v", err)
		}
		if n := e.count(`SELECT COUNT(*) FROM legal_officers`); n != 20 {
			t.Errorf("%d officers stored", n)
		}
	})
}

func officerAtoi(s string) int {
	n := 0
	for _, c := range s {
		n = n*10 + int(c-'0')
	}
	return n
}

func TestOfficerCodeExpires(t *testing.T) {
	runOfficers(t, func(t *testing.T, e *officerEnv) {
		o := e.signUp("jana@bka.bund.de")
		code := e.lastCode(o.Email)
		e.clock.Advance(30 * time.Minute)
		err := e.svc.VerifyEmail(e.ctx, o.Email, officerPassword, code)
		wantOfficerErr(t, err, kurir.EInvalid, "code_expired", "code")
		if got, want := kurir.ErrorMessage(err), "This code has expired; ask for a new one."; got != want {
			t.Errorf("message = %q; want %q", got, want)
		}
		if err := e.svc.ResendCode(e.ctx, o.Email); err != nil {
			t.Fatal(err)
		}
		e.clock.Advance(30*time.Minute - time.Second)
		if err := e.svc.VerifyEmail(e.ctx, o.Email, officerPassword, e.lastCode(o.Email)); err != nil {
			t.Fatalf("VerifyEmail a second before the new code expires: %v", err)
		}
	})
}

func TestOfficerResendRateLimit(t *testing.T) {
	runOfficers(t, func(t *testing.T, e *officerEnv) {
		o := e.signUp("jana@bka.bund.de")
		first := e.lastCode(o.Email)
		for _, tt := range []struct {
			after, retry time.Duration
		}{{0, time.Minute}, {20 * time.Second, 40 * time.Second}, {59 * time.Second, time.Second}} {
			e.clock.Set(clocktest.Start.Add(tt.after))
			err := e.svc.ResendCode(e.ctx, o.Email)
			wantOfficerErr(t, err, kurir.ERateLimited, "code_recently_sent")
			var ke *kurir.Error
			if errors.As(err, &ke); ke.RetryAfter != tt.retry {
				t.Errorf("%v after sign-up: RetryAfter = %v; want %v", tt.after, ke.RetryAfter, tt.retry)
			}
		}
		if n := len(e.mail.Sent()); n != 1 {
			t.Fatalf("%d mails after refused resends; want 1", n)
		}
		e.clock.Set(clocktest.Start.Add(time.Minute))
		if err := e.svc.ResendCode(e.ctx, o.Email); err != nil {
			t.Fatalf("ResendCode a minute later: %v", err)
		}
		second := e.lastCode(o.Email)
		wantOfficerErr(t, e.svc.ResendCode(e.ctx, o.Email), kurir.ERateLimited, "code_recently_sent")
		if second != first { // one time in a million they are the same
			wantOfficerErr(t, e.svc.VerifyEmail(e.ctx, o.Email, officerPassword, first), kurir.EInvalid, "wrong_code", "code")
		}
		if err := e.svc.VerifyEmail(e.ctx, o.Email, officerPassword, second); err != nil {
			t.Fatal(err)
		}
		wantOfficerErr(t, e.svc.ResendCode(e.ctx, "nobody@bka.bund.de"), kurir.ENotFound, "officer_not_found", "email")
	})
}

// downMailer is a mail server that is down.
type downMailer struct{}

func (downMailer) Send(context.Context, mail.Message) error { return errors.New("connection refused") }

// refusingMailer is a mail server that will not deliver to the address.
type refusingMailer struct{}

func (refusingMailer) Send(context.Context, mail.Message) error {
	return kurir.Invalid("to", "refused_address", "The mail server refused the address.")
}

func TestOfficerMailDown(t *testing.T) {
	runOfficers(t, func(t *testing.T, e *officerEnv) {
		e.svc.cfg.Mail = downMailer{}
		o, err := e.svc.SignUp(e.ctx, SignUpParams{Email: "jana@bka.bund.de", Name: "Jana", Password: officerPassword})
		wantOfficerErr(t, err, kurir.EUnavailable, "mail_failed")
		if o.ID == 0 {
			t.Fatal("SignUp returned no officer though it created one")
		}
		e.svc.cfg.Mail = e.mail
		e.clock.Advance(time.Minute)
		if err := e.svc.ResendCode(e.ctx, o.Email); err != nil {
			t.Fatal(err)
		}
		if err := e.svc.VerifyEmail(e.ctx, o.Email, officerPassword, e.lastCode(o.Email)); err != nil {
			t.Fatal(err)
		}

		e.svc.cfg.Mail = refusingMailer{}
		_, err = e.svc.SignUp(e.ctx, SignUpParams{Email: "nosuchbox@bka.bund.de", Name: "Nobody", Password: officerPassword})
		wantOfficerErr(t, err, kurir.EInvalid, "email_undeliverable", "email")
	})
}

func TestOfficerLoginSetupSession(t *testing.T) {
	runOfficers(t, func(t *testing.T, e *officerEnv) {
		o := e.verified("jana@bka.bund.de")
		for _, tt := range []struct{ name, email, password string }{
			{"wrong password", o.Email, "not the password"},
			{"unknown officer", "paul@bka.bund.de", officerPassword},
			{"overlong password", o.Email, strings.Repeat("x", 1000)},
		} {
			_, _, err := e.svc.Login(e.ctx, tt.email, tt.password, "", "")
			wantOfficerErr(t, err, kurir.EUnauthenticated, "wrong_credentials")
			if got := kurir.ErrorMessage(err); got != "Wrong e-mail address or password." {
				t.Errorf("%s: message %q", tt.name, got)
			}
		}
		token, got, err := e.svc.Login(e.ctx, "JANA@bka.bund.de", officerPassword, "", "192.0.2.7")
		if err != nil {
			t.Fatal(err)
		}
		if got.ID != o.ID || !got.Verified || got.TOTP {
			t.Errorf("Login officer = %+v", got)
		}
		if len(token) != 43 {
			t.Errorf("token %q is not 32 bytes in base64url", token)
		}
		if n := e.count(`SELECT COUNT(*) FROM legal_sessions WHERE token_hash = $1`, token); n != 0 {
			t.Error("the token is stored as it is")
		}
		sess, err := e.svc.Authenticate(e.ctx, token)
		if err != nil {
			t.Fatal(err)
		}
		if sess.SecondFactor || sess.Officer.ID != o.ID {
			t.Fatalf("session = %+v; want a setup session", sess)
		}
		err = RequireReady(sess)
		wantOfficerErr(t, err, kurir.EForbidden, "setup_incomplete")
		if !strings.Contains(kurir.ErrorMessage(err), "authenticator") {
			t.Errorf("RequireReady: %q does not name the authenticator", kurir.ErrorMessage(err))
		}
		wantOfficerErr(t, e.svc.Attest(e.ctx, sess, Attestation), kurir.EForbidden, "setup_incomplete")

		for _, bad := range []string{"", "nonsense", token + "x", strings.Repeat("a", 10_000)} {
			_, err := e.svc.Authenticate(e.ctx, bad)
			wantOfficerErr(t, err, kurir.EUnauthenticated, "invalid_session")
		}
	})
}

func TestOfficerTOTP(t *testing.T) {
	runOfficers(t, func(t *testing.T, e *officerEnv) {
		o := e.verified("jana@bka.bund.de")
		token, sess := e.login(o.Email, "")
		other, _ := e.login(o.Email, "")

		secret, uri, err := e.svc.BeginTOTP(e.ctx, sess)
		if err != nil {
			t.Fatal(err)
		}
		key, err := totp.ParseKey(secret)
		if err != nil {
			t.Fatal(err)
		}
		if want := key.URI("kurir", o.Email); uri != want {
			t.Errorf("uri = %q; want %q", uri, want)
		}
		now := e.clock.Now()
		wantOfficerErr(t, e.svc.ConfirmTOTP(e.ctx, sess, key.Code(now.Add(-time.Hour))), kurir.EInvalid, "totp_invalid", "code")
		if got, _ := e.svc.officer(e.ctx, e.db.Read(), o.ID); got.TOTP {
			t.Fatal("a wrong code enabled the authenticator")
		}
		if err := e.svc.ConfirmTOTP(e.ctx, sess, key.Code(now)); err != nil {
			t.Fatal(err)
		}
		sess, err = e.svc.Authenticate(e.ctx, token)
		if err != nil || !sess.SecondFactor || !sess.Officer.TOTP {
			t.Fatalf("session after ConfirmTOTP = %+v, %v; want second factor", sess, err)
		}
		_, err = e.svc.Authenticate(e.ctx, other)
		wantOfficerErr(t, err, kurir.EUnauthenticated, "invalid_session")
		_, _, err = e.svc.BeginTOTP(e.ctx, sess)
		wantOfficerErr(t, err, kurir.EConflict, "totp_enabled")

		login := func(code string) error {
			_, _, err := e.svc.Login(e.ctx, o.Email, officerPassword, code, "")
			return err
		}
		wantOfficerErr(t, login(""), kurir.EUnauthenticated, "totp_required")
		wantOfficerErr(t, login(key.Code(now)), kurir.EUnauthenticated, "totp_invalid") // used to confirm
		wantOfficerErr(t, login("000000x"), kurir.EUnauthenticated, "totp_invalid")

		e.clock.Advance(3 * totp.Period)
		now = e.clock.Now()
		if err := login(key.Code(now.Add(-totp.Period))); err != nil {
			t.Fatalf("a code one step behind: %v", err)
		}
		wantOfficerErr(t, login(key.Code(now.Add(-totp.Period))), kurir.EUnauthenticated, "totp_invalid") // replayed
		if err := login(key.Code(now)); err != nil {
			t.Fatalf("the current code: %v", err)
		}
		if err := login(key.Code(now.Add(totp.Period))); err != nil {
			t.Fatalf("a code one step ahead: %v", err)
		}
		wantOfficerErr(t, login(key.Code(now)), kurir.EUnauthenticated, "totp_invalid") // older than one used
		wantOfficerErr(t, login(key.Code(now.Add(2*totp.Period))), kurir.EUnauthenticated, "totp_invalid")

		e.clock.Advance(10 * totp.Period)
		tok, s2 := e.login(o.Email, key.Code(e.clock.Now()))
		if !s2.SecondFactor || tok == token {
			t.Errorf("login with a code: session %+v", s2)
		}
		if n := e.count(`SELECT COUNT(*) FROM legal_sessions WHERE officer_id = $1 AND second_factor = 1`, o.ID); n != 5 {
			t.Errorf("%d second-factor sessions; want 5", n)
		}
	})
}

func TestOfficerAttest(t *testing.T) {
	runOfficers(t, func(t *testing.T, e *officerEnv) {
		o := e.verified("jana@bka.bund.de")
		token, sess := e.login(o.Email, "")
		e.withTOTP(sess)
		sess, _ = e.svc.Authenticate(e.ctx, token)
		wantOfficerErr(t, RequireReady(sess), kurir.EForbidden, "setup_incomplete")
		for _, bad := range []string{"", "I agree", strings.ToUpper(Attestation), strings.TrimSuffix(Attestation, ".")} {
			wantOfficerErr(t, e.svc.Attest(e.ctx, sess, bad), kurir.EInvalid, "attestation_mismatch", "statement")
		}
		if got, _ := e.svc.officer(e.ctx, e.db.Read(), o.ID); got.Attested {
			t.Fatal("a wrong statement attested")
		}
		if err := e.svc.Attest(e.ctx, sess, Attestation+"\n"); err != nil {
			t.Fatal(err)
		}
		if err := e.svc.Attest(e.ctx, sess, Attestation); err != nil {
			t.Fatalf("attesting again: %v", err)
		}
		var text string
		if err := e.db.Read().QueryRowContext(e.ctx, `SELECT attestation FROM legal_officers WHERE id = $1`, o.ID).Scan(&text); err != nil || text != Attestation {
			t.Errorf("stored attestation %q, %v", text, err)
		}
		sess, err := e.svc.Authenticate(e.ctx, token)
		if err != nil {
			t.Fatal(err)
		}
		if err := RequireReady(sess); err != nil || !sess.Officer.Ready() {
			t.Fatalf("RequireReady(%+v) = %v; want a ready session", sess, err)
		}
		if err := e.svc.Logout(e.ctx, sess); err != nil {
			t.Fatal(err)
		}
		_, err = e.svc.Authenticate(e.ctx, token)
		wantOfficerErr(t, err, kurir.EUnauthenticated, "invalid_session")
		if err := e.svc.Logout(e.ctx, sess); err != nil {
			t.Fatalf("logging out twice: %v", err)
		}
		want := []string{"legal.officer.signup", "legal.officer.verify", "legal.officer.login", "legal.officer.totp_begin",
			"legal.officer.totp_enable", "legal.officer.attest", "legal.officer.logout"}
		if got := e.actions(o.ID); !slices.Equal(got, want) {
			t.Errorf("audit = %q; want %q", got, want)
		}
		if res, err := audit.Verify(e.ctx, e.db.Read()); err != nil || !res.OK {
			t.Errorf("audit.Verify = %+v, %v", res, err)
		}
	})
}

func TestOfficerRequireReady(t *testing.T) {
	full := OfficerSession{Officer: Officer{Verified: true, TOTP: true, Attested: true}, SecondFactor: true}
	tests := []struct {
		name   string
		change func(s *OfficerSession)
		step   string // in the message; "" for ready
	}{
		{"ready", func(*OfficerSession) {}, ""},
		{"unverified", func(s *OfficerSession) { s.Officer.Verified = false }, "verify your e-mail address"},
		{"no authenticator", func(s *OfficerSession) { s.Officer.TOTP, s.SecondFactor = false, false }, "set up an authenticator app"},
		{"setup session", func(s *OfficerSession) { s.SecondFactor = false }, "code from your authenticator app"},
		{"not attested", func(s *OfficerSession) { s.Officer.Attested = false }, "attest"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := full
			tt.change(&s)
			err := RequireReady(s)
			if tt.step == "" {
				if err != nil {
					t.Fatalf("RequireReady = %v; want nil", err)
				}
				return
			}
			wantOfficerErr(t, err, kurir.EForbidden, "setup_incomplete")
			if !strings.Contains(kurir.ErrorMessage(err), tt.step) {
				t.Errorf("message %q does not name %q", kurir.ErrorMessage(err), tt.step)
			}
		})
	}
}

func TestOfficerDisabled(t *testing.T) {
	runOfficers(t, func(t *testing.T, e *officerEnv) {
		token, sess, key := e.ready("jana@bka.bund.de")
		e.exec(`UPDATE legal_agencies SET disabled_at = 5 WHERE id = $1`, e.agency)
		_, err := e.svc.Authenticate(e.ctx, token)
		wantOfficerErr(t, err, kurir.EForbidden, "agency_disabled")
		e.clock.Advance(totp.Period)
		_, _, err = e.svc.Login(e.ctx, sess.Officer.Email, officerPassword, key.Code(e.clock.Now()), "")
		wantOfficerErr(t, err, kurir.EForbidden, "agency_disabled")
		_, _, err = e.svc.Login(e.ctx, sess.Officer.Email, "wrong password!", "", "")
		wantOfficerErr(t, err, kurir.EUnauthenticated, "wrong_credentials") // no word on the agency without the password
		wantOfficerErr(t, e.svc.Attest(e.ctx, sess, Attestation), kurir.EForbidden, "agency_disabled")

		e.exec(`UPDATE legal_agencies SET disabled_at = 0 WHERE id = $1`, e.agency)
		e.exec(`UPDATE legal_officers SET disabled_at = 5 WHERE id = $1`, sess.Officer.ID)
		_, err = e.svc.Authenticate(e.ctx, token)
		wantOfficerErr(t, err, kurir.EForbidden, "officer_disabled")
		_, _, err = e.svc.Login(e.ctx, sess.Officer.Email, officerPassword, key.Code(e.clock.Now()), "")
		wantOfficerErr(t, err, kurir.EForbidden, "officer_disabled")
	})
}

func TestOfficerSessionLifetime(t *testing.T) {
	runOfficers(t, func(t *testing.T, e *officerEnv) {
		token, sess, key := e.ready("jana@bka.bund.de")
		lastSeen := func() time.Time {
			var us int64
			if err := e.db.Read().QueryRowContext(e.ctx, `SELECT last_seen_at FROM legal_sessions WHERE id = $1`, sess.SessionID).Scan(&us); err != nil {
				t.Fatal(err)
			}
			return sqldb.FromMicros(us)
		}
		start := e.clock.Now()
		e.clock.Advance(59 * time.Second)
		if _, err := e.svc.Authenticate(e.ctx, token); err != nil {
			t.Fatal(err)
		}
		if got := lastSeen(); !got.Equal(start) {
			t.Errorf("last seen %v after 59 s; want it left at %v", got, start)
		}
		e.clock.Advance(time.Second)
		if _, err := e.svc.Authenticate(e.ctx, token); err != nil {
			t.Fatal(err)
		}
		if got, want := lastSeen(), start.Add(time.Minute); !got.Equal(want) {
			t.Errorf("last seen %v after a minute; want %v", got, want)
		}
		e.clock.Set(start.Add(12*time.Hour - time.Second))
		if _, err := e.svc.Authenticate(e.ctx, token); err != nil {
			t.Fatalf("a second before the session expires: %v", err)
		}
		e.clock.Set(start.Add(12 * time.Hour))
		_, err := e.svc.Authenticate(e.ctx, token)
		wantOfficerErr(t, err, kurir.EUnauthenticated, "session_expired")
		wantOfficerErr(t, e.svc.Attest(e.ctx, sess, Attestation), kurir.EUnauthenticated, "invalid_session")
		// Expired sessions are deleted by the background job; live ones stay.
		fresh, _ := e.login("jana@bka.bund.de", key.Code(e.clock.Now()))
		e.clock.Advance(time.Minute)
		if n, err := e.svc.PurgeSessions(e.ctx); err != nil || n != 1 {
			t.Errorf("PurgeSessions = %d, %v; want the expired one", n, err)
		}
		if _, err := e.svc.Authenticate(e.ctx, fresh); err != nil {
			t.Errorf("a live session after the purge: %v", err)
		}
	})
}

func TestOfficersOfAgency(t *testing.T) {
	runOfficers(t, func(t *testing.T, e *officerEnv) {
		other := e.exec(`INSERT INTO legal_agencies (name, country, domains, created_at) VALUES ('Polizei', 'DE', 'polizei.de, lka.polizei.de', 1) RETURNING id`)
		a := e.verified("jana@bka.bund.de")
		b := e.signUp("paul@lka.polizei.de")
		c := e.signUp("eva@bka.bund.de")
		if b.AgencyID != other {
			t.Errorf("paul@lka.polizei.de signed up with agency %d; want %d", b.AgencyID, other)
		}
		got, err := e.svc.Officers(e.ctx, e.agency)
		if err != nil {
			t.Fatal(err)
		}
		if want := []Officer{a, c}; !slices.Equal(got, want) {
			t.Errorf("Officers = %+v; want %+v", got, want)
		}
		_, err = e.svc.Officers(e.ctx, 999)
		wantOfficerErr(t, err, kurir.ENotFound, "agency_not_found")
		_, err = e.svc.officer(e.ctx, e.db.Read(), 999)
		wantOfficerErr(t, err, kurir.ENotFound, "officer_not_found")
	})
}

func TestOfficerTOTPCodeRacedOnce(t *testing.T) {
	runOfficers(t, func(t *testing.T, e *officerEnv) {
		_, sess, key := e.ready("jana@bka.bund.de")
		e.clock.Advance(totp.Period)
		code := key.Code(e.clock.Now())
		const n = 8
		errs := make(chan error, n)
		for range n {
			go func() {
				_, _, err := e.svc.Login(e.ctx, sess.Officer.Email, officerPassword, code, "")
				errs <- err
			}()
		}
		ok := 0
		for range n {
			err := <-errs
			if err == nil {
				ok++
				continue
			}
			wantOfficerErr(t, err, kurir.EUnauthenticated, "totp_invalid")
		}
		if ok != 1 {
			t.Errorf("%d of %d logins at once with one code succeeded; want 1", ok, n)
		}
	})
}

// TestOfficerDisabledAndReset: the legal team can shut an officer out at
// once, and reset one who lost their authenticator: they sign up again,
// with a new password, verify and set up a new authenticator.
func TestOfficerDisabledAndReset(t *testing.T) {
	runOfficers(t, func(t *testing.T, e *officerEnv) {
		token, sess, _ := e.ready("jana@bka.bund.de")
		team := Staff{ID: 7, Role: kurir.RoleLegal}
		wantOfficerErr(t, e.svc.SetOfficerDisabled(e.ctx, Staff{ID: 8, Role: kurir.RoleModerator}, sess.Officer.ID, true), kurir.EForbidden, "legal_only")
		if err := e.svc.SetOfficerDisabled(e.ctx, team, sess.Officer.ID, true); err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.Authenticate(e.ctx, token); kurir.ErrorCode(err) != kurir.EUnauthenticated {
			t.Errorf("a disabled officer's session: %v", err)
		}
		if _, _, err := e.svc.Login(e.ctx, "jana@bka.bund.de", officerPassword, "", ""); kurir.ErrorCode(err) != kurir.EForbidden {
			t.Errorf("a disabled officer logs in: %v", err)
		}
		if err := e.svc.SetOfficerDisabled(e.ctx, team, sess.Officer.ID, false); err != nil {
			t.Fatal(err)
		}
		if err := e.svc.ResetOfficer(e.ctx, team, sess.Officer.ID); err != nil {
			t.Fatal(err)
		}
		const fresh = "a fresh and different passphrase"
		o, err := e.svc.SignUp(e.ctx, SignUpParams{Email: "jana@bka.bund.de", Name: "Jana Schmidt", Password: fresh})
		if err != nil || o.ID != sess.Officer.ID {
			t.Fatalf("signing up again after a reset: %+v, %v", o, err)
		}
		if err := e.svc.VerifyEmail(e.ctx, o.Email, fresh, e.lastCode(o.Email)); err != nil {
			t.Fatal(err)
		}
		_, again, err := e.svc.Login(e.ctx, "jana@bka.bund.de", fresh, "", "")
		if err != nil || again.TOTP || again.Attested {
			t.Errorf("after a reset: %+v, %v; want a setup session without an authenticator", again, err)
		}
		if got := e.actions(o.ID); !slices.Contains(got, "legal.officer.disable") || !slices.Contains(got, "legal.officer.reset") {
			t.Errorf("audit %q", got)
		}
	})
}
