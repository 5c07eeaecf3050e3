package messaging

import (
	"context"
	"fmt"
	"math"
	"time"

	"kurir"
	"kurir/sqldb"
)

// MaxSentBy bounds one SentBy answer.
const MaxSentBy = 100_000

// SentBy returns the cloud-chat messages user sent, in chats of every kind,
// created in [from, to) (a zero bound is open), oldest first, at most limit
// of them (MaxSentBy if limit is not in 1..MaxSentBy). It serves a
// disclosure under legal process and so reads past every restriction a
// reader meets: chats taken down, content withheld in a country. A message
// moderation removed, or holds for review, carries the content kept for it
// and the time of its removal; a message its author or a chat admin deleted
// is listed as Deleted, without its text, which is gone.
func (s *Service) SentBy(ctx context.Context, user kurir.UserID, from, to time.Time, limit int) ([]ReviewedMessage, error) {
	limit = clampLimit(limit, MaxSentBy)
	lo, hi := int64(math.MinInt64), int64(math.MaxInt64)
	if !from.IsZero() {
		lo = sqldb.Micros(from)
	}
	if !to.IsZero() {
		hi = sqldb.Micros(to)
	}
	rows, err := s.db.Read().QueryContext(ctx, `SELECT `+reviewedColumns+`
		FROM messages m LEFT JOIN removed_messages r ON r.chat_id = m.chat_id AND r.seq = m.seq
		WHERE m.sender_id = $1 AND m.created_at >= $2 AND m.created_at < $3
		ORDER BY m.created_at, m.chat_id, m.seq LIMIT $4`, user, lo, hi, limit)
	if err != nil {
		return nil, fmt.Errorf("messages sent by user %d: %w", user, err)
	}
	defer rows.Close()
	var out []ReviewedMessage
	for rows.Next() {
		rm, err := scanReviewed(rows)
		if err != nil {
			return nil, fmt.Errorf("messages sent by user %d: %w", user, err)
		}
		out = append(out, rm)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("messages sent by user %d: %w", user, err)
	}
	return out, nil
}

// reviewedColumns are the columns scanReviewed reads: messageColumns of
// messages m, then what removed_messages r keeps of it, if anything.
var reviewedColumns = messageColumnsM + `, COALESCE(r.media_id, m.media_id), COALESCE(r.removed_at, 0), COALESCE(r.reason, ''),
	COALESCE(r.text, ''), COALESCE(r.media, ''), COALESCE(r.held, 0)`

// scanReviewed reads reviewedColumns: a message removed by moderation gets
// back the content removed_messages keeps, and stops reading as deleted.
func scanReviewed(row interface{ Scan(...any) error }) (ReviewedMessage, error) {
	var rm ReviewedMessage
	var removed, held int64
	var text, media string
	var err error
	if rm.Message, err = scanMessage(row, &rm.MediaID, &removed, &rm.Reason, &text, &media, &held); err != nil {
		return ReviewedMessage{}, err
	}
	if removed != 0 {
		rm.Removed = sqldb.FromMicros(removed)
		rm.Deleted = false
		rm.Text = text
		rm.Media = parseAttachment(media)
		rm.Held = held != 0
	}
	return rm, nil
}
