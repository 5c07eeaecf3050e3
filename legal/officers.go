package legal

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	netmail "net/mail"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"kurir"
	"kurir/account"
	"kurir/legal/mail"
	"kurir/legal/totp"
	"kurir/moderation"
	"kurir/sqldb"
)

// Attestation is the statement an officer makes before the portal lets them
// see or file anything. Attest takes it back word for word, to show it was
// read.
const Attestation = "I am a law-enforcement officer acting in my official capacity for my agency, " +
	"and the requests I file are lawful and accurate."

// Lifetimes and limits of officer sign-up and sessions.
const (
	codeTTL           = 30 * time.Minute // an e-mail code is valid this long
	codeResendEvery   = time.Minute      // a new code at most this often per officer
	codeMaxAttempts   = 5                // wrong codes before the code is void
	codeMaxFailures   = 10               // wrong codes, over all codes, before no more are sent
	officerSessionTTL = 12 * time.Hour   // a portal session, however active
	officerTouchEvery = time.Minute      // how stale last_seen_at may get

	maxOfficerEmail    = 254 // RFC 5321's limit on a path
	maxOfficerName     = 200
	maxOfficerBadge    = 100
	maxOfficerPassword = 256 // bytes: the account package's limit, so longer was never accepted
	maxOfficerToken    = 64  // a token is 43 characters
	maxOfficerIP       = 64
)

// dummyPasswordHash is verified against when a login names no officer, so
// that the time taken does not tell whether the address signed up.
var dummyPasswordHash = sync.OnceValue(func() string {
	h, err := account.HashPassword("kurir dummy officer password for timing", account.DefaultArgon2Params)
	if err != nil {
		panic(fmt.Sprintf("legal: hash dummy password: %v", err))
	}
	return h
})

// SignUpParams are what an officer signs up with.
type SignUpParams struct {
	Email    string // at one of a registered agency's domains
	Name     string // required, at most 200 characters
	Badge    string // optional, at most 100 characters
	Password string // as strong as account passwords must be
	Lang     string // the officer's language (an Accept-Language value or a tag); default English
}

// OfficerSession is an officer's open portal session, as Authenticate
// returns it.
type OfficerSession struct {
	Officer   Officer
	SessionID int64
	// SecondFactor says the session was opened (or confirmed) with an
	// authenticator code. A session without it is a setup session: it may
	// only set up the authenticator.
	SecondFactor bool
}

// SignUp registers an officer of the enabled agency one of whose domains
// is exactly the domain of p.Email (a subdomain does not count), and mails
// a 6-digit code that VerifyEmail takes within 30 minutes. The officer
// cannot log in before verifying.
//
// A bad field is refused with EInvalid naming it (reason "unknown_domain"
// when no agency uses the domain), an address already signed up with
// EConflict "email_taken"; nothing is written then. If the officer was
// created but the code could not be mailed, SignUp returns the officer and
// an EUnavailable error (ResendCode sends another), or EInvalid
// "email_undeliverable" if the mail server refused the address.
func (s *Service) SignUp(ctx context.Context, p SignUpParams) (Officer, error) {
	email, domain, err := parseOfficerEmail(p.Email)
	if err != nil {
		return Officer{}, err
	}
	name, err := cleanLine("name", "name", p.Name, maxOfficerName, true)
	if err != nil {
		return Officer{}, err
	}
	badge, err := cleanLine("badge", "badge number", p.Badge, maxOfficerBadge, false)
	if err != nil {
		return Officer{}, err
	}
	// The local part stands in for a username: "j.smith2024" is no password
	// for j.smith.
	if err := account.CheckPasswordStrength(p.Password, email[:strings.LastIndexByte(email, '@')]); err != nil {
		return Officer{}, err
	}
	// Look the agency up before hashing, so that addresses at unknown
	// domains cost no argon2id run; the transaction looks again.
	if _, err := officerAgency(ctx, s.db.Read(), domain); err != nil {
		return Officer{}, err
	}
	// An agency's officers sign up a few at a time; a flood of made-up
	// addresses at its domain (each a chance to guess a code) is not.
	if ok, wait := s.signups.Allow(domain); !ok {
		return Officer{}, &kurir.Error{Code: kurir.ERateLimited, RetryAfter: wait,
			Message: fmt.Sprintf("Too many sign-ups at %s just now; try again in %s.", domain, wait.Round(time.Second))}
	}
	hash, err := account.HashPassword(p.Password, s.cfg.Argon2)
	if err != nil {
		return Officer{}, fmt.Errorf("sign up officer: %w", err)
	}
	code, codeHash := newEmailCode()
	now := s.now()
	o := Officer{Email: email, Name: name, Badge: badge, Lang: moderation.PickLanguage(p.Lang), CreatedAt: now}
	err = s.db.WriteTx(ctx, func(tx *sqldb.Tx) error {
		agency, err := officerAgency(ctx, tx, domain)
		if err != nil {
			return err
		}
		o.AgencyID = agency
		// An address signed up but never verified is taken over by whoever
		// signs it up again: only the mailbox's owner can verify, and only
		// with the password of the latest sign-up. Wrong codes still count.
		var existing, verified int64
		switch err := tx.QueryRowContext(ctx, `SELECT id, verified_at FROM legal_officers WHERE email = $1`, email).Scan(&existing, &verified); {
		case err == nil && verified == 0:
			if err := codesLeft(ctx, tx, existing); err != nil {
				return err
			}
			o.ID = existing
			if _, err := tx.ExecContext(ctx, `UPDATE legal_officers SET agency_id = $2, name = $3, badge = $4, password_hash = $5, code_hash = $6,
				code_expires_at = $7, code_attempts = 0, lang = $8 WHERE id = $1`,
				existing, agency, name, badge, hash, codeHash, sqldb.Micros(now.Add(codeTTL)), o.Lang); err != nil {
				return err
			}
			return record(ctx, tx, 0, "", "legal.officer.signup_again", officerSubject(o.ID), fmt.Sprintf("agency %d, %s", agency, email))
		case err == nil:
			return &kurir.Error{Code: kurir.EConflict, Field: "email", Reason: "email_taken",
				Message: "An officer has already signed up with this e-mail address and verified it. Log in instead."}
		case !errors.Is(err, sql.ErrNoRows):
			return err
		}
		err = tx.QueryRowContext(ctx, `
			INSERT INTO legal_officers (agency_id, email, name, badge, password_hash, code_hash, code_expires_at, lang, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id`,
			agency, email, name, badge, hash, codeHash, sqldb.Micros(now.Add(codeTTL)), o.Lang, sqldb.Micros(now)).Scan(&o.ID)
		if sqldb.IsUniqueViolation(err) {
			return &kurir.Error{Code: kurir.EConflict, Field: "email", Reason: "email_taken",
				Message: "An officer has already signed up with this e-mail address. Log in, or ask for a new code if it is not verified yet."}
		}
		if err != nil {
			return err
		}
		return record(ctx, tx, 0, "", "legal.officer.signup", officerSubject(o.ID), fmt.Sprintf("agency %d, %s", agency, email))
	})
	if err != nil {
		return Officer{}, fmt.Errorf("sign up officer: %w", err)
	}
	if err := s.sendCode(ctx, o.ID, email, code); err != nil {
		return o, err
	}
	return o, nil
}

