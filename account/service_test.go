package account_test

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"kurir"
	"kurir/account"
	"kurir/ratelimit"
	"kurir/sqldb"
	"kurir/sqldb/sqldbtest"
)

func TestRegister(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		svc, clock := newService(db, account.Config{})
		u, err := svc.Register(t.Context(), account.RegisterParams{
			Username: "Pavel", Password: password, Email: "pavel@example.com", Phone: "+62 812-3456-7890",
		})
		if err != nil {
			t.Fatalf("Register: %v", err)
		}
		want := account.User{
			ID: u.ID, Username: "Pavel", DisplayName: "Pavel", Email: "pavel@example.com", Phone: "+6281234567890",
			Role: kurir.RoleUser, State: account.StateActive, CreatedAt: clock.Now(),
		}
		if u.ID == 0 || u != want {
			t.Errorf("Register returned\n got %+v\nwant %+v", u, want)
		}
		// What was stored reads back the same, found by any letter case.
		got, err := svc.UserByUsername(t.Context(), "pAVEL")
		if err != nil {
			t.Fatalf("UserByUsername: %v", err)
		}
		if got != want {
			t.Errorf("UserByUsername\n got %+v\nwant %+v", got, want)
		}

		// A display name given is kept; a role given is used.
		u, err = svc.Register(t.Context(), account.RegisterParams{
			Username: "jana", Password: password, DisplayName: "  Jana Nováková ", Role: kurir.RoleModerator,
		})
		if err != nil {
			t.Fatalf("Register jana: %v", err)
		}
		if u.DisplayName != "Jana Nováková" || u.Role != kurir.RoleModerator {
			t.Errorf("display name, role = %q, %q; want %q, %q", u.DisplayName, u.Role, "Jana Nováková", kurir.RoleModerator)
		}
	}, account.Migrations)
}

func TestRegisterRefusesTakenAndLookalikeUsernames(t *testing.T) {
	tests := []struct {
		name, taken, attempt string
	}{
		{"other letter case", "pavel", "PAVEL"},
		{"digit one for letter l", "pavel", "pave1"},
		{"capital I for letter l", "pavel", "paveI"},
		{"fullwidth letters", "pavel", "ｐａｖｅｌ"},
		{"whole-script Cyrillic", "pace", "\u0440\u0430\u0441\u0435"},          // "расе"
		{"whole-script Cyrillic capitals", "kate", "\u041a\u0410\u0422\u0415"}, // "КАТЕ"
		{"Latin after Cyrillic", "\u0440\u0430\u0441\u0435", "pace"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
				svc, _ := newService(db, account.Config{})
				register(t, svc, tt.taken)
				_, err := svc.Register(t.Context(), account.RegisterParams{Username: tt.attempt, Password: password})
				wantError(t, fmt.Sprintf("Register %q after %q", tt.attempt, tt.taken), err, kurir.EConflict, "username_taken")
				if n := countRows(t, db, "users"); n != 1 {
					t.Errorf("users rows = %d, want 1", n)
				}
				// A name that only resembles in part is free.
				register(t, svc, tt.taken+"2")
			}, account.Migrations)
		})
	}
}

