package main

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"kurir"
	"kurir/account"
	"kurir/legal/totp"
)

// TestAdminUserReset2FA: an operator removes a lost authenticator; the
// account then logs in with the password alone, and asking again says there
// is none.
func TestAdminUserReset2FA(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	admin := func(stdin string, args ...string) (string, error) {
		t.Helper()
		var out, errOut bytes.Buffer
		err := run(ctx, append(append([]string{"kurir"}, args...), "--data-dir", dir), noEnv, strings.NewReader(stdin), &out, &errOut)
		return out.String() + errOut.String(), err
	}
	if out, err := admin("Wet-otter-lantern-9\n", append([]string{"admin", "user", "create", "--role", "moderator", "bobby"}, cheap...)...); err != nil {
		t.Fatalf("create: %v\n%s", err, out)
	}
	c := common{dataDir: dir, logLevel: "error", logFormat: "text"}
	db, err := c.openDB(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	acc := account.NewService(db, kurir.SystemClock{}, nil, account.Config{Argon2: account.CheapArgon2Params, Limits: &account.Limits{}})
	bobby, err := acc.UserByUsername(ctx, "bobby")
	if err != nil {
		t.Fatal(err)
	}
	e, err := acc.EnrolTOTP(ctx, bobby.ID)
	if err != nil {
		t.Fatal(err)
	}
	key, _ := totp.ParseKey(e.Secret)
	if err := acc.ConfirmTOTP(ctx, bobby.ID, key.Code(kurir.SystemClock{}.Now())); err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := acc.Login(ctx, account.LoginParams{Username: "bobby", Password: "Wet-otter-lantern-9"}); kurir.ErrorReason(err) != "totp_required" {
		t.Fatalf("login without a code before the reset: %v, want totp_required", err)
	}

	out, err := admin("", "admin", "user", "reset-2fa", "bobby")
	if err != nil || !strings.Contains(out, "bobby's authenticator app is removed") {
		t.Fatalf("reset-2fa: %v\n%s", err, out)
	}
	if _, _, _, err := acc.Login(ctx, account.LoginParams{Username: "bobby", Password: "Wet-otter-lantern-9"}); err != nil {
		t.Errorf("login with the password alone after the reset: %v", err)
	}
	var n int
	if err := db.Read().QueryRowContext(ctx, `SELECT COUNT(*) FROM audit_log WHERE action = 'admin.reset_2fa' AND subject = $1`, fmt.Sprintf("user:%d", bobby.ID)).Scan(&n); err != nil || n != 1 {
		t.Errorf("audit entries for the reset: %d (%v), want 1", n, err)
	}
	if out, err := admin("", "admin", "user", "reset-2fa", "bobby"); err == nil || !strings.Contains(err.Error(), "has no authenticator app") {
		t.Errorf("reset-2fa again: %v\n%s; want an error saying there is none", err, out)
	}
	if _, err := admin("", "admin", "user", "reset-2fa", "nobody"); err == nil || !strings.Contains(err.Error(), `no user named "nobody"`) {
		t.Errorf("reset-2fa of an unknown user: %v", err)
	}
}

// TestServeStaff2FAFlag: a value other than required or optional stops the
// server from starting, naming the flag.
func TestServeStaff2FAFlag(t *testing.T) {
	_, _, err := kurirCmd(t, "", "serve", "--data-dir", t.TempDir(), "--staff-2fa", "maybe")
	if err == nil || !strings.Contains(err.Error(), "--staff-2fa") {
		t.Errorf("serve --staff-2fa maybe: %v, want an error naming --staff-2fa", err)
	}
}