// ResendCode mails a new code to an officer who has not verified their
// address yet, voiding the one before. It refuses with ERateLimited (and
// RetryAfter) when the last code went out less than a minute ago, ENotFound
// for an address that never signed up, and EConflict "already_verified".
func (s *Service) ResendCode(ctx context.Context, email string) error {
	email = normalizeEmail(email)
	code, codeHash := newEmailCode()
	now := s.now()
	var id int64
	err := s.db.WriteTx(ctx, func(tx *sqldb.Tx) error {
		r, err := findOfficer(ctx, tx, `o.email = $1`, email)
		if err != nil {
			return err
		}
		id = r.ID
		switch {
		case r.Verified:
			return errAlreadyVerified
		case r.disabled:
			return errOfficerDisabled
		}
		if err := codesLeft(ctx, tx, r.ID); err != nil {
			return err
		}
		// The last code was sent codeTTL before it expires.
		if next := r.codeExpires.Add(codeResendEvery - codeTTL); now.Before(next) {
			return codeRateLimited(next.Sub(now))
		}
		res, err := tx.ExecContext(ctx, `
			UPDATE legal_officers SET code_hash = $1, code_expires_at = $2, code_attempts = 0
			WHERE id = $3 AND code_expires_at = $4 AND verified_at = 0`,
			codeHash, sqldb.Micros(now.Add(codeTTL)), r.ID, sqldb.Micros(r.codeExpires))
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return codeRateLimited(codeResendEvery) // another request sent one just now
		}
		return record(ctx, tx, 0, "", "legal.officer.code", officerSubject(r.ID), "a new e-mail code")
	})
	if err != nil {
		return fmt.Errorf("resend officer code: %w", err)
	}
	return s.sendCode(ctx, id, email, code)
}

// codesLeft refuses an officer who entered too many wrong codes over all
// the codes they were sent: only the operator's legal team can help them.
func codesLeft(ctx context.Context, tx *sqldb.Tx, id int64) error {
	var failures int64
	if err := tx.QueryRowContext(ctx, `SELECT code_failures FROM legal_officers WHERE id = $1`, id).Scan(&failures); err != nil {
		return err
	}
	if failures >= codeMaxFailures {
		return &kurir.Error{Code: kurir.EForbidden, Field: "code", Reason: "codes_exhausted",
			Message: "Too many wrong codes were entered for this address; ask the operator's legal team to check it."}
	}
	return nil
}

