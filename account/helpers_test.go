package account_test

import (
	"database/sql"
	"errors"
	"testing"
	"time"

	"kurir"
	"kurir/account"
	"kurir/clocktest"
	"kurir/sqldb"
)

// fakeClock is the tests' clock, which moves only when a test moves it.
type fakeClock = clocktest.Fake

func newClock() *fakeClock { return clocktest.New(time.Time{}) }

// newService returns an account service on db with a fake clock and cheap
// password hashing. A nil cfg.Limits means no limits at all, so that only the
// tests about limits meet them.
func newService(db *sqldb.DB, cfg account.Config) (*account.Service, *fakeClock) {
	clock := newClock()
	cfg.Argon2 = account.CheapArgon2Params
	if cfg.Limits == nil {
		cfg.Limits = &account.Limits{}
	}
	return account.NewService(db, clock, nil, cfg), clock
}

// password passes CheckPasswordStrength for every username in these tests.
const password = "wet-otter-lantern-9"

// register creates an account with password, failing the test if it cannot.
func register(t *testing.T, svc *account.Service, username string) account.User {
	t.Helper()
	u, err := svc.Register(t.Context(), account.RegisterParams{Username: username, Password: password})
	if err != nil {
		t.Fatalf("Register %q: %v", username, err)
	}
	return u
}

// login opens a session, failing the test if it cannot.
func login(t *testing.T, svc *account.Service, username, pw, device string) (string, account.Session) {
	t.Helper()
	token, sess, _, err := svc.Login(t.Context(), account.LoginParams{Username: username, Password: pw, DeviceName: device})
	if err != nil {
		t.Fatalf("Login %q: %v", username, err)
	}
	return token, sess
}

// wantError fails the test unless err has code and, if reason is not empty,
// that reason.
func wantError(t *testing.T, what string, err error, code kurir.Code, reason string) {
	t.Helper()
	if kurir.ErrorCode(err) != code || reason != "" && kurir.ErrorReason(err) != reason {
		t.Errorf("%s: got code %q reason %q (err %v), want code %q reason %q",
			what, kurir.ErrorCode(err), kurir.ErrorReason(err), err, code, reason)
	}
}

// errorField returns the Field of the *kurir.Error in err's chain, or "".
func errorField(err error) string {
	var e *kurir.Error
	if errors.As(err, &e) {
		return e.Field
	}
	return ""
}

// countRows returns how many rows table holds.
func countRows(t *testing.T, db *sqldb.DB, table string) int {
	t.Helper()
	var n int
	if err := db.Read().QueryRowContext(t.Context(), `SELECT COUNT(*) FROM `+table).Scan(&n); err != nil {
		t.Fatalf("count %s: %v", table, err)
	}
	return n
}

// userRow is the personal data a users row holds, read past the service.
type userRow struct {
	Username, Email, Phone, PasswordHash sql.NullString
	DisplayName, State                   string
}

func readUserRow(t *testing.T, db *sqldb.DB, id kurir.UserID) userRow {
	t.Helper()
	var r userRow
	err := db.Read().QueryRowContext(t.Context(),
		`SELECT username, email, phone, password_hash, display_name, state FROM users WHERE id = $1`, id).
		Scan(&r.Username, &r.Email, &r.Phone, &r.PasswordHash, &r.DisplayName, &r.State)
	if err != nil {
		t.Fatalf("read users row %d: %v", id, err)
	}
	return r
}

// valid returns s as a non-NULL column value.
func valid(s string) sql.NullString { return sql.NullString{String: s, Valid: true} }