func TestRegisterRefusesInvalidFields(t *testing.T) {
	ok := account.RegisterParams{Username: "pavel", Password: password}
	tests := []struct {
		name   string
		edit   func(p *account.RegisterParams)
		field  string
		reason string
	}{
		{"username too short", func(p *account.RegisterParams) { p.Username = "pa" }, "username", "username_too_short"},
		{"username mixed script", func(p *account.RegisterParams) { p.Username = "\u0440\u0430vel" }, "username", "username_mixed_script"},
		{"weak password", func(p *account.RegisterParams) { p.Password = "password1" }, "password", "weak_password"},
		{"password contains username", func(p *account.RegisterParams) { p.Password = "xx-pavel-xx" }, "password", "weak_password"},
		{"email without @", func(p *account.RegisterParams) { p.Email = "pavel.example.com" }, "email", "invalid_email"},
		{"email without domain dot", func(p *account.RegisterParams) { p.Email = "pavel@localhost" }, "email", "invalid_email"},
		{"email with name", func(p *account.RegisterParams) { p.Email = "Pavel <pavel@example.com>" }, "email", "invalid_email"},
		{"phone without country code", func(p *account.RegisterParams) { p.Phone = "0812 3456 7890" }, "phone", "invalid_phone"},
		{"phone with letters", func(p *account.RegisterParams) { p.Phone = "+62 812 CALL ME" }, "phone", "invalid_phone"},
		{"phone too short", func(p *account.RegisterParams) { p.Phone = "+62 81" }, "phone", "invalid_phone"},
		{"phone too long", func(p *account.RegisterParams) { p.Phone = "+62 8123 4567 8901 2345" }, "phone", "invalid_phone"},
		{"display name blank", func(p *account.RegisterParams) { p.DisplayName = "   " }, "display_name", "empty"},
		{"display name control character", func(p *account.RegisterParams) { p.DisplayName = "Pavel\x07" }, "display_name", "invalid_characters"},
		{"display name invisible character", func(p *account.RegisterParams) { p.DisplayName = "Pa\u202evel" }, "display_name", "invalid_characters"},
		{"display name too long", func(p *account.RegisterParams) { p.DisplayName = strings.Repeat("ж", 65) }, "display_name", "too_long"},
		{"unknown role", func(p *account.RegisterParams) { p.Role = "superuser" }, "role", "unknown_role"},
	}
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		svc, _ := newService(db, account.Config{})
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				p := ok
				tt.edit(&p)
				_, err := svc.Register(t.Context(), p)
				wantError(t, "Register", err, kurir.EInvalid, tt.reason)
				if got := errorField(err); got != tt.field {
					t.Errorf("Field = %q, want %q", got, tt.field)
				}
			})
		}
		if n := countRows(t, db, "users"); n != 0 {
			t.Errorf("users rows after failed registrations = %d, want 0", n)
		}
		// The same parameters, unedited, do register: the failures were the edits.
		register(t, svc, ok.Username)
	}, account.Migrations)
}

func TestRegisterRateLimitPerIP(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		svc, clock := newService(db, account.Config{Limits: &account.Limits{
			RegisterPerIP: ratelimit.Limit{Every: time.Hour, Burst: 2},
		}})
		reg := func(username, ip string) error {
			_, err := svc.Register(t.Context(), account.RegisterParams{Username: username, Password: password, IP: ip})
			return err
		}
		for _, name := range []string{"alice", "bruno"} {
			if err := reg(name, "192.0.2.1"); err != nil {
				t.Fatalf("Register %s within the burst: %v", name, err)
			}
		}
		err := reg("carla", "192.0.2.1")
		wantError(t, "third Register from one IP", err, kurir.ERateLimited, "too_many_attempts")
		var e *kurir.Error
		if !errors.As(err, &e) || e.RetryAfter <= 0 || e.RetryAfter > time.Hour {
			t.Errorf("RetryAfter of %v: want in (0, 1h]", err)
		}
		if n := countRows(t, db, "users"); n != 2 {
			t.Errorf("users rows = %d, want 2: the limited registration must write nothing", n)
		}
		if err := reg("carla", "192.0.2.2"); err != nil {
			t.Errorf("Register from another IP: %v", err)
		}
		for i := range 5 {
			if err := reg(fmt.Sprintf("operator%d", i), ""); err != nil {
				t.Errorf("operator Register %d (no IP): %v", i, err)
			}
		}
		// The allowance refills one registration per hour.
		clock.Advance(time.Hour)
		if err := reg("dmitri", "192.0.2.1"); err != nil {
			t.Errorf("Register an hour later: %v", err)
		}
		wantError(t, "second Register an hour later", reg("elena", "192.0.2.1"), kurir.ERateLimited, "too_many_attempts")
	}, account.Migrations)
}