// VerifyEmail checks the code mailed to email and, if it is right, marks
// the address verified. A wrong code is refused with EInvalid on field
// "code" (reason "wrong_code") and spends one of five attempts; after the
// fifth the code is void (reason "code_void") and ResendCode must send
// another. An expired code gives reason "code_expired".
//
// The password the address was signed up with must come with the code, so
// that whoever signed it up is who verifies it: someone who signed up an
// officer's address first cannot keep it when the officer verifies.
func (s *Service) VerifyEmail(ctx context.Context, email, password, code string) error {
	email = normalizeEmail(email)
	code = strings.ReplaceAll(strings.TrimSpace(code), " ", "")
	if !isEmailCode(code) {
		return kurir.Invalid("code", "invalid_code", "The code is the 6 digits in the e-mail we sent you.")
	}
	if len(password) > maxOfficerPassword {
		return errWrongSignUpPassword
	}
	if r, err := findOfficer(ctx, s.db.Read(), `o.email = $1`, email); err == nil && !r.Verified {
		if ok, err := account.VerifyPassword(r.passwordHash, password); err != nil {
			return fmt.Errorf("verify officer e-mail: %w", err)
		} else if !ok {
			return errWrongSignUpPassword
		}
	}
	now := s.now()
	var refused error // a refusal that still commits the attempt it spent
	err := s.db.WriteTx(ctx, func(tx *sqldb.Tx) error {
		refused = nil // fn may run more than once
		r, err := findOfficer(ctx, tx, `o.email = $1`, email)
		if err != nil {
			return err
		}
		if !r.Verified {
			if err := codesLeft(ctx, tx, r.ID); err != nil {
				return err
			}
		}
		switch {
		case r.Verified:
			return errAlreadyVerified
		case r.codeHash == "" || r.codeAttempts >= codeMaxAttempts:
			return errCodeVoid
		case !now.Before(r.codeExpires):
			return kurir.Invalid("code", "code_expired", "This code has expired; ask for a new one.")
		}
		// Spend the attempt before comparing, so that guesses sent at once
		// cannot get past the limit; it counts against the officer's
		// failures over all codes until it proves right.
		var attempts int64
		err = tx.QueryRowContext(ctx, `
			UPDATE legal_officers SET code_attempts = code_attempts + 1, code_failures = code_failures + 1
			WHERE id = $1 AND code_hash = $2 AND code_attempts < $3 AND code_failures < $4 RETURNING code_attempts`,
			r.ID, r.codeHash, codeMaxAttempts, codeMaxFailures).Scan(&attempts)
		if errors.Is(err, sql.ErrNoRows) {
			return errCodeVoid
		}
		if err != nil {
			return err
		}
		if subtle.ConstantTimeCompare([]byte(hashSecret(code)), []byte(r.codeHash)) != 1 {
			left := codeMaxAttempts - attempts
			refused = kurir.Invalid("code", "wrong_code", "That code is wrong; %d attempts left.", left)
			if left == 0 {
				refused = kurir.Invalid("code", "code_void", "That code is wrong, and it was the last attempt: ask for a new code.")
			}
			return record(ctx, tx, 0, "", "legal.officer.code_wrong", officerSubject(r.ID), fmt.Sprintf("attempt %d of %d", attempts, codeMaxAttempts))
		}
		if _, err := tx.ExecContext(ctx, `
			UPDATE legal_officers SET verified_at = $1, code_hash = '', code_expires_at = 0, code_attempts = 0, code_failures = 0 WHERE id = $2`,
			sqldb.Micros(now), r.ID); err != nil {
			return err
		}
		return record(ctx, tx, 0, "", "legal.officer.verify", officerSubject(r.ID), email)
	})
	if err != nil {
		return fmt.Errorf("verify officer e-mail: %w", err)
	}
	return refused
}

