package account

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"kurir"
	"kurir/legal/totp"
	"kurir/sqldb"
)

// totpIssuer names the service in authenticator apps, before the username.
const totpIssuer = "kurir"

// StaffRoles are the roles that read reported content or act on accounts,
// for which a stolen password must not be enough: with Config.StaffTOTPOptional
// unset they need a second factor (NeedsSecondFactor).
var StaffRoles = []kurir.Role{kurir.RoleTriage, kurir.RoleModerator, kurir.RoleLegal, kurir.RoleAdmin}

var (
	errTOTPRequired = &kurir.Error{Code: kurir.EUnauthenticated, Field: "totp", Reason: "totp_required",
		Message: "Enter the 6-digit code your authenticator app shows."}
	errTOTPInvalid = &kurir.Error{Code: kurir.EUnauthenticated, Field: "totp", Reason: "totp_invalid",
		Message: "That code is wrong or was already used. Enter the 6-digit code your authenticator app shows now."}
	errTOTPEnabled = &kurir.Error{Code: kurir.EConflict, Reason: "totp_enabled",
		Message: "An authenticator app is already set up; turn it off first to set up another."}
)

// NeedsSecondFactor reports whether p is staff (StaffRoles) without an
// authenticator app while the server requires one: such a principal is
// refused the staff operations until it sets one up (EnrolTOTP).
func (s *Service) NeedsSecondFactor(p Principal) bool {
	return !s.staffTOTPOptional && !p.User.TOTP && p.Has(StaffRoles...)
}

// TOTPEnrolment is a new authenticator secret, shown to its owner once.
type TOTPEnrolment struct {
	// Secret is the key in base32, for typing into an app.
	Secret string
	// URI is the otpauth:// URI, for a QR code.
	URI string
}

// EnrolTOTP makes a new authenticator secret for the user and keeps it
// pending, in place of any earlier pending one, until ConfirmTOTP proves the
// app shows its codes. It fails with EConflict "totp_enabled" if one is
// already confirmed.
func (s *Service) EnrolTOTP(ctx context.Context, userID kurir.UserID) (TOTPEnrolment, error) {
	key, err := totp.NewKey()
	if err != nil {
		return TOTPEnrolment{}, err
	}
	var username string
	err = s.db.WriteTx(ctx, func(tx *sqldb.Tx) error {
		u, err := s.findUser(ctx, tx, `u.id = $1 AND u.deleted_at IS NULL`, userID)
		if err != nil {
			return err
		}
		if u.TOTP {
			return errTOTPEnabled
		}
		username = u.Username
		_, err = tx.ExecContext(ctx, `UPDATE users SET totp_pending = $1 WHERE id = $2 AND totp_secret IS NULL`, key.Base32(), userID)
		return err
	})
	if err != nil {
		return TOTPEnrolment{}, err
	}
	return TOTPEnrolment{Secret: key.Base32(), URI: key.URI(totpIssuer, username)}, nil
}

