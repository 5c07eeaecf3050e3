package moderation

import (
	"context"
	"fmt"
	"time"

	"kurir"
	"kurir/sqldb"
)

// suspend suspends user until the given time for reason, unless a stronger
// decision in force already holds the account: a ban, or a suspension that
// ends later. A milder decision taken afterwards (a short suspension on
// another case) must not lift what is in force; it is recorded all the
// same, and its reversal recomputes the standing (restoreStanding).
func (s *Service) suspend(ctx context.Context, user kurir.UserID, until time.Time, reason string) error {
	var stronger int64
	err := s.db.Read().QueryRowContext(ctx, `SELECT COUNT(*) FROM mod_actions
		WHERE user_id = $1 AND reversed_at = 0 AND (kind = 'ban' OR (kind = 'suspend' AND ends_at >= $2))`,
		user, sqldb.Micros(until)).Scan(&stronger)
	if err != nil {
		return fmt.Errorf("standing of user %d: %w", user, err)
	}
	if stronger > 0 {
		return nil
	}
	return s.acc.Suspend(ctx, user, until, reason)
}