// Login checks an officer's e-mail address and password and opens a
// session of 12 hours. It returns the bearer token, which is shown only
// now: the server keeps only its hash.
//
// An unknown address and a wrong password give the same EUnauthenticated
// "wrong_credentials", in about the same time. Once the password is proven,
// a disabled officer or agency gets EForbidden ("officer_disabled",
// "agency_disabled") and an unverified address EForbidden
// "email_unverified". An officer with an authenticator must give its code:
// EUnauthenticated "totp_required" without one, "totp_invalid" for a wrong
// code or one already used. An officer without one yet gets a setup session
// (SecondFactor false).
func (s *Service) Login(ctx context.Context, email, password, totpCode, ip string) (token string, o Officer, err error) {
	wrong := &kurir.Error{Code: kurir.EUnauthenticated, Reason: "wrong_credentials", Message: "Wrong e-mail address or password."}
	email = normalizeEmail(email)
	if email == "" || len(password) > maxOfficerPassword {
		account.VerifyPassword(dummyPasswordHash(), password)
		return "", Officer{}, wrong
	}
	if ok, wait := s.loginFail.Peek(email); !ok {
		return "", Officer{}, &kurir.Error{Code: kurir.ERateLimited, RetryAfter: wait,
			Message: fmt.Sprintf("Too many failed logins to this officer's account; try again in %s.", wait.Round(time.Second))}
	}
	r, err := findOfficer(ctx, s.db.Read(), `o.email = $1`, email)
	if kurir.ErrorCode(err) == kurir.ENotFound {
		account.VerifyPassword(dummyPasswordHash(), password) // same cost as a real attempt
		return "", Officer{}, wrong
	}
	if err != nil {
		return "", Officer{}, fmt.Errorf("officer login: %w", err)
	}
	ok, err := account.VerifyPassword(r.passwordHash, password)
	if err != nil {
		return "", Officer{}, fmt.Errorf("verify password of officer %d: %w", r.ID, err)
	}
	if !ok {
		s.loginFail.Allow(email)
		return "", Officer{}, wrong
	}
	if err := r.standing(); err != nil {
		return "", Officer{}, err
	}
	if !r.Verified {
		return "", Officer{}, &kurir.Error{Code: kurir.EForbidden, Reason: "email_unverified",
			Message: "Verify your e-mail address with the code we sent you before you log in."}
	}
	var step int64
	if r.TOTP {
		code := strings.ReplaceAll(strings.TrimSpace(totpCode), " ", "")
		if code == "" {
			return "", Officer{}, &kurir.Error{Code: kurir.EUnauthenticated, Reason: "totp_required",
				Message: "Enter the 6-digit code your authenticator app shows."}
		}
		key, err := totp.ParseKey(r.totpSecret)
		if err != nil {
			return "", Officer{}, fmt.Errorf("officer %d: stored authenticator secret: %w", r.ID, err)
		}
		if step, ok = key.Verify(code, s.clock.Now(), r.totpLastStep); !ok {
			// A wrong code counts as a failed login: guessing the six
			// digits of someone who knows the password is slow.
			s.loginFail.Allow(email)
			return "", Officer{}, errTOTPInvalid
		}
	}
	s.loginFail.Reset(email)
	var rehash string
	if account.NeedsRehash(r.passwordHash, s.cfg.Argon2) {
		if rehash, err = account.HashPassword(password, s.cfg.Argon2); err != nil {
			return "", Officer{}, fmt.Errorf("officer login: %w", err)
		}
	}
	token, tokenHash := newOfficerToken()
	ip = clipBytes(ip, maxOfficerIP)
	now := s.now()
	err = s.db.WriteTx(ctx, func(tx *sqldb.Tx) error {
		if r.TOTP {
			// A code is good once: refuse it if a login racing this one
			// has just used it.
			res, err := tx.ExecContext(ctx, `UPDATE legal_officers SET totp_last_step = $1 WHERE id = $2 AND totp_last_step < $1`, step, r.ID)
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n == 0 {
				return errTOTPInvalid
			}
		}
		if rehash != "" {
			if _, err := tx.ExecContext(ctx, `UPDATE legal_officers SET password_hash = $1 WHERE id = $2`, rehash, r.ID); err != nil {
				return err
			}
		}
		var id int64
		if err := tx.QueryRowContext(ctx, `
			INSERT INTO legal_sessions (officer_id, token_hash, second_factor, ip, created_at, last_seen_at, expires_at)
			VALUES ($1, $2, $3, $4, $5, $5, $6) RETURNING id`,
			r.ID, tokenHash, boolInt(r.TOTP), ip, sqldb.Micros(now), sqldb.Micros(now.Add(officerSessionTTL))).Scan(&id); err != nil {
			return err
		}
		detail := fmt.Sprintf("session %d from %s, setup session", id, ip)
		if r.TOTP {
			detail = fmt.Sprintf("session %d from %s, with authenticator code", id, ip)
		}
		return record(ctx, tx, 0, "", "legal.officer.login", officerSubject(r.ID), detail)
	})
	if err != nil {
		return "", Officer{}, fmt.Errorf("officer login: %w", err)
	}
	return token, r.Officer, nil
}

// Authenticate returns the officer session a bearer token opened. It fails
// with EUnauthenticated for an unknown, ended or expired token, and with
// EForbidden once the officer or their agency is disabled.
func (s *Service) Authenticate(ctx context.Context, token string) (OfficerSession, error) {
	if token == "" || len(token) > maxOfficerToken {
		return OfficerSession{}, errSessionEnded
	}
	r, sr, err := findSession(ctx, s.db.Read(), `s.token_hash = $1`, hashSecret(token))
	if err != nil {
		return OfficerSession{}, fmt.Errorf("authenticate officer: %w", err)
	}
	now := s.now()
	if !now.Before(sr.expires) {
		return OfficerSession{}, &kurir.Error{Code: kurir.EUnauthenticated, Reason: "session_expired",
			Message: "Your session has expired; log in again."}
	}
	if err := r.standing(); err != nil {
		return OfficerSession{}, err
	}
	if now.Sub(sr.lastSeen) >= officerTouchEvery {
		// Bookkeeping, not a change of anyone's rights: not audited.
		err := s.db.WriteTx(ctx, func(tx *sqldb.Tx) error {
			_, err := tx.ExecContext(ctx, `UPDATE legal_sessions SET last_seen_at = $1 WHERE id = $2 AND last_seen_at < $1`,
				sqldb.Micros(now), sr.id)
			return err
		})
		if err != nil {
			return OfficerSession{}, fmt.Errorf("authenticate officer: touch session %d: %w", sr.id, err)
		}
	}
	return OfficerSession{Officer: r.Officer, SessionID: sr.id, SecondFactor: sr.secondFactor}, nil
}

// BeginTOTP makes a new authenticator secret for the session's officer and
// stores it, not yet enabled, in place of any earlier one. It returns the
// secret in base32, for typing in, and the otpauth:// URI, for a QR code.
// ConfirmTOTP enables it. It fails with EConflict "totp_enabled" once an
// authenticator is set up.
func (s *Service) BeginTOTP(ctx context.Context, sess OfficerSession) (secretBase32, uri string, err error) {
	key, err := totp.NewKey()
	if err != nil {
		return "", "", fmt.Errorf("begin officer authenticator: %w", err)
	}
	var email string
	err = s.db.WriteTx(ctx, func(tx *sqldb.Tx) error {
		r, _, err := s.liveSession(ctx, tx, sess)
		if err != nil {
			return err
		}
		if r.TOTP {
			return errTOTPEnabled
		}
		email = r.Email
		if _, err := tx.ExecContext(ctx, `UPDATE legal_officers SET totp_secret = $1 WHERE id = $2 AND totp_enabled_at = 0`,
			key.Base32(), r.ID); err != nil {
			return err
		}
		return record(ctx, tx, 0, "", "legal.officer.totp_begin", officerSubject(r.ID), fmt.Sprintf("session %d", sess.SessionID))
	})
	if err != nil {
		return "", "", fmt.Errorf("begin officer authenticator: %w", err)
	}
	return key.Base32(), key.URI(s.cfg.Issuer, email), nil
}

