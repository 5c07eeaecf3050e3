package account_test

import (
	"testing"
	"time"

	"kurir"
	"kurir/account"
	"kurir/sqldb"
	"kurir/sqldb/sqldbtest"
)

// purge runs PurgeDue and fails the test unless it deleted and wiped the
// numbers of accounts wanted.
func purge(t *testing.T, svc *account.Service, wantDeleted, wantWiped int) {
	t.Helper()
	d, w, err := svc.PurgeDue(t.Context())
	if err != nil {
		t.Fatalf("PurgeDue: %v", err)
	}
	if d != wantDeleted || w != wantWiped {
		t.Errorf("PurgeDue deleted, wiped = %d, %d; want %d, %d", d, w, wantDeleted, wantWiped)
	}
}

// registerWithContacts creates an account with an email address and a phone number.
func registerWithContacts(t *testing.T, svc *account.Service, username string) account.User {
	t.Helper()
	u, err := svc.Register(t.Context(), account.RegisterParams{
		Username: username, Password: password, Email: username + "@example.com", Phone: "+62 812-3456-7890",
	})
	if err != nil {
		t.Fatalf("Register %q: %v", username, err)
	}
	return u
}

// wantGone fails the test unless the account can no longer log in or be
// found by ID.
func wantGone(t *testing.T, svc *account.Service, u account.User) {
	t.Helper()
	_, _, _, err := svc.Login(t.Context(), account.LoginParams{Username: u.Username, Password: password})
	wantError(t, "Login to a deleted account", err, kurir.EUnauthenticated, "wrong_credentials")
	_, err = svc.UserByID(t.Context(), u.ID)
	wantError(t, "UserByID of a deleted account", err, kurir.ENotFound, "")
}

func TestRequestDeletion(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		svc, clock := newService(db, account.Config{DeletionGrace: 48 * time.Hour})
		u := register(t, svc, "pavel")
		phone, _ := login(t, svc, "pavel", password, "Pixel 8")
		laptop, _ := login(t, svc, "pavel", password, "Laptop")

		_, err := svc.RequestDeletion(t.Context(), u.ID, "not-my-password-1")
		wantError(t, "RequestDeletion with wrong password", err, kurir.EForbidden, "wrong_password")
		if got := errorField(err); got != "password" {
			t.Errorf("Field = %q, want password", got)
		}
		if _, err := svc.Authenticate(t.Context(), phone); err != nil {
			t.Errorf("Authenticate after a refused deletion: %v", err)
		}
		if got, _ := svc.UserByID(t.Context(), u.ID); !got.DeletionScheduledAt.IsZero() {
			t.Errorf("refused deletion scheduled at %v", got.DeletionScheduledAt)
		}

		at, err := svc.RequestDeletion(t.Context(), u.ID, password)
		if err != nil {
			t.Fatalf("RequestDeletion: %v", err)
		}
		if want := clock.Now().Add(48 * time.Hour); !at.Equal(want) {
			t.Errorf("scheduled at %v, want now + grace = %v", at, want)
		}
		for name, token := range map[string]string{"phone": phone, "laptop": laptop} {
			_, err := svc.Authenticate(t.Context(), token)
			wantError(t, "Authenticate "+name+" after RequestDeletion", err, kurir.EUnauthenticated, "invalid_token")
		}
		got, err := svc.UserByID(t.Context(), u.ID)
		if err != nil || !got.DeletionScheduledAt.Equal(at) || got.State != account.StateActive {
			t.Errorf("UserByID = scheduled %v state %q (err %v), want %v active", got.DeletionScheduledAt, got.State, err, at)
		}

		// The default grace period is a week.
		svc, clock = newService(db, account.Config{})
		jana := register(t, svc, "jana")
		at, err = svc.RequestDeletion(t.Context(), jana.ID, password)
		if want := clock.Now().Add(7 * 24 * time.Hour); err != nil || !at.Equal(want) {
			t.Errorf("default grace: scheduled at %v (err %v), want %v", at, err, want)
		}
	}, account.Migrations)
}