func TestLogin(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		svc, clock := newService(db, account.Config{})
		u := register(t, svc, "pavel")
		token, sess, lu, err := svc.Login(t.Context(), account.LoginParams{
			Username: "Pavel", Password: password, DeviceName: "Pixel 8", UserAgent: "kurir-android/1.0", IP: "192.0.2.1",
		})
		if err != nil {
			t.Fatalf("Login: %v", err)
		}
		if !strings.HasPrefix(token, "kurir_") || len(token) < 40 {
			t.Errorf("token = %q, want kurir_ and at least 34 more characters", token)
		}
		wantSess := account.Session{ID: sess.ID, UserID: u.ID, DeviceName: "Pixel 8", UserAgent: "kurir-android/1.0",
			IP: "192.0.2.1", CreatedAt: clock.Now(), LastSeenAt: clock.Now()}
		if sess != wantSess {
			t.Errorf("session\n got %+v\nwant %+v", sess, wantSess)
		}
		if lu != u {
			t.Errorf("Login user\n got %+v\nwant %+v", lu, u)
		}

		p, err := svc.Authenticate(t.Context(), token)
		if err != nil {
			t.Fatalf("Authenticate: %v", err)
		}
		if p.User.ID != u.ID || p.SessionID != sess.ID {
			t.Errorf("principal = user %d session %d, want user %d session %d", p.User.ID, p.SessionID, u.ID, sess.ID)
		}

		// No column of any session holds the token or its random part.
		rows, err := db.Read().QueryContext(t.Context(), `SELECT * FROM sessions`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		cols, _ := rows.Columns()
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			for i, v := range vals {
				s := fmt.Sprint(v)
				if b, ok := v.([]byte); ok {
					s = string(b)
				}
				if strings.Contains(s, token) || strings.Contains(s, strings.TrimPrefix(token, "kurir_")) {
					t.Errorf("sessions.%s = %q holds the token", cols[i], s)
				}
			}
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}

		for _, bad := range []string{"", "kurir_", token + "x", strings.TrimPrefix(token, "kurir_"), "kurir_" + strings.Repeat("A", 200)} {
			_, err := svc.Authenticate(t.Context(), bad)
			wantError(t, fmt.Sprintf("Authenticate(%.20q...)", bad), err, kurir.EUnauthenticated, "invalid_token")
		}
	}, account.Migrations)
}

func TestLoginWrongCredentialsLookAlike(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		svc, _ := newService(db, account.Config{})
		register(t, svc, "pavel")
		attempts := []struct{ name, username, password string }{
			{"wrong password", "pavel", "not-the-password-7"},
			{"unknown user", "nobody_here", password},
			{"malformed username", "x!", password},
			{"over-long password", "pavel", strings.Repeat("p", 300)},
		}
		var first error
		for _, a := range attempts {
			_, _, _, err := svc.Login(t.Context(), account.LoginParams{Username: a.username, Password: a.password})
			wantError(t, a.name, err, kurir.EUnauthenticated, "wrong_credentials")
			if first == nil {
				first = err
				continue
			}
			if got, want := kurir.ErrorMessage(err), kurir.ErrorMessage(first); got != want {
				t.Errorf("%s: message %q, want the same as for a wrong password, %q", a.name, got, want)
			}
		}
		if n := countRows(t, db, "sessions"); n != 0 {
			t.Errorf("sessions rows = %d, want 0", n)
		}
	}, account.Migrations)
}

func TestLoginFailureLimitPerAccount(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		svc, clock := newService(db, account.Config{Limits: &account.Limits{
			LoginFailuresPerAccount: ratelimit.Limit{Every: time.Minute, Burst: 3},
		}})
		register(t, svc, "pavel")
		register(t, svc, "jana")
		try := func(username, pw, ip string) error {
			_, _, _, err := svc.Login(t.Context(), account.LoginParams{Username: username, Password: pw, IP: ip})
			return err
		}
		// Failures from different addresses and in different letter cases add up.
		for i, name := range []string{"pavel", "PAVEL", "Pavel"} {
			err := try(name, "guess-number-"+fmt.Sprint(i), fmt.Sprintf("198.51.100.%d", i))
			wantError(t, fmt.Sprintf("wrong password %d", i+1), err, kurir.EUnauthenticated, "wrong_credentials")
		}
		err := try("pavel", password, "192.0.2.1")
		wantError(t, "right password after 3 failures", err, kurir.ERateLimited, "too_many_attempts")
		var e *kurir.Error
		if !errors.As(err, &e) || e.RetryAfter <= 0 || e.RetryAfter > time.Minute {
			t.Errorf("RetryAfter of %v: want in (0, 1m]", err)
		}
		// Another account is not affected.
		if err := try("jana", password, "198.51.100.0"); err != nil {
			t.Errorf("Login to another account: %v", err)
		}
		clock.Advance(time.Minute)
		if err := try("pavel", password, "192.0.2.1"); err != nil {
			t.Errorf("Login a minute later: %v", err)
		}
	}, account.Migrations)
}

