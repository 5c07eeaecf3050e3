package account_test

import (
	"database/sql"
	"fmt"
	"strings"
	"testing"
	"time"

	"kurir"
	"kurir/account"
	"kurir/legal/totp"
	"kurir/ratelimit"
	"kurir/sqldb"
	"kurir/sqldb/sqldbtest"
)

// enrol sets up an authenticator for the user and returns its key, having
// confirmed it with the code of the clock's current step.
func enrol(t *testing.T, svc *account.Service, clock *fakeClock, id kurir.UserID) totp.Key {
	t.Helper()
	e, err := svc.EnrolTOTP(t.Context(), id)
	if err != nil {
		t.Fatalf("EnrolTOTP: %v", err)
	}
	key, err := totp.ParseKey(e.Secret)
	if err != nil {
		t.Fatalf("ParseKey(%q): %v", e.Secret, err)
	}
	if err := svc.ConfirmTOTP(t.Context(), id, key.Code(clock.Now())); err != nil {
		t.Fatalf("ConfirmTOTP: %v", err)
	}
	return key
}

func TestTOTPEnrolAndLogin(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		svc, clock := newService(db, account.Config{})
		u := register(t, svc, "pavel")
		e, err := svc.EnrolTOTP(t.Context(), u.ID)
		if err != nil {
			t.Fatalf("EnrolTOTP: %v", err)
		}
		if !strings.HasPrefix(e.URI, "otpauth://totp/kurir:pavel?secret="+e.Secret+"&") {
			t.Errorf("URI = %q; want the otpauth URI of secret %q for kurir:pavel", e.URI, e.Secret)
		}
		key, err := totp.ParseKey(e.Secret)
		if err != nil {
			t.Fatalf("ParseKey: %v", err)
		}
		// Until confirmed, the password alone still logs in.
		login(t, svc, "pavel", password, "phone")

		// A wrong code does not confirm it; a right one does.
		wrong := "000000"
		if key.Code(clock.Now()) == wrong {
			wrong = "111111"
		}
		err = svc.ConfirmTOTP(t.Context(), u.ID, wrong)
		wantError(t, "confirm with a wrong code", err, kurir.EInvalid, "totp_invalid")
		if got, _ := svc.UserByID(t.Context(), u.ID); got.TOTP {
			t.Fatal("a wrong code turned the authenticator on")
		}
		confirmCode := key.Code(clock.Now())
		if err := svc.ConfirmTOTP(t.Context(), u.ID, confirmCode); err != nil {
			t.Fatalf("ConfirmTOTP: %v", err)
		}
		if got, _ := svc.UserByID(t.Context(), u.ID); !got.TOTP {
			t.Error("User.TOTP is false after ConfirmTOTP")
		}
		_, err = svc.EnrolTOTP(t.Context(), u.ID)
		wantError(t, "enrol again", err, kurir.EConflict, "totp_enabled")

		try := func(code string) error {
			_, _, _, err := svc.Login(t.Context(), account.LoginParams{Username: "pavel", Password: password, Code: code})
			return err
		}
		wantError(t, "login without a code", try(""), kurir.EUnauthenticated, "totp_required")
		wantError(t, "login with a wrong code", try(wrong), kurir.EUnauthenticated, "totp_invalid")
		// The code that confirmed the app was used: it cannot log in.
		wantError(t, "login with the confirming code", try(confirmCode), kurir.EUnauthenticated, "totp_invalid")
		// A wrong password with a right code is still wrong credentials.
		_, _, _, err = svc.Login(t.Context(), account.LoginParams{Username: "pavel", Password: "nope-nope-nope", Code: key.Code(clock.Now().Add(totp.Period))})
		wantError(t, "wrong password, right code", err, kurir.EUnauthenticated, "wrong_credentials")

		clock.Advance(totp.Period)
		code := key.Code(clock.Now())
		if err := try(" " + code[:3] + " " + code[3:] + " "); err != nil {
			t.Fatalf("login with the current code, typed with spaces: %v", err)
		}
		// Each code works once.
		wantError(t, "login replaying the code", try(code), kurir.EUnauthenticated, "totp_invalid")
	}, account.Migrations)
}