// ConfirmTOTP enables the authenticator BeginTOTP set up, given a code it
// shows now, and makes sess a second-factor session. The officer's other
// setup sessions end: all they could do is done. A wrong code is refused
// with EInvalid "totp_invalid" on field "code".
func (s *Service) ConfirmTOTP(ctx context.Context, sess OfficerSession, code string) error {
	code = strings.ReplaceAll(strings.TrimSpace(code), " ", "")
	err := s.db.WriteTx(ctx, func(tx *sqldb.Tx) error {
		r, _, err := s.liveSession(ctx, tx, sess)
		if err != nil {
			return err
		}
		if r.TOTP {
			return errTOTPEnabled
		}
		if r.totpSecret == "" {
			return &kurir.Error{Code: kurir.EConflict, Reason: "totp_not_started",
				Message: "Start setting up your authenticator app first."}
		}
		key, err := totp.ParseKey(r.totpSecret)
		if err != nil {
			return fmt.Errorf("officer %d: stored authenticator secret: %w", r.ID, err)
		}
		step, ok := key.Verify(code, s.clock.Now(), r.totpLastStep)
		if !ok {
			return kurir.Invalid("code", "totp_invalid", "That code is wrong. Enter the 6-digit code your authenticator app shows now.")
		}
		res, err := tx.ExecContext(ctx, `
			UPDATE legal_officers SET totp_enabled_at = $1, totp_last_step = $2
			WHERE id = $3 AND totp_enabled_at = 0 AND totp_secret = $4`,
			sqldb.Micros(s.now()), step, r.ID, r.totpSecret)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errTOTPEnabled // a request racing this one set it up or began again
		}
		if _, err := tx.ExecContext(ctx, `UPDATE legal_sessions SET second_factor = 1 WHERE id = $1`, sess.SessionID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM legal_sessions WHERE officer_id = $1 AND second_factor = 0`, r.ID); err != nil {
			return err
		}
		return record(ctx, tx, 0, "", "legal.officer.totp_enable", officerSubject(r.ID), fmt.Sprintf("session %d", sess.SessionID))
	})
	if err != nil {
		return fmt.Errorf("confirm officer authenticator: %w", err)
	}
	return nil
}

// Attest records the officer's attestation of official capacity. statement
// must be Attestation word for word (leading and trailing white space
// aside), or it is refused with EInvalid "attestation_mismatch". The
// officer must have set up an authenticator and logged in with it
// (EForbidden otherwise). Attesting again is a no-op.
func (s *Service) Attest(ctx context.Context, sess OfficerSession, statement string) error {
	if strings.TrimSpace(statement) != Attestation {
		return kurir.Invalid("statement", "attestation_mismatch", "The statement must be the attestation exactly as shown: %q", Attestation)
	}
	err := s.db.WriteTx(ctx, func(tx *sqldb.Tx) error {
		r, sr, err := s.liveSession(ctx, tx, sess)
		if err != nil {
			return err
		}
		if !r.TOTP {
			return setupIncomplete("set up an authenticator app")
		}
		if !sr.secondFactor {
			return setupIncomplete("log in again with the code from your authenticator app")
		}
		if r.Attested && r.attestation == Attestation {
			return nil
		}
		if _, err := tx.ExecContext(ctx, `UPDATE legal_officers SET attested_at = $1, attestation = $2 WHERE id = $3`,
			sqldb.Micros(s.now()), Attestation, r.ID); err != nil {
			return err
		}
		return record(ctx, tx, 0, "", "legal.officer.attest", officerSubject(r.ID), Attestation)
	})
	if err != nil {
		return fmt.Errorf("officer attestation: %w", err)
	}
	return nil
}

// Logout ends sess. Ending a session that has already ended is not an
// error.
func (s *Service) Logout(ctx context.Context, sess OfficerSession) error {
	err := s.db.WriteTx(ctx, func(tx *sqldb.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM legal_sessions WHERE id = $1 AND officer_id = $2`, sess.SessionID, sess.Officer.ID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil
		}
		return record(ctx, tx, 0, "", "legal.officer.logout", officerSubject(sess.Officer.ID), fmt.Sprintf("session %d", sess.SessionID))
	})
	if err != nil {
		return fmt.Errorf("officer logout: %w", err)
	}
	return nil
}

