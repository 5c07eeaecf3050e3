package account

import (
	"context"
	"fmt"
	"time"

	"kurir"
	"kurir/sqldb"
)

// SetRole gives an account a role. It is an operator action.
func (s *Service) SetRole(ctx context.Context, id kurir.UserID, role kurir.Role) error {
	if !role.Valid() {
		return kurir.Invalid("role", "unknown_role", "Unknown role %q; roles are user, triage, moderator, legal and admin.", role)
	}
	return s.update(ctx, id, `role = $1`, string(role))
}

// Suspend stops an account from acting until the given time, and logs out
// none of its devices: they are refused, with the reason, until it ends.
func (s *Service) Suspend(ctx context.Context, id kurir.UserID, until time.Time, reason string) error {
	if !until.After(s.clock.Now()) {
		return kurir.Invalid("until", "in_past", "A suspension must end in the future.")
	}
	r, err := cleanText("reason", "reason", reason, 500)
	if err != nil {
		return err
	}
	return s.update(ctx, id, `state = 'suspended', suspended_until = $1, state_reason = $2`, sqldb.Micros(until), r)
}

// Ban stops an account from acting until it is reinstated.
func (s *Service) Ban(ctx context.Context, id kurir.UserID, reason string) error {
	r, err := cleanText("reason", "reason", reason, 500)
	if err != nil {
		return err
	}
	return s.update(ctx, id, `state = 'banned', suspended_until = NULL, state_reason = $1`, r)
}

// Reinstate lifts a suspension or ban.
func (s *Service) Reinstate(ctx context.Context, id kurir.UserID) error {
	return s.update(ctx, id, `state = 'active', suspended_until = NULL, state_reason = ''`)
}

// update applies set (with $1.. bound to args) to a live account, failing
// with ENotFound if there is none.
func (s *Service) update(ctx context.Context, id kurir.UserID, set string, args ...any) error {
	defer s.auth.clear() // after the change commits: see authCache
	args = append(args, id)
	q := fmt.Sprintf(`UPDATE users SET %s WHERE id = $%d AND deleted_at IS NULL`, set, len(args))
	return s.db.WriteTx(ctx, func(tx *sqldb.Tx) error {
		res, err := tx.ExecContext(ctx, q, args...)
		if err != nil {
			return fmt.Errorf("update user %d: %w", id, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return kurir.Errorf(kurir.ENotFound, "No user with ID %d.", id)
		}
		return nil
	})
}