func TestLoginSuccessResetsFailures(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		svc, _ := newService(db, account.Config{Limits: &account.Limits{
			LoginFailuresPerAccount: ratelimit.Limit{Every: time.Hour, Burst: 3},
		}})
		register(t, svc, "pavel")
		// Without the reset, the fifth attempt below would be the fourth failure
		// and refused with ERateLimited.
		steps := []struct {
			password string
			want     kurir.Code
		}{
			{"guess-one-1", kurir.EUnauthenticated},
			{"guess-two-2", kurir.EUnauthenticated},
			{password, ""},
			{"guess-three-3", kurir.EUnauthenticated},
			{"guess-four-4", kurir.EUnauthenticated},
			{password, ""},
		}
		for i, s := range steps {
			_, _, _, err := svc.Login(t.Context(), account.LoginParams{Username: "pavel", Password: s.password})
			if got := kurir.ErrorCode(err); got != s.want {
				t.Errorf("attempt %d: code %q (err %v), want %q", i+1, got, err, s.want)
			}
		}
	}, account.Migrations)
}

func TestLoginRateLimitPerIP(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		svc, _ := newService(db, account.Config{Limits: &account.Limits{
			LoginPerIP: ratelimit.Limit{Every: time.Minute, Burst: 2},
		}})
		register(t, svc, "pavel")
		try := func(pw, ip string) error {
			_, _, _, err := svc.Login(t.Context(), account.LoginParams{Username: "pavel", Password: pw, IP: ip})
			return err
		}
		// Successes and failures both count against an address.
		if err := try(password, "192.0.2.1"); err != nil {
			t.Fatalf("first Login: %v", err)
		}
		wantError(t, "second Login", try("wrong-guess-22", "192.0.2.1"), kurir.EUnauthenticated, "wrong_credentials")
		err := try(password, "192.0.2.1")
		wantError(t, "third Login from one IP", err, kurir.ERateLimited, "too_many_attempts")
		var e *kurir.Error
		if !errors.As(err, &e) || e.RetryAfter <= 0 {
			t.Errorf("RetryAfter of %v: want > 0", err)
		}
		if err := try(password, "192.0.2.2"); err != nil {
			t.Errorf("Login from another IP: %v", err)
		}
	}, account.Migrations)
}

func TestSessions(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		svc, clock := newService(db, account.Config{})
		u := register(t, svc, "pavel")
		phone, _ := login(t, svc, "pavel", password, "Pixel 8")
		clock.Advance(time.Minute)
		login(t, svc, "pavel", password, "Firefox on laptop")
		clock.Advance(time.Minute)
		login(t, svc, "pavel", password, "")
		register(t, svc, "jana")
		login(t, svc, "jana", password, "Jana's phone")

		devices := func() []string {
			t.Helper()
			list, err := svc.Sessions(t.Context(), u.ID)
			if err != nil {
				t.Fatalf("Sessions: %v", err)
			}
			var names []string
			for _, s := range list {
				if s.UserID != u.ID {
					t.Errorf("Sessions(%d) lists session %d of user %d", u.ID, s.ID, s.UserID)
				}
				names = append(names, s.DeviceName)
			}
			return names
		}
		want := []string{"Unknown device", "Firefox on laptop", "Pixel 8"}
		if got := devices(); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("devices, most recent first = %q, want %q", got, want)
		}
		// Using a device moves it to the top, once its last-seen time is stale.
		clock.Advance(10 * time.Minute)
		if _, err := svc.Authenticate(t.Context(), phone); err != nil {
			t.Fatalf("Authenticate: %v", err)
		}
		want = []string{"Pixel 8", "Unknown device", "Firefox on laptop"}
		if got := devices(); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("devices after the phone was used = %q, want %q", got, want)
		}
	}, account.Migrations)
}

