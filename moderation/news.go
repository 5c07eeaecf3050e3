package moderation

import (
	"context"
	"fmt"

	"kurir"
	"kurir/sqldb"
)

// The person a decision is about is told of it (DSA Art. 17(1)): when a
// decision against their content or account is recorded, and when it is
// reversed, the decision is marked as news to them (mod_actions.news_at,
// in the transaction that records it) and their devices connected live
// are nudged with FrameDecision. The count of news is the badge on their
// decisions, the same on every device, until they read their statements.

// FrameDecision is the live frame {"type":"decision"}: a decision about
// the user was taken or reversed; fetch the count of news
// (UnseenStatements), or the statements.
const FrameDecision = "decision"

// tellAffected nudges the live devices of the person a decision is about,
// if the service was given a way to (Config.Live). A lost nudge costs
// nothing that reading the count on connecting does not make up for.
func (s *Service) tellAffected(ctx context.Context, user kurir.UserID) {
	if s.cfg.Live == nil || user == 0 {
		return
	}
	sessions, err := s.acc.Sessions(ctx, user)
	if err != nil {
		s.log.Warn("tell a user of a decision", "user", user, "err", err)
		return
	}
	for _, d := range sessions {
		s.cfg.Live.NotifyDevice(ctx, user, d.ID, FrameDecision)
	}
}

// UnseenStatements is how many of the decisions about user were taken or
// reversed since they last read their statements (ReadStatements).
func (s *Service) UnseenStatements(ctx context.Context, user kurir.UserID) (int, error) {
	var n int
	if err := s.db.Read().QueryRowContext(ctx, `SELECT COUNT(*) FROM mod_actions WHERE affected_id = $1 AND news_at <> 0`, user).Scan(&n); err != nil {
		return 0, fmt.Errorf("unseen statements: %w", err)
	}
	return n, nil
}

// ReadStatements is Statements as the user reads them: what it returns is
// no longer news to them, and their devices connected live are nudged to
// fetch the count again. A decision taken or reversed while they read
// stays news, so the badge it makes is not lost.
func (s *Service) ReadStatements(ctx context.Context, user kurir.UserID) ([]Action, map[int64]Appeal, error) {
	// The news first: whatever Statements then returns includes it.
	type news struct{ id, at int64 }
	var seen []news
	rows, err := s.db.Read().QueryContext(ctx, `SELECT id, news_at FROM mod_actions WHERE affected_id = $1 AND news_at <> 0`, user)
	if err != nil {
		return nil, nil, fmt.Errorf("statement news: %w", err)
	}
	for rows.Next() {
		var n news
		if err := rows.Scan(&n.id, &n.at); err != nil {
			rows.Close()
			return nil, nil, err
		}
		seen = append(seen, n)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, nil, err
	}
	as, appeals, err := s.Statements(ctx, user)
	if err != nil || len(seen) == 0 {
		return as, appeals, err
	}
	err = s.db.WriteTx(ctx, func(tx *sqldb.Tx) error {
		for _, n := range seen {
			// Only if unchanged: a reversal meanwhile is news again.
			if _, err := tx.ExecContext(ctx, `UPDATE mod_actions SET news_at = 0 WHERE id = $1 AND affected_id = $2 AND news_at = $3`,
				n.id, user, n.at); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("mark statements read: %w", err)
	}
	s.tellAffected(ctx, user) // their other devices' badges go too
	return as, appeals, nil
}