func TestLoginCancelsDeletion(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		svc, clock := newService(db, account.Config{DeletionGrace: 7 * 24 * time.Hour})
		u := registerWithContacts(t, svc, "pavel")
		if _, err := svc.RequestDeletion(t.Context(), u.ID, password); err != nil {
			t.Fatal(err)
		}
		clock.Advance(6 * 24 * time.Hour)
		_, _, lu, err := svc.Login(t.Context(), account.LoginParams{Username: "pavel", Password: password})
		if err != nil {
			t.Fatalf("Login during the grace period: %v", err)
		}
		if !lu.DeletionScheduledAt.IsZero() {
			t.Errorf("Login returned deletion scheduled at %v, want none", lu.DeletionScheduledAt)
		}
		if got, _ := svc.UserByID(t.Context(), u.ID); !got.DeletionScheduledAt.IsZero() {
			t.Errorf("stored deletion scheduled at %v after Login, want none", got.DeletionScheduledAt)
		}

		clock.Advance(2 * 24 * time.Hour) // past the cancelled date
		purge(t, svc, 0, 0)
		login(t, svc, "pavel", password, "Laptop")
		if row := readUserRow(t, db, u.ID); row.State != "active" || row.Email.String != "pavel@example.com" {
			t.Errorf("users row = %+v, want active with its email", row)
		}
	}, account.Migrations)
}

func TestPurgeDueDeletesAndWipes(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		svc, clock := newService(db, account.Config{DeletionGrace: 48 * time.Hour})
		u := registerWithContacts(t, svc, "pavel")
		bystander := registerWithContacts(t, svc, "jana")
		if _, err := svc.RequestDeletion(t.Context(), u.ID, password); err != nil {
			t.Fatal(err)
		}

		clock.Advance(48*time.Hour - time.Second)
		purge(t, svc, 0, 0)
		clock.Advance(time.Second)
		purge(t, svc, 1, 1)
		purge(t, svc, 0, 0) // idempotent

		wantGone(t, svc, u)
		_, err := svc.UserByUsername(t.Context(), "pavel")
		wantError(t, "UserByUsername of a wiped account", err, kurir.ENotFound, "")
		row := readUserRow(t, db, u.ID)
		if row.Username.Valid || row.Email.Valid || row.Phone.Valid || row.PasswordHash.Valid ||
			row.State != "deleted" || row.DisplayName != "Deleted Account" {
			t.Errorf("purged users row = %+v, want state deleted, name Deleted Account and NULL personal data", row)
		}
		if got := readUserRow(t, db, bystander.ID); got.State != "active" || got.Email.String != "jana@example.com" {
			t.Errorf("another account's row = %+v, want it untouched", got)
		}
		login(t, svc, "jana", password, "Phone")

		// The name is free again, for a new account.
		again := register(t, svc, "pavel")
		if again.ID == u.ID {
			t.Errorf("re-registered pavel got the deleted account's ID %d", u.ID)
		}
	}, account.Migrations)
}