func TestRevokeSession(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		svc, _ := newService(db, account.Config{})
		pavel := register(t, svc, "pavel")
		jana := register(t, svc, "jana")
		pavelToken, pavelSess := login(t, svc, "pavel", password, "Pixel 8")
		janaToken, _ := login(t, svc, "jana", password, "iPhone")

		err := svc.RevokeSession(t.Context(), jana.ID, pavelSess.ID)
		wantError(t, "RevokeSession of another user's session", err, kurir.ENotFound, "")
		if _, err := svc.Authenticate(t.Context(), pavelToken); err != nil {
			t.Errorf("Authenticate after a stranger's revoke: %v", err)
		}
		wantError(t, "RevokeSession of no session", svc.RevokeSession(t.Context(), pavel.ID, pavelSess.ID+1000), kurir.ENotFound, "")

		if err := svc.RevokeSession(t.Context(), pavel.ID, pavelSess.ID); err != nil {
			t.Fatalf("RevokeSession: %v", err)
		}
		_, err = svc.Authenticate(t.Context(), pavelToken)
		wantError(t, "Authenticate of revoked token", err, kurir.EUnauthenticated, "invalid_token")
		if _, err := svc.Authenticate(t.Context(), janaToken); err != nil {
			t.Errorf("Authenticate of another user's token: %v", err)
		}
		wantError(t, "second RevokeSession", svc.RevokeSession(t.Context(), pavel.ID, pavelSess.ID), kurir.ENotFound, "")
	}, account.Migrations)
}

func TestLogout(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		svc, _ := newService(db, account.Config{})
		register(t, svc, "pavel")
		phone, _ := login(t, svc, "pavel", password, "Pixel 8")
		laptop, _ := login(t, svc, "pavel", password, "Laptop")
		p, err := svc.Authenticate(t.Context(), phone)
		if err != nil {
			t.Fatal(err)
		}
		if err := svc.Logout(t.Context(), p); err != nil {
			t.Fatalf("Logout: %v", err)
		}
		_, err = svc.Authenticate(t.Context(), phone)
		wantError(t, "Authenticate after Logout", err, kurir.EUnauthenticated, "invalid_token")
		if _, err := svc.Authenticate(t.Context(), laptop); err != nil {
			t.Errorf("the other device after Logout: %v", err)
		}
	}, account.Migrations)
}

func TestChangePassword(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		svc, _ := newService(db, account.Config{})
		u := register(t, svc, "pavel")
		current, sess := login(t, svc, "pavel", password, "Laptop")
		other, _ := login(t, svc, "pavel", password, "Pixel 8")
		const next = "brass-heron-umbrella-4"

		err := svc.ChangePassword(t.Context(), u.ID, sess.ID, "not-my-password-1", next)
		wantError(t, "ChangePassword with wrong current", err, kurir.EForbidden, "wrong_password")
		err = svc.ChangePassword(t.Context(), u.ID, sess.ID, password, "qwerty123")
		wantError(t, "ChangePassword to a weak one", err, kurir.EInvalid, "weak_password")
		if got := errorField(err); got != "new_password" {
			t.Errorf("weak new password: Field = %q, want new_password", got)
		}
		// Neither failure changed anything.
		if n := countRows(t, db, "sessions"); n != 2 {
			t.Errorf("sessions after failed changes = %d, want 2", n)
		}
		_, _, _, err = svc.Login(t.Context(), account.LoginParams{Username: "pavel", Password: next})
		wantError(t, "Login with the refused new password", err, kurir.EUnauthenticated, "wrong_credentials")

		if err := svc.ChangePassword(t.Context(), u.ID, sess.ID, password, next); err != nil {
			t.Fatalf("ChangePassword: %v", err)
		}
		_, _, _, err = svc.Login(t.Context(), account.LoginParams{Username: "pavel", Password: password})
		wantError(t, "Login with the old password", err, kurir.EUnauthenticated, "wrong_credentials")
		login(t, svc, "pavel", next, "Tablet")
		_, err = svc.Authenticate(t.Context(), other)
		wantError(t, "Authenticate of another device", err, kurir.EUnauthenticated, "invalid_token")
		if _, err := svc.Authenticate(t.Context(), current); err != nil {
			t.Errorf("Authenticate of the device that changed it: %v", err)
		}
	}, account.Migrations)
}