// ConfirmTOTP turns on the pending authenticator secret, given a code the
// app shows now; from then on a login needs a code, and the code given here
// cannot be used again. It fails with EInvalid "totp_invalid" (field "code")
// for a wrong code, EConflict "totp_not_started" without a pending secret
// and EConflict "totp_enabled" if one is already on.
func (s *Service) ConfirmTOTP(ctx context.Context, userID kurir.UserID, code string) error {
	defer s.auth.clear() // after the change commits: see authCache
	return s.db.WriteTx(ctx, func(tx *sqldb.Tx) error {
		var secret, pending sql.NullString
		var last int64
		err := tx.QueryRowContext(ctx, `SELECT totp_secret, totp_pending, totp_last_step FROM users WHERE id = $1 AND deleted_at IS NULL`,
			userID).Scan(&secret, &pending, &last)
		if errors.Is(err, sql.ErrNoRows) {
			return kurir.Errorf(kurir.ENotFound, "No such user.")
		}
		if err != nil {
			return fmt.Errorf("confirm authenticator: %w", err)
		}
		if secret.Valid {
			return errTOTPEnabled
		}
		if !pending.Valid {
			return &kurir.Error{Code: kurir.EConflict, Reason: "totp_not_started", Message: "Start setting up your authenticator app first."}
		}
		key, err := totp.ParseKey(pending.String)
		if err != nil {
			return fmt.Errorf("user %d: stored authenticator secret: %w", userID, err)
		}
		step, ok := key.Verify(cleanCode(code), s.clock.Now(), last)
		if !ok {
			return kurir.Invalid("code", "totp_invalid", "That code is wrong. Enter the 6-digit code your authenticator app shows now.")
		}
		res, err := tx.ExecContext(ctx, `UPDATE users SET totp_secret = totp_pending, totp_pending = NULL, totp_last_step = $1
			WHERE id = $2 AND totp_secret IS NULL AND totp_pending = $3`, step, userID, pending.String)
		if err != nil {
			return fmt.Errorf("confirm authenticator: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errTOTPEnabled // a request racing this one confirmed it or began again
		}
		return nil
	})
}

// DisableTOTP turns the user's authenticator off. It asks for the password
// and a current code, so that neither a stolen session nor a stolen
// password alone can remove the second factor: EForbidden "wrong_password"
// (field "password") or EInvalid "totp_invalid" (field "code"), and
// EConflict "totp_not_enabled" if there is none.
func (s *Service) DisableTOTP(ctx context.Context, userID kurir.UserID, password, code string) error {
	defer s.auth.clear() // after the change commits: see authCache
	_, hash, err := s.userWithHash(ctx, userID)
	if err != nil {
		return err
	}
	if ok, err := s.verify(ctx, hash, password); err != nil {
		return fmt.Errorf("verify password of user %d: %w", userID, err)
	} else if !ok {
		return &kurir.Error{Code: kurir.EForbidden, Field: "password", Reason: "wrong_password", Message: "The password is wrong."}
	}
	return s.db.WriteTx(ctx, func(tx *sqldb.Tx) error {
		var secret sql.NullString
		var last int64
		if err := tx.QueryRowContext(ctx, `SELECT totp_secret, totp_last_step FROM users WHERE id = $1`, userID).Scan(&secret, &last); err != nil {
			return fmt.Errorf("disable authenticator: %w", err)
		}
		if !secret.Valid {
			return &kurir.Error{Code: kurir.EConflict, Reason: "totp_not_enabled", Message: "No authenticator app is set up."}
		}
		key, err := totp.ParseKey(secret.String)
		if err != nil {
			return fmt.Errorf("user %d: stored authenticator secret: %w", userID, err)
		}
		if _, ok := key.Verify(cleanCode(code), s.clock.Now(), last); !ok {
			return kurir.Invalid("code", "totp_invalid", "That code is wrong or was already used. Enter the 6-digit code your authenticator app shows now.")
		}
		_, err = tx.ExecContext(ctx, `UPDATE users SET totp_secret = NULL, totp_pending = NULL, totp_last_step = 0 WHERE id = $1`, userID)
		return err
	})
}

// ResetTOTP removes the user's authenticator, confirmed or pending, for an
// operator helping someone who lost theirs: the next login needs the
// password alone. It fails with ENotFound for an unknown user.
func (s *Service) ResetTOTP(ctx context.Context, userID kurir.UserID) error {
	defer s.auth.clear() // after the change commits: see authCache
	return s.db.WriteTx(ctx, func(tx *sqldb.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE users SET totp_secret = NULL, totp_pending = NULL, totp_last_step = 0 WHERE id = $1 AND deleted_at IS NULL`, userID)
		if err != nil {
			return fmt.Errorf("reset authenticator: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return kurir.Errorf(kurir.ENotFound, "No such user.")
		}
		return nil
	})
}

// loginCode checks a login's code against the user's authenticator and
// returns the time step it matched, for the login to claim (useLoginStep).
// A wrong code counts as a failed login on failKey, so that guessing six
// digits for someone whose password is known is as slow as guessing the
// password; a missing one does not, as a client asks for it only after.
func (s *Service) loginCode(ctx context.Context, userID kurir.UserID, code, failKey string) (int64, error) {
	code = cleanCode(code)
	if code == "" {
		return 0, errTOTPRequired
	}
	var secret sql.NullString
	var last int64
	if err := s.db.Read().QueryRowContext(ctx, `SELECT totp_secret, totp_last_step FROM users WHERE id = $1`, userID).Scan(&secret, &last); err != nil {
		return 0, fmt.Errorf("read authenticator of user %d: %w", userID, err)
	}
	if !secret.Valid {
		return 0, nil // turned off since the user was read
	}
	key, err := totp.ParseKey(secret.String)
	if err != nil {
		return 0, fmt.Errorf("user %d: stored authenticator secret: %w", userID, err)
	}
	step, ok := key.Verify(code, s.clock.Now(), last)
	if !ok {
		if s.loginFail != nil {
			s.loginFail.Allow(failKey)
		}
		return 0, errTOTPInvalid
	}
	return step, nil
}

// useLoginStep claims step for a login in tx: it fails with "totp_invalid"
// if a login racing this one has just used the same code (or a later one).
func useLoginStep(ctx context.Context, tx *sqldb.Tx, userID kurir.UserID, step int64) error {
	res, err := tx.ExecContext(ctx, `UPDATE users SET totp_last_step = $1 WHERE id = $2 AND totp_last_step < $1`, step, userID)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return errTOTPInvalid
	}
	return nil
}

// cleanCode takes a code as a person types it: with spaces around or
// between its two halves.
func cleanCode(code string) string {
	return strings.ReplaceAll(strings.TrimSpace(code), " ", "")
}
