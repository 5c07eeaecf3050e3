package messaging

import (
	"context"
	"fmt"
	"slices"
	"time"

	"kurir"
	"kurir/sqldb"
)

// MaxViewBatch is how many messages one RecordViews call may report: a
// screenful or two of posts, sent together rather than one call each.
const MaxViewBatch = 100

// ViewWindow is how long after it was sent a message takes views. Who was
// counted is remembered only this long (the janitor forgets it after), so a
// view reported later would count a second time; instead it does not count
// and the count stays as it was. Most of a post's views come in its first
// days, and this bounds the dedupe table to about a week of views rather
// than one row per viewer per post for ever.
const ViewWindow = 7 * 24 * time.Hour

// RecordViews counts user as a viewer of the messages seqs of chat id,
// which their device displayed: each user counts once per message, however
// often they report it. Only channels and large groups count views; the
// user must be able to read the chat (a member, or anyone for a public
// one). Seqs of messages that do not exist, were deleted or are older than
// ViewWindow are skipped. It returns how many views were new. An empty
// list, more than MaxViewBatch seqs or a seq below 1 is EInvalid and
// counts nothing.
func (s *Service) RecordViews(ctx context.Context, user kurir.UserID, id ChatID, seqs []int64) (int, error) {
	if len(seqs) == 0 || len(seqs) > MaxViewBatch {
		return 0, kurir.Invalid("seqs", "count", "Report between 1 and %d messages at a time; you sent %d.", MaxViewBatch, len(seqs))
	}
	for _, seq := range seqs {
		if seq < 1 {
			return 0, kurir.Invalid("seqs", "range", "Message seqs start at 1; %d is not one.", seq)
		}
	}
	seqs = slices.Compact(slices.Sorted(slices.Values(seqs)))
	now := s.clock.Now()
	oldest := sqldb.Micros(now.Add(-ViewWindow))
	counted := 0
	err := s.db.WriteTx(ctx, func(tx *sqldb.Tx) error {
		counted = 0
		c, err := s.loadChat(ctx, tx, id, user)
		if err != nil {
			return err
		}
		if !c.canRead() {
			return c.readErr()
		}
		if c.kind != Channel && !c.large {
			return kurir.Invalid("chat", "no_views", "Views are counted in channels and large groups only.")
		}
		// One row per viewer while the message takes views: the dedupe.
		args := []any{id}
		in := ""
		for _, seq := range seqs {
			res, err := tx.ExecContext(ctx, `INSERT INTO message_viewers (chat_id, seq, user_id, viewed_at)
				SELECT chat_id, seq, $3, $4 FROM messages WHERE chat_id = $1 AND seq = $2 AND deleted_at = 0 AND created_at >= $5
				ON CONFLICT (chat_id, seq, user_id) DO NOTHING`, id, seq, user, sqldb.Micros(now), oldest)
			if err != nil {
				return fmt.Errorf("record view: %w", err)
			}
			if n, _ := res.RowsAffected(); n > 0 {
				args = append(args, seq)
				in += fmt.Sprintf(",$%d", len(args))
			}
		}
		if len(args) == 1 {
			return nil
		}
		// The counters readers see, last and in one statement: their rows
		// are the hot ones a viral post's viewers queue for, so they are
		// locked for as short a time as the transaction allows.
		if _, err := tx.ExecContext(ctx, `UPDATE messages SET views = views + 1 WHERE chat_id = $1 AND seq IN (`+in[1:]+`)`, args...); err != nil {
			return fmt.Errorf("count views: %w", err)
		}
		counted = len(args) - 1
		return nil
	})
	if err != nil {
		return 0, err
	}
	return counted, nil
}

// ForgetViewers deletes who viewed what for views older than ViewWindow:
// their messages take no more views, so nothing needs them to count a
// viewer once. It returns how many it deleted.
func (s *Service) ForgetViewers(ctx context.Context) (int64, error) {
	cutoff := sqldb.Micros(s.clock.Now().Add(-ViewWindow))
	var n int64
	err := s.db.WriteTx(ctx, func(tx *sqldb.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM message_viewers WHERE viewed_at < $1`, cutoff)
		if err != nil {
			return err
		}
		n, _ = res.RowsAffected()
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("forget viewers: %w", err)
	}
	return n, nil
}

// recentPosts is how many of a chat's latest messages RecentViews looks at.
const recentPosts = 50

// RecentViews returns the most views any of the chat's latest messages
// has: how many people the chat reaches now, which for a channel with a
// viral post is more than its members. It is 0 for a chat that counts no
// views.
func (s *Service) RecentViews(ctx context.Context, id ChatID) (int64, error) {
	var views int64
	err := s.db.Read().QueryRowContext(ctx, `SELECT COALESCE(MAX(views), 0) FROM (
		SELECT views FROM messages WHERE chat_id = $1 ORDER BY seq DESC LIMIT $2) r`, id, recentPosts).Scan(&views)
	if err != nil {
		return 0, fmt.Errorf("recent views of chat %d: %w", id, err)
	}
	return views, nil
}