func TestTOTPWrongCodesCountAsFailedLogins(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		svc, clock := newService(db, account.Config{Limits: &account.Limits{
			LoginFailuresPerAccount: ratelimit.Limit{Every: time.Minute, Burst: 3},
		}})
		u := register(t, svc, "pavel")
		key := enrol(t, svc, clock, u.ID)
		clock.Advance(totp.Period)
		bad := "000000"
		if key.Code(clock.Now()) == bad || key.Code(clock.Now().Add(-totp.Period)) == bad || key.Code(clock.Now().Add(totp.Period)) == bad {
			bad = "999999"
		}
		for i := range 3 {
			_, _, _, err := svc.Login(t.Context(), account.LoginParams{Username: "pavel", Password: password, Code: bad})
			wantError(t, "wrong code "+string(rune('1'+i)), err, kurir.EUnauthenticated, "totp_invalid")
		}
		_, _, _, err := svc.Login(t.Context(), account.LoginParams{Username: "pavel", Password: password, Code: key.Code(clock.Now())})
		wantError(t, "right code after 3 wrong ones", err, kurir.ERateLimited, "too_many_attempts")
	}, account.Migrations)
}

func TestTOTPDisableAndReset(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		svc, clock := newService(db, account.Config{})
		u := register(t, svc, "pavel")
		key := enrol(t, svc, clock, u.ID)
		clock.Advance(totp.Period)
		code := key.Code(clock.Now())

		err := svc.DisableTOTP(t.Context(), u.ID, "not-my-password-1", code)
		wantError(t, "disable with a wrong password", err, kurir.EForbidden, "wrong_password")
		err = svc.DisableTOTP(t.Context(), u.ID, password, "")
		wantError(t, "disable without a code", err, kurir.EInvalid, "totp_invalid")
		if got, _ := svc.UserByID(t.Context(), u.ID); !got.TOTP {
			t.Fatal("a refused DisableTOTP turned the authenticator off")
		}
		if err := svc.DisableTOTP(t.Context(), u.ID, password, code); err != nil {
			t.Fatalf("DisableTOTP: %v", err)
		}
		login(t, svc, "pavel", password, "phone") // the password alone again
		err = svc.DisableTOTP(t.Context(), u.ID, password, code)
		wantError(t, "disable twice", err, kurir.EConflict, "totp_not_enabled")

		// The operator's reset, for a lost phone.
		enrol(t, svc, clock, u.ID)
		if err := svc.ResetTOTP(t.Context(), u.ID); err != nil {
			t.Fatalf("ResetTOTP: %v", err)
		}
		if got, _ := svc.UserByID(t.Context(), u.ID); got.TOTP {
			t.Error("User.TOTP is true after ResetTOTP")
		}
		login(t, svc, "pavel", password, "phone")
		wantError(t, "reset an unknown user", svc.ResetTOTP(t.Context(), 999999), kurir.ENotFound, "")
	}, account.Migrations)
}

func TestNeedsSecondFactor(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		for _, optional := range []bool{false, true} {
			svc, clock := newService(db, account.Config{StaffTOTPOptional: optional})
			pre := "required"
			if optional {
				pre = "optional"
			}
			for i, role := range kurir.Roles {
				u, err := svc.Register(t.Context(), account.RegisterParams{Username: fmt.Sprintf("%sx%d", pre, i), Password: password, Role: role})
				if err != nil {
					t.Fatalf("Register: %v", err)
				}
				staff := role != kurir.RoleUser
				if got := svc.NeedsSecondFactor(account.Principal{User: u}); got != (staff && !optional) {
					t.Errorf("optional=%v: NeedsSecondFactor(%s without an app) = %v", optional, role, got)
				}
				enrol(t, svc, clock, u.ID)
				u, _ = svc.UserByID(t.Context(), u.ID)
				if svc.NeedsSecondFactor(account.Principal{User: u}) {
					t.Errorf("optional=%v: NeedsSecondFactor(%s with an app) = true", optional, role)
				}
			}
		}
	}, account.Migrations)
}

// TestPurgeWipesAuthenticator: an account's authenticator secret, confirmed
// or pending, is personal data that goes when the account is wiped.
func TestPurgeWipesAuthenticator(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		svc, clock := newService(db, account.Config{DeletionGrace: time.Hour})
		u := register(t, svc, "pavel")
		enrol(t, svc, clock, u.ID)
		if _, err := svc.RequestDeletion(t.Context(), u.ID, password); err != nil {
			t.Fatal(err)
		}
		clock.Advance(time.Hour)
		purge(t, svc, 1, 1)
		var secret, pending sql.NullString
		if err := db.Read().QueryRowContext(t.Context(), `SELECT totp_secret, totp_pending FROM users WHERE id = $1`, u.ID).Scan(&secret, &pending); err != nil {
			t.Fatal(err)
		}
		if secret.Valid || pending.Valid {
			t.Errorf("after the purge the authenticator secret is %+v, pending %+v; want both NULL", secret, pending)
		}
	}, account.Migrations)
}
