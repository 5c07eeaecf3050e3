package account

import (
	"context"
	"fmt"
	"time"

	"kurir"
	"kurir/sqldb"
)

// RequestDeletion schedules the account's deletion after the grace period and
// logs out every device. Logging in again before then cancels the deletion.
// The password is asked again so that a stolen session cannot delete an account.
func (s *Service) RequestDeletion(ctx context.Context, id kurir.UserID, password string) (time.Time, error) {
	defer s.auth.clear() // after the change commits: see authCache
	_, hash, err := s.userWithHash(ctx, id)
	if err != nil {
		return time.Time{}, err
	}
	if ok, err := s.verify(ctx, hash, password); err != nil {
		return time.Time{}, fmt.Errorf("verify password of user %d: %w", id, err)
	} else if !ok {
		return time.Time{}, &kurir.Error{Code: kurir.EForbidden, Field: "password", Reason: "wrong_password", Message: "The password is wrong."}
	}
	at := s.clock.Now().Add(s.grace).UTC().Truncate(time.Microsecond)
	err = s.db.WriteTx(ctx, func(tx *sqldb.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE users SET deletion_scheduled_at = $1 WHERE id = $2 AND deleted_at IS NULL`, sqldb.Micros(at), id); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = $1`, id)
		return err
	})
	if err != nil {
		return time.Time{}, fmt.Errorf("schedule deletion of user %d: %w", id, err)
	}
	return at, nil
}

// PlaceHold keeps the account's personal data through deletion until the hold
// is released or expires (zero expires: until released). reference names the
// legal basis, e.g. a preservation request's number. It returns the hold's ID.
func (s *Service) PlaceHold(ctx context.Context, id kurir.UserID, reference string, expires time.Time) (int64, error) {
	ref, err := cleanText("reference", "reference", reference, 200)
	if err != nil {
		return 0, err
	}
	var holdID int64
	err = s.db.WriteTx(ctx, func(tx *sqldb.Tx) error {
		if _, err := s.findUser(ctx, tx, `u.id = $1`, id); err != nil {
			return err
		}
		return tx.QueryRowContext(ctx, `INSERT INTO legal_holds (user_id, reference, placed_at, expires_at) VALUES ($1, $2, $3, $4) RETURNING id`,
			id, ref, sqldb.Micros(s.clock.Now()), sqldb.NullMicros(expires)).Scan(&holdID)
	})
	return holdID, err
}

// ReleaseHold ends a hold. The next PurgeDue wipes data it was keeping.
func (s *Service) ReleaseHold(ctx context.Context, holdID int64) error {
	return s.db.WriteTx(ctx, func(tx *sqldb.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE legal_holds SET released_at = $1 WHERE id = $2 AND released_at IS NULL`,
			sqldb.Micros(s.clock.Now()), holdID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return kurir.Errorf(kurir.ENotFound, "No active legal hold %d.", holdID)
		}
		return nil
	})
}

// PurgeDue deletes every account whose grace period has ended. An account
// under an active legal hold is deleted for its owner (no login, no sessions)
// but its personal data is kept until the hold ends, when a later call wipes
// it. It returns how many accounts it deleted and how many it wiped; it is
// idempotent and safe to run on several nodes at once.
func (s *Service) PurgeDue(ctx context.Context) (deleted, wiped int, err error) {
	defer s.auth.clear() // after the change commits: see authCache
	now := sqldb.Micros(s.clock.Now())
	err = s.db.WriteTx(ctx, func(tx *sqldb.Tx) error {
		res, err := tx.ExecContext(ctx, `
			UPDATE users SET state = 'deleted', deleted_at = $1
			WHERE deleted_at IS NULL AND deletion_scheduled_at IS NOT NULL AND deletion_scheduled_at <= $1`, now)
		if err != nil {
			return err
		}
		n, _ := res.RowsAffected()
		deleted = int(n)
		if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE user_id IN (SELECT id FROM users WHERE deleted_at IS NOT NULL)`); err != nil {
			return err
		}
		res, err = tx.ExecContext(ctx, `
			UPDATE users SET username = NULL, username_key = NULL, username_skeleton = NULL,
				display_name = 'Deleted Account', password_hash = NULL, totp_secret = NULL, totp_pending = NULL, email = NULL, phone = NULL, purged_at = $1
			WHERE deleted_at IS NOT NULL AND purged_at IS NULL
			AND NOT EXISTS (SELECT 1 FROM legal_holds h WHERE h.user_id = users.id
				AND h.released_at IS NULL AND (h.expires_at IS NULL OR h.expires_at > $1))`, now)
		if err != nil {
			return err
		}
		n, _ = res.RowsAffected()
		wiped = int(n)
		return nil
	})
	if err != nil {
		return 0, 0, fmt.Errorf("purge deleted accounts: %w", err)
	}
	return deleted, wiped, nil
}

// RunPurger calls PurgeDue every interval until ctx is done, logging what it did.
func (s *Service) RunPurger(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if d, w, err := s.PurgeDue(ctx); err != nil {
			s.log.Error("account purge", "err", err)
		} else if d+w > 0 {
			s.log.Info("account purge", "deleted", d, "wiped", w)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