func TestSuspend(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		svc, clock := newService(db, account.Config{})
		u := register(t, svc, "pavel")
		token, _ := login(t, svc, "pavel", password, "Pixel 8")
		const reason = "Spam in public channels."
		until := clock.Now().Add(24 * time.Hour)
		if err := svc.Suspend(t.Context(), u.ID, until, reason); err != nil {
			t.Fatalf("Suspend: %v", err)
		}

		_, _, _, err := svc.Login(t.Context(), account.LoginParams{Username: "pavel", Password: password})
		wantError(t, "Login while suspended", err, kurir.EForbidden, "account_suspended")
		for _, want := range []string{reason, "2025-03-02 09:00"} {
			if msg := kurir.ErrorMessage(err); !strings.Contains(msg, want) {
				t.Errorf("suspension message %q does not contain %q", msg, want)
			}
		}
		// Only a proven password learns of the suspension.
		_, _, _, err = svc.Login(t.Context(), account.LoginParams{Username: "pavel", Password: "wrong-guess-55"})
		wantError(t, "wrong password while suspended", err, kurir.EUnauthenticated, "wrong_credentials")
		_, err = svc.Authenticate(t.Context(), token)
		wantError(t, "Authenticate while suspended", err, kurir.EForbidden, "account_suspended")

		clock.Advance(24*time.Hour - time.Second)
		_, err = svc.Authenticate(t.Context(), token)
		wantError(t, "Authenticate a second before the end", err, kurir.EForbidden, "account_suspended")
		clock.Advance(time.Second)
		if _, err := svc.Authenticate(t.Context(), token); err != nil {
			t.Errorf("Authenticate after the suspension: %v", err)
		}
		login(t, svc, "pavel", password, "Laptop")
	}, account.Migrations)
}

func TestBanAndReinstate(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		svc, clock := newService(db, account.Config{})
		u := register(t, svc, "pavel")
		token, _ := login(t, svc, "pavel", password, "Pixel 8")
		const reason = "Selling stolen accounts."
		if err := svc.Ban(t.Context(), u.ID, reason); err != nil {
			t.Fatalf("Ban: %v", err)
		}
		clock.Advance(365 * 24 * time.Hour) // a ban does not run out
		_, _, _, err := svc.Login(t.Context(), account.LoginParams{Username: "pavel", Password: password})
		wantError(t, "Login while banned", err, kurir.EForbidden, "account_banned")
		if msg := kurir.ErrorMessage(err); !strings.Contains(msg, reason) {
			t.Errorf("ban message %q does not contain %q", msg, reason)
		}
		_, err = svc.Authenticate(t.Context(), token)
		wantError(t, "Authenticate while banned", err, kurir.EForbidden, "account_banned")
		got, err := svc.UserByID(t.Context(), u.ID)
		if err != nil || got.State != account.StateBanned || got.StateReason != reason {
			t.Errorf("UserByID = state %q reason %q (err %v), want %q %q", got.State, got.StateReason, err, account.StateBanned, reason)
		}

		if err := svc.Reinstate(t.Context(), u.ID); err != nil {
			t.Fatalf("Reinstate: %v", err)
		}
		if _, err := svc.Authenticate(t.Context(), token); err != nil {
			t.Errorf("Authenticate after Reinstate: %v", err)
		}
		login(t, svc, "pavel", password, "Laptop")
		got, err = svc.UserByID(t.Context(), u.ID)
		if err != nil || got.State != account.StateActive || got.StateReason != "" || !got.SuspendedUntil.IsZero() {
			t.Errorf("UserByID after Reinstate = state %q reason %q until %v (err %v), want active with no reason",
				got.State, got.StateReason, got.SuspendedUntil, err)
		}

		// Reinstate also lifts a suspension early.
		if err := svc.Suspend(t.Context(), u.ID, clock.Now().Add(time.Hour), "Cooling off."); err != nil {
			t.Fatal(err)
		}
		if err := svc.Reinstate(t.Context(), u.ID); err != nil {
			t.Fatal(err)
		}
		login(t, svc, "pavel", password, "Tablet")
	}, account.Migrations)
}