func TestLegalHoldKeepsDataUntilReleased(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		svc, clock := newService(db, account.Config{DeletionGrace: 48 * time.Hour})
		u := registerWithContacts(t, svc, "pavel")
		first, err := svc.PlaceHold(t.Context(), u.ID, "Preservation request LE-2025-0042", time.Time{})
		if err != nil {
			t.Fatalf("PlaceHold: %v", err)
		}
		second, err := svc.PlaceHold(t.Context(), u.ID, "Court order 17/2025", time.Time{})
		if err != nil {
			t.Fatalf("second PlaceHold: %v", err)
		}
		login(t, svc, "pavel", password, "Pixel 8")
		if _, err := svc.RequestDeletion(t.Context(), u.ID, password); err != nil {
			t.Fatal(err)
		}
		clock.Advance(48 * time.Hour)
		purge(t, svc, 1, 0)
		purge(t, svc, 0, 0)

		wantGone(t, svc, u)
		// The operator still finds the held account by name, marked deleted.
		if got, err := svc.UserByUsername(t.Context(), "pavel"); err != nil || got.State != account.StateDeleted || got.Email != "pavel@example.com" {
			t.Errorf("UserByUsername of a held account = state %q email %q (err %v), want deleted with its email", got.State, got.Email, err)
		}
		kept := userRow{
			Username: valid("pavel"), Email: valid("pavel@example.com"), Phone: valid("+6281234567890"),
			DisplayName: "pavel", State: "deleted",
		}
		wantKept := func(when string) {
			t.Helper()
			row := readUserRow(t, db, u.ID)
			row.PasswordHash = kept.PasswordHash
			if row != kept {
				t.Errorf("%s: users row = %+v, want personal data kept: %+v", when, row, kept)
			}
		}
		wantKept("under two holds")
		if n := countRows(t, db, "sessions"); n != 0 {
			t.Errorf("sessions of a deleted account = %d, want 0", n)
		}

		if err := svc.ReleaseHold(t.Context(), first); err != nil {
			t.Fatalf("ReleaseHold: %v", err)
		}
		wantError(t, "second ReleaseHold", svc.ReleaseHold(t.Context(), first), kurir.ENotFound, "")
		purge(t, svc, 0, 0)
		wantKept("under the remaining hold")

		if err := svc.ReleaseHold(t.Context(), second); err != nil {
			t.Fatalf("ReleaseHold: %v", err)
		}
		purge(t, svc, 0, 1)
		purge(t, svc, 0, 0)
		row := readUserRow(t, db, u.ID)
		if row.Username.Valid || row.Email.Valid || row.Phone.Valid || row.PasswordHash.Valid {
			t.Errorf("users row after the holds ended = %+v, want personal data NULL", row)
		}
		wantGone(t, svc, u)
		_, err = svc.UserByUsername(t.Context(), "pavel")
		wantError(t, "UserByUsername after the holds ended", err, kurir.ENotFound, "")
	}, account.Migrations)
}

func TestLegalHoldExpires(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		svc, clock := newService(db, account.Config{DeletionGrace: 7 * 24 * time.Hour})
		long := registerWithContacts(t, svc, "pavel")
		short := registerWithContacts(t, svc, "jana")
		if _, err := svc.PlaceHold(t.Context(), long.ID, "Preservation request 1", clock.Now().Add(30*24*time.Hour)); err != nil {
			t.Fatal(err)
		}
		// A hold that ends before the grace period does keeps nothing.
		if _, err := svc.PlaceHold(t.Context(), short.ID, "Preservation request 2", clock.Now().Add(24*time.Hour)); err != nil {
			t.Fatal(err)
		}
		for _, u := range []account.User{long, short} {
			if _, err := svc.RequestDeletion(t.Context(), u.ID, password); err != nil {
				t.Fatal(err)
			}
		}
		clock.Advance(7 * 24 * time.Hour)
		purge(t, svc, 2, 1)
		if row := readUserRow(t, db, short.ID); row.Email.Valid {
			t.Errorf("account whose hold expired kept email %q", row.Email.String)
		}
		if row := readUserRow(t, db, long.ID); row.Email.String != "pavel@example.com" {
			t.Errorf("account under hold lost its email: row %+v", row)
		}

		clock.Advance(23*24*time.Hour - time.Second)
		purge(t, svc, 0, 0)
		clock.Advance(time.Second) // the hold's expiry
		purge(t, svc, 0, 1)
		if row := readUserRow(t, db, long.ID); row.Username.Valid || row.Email.Valid || row.Phone.Valid {
			t.Errorf("users row after the hold expired = %+v, want personal data NULL", row)
		}
	}, account.Migrations)
}

func TestPlaceHoldRefusesBadInput(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		svc, _ := newService(db, account.Config{})
		u := register(t, svc, "pavel")
		_, err := svc.PlaceHold(t.Context(), u.ID, "  ", time.Time{})
		wantError(t, "PlaceHold without reference", err, kurir.EInvalid, "empty")
		_, err = svc.PlaceHold(t.Context(), 1_000_000, "Preservation request 1", time.Time{})
		wantError(t, "PlaceHold on unknown user", err, kurir.ENotFound, "")
		wantError(t, "ReleaseHold of unknown hold", svc.ReleaseHold(t.Context(), 1_000_000), kurir.ENotFound, "")
		if n := countRows(t, db, "legal_holds"); n != 0 {
			t.Errorf("legal_holds rows = %d, want 0", n)
		}
	}, account.Migrations)
}
