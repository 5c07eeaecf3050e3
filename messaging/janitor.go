package messaging

import (
	"context"
	"fmt"
	"time"

	"kurir/sqldb"
)

// IdempotencyWindow is how long a send's idempotency key is remembered. A
// client retries within seconds or minutes; a day covers a device that was
// offline overnight with a send in flight.
const IdempotencyWindow = 24 * time.Hour

// ForgetSendKeys deletes idempotency keys older than IdempotencyWindow, so
// that the table holds about a day of sends rather than all of them. It
// returns how many it deleted.
func (s *Service) ForgetSendKeys(ctx context.Context) (int64, error) {
	cutoff := sqldb.Micros(s.clock.Now().Add(-IdempotencyWindow))
	var n int64
	err := s.db.WriteTx(ctx, func(tx *sqldb.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM send_keys WHERE created_at < $1`, cutoff)
		if err != nil {
			return err
		}
		n, _ = res.RowsAffected()
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("forget send keys: %w", err)
	}
	return n, nil
}

// RunJanitor forgets old idempotency keys and viewers every interval until ctx ends.
func (s *Service) RunJanitor(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if n, err := s.ForgetSendKeys(ctx); err != nil {
			s.log.Error("messaging janitor", "err", err)
		} else if n > 0 {
			s.log.Info("forgot old idempotency keys", "keys", n)
		}
		if n, err := s.ForgetViewers(ctx); err != nil {
			s.log.Error("messaging janitor", "err", err)
		} else if n > 0 {
			s.log.Info("forgot old viewers", "views", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