func TestStandingAndRoleRefuseBadInput(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		svc, clock := newService(db, account.Config{})
		u := register(t, svc, "pavel")
		const missing = kurir.UserID(1_000_000)
		tests := []struct {
			name   string
			call   func() error
			code   kurir.Code
			field  string
			reason string
		}{
			{"suspend until the past", func() error { return svc.Suspend(t.Context(), u.ID, clock.Now().Add(-time.Hour), "Spam.") },
				kurir.EInvalid, "until", "in_past"},
			{"suspend until now", func() error { return svc.Suspend(t.Context(), u.ID, clock.Now(), "Spam.") },
				kurir.EInvalid, "until", "in_past"},
			{"suspend without reason", func() error { return svc.Suspend(t.Context(), u.ID, clock.Now().Add(time.Hour), " ") },
				kurir.EInvalid, "reason", "empty"},
			{"ban without reason", func() error { return svc.Ban(t.Context(), u.ID, "") },
				kurir.EInvalid, "reason", "empty"},
			{"unknown role", func() error { return svc.SetRole(t.Context(), u.ID, "superuser") },
				kurir.EInvalid, "role", "unknown_role"},
			{"suspend unknown user", func() error { return svc.Suspend(t.Context(), missing, clock.Now().Add(time.Hour), "Spam.") },
				kurir.ENotFound, "", ""},
			{"ban unknown user", func() error { return svc.Ban(t.Context(), missing, "Spam.") },
				kurir.ENotFound, "", ""},
			{"role of unknown user", func() error { return svc.SetRole(t.Context(), missing, kurir.RoleAdmin) },
				kurir.ENotFound, "", ""},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				err := tt.call()
				wantError(t, tt.name, err, tt.code, tt.reason)
				if got := errorField(err); got != tt.field {
					t.Errorf("Field = %q, want %q", got, tt.field)
				}
			})
		}
		got, err := svc.UserByID(t.Context(), u.ID)
		if err != nil || got.State != account.StateActive || got.Role != kurir.RoleUser {
			t.Errorf("after refused changes: state %q role %q (err %v), want active user", got.State, got.Role, err)
		}

		if err := svc.SetRole(t.Context(), u.ID, kurir.RoleModerator); err != nil {
			t.Fatalf("SetRole: %v", err)
		}
		token, _ := login(t, svc, "pavel", password, "Laptop")
		p, err := svc.Authenticate(t.Context(), token)
		if err != nil {
			t.Fatal(err)
		}
		if !p.Has(kurir.RoleModerator, kurir.RoleAdmin) || p.Has(kurir.RoleAdmin) {
			t.Errorf("principal role %q: want moderator", p.User.Role)
		}
	}, account.Migrations)
}

func TestUpdateProfile(t *testing.T) {
	ptr := func(s string) *string { return &s }
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		svc, _ := newService(db, account.Config{})
		reg, err := svc.Register(t.Context(), account.RegisterParams{
			Username: "pavel", Password: password, Email: "pavel@example.com", Phone: "+420 601 234 567",
		})
		if err != nil {
			t.Fatal(err)
		}
		steps := []struct {
			name    string
			update  account.ProfileUpdate
			code    kurir.Code
			field   string
			display string // the profile after the step
			email   string
			phone   string
		}{
			{"display name only", account.ProfileUpdate{DisplayName: ptr(" Pavel Novák ")}, "", "",
				"Pavel Novák", "pavel@example.com", "+420601234567"},
			{"nothing", account.ProfileUpdate{}, "", "",
				"Pavel Novák", "pavel@example.com", "+420601234567"},
			{"phone normalised", account.ProfileUpdate{Phone: ptr("+1 (415) 555-0100")}, "", "",
				"Pavel Novák", "pavel@example.com", "+14155550100"},
			{"empty email clears it", account.ProfileUpdate{Email: ptr("")}, "", "",
				"Pavel Novák", "", "+14155550100"},
			{"invalid phone changes nothing", account.ProfileUpdate{DisplayName: ptr("P."), Email: ptr("p@example.org"), Phone: ptr("555-0100")},
				kurir.EInvalid, "phone", "Pavel Novák", "", "+14155550100"},
			{"invalid email changes nothing", account.ProfileUpdate{DisplayName: ptr("P."), Email: ptr("p@"), Phone: ptr("")},
				kurir.EInvalid, "email", "Pavel Novák", "", "+14155550100"},
			{"blank display name refused", account.ProfileUpdate{DisplayName: ptr(" ")},
				kurir.EInvalid, "display_name", "Pavel Novák", "", "+14155550100"},
			{"empty phone clears it", account.ProfileUpdate{Phone: ptr(""), Email: ptr("novak@example.cz")}, "", "",
				"Pavel Novák", "novak@example.cz", ""},
		}
		for _, s := range steps {
			returned, err := svc.UpdateProfile(t.Context(), reg.ID, s.update)
			if kurir.ErrorCode(err) != s.code || errorField(err) != s.field {
				t.Errorf("%s: code %q field %q (err %v), want %q %q", s.name, kurir.ErrorCode(err), errorField(err), err, s.code, s.field)
			}
			stored, err2 := svc.UserByID(t.Context(), reg.ID)
			if err2 != nil {
				t.Fatal(err2)
			}
			if err == nil && returned != stored {
				t.Errorf("%s: UpdateProfile returned %+v, but stored is %+v", s.name, returned, stored)
			}
			got := [3]string{stored.DisplayName, stored.Email, stored.Phone}
			if want := [3]string{s.display, s.email, s.phone}; got != want {
				t.Errorf("%s: display, email, phone = %q, want %q", s.name, got, want)
			}
			if stored.Username != "pavel" {
				t.Errorf("%s: username = %q, want pavel", s.name, stored.Username)
			}
		}
		// A cleared field is NULL in the row, not an empty string.
		if row := readUserRow(t, db, reg.ID); row.Phone.Valid {
			t.Errorf("cleared phone stored as %q, want NULL", row.Phone.String)
		}
	}, account.Migrations)
}