// RequireReady returns nil if sess may see and file requests: the
// officer's address is verified, their authenticator set up and used to
// open sess, and their attestation made. Otherwise it returns EForbidden
// "setup_incomplete" whose message names the first step missing.
func RequireReady(sess OfficerSession) error {
	switch {
	case !sess.Officer.Verified:
		return setupIncomplete("verify your e-mail address")
	case !sess.Officer.TOTP:
		return setupIncomplete("set up an authenticator app")
	case !sess.SecondFactor:
		return setupIncomplete("log in again with the code from your authenticator app")
	case !sess.Officer.Attested:
		return setupIncomplete("attest that you act in your official capacity")
	}
	return nil
}

// Officers returns the officers of an agency, disabled ones included, in
// the order they signed up. It is for the legal team; the caller checks
// who asks. An unknown agency is ENotFound.
func (s *Service) Officers(ctx context.Context, agencyID int64) ([]Officer, error) {
	var out []Officer
	err := s.db.ReadTx(ctx, func(tx *sqldb.Tx) error {
		out = nil
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM legal_agencies WHERE id = $1`, agencyID).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			return &kurir.Error{Code: kurir.ENotFound, Reason: "agency_not_found", Message: fmt.Sprintf("There is no agency %d.", agencyID)}
		}
		rows, err := tx.QueryContext(ctx, officerQuery+` WHERE o.agency_id = $1 ORDER BY o.id`, agencyID)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var r officerRecord
			if err := rows.Scan(r.dest()...); err != nil {
				return err
			}
			out = append(out, r.fill().Officer)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("officers of agency %d: %w", agencyID, err)
	}
	return out, nil
}

// officer returns the officer with the ID, or ENotFound.
func (s *Service) officer(ctx context.Context, q sqldb.Querier, id int64) (Officer, error) {
	r, err := findOfficer(ctx, q, `o.id = $1`, id)
	if kurir.ErrorCode(err) == kurir.ENotFound {
		return Officer{}, &kurir.Error{Code: kurir.ENotFound, Reason: "officer_not_found", Message: fmt.Sprintf("There is no officer %d.", id)}
	}
	if err != nil {
		return Officer{}, err
	}
	return r.Officer, nil
}

// officerRecord is an officer's row with the secrets and states that only
// this file reads.
type officerRecord struct {
	Officer
	passwordHash, codeHash, totpSecret, attestation string
	codeExpires                                     time.Time
	codeAttempts, totpLastStep                      int64
	disabled, agencyDisabled                        bool

	// raw columns, turned into the fields above by fill
	verifiedAt, totpAt, attestedAt, createdAt, codeExpiresAt, disabledAt, agencyDisabledAt int64
}

// officerColumns are the columns officerRecord.dest scans, of officers o
// and their agencies a.
const officerColumns = `o.id, o.agency_id, o.email, o.name, o.badge, o.lang, o.verified_at, o.totp_enabled_at, o.attested_at, o.created_at,
	o.password_hash, o.code_hash, o.code_expires_at, o.code_attempts, o.totp_secret, o.totp_last_step, o.attestation,
	o.disabled_at, a.disabled_at`

// officerQuery selects officers for officerRecord.dest; sessionQuery
// selects sessions s with their officers, for dest and the session's
// columns.
const (
	officerQuery = `SELECT ` + officerColumns + ` FROM legal_officers o JOIN legal_agencies a ON a.id = o.agency_id`
	sessionQuery = `SELECT ` + officerColumns + `, s.id, s.second_factor, s.last_seen_at, s.expires_at
		FROM legal_sessions s JOIN legal_officers o ON o.id = s.officer_id JOIN legal_agencies a ON a.id = o.agency_id`
)

func (r *officerRecord) dest() []any {
	return []any{&r.ID, &r.AgencyID, &r.Email, &r.Name, &r.Badge, &r.Lang, &r.verifiedAt, &r.totpAt, &r.attestedAt, &r.createdAt,
		&r.passwordHash, &r.codeHash, &r.codeExpiresAt, &r.codeAttempts, &r.totpSecret, &r.totpLastStep, &r.attestation,
		&r.disabledAt, &r.agencyDisabledAt}
}

func (r *officerRecord) fill() *officerRecord {
	r.Verified, r.TOTP, r.Attested = r.verifiedAt != 0, r.totpAt != 0, r.attestedAt != 0
	r.CreatedAt = sqldb.FromMicros(r.createdAt)
	r.codeExpires = sqldb.FromMicros(r.codeExpiresAt)
	r.disabled, r.agencyDisabled = r.disabledAt != 0, r.agencyDisabledAt != 0
	if r.disabled {
		r.DisabledAt = sqldb.FromMicros(r.disabledAt)
	}
	return r
}

// standing refuses a disabled officer or an officer of a disabled agency.
func (r *officerRecord) standing() error {
	switch {
	case r.disabled:
		return errOfficerDisabled
	case r.agencyDisabled:
		return &kurir.Error{Code: kurir.EForbidden, Reason: "agency_disabled",
			Message: "Your agency's access to the portal has been disabled; contact the operator's legal team."}
	}
	return nil
}

// findOfficer returns the one officer where selects (with arg as $1), or
// ENotFound worded for a look-up by e-mail address.
func findOfficer(ctx context.Context, q sqldb.Querier, where string, arg any) (officerRecord, error) {
	var r officerRecord
	err := q.QueryRowContext(ctx, officerQuery+` WHERE `+where, arg).Scan(r.dest()...)
	if errors.Is(err, sql.ErrNoRows) {
		return r, &kurir.Error{Code: kurir.ENotFound, Field: "email", Reason: "officer_not_found",
			Message: "No officer has signed up with this e-mail address."}
	}
	if err != nil {
		return r, err
	}
	return *r.fill(), nil
}

// sessionRecord is a row of legal_sessions.
type sessionRecord struct {
	id              int64
	secondFactor    bool
	lastSeen        time.Time
	expires         time.Time
	sf, seen, until int64 // raw columns
}

// findSession returns the session where selects (with arg as $1) and its
// officer, or errSessionEnded.
func findSession(ctx context.Context, q sqldb.Querier, where string, arg any) (officerRecord, sessionRecord, error) {
	var r officerRecord
	var sr sessionRecord
	err := q.QueryRowContext(ctx, sessionQuery+` WHERE `+where, arg).Scan(append(r.dest(), &sr.id, &sr.sf, &sr.seen, &sr.until)...)
	if errors.Is(err, sql.ErrNoRows) {
		return r, sr, errSessionEnded
	}
	if err != nil {
		return r, sr, err
	}
	sr.secondFactor, sr.lastSeen, sr.expires = sr.sf != 0, sqldb.FromMicros(sr.seen), sqldb.FromMicros(sr.until)
	return *r.fill(), sr, nil
}

// liveSession reads sess again inside tx, so that a step is refused once
// the session has ended or expired or the officer or agency was disabled,
// and returns what the database holds now.
func (s *Service) liveSession(ctx context.Context, tx *sqldb.Tx, sess OfficerSession) (officerRecord, sessionRecord, error) {
	r, sr, err := findSession(ctx, tx, `s.id = $1`, sess.SessionID)
	if err != nil {
		return r, sr, err
	}
	if r.ID != sess.Officer.ID || !s.now().Before(sr.expires) {
		return r, sr, errSessionEnded
	}
	return r, sr, r.standing()
}

// officerAgency returns the ID of the enabled agency one of whose domains
// is exactly domain. Officers of a subdomain's office sign up only if the
// agency registered that subdomain too.
func officerAgency(ctx context.Context, q sqldb.Querier, domain string) (int64, error) {
	rows, err := q.QueryContext(ctx, `SELECT id, domains FROM legal_agencies WHERE disabled_at = 0 ORDER BY id`)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var domains string
		if err := rows.Scan(&id, &domains); err != nil {
			return 0, err
		}
		for d := range strings.SplitSeq(domains, ",") {
			if strings.EqualFold(strings.TrimSpace(d), domain) {
				return id, nil
			}
		}
	}
	if err := rows.Err(); err != nil {
		return 0, err
	}
	return 0, &kurir.Error{Code: kurir.EInvalid, Field: "email", Reason: "unknown_domain", Message: fmt.Sprintf(
		"No registered agency uses the domain %s; ask your agency to register with the operator.", domain)}
}

// sendCode mails an officer their e-mail code.
func (s *Service) sendCode(ctx context.Context, id int64, email, code string) error {
	err := s.cfg.Mail.Send(ctx, mail.Message{
		To:      email,
		Subject: fmt.Sprintf("Your %s law-enforcement portal code", s.cfg.Issuer),
		Body: fmt.Sprintf("Your %s law-enforcement portal code is %s. It expires in %d minutes.",
			s.cfg.Issuer, code, int(codeTTL/time.Minute)),
	})
	if err == nil {
		return nil
	}
	s.log.Error("mail officer code", "officer", id, "err", err)
	if kurir.ErrorCode(err) == kurir.EInvalid {
		// The address itself is at fault: no new code will reach it.
		return &kurir.Error{Code: kurir.EInvalid, Field: "email", Reason: "email_undeliverable", Err: err,
			Message: "Our mail server cannot deliver to this e-mail address; check it, or ask your agency which address to use."}
	}
	return &kurir.Error{Code: kurir.EUnavailable, Reason: "mail_failed", RetryAfter: codeResendEvery, Err: err,
		Message: "The e-mail with your code could not be sent. Ask for a new code in a minute."}
}

// parseOfficerEmail checks a bare address (no display name) and returns it
// in lower case with its domain.
func parseOfficerEmail(s string) (email, domain string, err error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", "", kurir.Invalid("email", "required", "Your e-mail address at your agency is required.")
	}
	if len(s) > maxOfficerEmail || !utf8.ValidString(s) {
		return "", "", kurir.Invalid("email", "invalid_email", "That is not an e-mail address.")
	}
	a, err := netmail.ParseAddress(s)
	if err != nil || a.Address != s {
		return "", "", kurir.Invalid("email", "invalid_email", "That is not an e-mail address; write it as name@agency.example.")
	}
	email = strings.ToLower(s)
	return email, email[strings.LastIndexByte(email, '@')+1:], nil
}

// normalizeEmail puts an address as typed at login in its stored form, or
// returns "" for one that cannot have been stored.
func normalizeEmail(s string) string {
	s = strings.TrimSpace(s)
	if len(s) > maxOfficerEmail || !utf8.ValidString(s) {
		return ""
	}
	return strings.ToLower(s)
}

// cleanLine is cleanText for a one-line field: no line breaks or tabs.
func cleanLine(field, what, s string, max int, required bool) (string, error) {
	s, err := cleanText(field, what, s, max, required)
	if err != nil {
		return "", err
	}
	if strings.ContainsAny(s, "\n\t") {
		return "", kurir.Invalid(field, "invalid_characters", "The %s must be one line.", what)
	}
	return s, nil
}

// newEmailCode returns a random 6-digit code and the hash stored for it.
func newEmailCode() (code, hash string) {
	n, err := rand.Int(rand.Reader, big.NewInt(1_000_000))
	if err != nil {
		panic(fmt.Sprintf("legal: crypto/rand: %v", err)) // crypto/rand does not fail
	}
	code = fmt.Sprintf("%06d", n.Int64())
	return code, hashSecret(code)
}

func isEmailCode(s string) bool {
	if len(s) != 6 {
		return false
	}
	for i := range len(s) {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// newOfficerToken returns a session token, 32 random bytes in base64url,
// and the hash stored for it.
func newOfficerToken() (token, hash string) {
	b := make([]byte, 32)
	rand.Read(b)
	token = base64.RawURLEncoding.EncodeToString(b)
	return token, hashSecret(token)
}

// hashSecret returns the hex SHA-256 of a code or token, the form stored.
func hashSecret(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

func officerSubject(id int64) string { return fmt.Sprintf("officer:%d", id) }

// clipBytes cuts s to at most n bytes at a character boundary.
func clipBytes(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

func setupIncomplete(step string) error {
	return &kurir.Error{Code: kurir.EForbidden, Reason: "setup_incomplete",
		Message: "Before you can see or file requests, " + step + "."}
}

func codeRateLimited(wait time.Duration) error {
	secs := int((wait + time.Second - 1) / time.Second)
	return &kurir.Error{Code: kurir.ERateLimited, Reason: "code_recently_sent", RetryAfter: wait,
		Message: fmt.Sprintf("A code was sent less than a minute ago; ask again in %d seconds.", secs)}
}

var (
	errAlreadyVerified = &kurir.Error{Code: kurir.EConflict, Reason: "already_verified",
		Message: "This e-mail address is already verified; log in."}
	errWrongSignUpPassword = &kurir.Error{Code: kurir.EForbidden, Field: "password", Reason: "wrong_password",
		Message: "The password is not the one this address was signed up with. If you did not sign it up, sign up again: that replaces it."}
	errCodeVoid = kurir.Invalid("code", "code_void",
		"Too many wrong codes were entered; ask for a new code.")
	errOfficerDisabled = &kurir.Error{Code: kurir.EForbidden, Reason: "officer_disabled",
		Message: "Your access to the portal has been disabled; contact the operator's legal team."}
	errTOTPInvalid = &kurir.Error{Code: kurir.EUnauthenticated, Reason: "totp_invalid",
		Message: "That authenticator code is wrong or has been used already; wait for the next one."}
	errTOTPEnabled = &kurir.Error{Code: kurir.EConflict, Reason: "totp_enabled",
		Message: "Your authenticator app is already set up."}
	errSessionEnded = &kurir.Error{Code: kurir.EUnauthenticated, Reason: "invalid_session",
		Message: "Your session has ended; log in again."}
)

// SetOfficerDisabled keeps an officer out of the portal (or lets them in
// again), ending their sessions at once: what the legal team does when an
// officer leaves the agency or their account is misused. Their requests
// stay with the agency.
func (s *Service) SetOfficerDisabled(ctx context.Context, by Staff, id int64, disabled bool) error {
	if err := mayReview(by); err != nil {
		return err
	}
	at := int64(0)
	if disabled {
		at = sqldb.Micros(s.now())
	}
	return s.db.WriteTx(ctx, func(tx *sqldb.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE legal_officers SET disabled_at = $2 WHERE id = $1`, id, at)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return &kurir.Error{Code: kurir.ENotFound, Reason: "officer_not_found", Message: fmt.Sprintf("There is no officer %d.", id)}
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM legal_sessions WHERE officer_id = $1`, id); err != nil {
			return err
		}
		return record(ctx, tx, by.ID, by.Role, "legal.officer.disable", officerSubject(id), fmt.Sprintf("disabled %v", disabled))
	})
}

// ResetOfficer takes an officer back to before they verified their address:
// sessions ended, authenticator and attestation cleared, the address
// unverified. The owner of the mailbox signs up again (which replaces the
// password), verifies, and sets up a new authenticator. It is what the
// legal team does for a lost authenticator or a compromised account.
func (s *Service) ResetOfficer(ctx context.Context, by Staff, id int64) error {
	if err := mayReview(by); err != nil {
		return err
	}
	return s.db.WriteTx(ctx, func(tx *sqldb.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE legal_officers SET verified_at = 0, totp_secret = '', totp_enabled_at = 0, totp_last_step = 0,
			attested_at = 0, attestation = '', code_hash = '', code_expires_at = 0, code_attempts = 0, code_failures = 0 WHERE id = $1`, id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return &kurir.Error{Code: kurir.ENotFound, Reason: "officer_not_found", Message: fmt.Sprintf("There is no officer %d.", id)}
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM legal_sessions WHERE officer_id = $1`, id); err != nil {
			return err
		}
		return record(ctx, tx, by.ID, by.Role, "legal.officer.reset", officerSubject(id), "")
	})
}