// TestConcurrentRegisterAndLogin is the "database is locked" check: on
// SQLite every write must queue for the one writer instead of failing.
func TestConcurrentRegisterAndLogin(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		svc, _ := newService(db, account.Config{})
		const n = 20
		tokens := make([]string, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				name := fmt.Sprintf("user%02d", i)
				if _, err := svc.Register(t.Context(), account.RegisterParams{Username: name, Password: password}); err != nil {
					errs[i] = fmt.Errorf("Register %s: %w", name, err)
					return
				}
				token, _, _, err := svc.Login(t.Context(), account.LoginParams{Username: name, Password: password, DeviceName: "Phone"})
				if err != nil {
					errs[i] = fmt.Errorf("Login %s: %w", name, err)
					return
				}
				tokens[i] = token
			})
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Errorf("goroutine %d: %v", i, err)
				continue
			}
			p, err := svc.Authenticate(t.Context(), tokens[i])
			if want := fmt.Sprintf("user%02d", i); err != nil || p.User.Username != want {
				t.Errorf("Authenticate token %d = %q (err %v), want %q", i, p.User.Username, err, want)
			}
		}
		if got := countRows(t, db, "users"); got != n {
			t.Errorf("users rows = %d, want %d", got, n)
		}
		if got := countRows(t, db, "sessions"); got != n {
			t.Errorf("sessions rows = %d, want %d", got, n)
		}
	}, account.Migrations)
}

// TestAuthenticateCache: a token's answer is kept for a moment. A change
// made through this service (logout, revoke, suspend, profile) takes effect
// at once; one made elsewhere, such as another node revoking the session in
// the shared database, within two seconds.
func TestAuthenticateCache(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		svc, clock := newService(db, account.Config{})
		ctx := t.Context()
		u := register(t, svc, "cached")
		token, _ := login(t, svc, "cached", password, "phone")
		other, otherSess := login(t, svc, "cached", password, "laptop")
		for _, tok := range []string{token, other} {
			if _, err := svc.Authenticate(ctx, tok); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := svc.UpdateProfile(ctx, u.ID, account.ProfileUpdate{DisplayName: ptr("Renamed")}); err != nil {
			t.Fatal(err)
		}
		if p, err := svc.Authenticate(ctx, token); err != nil || p.User.DisplayName != "Renamed" {
			t.Errorf("after a profile change: %q, %v; want the new name at once", p.User.DisplayName, err)
		}
		if err := svc.RevokeSession(ctx, u.ID, otherSess.ID); err != nil {
			t.Fatal(err)
		}
		_, err := svc.Authenticate(ctx, other)
		wantError(t, "revoked session", err, kurir.EUnauthenticated, "invalid_token")
		if _, err := svc.Authenticate(ctx, token); err != nil { // cached again
			t.Fatal(err)
		}

		// Another node deletes the session directly in the database.
		if err := db.WriteTx(ctx, func(tx *sqldb.Tx) error {
			_, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = $1`, u.ID)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.Authenticate(ctx, token); err != nil {
			t.Errorf("within the cache's life a change made elsewhere may not show yet, but got %v", err)
		}
		clock.Advance(2 * time.Second)
		_, err = svc.Authenticate(ctx, token)
		wantError(t, "session deleted elsewhere, two seconds on", err, kurir.EUnauthenticated, "invalid_token")
	}, account.Migrations)
}

func ptr[T any](v T) *T { return &v }
