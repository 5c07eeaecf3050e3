package messaging

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"

	"kurir"
	"kurir/sqldb"
)

// SendParams is a message to send.
type SendParams struct {
	Text    string
	ReplyTo int64 // seq of a message in the same chat, or 0
	// ForwardFrom copies an existing message (the sender must be able to read
	// it) instead of Text, keeping its origin.
	ForwardFrom *MessageRef
	// IdempotencyKey makes retries safe: a second send with the same key by
	// the same user returns the first message and stores nothing. Required.
	IdempotencyKey string
	// Media attaches a media object, which the caller has checked the
	// sender may attach (media.Service.Attach); Text is then an optional
	// caption.
	Media *Attachment
}

// MessageRef points at a message.
type MessageRef struct {
	ChatID ChatID
	Seq    int64
}

const maxIdempotencyKey = 128

// Send posts a message to a chat and returns it once it is committed. It
// fails with ENotFound for a chat the sender cannot see, EForbidden when
// they may not post there (with the reason), and EInvalid for bad content.
func (s *Service) Send(ctx context.Context, sender kurir.UserID, id ChatID, p SendParams) (Message, error) {
	if p.IdempotencyKey == "" || len(p.IdempotencyKey) > maxIdempotencyKey || !utf8.ValidString(p.IdempotencyKey) {
		return Message{}, kurir.Invalid("idempotency_key", "invalid_idempotency_key",
			"Every send needs an idempotency key of 1 to %d bytes (for example a random UUID), so that a retry cannot post twice.", maxIdempotencyKey)
	}
	var text string
	var err error
	if p.ForwardFrom == nil {
		if text, err = cleanText("text", "message", p.Text, s.cfg.MaxText, p.Media != nil); err != nil {
			return Message{}, err
		}
	} else if p.Text != "" || p.Media != nil {
		return Message{}, kurir.Invalid("text", "forward_with_text", "A forwarded message carries the original's text and media; send a comment as its own message.")
	}
	hold, err := s.screenMessage(ctx, Content{Author: sender, Chat: id, Field: "text", Text: text, Media: p.Media, Forward: p.ForwardFrom})
	if err != nil {
		return Message{}, err
	}
	now := s.clock.Now().UTC().Truncate(time.Microsecond)
	var msg Message
	var n *Notice
	var heldNow bool // this call stored a held message (not a retry's answer)
	send := func(tx *sqldb.Tx) error {
		n, heldNow = nil, false
		c, prev, blocked, err := loadSendState(ctx, tx, id, sender, p.IdempotencyKey)
		if err == nil {
			err = s.territorial(ctx, c)
		}
		if err != nil {
			return err
		}
		// A retry returns what the first attempt stored.
		if prev.Seq != 0 {
			if prev.ChatID != id {
				return kurir.Invalid("idempotency_key", "idempotency_key_reused", "This idempotency key was already used for a message in another chat.")
			}
			msg, err = getMessage(ctx, tx, id, prev.Seq)
			if err == nil && msg.Deleted {
				err = fillHeld(ctx, tx, &msg)
			}
			return err
		}
		if err := mayPost(c, blocked); err != nil {
			return err
		}
		msg = Message{ChatID: id, SenderID: sender, Text: text, CreatedAt: now, Media: p.Media}
		if p.ReplyTo != 0 {
			if err := replyable(ctx, tx, id, p.ReplyTo); err != nil {
				return err
			}
			msg.ReplyTo = p.ReplyTo
		}
		if f := p.ForwardFrom; f != nil {
			orig, err := s.readable(ctx, tx, sender, f.ChatID, f.Seq)
			if err != nil {
				return err
			}
			msg.Text, msg.Media = orig.Text, orig.Media
			msg.Forward = &Forward{ChatID: orig.ChatID, Seq: orig.Seq, SenderID: orig.SenderID, At: orig.CreatedAt}
			if orig.Forward != nil { // forwarding a forward keeps the first origin
				msg.Forward = orig.Forward
			}
		}
		if tx.Engine() == sqldb.Postgres {
			n, err = storeMessagePostgres(ctx, tx, &msg, p.IdempotencyKey)
		} else {
			n, err = storeMessage(ctx, tx, &msg, p.IdempotencyKey)
		}
		if err == nil && hold != nil {
			err = holdMessage(ctx, tx, &msg, hold.Reason, now)
			n, heldNow = nil, true // nobody is told of it until it is released
		}
		if err == nil && hold == nil && s.cfg.Stored != nil {
			err = s.cfg.Stored(ctx, tx, &msg, c.kind != Private && c.username != "")
		}
		return err
	}
	err = s.db.WriteTx(ctx, send)
	if sqldb.IsUniqueViolation(err) {
		// A concurrent retry with the same key committed first (PostgreSQL
		// runs them side by side); running again finds and returns its message.
		err = s.db.WriteTx(ctx, send)
	}
	if err != nil {
		return Message{}, err
	}
	if n != nil {
		s.publish(ctx, n)
	}
	if heldNow && hold.Signal != nil {
		hold.Signal(ctx, id, msg.Seq)
	}
	return msg, nil
}

// holdMessage keeps a message just stored from being shown: it reads as
// deleted, as a removed message does, until RestoreMessage releases it.
func holdMessage(ctx context.Context, tx *sqldb.Tx, msg *Message, reason string, now time.Time) error {
	if _, err := tx.ExecContext(ctx, `INSERT INTO removed_messages (chat_id, seq, text, media_id, media, reason, removed_at, held)
		SELECT chat_id, seq, text, media_id, media, $3, $4, 1 FROM messages WHERE chat_id = $1 AND seq = $2`,
		msg.ChatID, msg.Seq, "held for review: "+reason, sqldb.Micros(now)); err != nil {
		return fmt.Errorf("hold message: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE messages SET text = '', media_id = 0, media = '', deleted_at = $3 WHERE chat_id = $1 AND seq = $2`,
		msg.ChatID, msg.Seq, sqldb.Micros(now)); err != nil {
		return fmt.Errorf("hold message: %w", err)
	}
	msg.Held = true
	return nil
}

// fillHeld gives a deleted message back its content and Held, if it is
// held for review (for its author's retry).
func fillHeld(ctx context.Context, q sqldb.Querier, msg *Message) error {
	var text, media string
	err := q.QueryRowContext(ctx, `SELECT text, media FROM removed_messages WHERE chat_id = $1 AND seq = $2 AND held = 1`, msg.ChatID, msg.Seq).Scan(&text, &media)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return err
	}
	msg.Text, msg.Media, msg.Deleted, msg.Held = text, parseAttachment(media), false, true
	return nil
}

// sendStateQuery reads, in one query, all a send checks before it writes:
// the chat with the sender's membership, the message an earlier send with
// the same idempotency key created, if any, and, for a private chat,
// whether the other member blocks the sender.
const sendStateQuery = `SELECT ` + chatColumns + `, COALESCE(k.chat_id, 0), COALESCE(k.seq, 0),
	CASE WHEN c.kind = 'private' THEN (SELECT COUNT(*) FROM blocks b JOIN chat_members bm ON bm.user_id = b.user_id
		WHERE bm.chat_id = c.id AND b.blocked_id = $2) ELSE 0 END
	FROM chats c LEFT JOIN chat_members m ON m.chat_id = c.id AND m.user_id = $2
	LEFT JOIN send_keys k ON k.user_id = $2 AND k.idem_key = $3
	WHERE c.id = $1`

func loadSendState(ctx context.Context, q sqldb.Querier, id ChatID, sender kurir.UserID, key string) (c *chatRow, prev MessageRef, blocked bool, err error) {
	var blocks int64
	c, err = scanChat(q.QueryRowContext(ctx, sendStateQuery, id, sender, key), &prev.ChatID, &prev.Seq, &blocks)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, prev, false, noChat(id)
	}
	if err != nil {
		return nil, prev, false, fmt.Errorf("load chat %d: %w", id, err)
	}
	return c, prev, blocks > 0, nil
}

// mayPost returns nil if the member loaded in c may post there, and
// otherwise why not. blocked says whether the other member of a private
// chat blocks them.
func mayPost(c *chatRow, blocked bool) error {
	if !c.canRead() {
		return c.readErr()
	}
	if !c.isMember() {
		if c.canRead() {
			return &kurir.Error{Code: kurir.EForbidden, Reason: "not_member", Message: "Join this chat to post in it."}
		}
		return noChat(c.id)
	}
	switch c.kind {
	case Channel:
		if !c.isAdmin() {
			return kurir.Errorf(kurir.EForbidden, "Only the channel's admins can post in it.")
		}
	case Group:
		if !c.isAdmin() && !c.perms.Post {
			return kurir.Errorf(kurir.EForbidden, "Only admins can post in this group.")
		}
	case Private:
		if blocked {
			return &kurir.Error{Code: kurir.EForbidden, Reason: "blocked", Message: "You cannot message this user."}
		}
	}
	return nil
}

// storeMessage gives msg the chat's next seq and stores it with its event,
// the sender's read mark, the idempotency key and, for a small chat, an
// entry in every member's update log. It returns the Notice to publish.
func storeMessage(ctx context.Context, tx *sqldb.Tx, msg *Message, key string) (*Notice, error) {
	ev := Event{ChatID: msg.ChatID, Kind: EventMessage, ActorID: msg.SenderID, At: msg.CreatedAt}
	n, err := appendEvent(ctx, tx, &ev, true)
	if err != nil {
		return nil, err
	}
	msg.Seq = ev.Seq
	fwd, fwdAt := forwardColumns(msg)
	mediaID, media, err := mediaColumns(msg)
	if err != nil {
		return nil, err
	}
	now := sqldb.Micros(msg.CreatedAt)
	if _, err := tx.ExecContext(ctx, `INSERT INTO messages (chat_id, seq, sender_id, text, reply_to, fwd_chat_id, fwd_seq, fwd_sender_id, fwd_at, created_at, media_id, media)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
		msg.ChatID, msg.Seq, msg.SenderID, msg.Text, msg.ReplyTo, fwd.ChatID, fwd.Seq, fwd.SenderID, fwdAt, now, mediaID, media); err != nil {
		return nil, fmt.Errorf("store message: %w", err)
	}
	// The sender has read their own message.
	if _, err := tx.ExecContext(ctx, `UPDATE chat_members SET read_seq = $3 WHERE chat_id = $1 AND user_id = $2`, msg.ChatID, msg.SenderID, msg.Seq); err != nil {
		return nil, err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO send_keys (user_id, idem_key, chat_id, seq, created_at) VALUES ($1, $2, $3, $4, $5)`,
		msg.SenderID, key, msg.ChatID, msg.Seq, now); err != nil {
		return nil, err
	}
	n.Event.Message = msg
	return n, nil
}

// storeMessagePostgres does what storeMessage does in one statement, so in
// one round trip instead of eight: on PostgreSQL the round trips, each
// holding the chat's row lock, were what limited the send rate.
func storeMessagePostgres(ctx context.Context, tx *sqldb.Tx, msg *Message, key string) (*Notice, error) {
	fwd, fwdAt := forwardColumns(msg)
	mediaID, media, err := mediaColumns(msg)
	if err != nil {
		return nil, err
	}
	rows, err := tx.QueryContext(ctx, `WITH c AS (
			UPDATE chats SET seq = seq + 1, last_activity_at = $2, last_message_seq = seq + 1 WHERE id = $1 RETURNING seq, large
		), ev AS (
			INSERT INTO chat_events (chat_id, seq, kind, actor_id, message_seq, user_id, at) SELECT $1, seq, 'message', $3, seq, 0, $2 FROM c
		), msg AS (
			INSERT INTO messages (chat_id, seq, sender_id, text, reply_to, fwd_chat_id, fwd_seq, fwd_sender_id, fwd_at, created_at, media_id, media)
			SELECT $1, seq, $3, $4, $5, $6, $7, $8, $9, $2, $11, $12 FROM c
		), rd AS (
			UPDATE chat_members SET read_seq = c.seq FROM c WHERE chat_id = $1 AND user_id = $3
		), k AS (
			INSERT INTO send_keys (user_id, idem_key, chat_id, seq, created_at) SELECT $3, $10, $1, seq, $2 FROM c
		), p AS (
			UPDATE user_pts SET pts = pts + 1
			WHERE user_id IN (SELECT user_id FROM chat_members WHERE chat_id = $1 AND status = 'member') AND (SELECT large FROM c) = 0
			RETURNING user_id, pts
		), log AS (
			INSERT INTO user_updates (user_id, pts, chat_id, chat_seq) SELECT p.user_id, p.pts, $1, c.seq FROM p, c
		)
		SELECT c.seq, c.large, COALESCE(p.user_id, 0), COALESCE(p.pts, 0) FROM c LEFT JOIN p ON true`,
		msg.ChatID, sqldb.Micros(msg.CreatedAt), msg.SenderID, msg.Text, msg.ReplyTo,
		fwd.ChatID, fwd.Seq, fwd.SenderID, fwdAt, key, mediaID, media)
	if err != nil {
		return nil, fmt.Errorf("store message: %w", err)
	}
	defer rows.Close()
	n := &Notice{Event: Event{ChatID: msg.ChatID, Kind: EventMessage, ActorID: msg.SenderID, At: msg.CreatedAt, Message: msg}}
	for rows.Next() {
		var large int64
		var r Recipient
		if err := rows.Scan(&msg.Seq, &large, &r.User, &r.PTS); err != nil {
			return nil, err
		}
		n.Large = large != 0
		if r.User != 0 {
			n.To = append(n.To, r)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store message: %w", err)
	}
	if msg.Seq == 0 {
		return nil, fmt.Errorf("store message: chat %d is gone", msg.ChatID)
	}
	n.Event.Seq, n.Event.MessageSeq = msg.Seq, msg.Seq
	return n, nil
}

// mediaColumns is how msg's attachment is stored: its ID, and its
// description as JSON; zero and empty when it has none.
func mediaColumns(msg *Message) (int64, string, error) {
	if msg.Media == nil {
		return 0, "", nil
	}
	b, err := json.Marshal(msg.Media)
	if err != nil {
		return 0, "", fmt.Errorf("store attachment: %w", err)
	}
	return msg.Media.MediaID, string(b), nil
}

// forwardColumns is how msg's origin is stored: zeros when it is not a
// forward.
func forwardColumns(msg *Message) (Forward, int64) {
	if msg.Forward == nil {
		return Forward{}, 0
	}
	f := *msg.Forward
	if f.At.IsZero() {
		return f, 0
	}
	return f, sqldb.Micros(f.At)
}

func replyable(ctx context.Context, q sqldb.Querier, id ChatID, seq int64) error {
	var n int
	if err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM messages WHERE chat_id = $1 AND seq = $2`, id, seq).Scan(&n); err != nil {
		return err
	}
	if n == 0 {
		return kurir.Invalid("reply_to", "no_such_message", "There is no message %d in this chat to reply to.", seq)
	}
	return nil
}

// readable returns a message that user may read, or ENotFound.
func (s *Service) readable(ctx context.Context, q sqldb.Querier, user kurir.UserID, id ChatID, seq int64) (Message, error) {
	c, err := s.loadChat(ctx, q, id, user)
	if err != nil {
		return Message{}, err
	}
	if !c.canRead() {
		return Message{}, c.readErr()
	}
	m, err := getMessage(ctx, q, id, seq)
	if err != nil {
		return Message{}, err
	}
	if m.Deleted || (c.isMember() && seq <= c.cleared) {
		return Message{}, kurir.Errorf(kurir.ENotFound, "No message %d in chat %d.", seq, id)
	}
	one := []Message{m}
	if err := s.withholdMessages(ctx, one); err != nil {
		return Message{}, err
	}
	if w := one[0].Withheld; w != nil {
		msg := fmt.Sprintf("This message is not available in your country (%s): %s", w.Country, w.Reason)
		if w.LegalRef != "" {
			msg += " (" + w.LegalRef + ")"
		}
		return Message{}, &kurir.Error{Code: kurir.ELegal, Reason: "withheld_in_country", Country: w.Country, Message: msg + "."}
	}
	return m, nil
}

const messageColumns = `chat_id, seq, sender_id, text, reply_to, fwd_chat_id, fwd_seq, fwd_sender_id, fwd_at, created_at, edited_at, deleted_at, media, views`

// messageRow receives the messageColumns of a row.
type messageRow struct {
	m                               Message
	f                               Forward
	fwdAt, created, edited, deleted int64
	media                           string
}

func (r *messageRow) dest() []any {
	return []any{&r.m.ChatID, &r.m.Seq, &r.m.SenderID, &r.m.Text, &r.m.ReplyTo,
		&r.f.ChatID, &r.f.Seq, &r.f.SenderID, &r.fwdAt, &r.created, &r.edited, &r.deleted, &r.media, &r.m.Views}
}

func (r *messageRow) message() Message {
	m := r.m
	m.Media = parseAttachment(r.media)
	if r.f.ChatID != 0 {
		f := r.f
		f.At = sqldb.FromMicros(r.fwdAt)
		m.Forward = &f
	}
	m.CreatedAt = sqldb.FromMicros(r.created)
	if r.edited != 0 {
		m.EditedAt = sqldb.FromMicros(r.edited)
	}
	m.Deleted = r.deleted != 0
	return m
}

// parseAttachment decodes a message's stored media description, if any.
func parseAttachment(media string) *Attachment {
	if media == "" {
		return nil
	}
	var a Attachment
	if json.Unmarshal([]byte(media), &a) != nil {
		return nil
	}
	return &a
}

// scanMessage scans messageColumns, and into extra any columns that follow them.
func scanMessage(row interface{ Scan(...any) error }, extra ...any) (Message, error) {
	var r messageRow
	if err := row.Scan(append(r.dest(), extra...)...); err != nil {
		return Message{}, err
	}
	return r.message(), nil
}

func getMessage(ctx context.Context, q sqldb.Querier, id ChatID, seq int64) (Message, error) {
	m, err := scanMessage(q.QueryRowContext(ctx, `SELECT `+messageColumns+` FROM messages WHERE chat_id = $1 AND seq = $2`, id, seq))
	if errors.Is(err, sql.ErrNoRows) {
		return Message{}, kurir.Errorf(kurir.ENotFound, "No message %d in chat %d.", seq, id)
	}
	return m, err
}

// messageChange loads the chat and message for actor in a write
// transaction, lets fn change them, and records the event fn returns.
func (s *Service) messageChange(ctx context.Context, actor kurir.UserID, id ChatID, seq int64,
	fn func(tx *sqldb.Tx, c *chatRow, m *Message, now time.Time) (EventKind, error)) (Message, error) {
	now := s.clock.Now().UTC().Truncate(time.Microsecond)
	var n *Notice
	var msg Message
	err := s.db.WriteTx(ctx, func(tx *sqldb.Tx) error {
		n = nil
		c, err := s.loadChat(ctx, tx, id, actor)
		if err != nil {
			return err
		}
		if !c.isMember() {
			return noChat(id)
		}
		if c.takenDown != 0 || c.withheld != nil {
			return c.readErr()
		}
		msg, err = getMessage(ctx, tx, id, seq)
		if err != nil {
			return err
		}
		if msg.Deleted {
			return kurir.Errorf(kurir.ENotFound, "Message %d was deleted.", seq)
		}
		kind, err := fn(tx, c, &msg, now)
		if err != nil || kind == "" {
			return err
		}
		ev := Event{ChatID: id, Kind: kind, ActorID: actor, MessageSeq: seq, At: now}
		if n, err = appendEvent(ctx, tx, &ev, false); err != nil {
			return err
		}
		if kind == EventEdit {
			n.Event.Message = &msg
		}
		return nil
	})
	if err != nil {
		return Message{}, err
	}
	if n != nil {
		s.publish(ctx, n)
	}
	return msg, nil
}

// Edit changes the text of one's own message within the edit window.
func (s *Service) Edit(ctx context.Context, actor kurir.UserID, id ChatID, seq int64, text string) (Message, error) {
	text, err := cleanText("text", "message", text, s.cfg.MaxText, true)
	if err != nil {
		return Message{}, err
	}
	if err := s.screen(ctx, actor, id, "text", text); err != nil {
		return Message{}, err
	}
	return s.messageChange(ctx, actor, id, seq, func(tx *sqldb.Tx, c *chatRow, m *Message, now time.Time) (EventKind, error) {
		if m.SenderID != actor {
			return "", kurir.Errorf(kurir.EForbidden, "You can edit only your own messages.")
		}
		if text == "" && m.Media == nil {
			return "", kurir.Invalid("text", "empty", "The message must not be empty.")
		}
		if m.Forward != nil {
			return "", kurir.Errorf(kurir.EForbidden, "A forwarded message cannot be edited.")
		}
		if now.Sub(m.CreatedAt) > s.cfg.EditWindow {
			return "", kurir.Errorf(kurir.EForbidden, "Messages can be edited for %s after sending; this one is older.", s.cfg.EditWindow)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE messages SET text = $3, edited_at = $4 WHERE chat_id = $1 AND seq = $2`, id, seq, text, sqldb.Micros(now)); err != nil {
			return "", err
		}
		m.Text, m.EditedAt = text, now
		if s.cfg.Stored != nil {
			if err := s.cfg.Stored(ctx, tx, m, c.kind != Private && c.username != ""); err != nil {
				return "", err
			}
		}
		return EventEdit, nil
	})
}

// Delete deletes a message for everyone: its author may, and a group's or
// channel's admins may delete anyone's. The text is wiped; the chat keeps a
// tombstone so every device learns of the deletion when it syncs.
func (s *Service) Delete(ctx context.Context, actor kurir.UserID, id ChatID, seq int64) error {
	_, err := s.messageChange(ctx, actor, id, seq, func(tx *sqldb.Tx, c *chatRow, m *Message, now time.Time) (EventKind, error) {
		if m.SenderID != actor && !(c.isAdmin() && c.kind != Private) {
			return "", kurir.Errorf(kurir.EForbidden, "You can delete only your own messages here.")
		}
		if _, err := tx.ExecContext(ctx, `UPDATE messages SET text = '', media_id = 0, media = '', deleted_at = $3 WHERE chat_id = $1 AND seq = $2`, id, seq, sqldb.Micros(now)); err != nil {
			return "", err
		}
		if c.pinned == seq {
			if _, err := tx.ExecContext(ctx, `UPDATE chats SET pinned_seq = 0 WHERE id = $1`, id); err != nil {
				return "", err
			}
		}
		return EventDelete, nil
	})
	return err
}

// DeleteForMe hides a message from actor's own view of the chat only.
func (s *Service) DeleteForMe(ctx context.Context, actor kurir.UserID, id ChatID, seq int64) error {
	if _, err := s.readable(ctx, s.db.Read(), actor, id, seq); err != nil {
		return err
	}
	return s.db.WriteTx(ctx, func(tx *sqldb.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO hidden_messages (user_id, chat_id, seq) VALUES ($1, $2, $3) ON CONFLICT (user_id, chat_id, seq) DO NOTHING`, actor, id, seq)
		return err
	})
}

// Pin pins a message (or, with seq 0, unpins). Admins may, members of a
// group that lets them, and both people in a private chat.
func (s *Service) Pin(ctx context.Context, actor kurir.UserID, id ChatID, seq int64) error {
	if seq == 0 {
		var n *Notice
		err := s.membershipChange(ctx, actor, id, func(tx *sqldb.Tx, c *chatRow, now time.Time, notices *[]*Notice) error {
			if !c.isMember() {
				return noChat(id)
			}
			if !c.isAdmin() && !c.perms.Pin {
				return kurir.Errorf(kurir.EForbidden, "Only admins can pin messages here.")
			}
			if _, err := tx.ExecContext(ctx, `UPDATE chats SET pinned_seq = 0 WHERE id = $1`, id); err != nil {
				return err
			}
			var err error
			n, err = appendEvent(ctx, tx, &Event{ChatID: id, Kind: EventUnpin, ActorID: actor, MessageSeq: c.pinned, At: now}, false)
			*notices = append(*notices, n)
			return err
		})
		return err
	}
	_, err := s.messageChange(ctx, actor, id, seq, func(tx *sqldb.Tx, c *chatRow, m *Message, now time.Time) (EventKind, error) {
		if !c.isAdmin() && !c.perms.Pin {
			return "", kurir.Errorf(kurir.EForbidden, "Only admins can pin messages here.")
		}
		if _, err := tx.ExecContext(ctx, `UPDATE chats SET pinned_seq = $2 WHERE id = $1`, id, seq); err != nil {
			return "", err
		}
		return EventPin, nil
	})
	return err
}

// MarkRead records that user has read chat up to seq. Marks only move
// forward. A mark that moves goes, as an EventRead, into the reader's update
// log (their other devices clear the unread count) and, in a private chat,
// into the other person's (they see their messages read); a mark that does
// not move changes nothing and announces nothing.
func (s *Service) MarkRead(ctx context.Context, user kurir.UserID, id ChatID, seq int64) error {
	var n *Notice
	err := s.db.WriteTx(ctx, func(tx *sqldb.Tx) error {
		n = nil
		c, err := loadChat(ctx, tx, id, user)
		if err != nil {
			return err
		}
		if !c.isMember() {
			return noChat(id)
		}
		if seq > c.seq {
			return kurir.Invalid("seq", "beyond_end", "Chat %d has no change %d yet (it is at %d).", id, seq, c.seq)
		}
		res, err := tx.ExecContext(ctx, `UPDATE chat_members SET read_seq = $3 WHERE chat_id = $1 AND user_id = $2 AND read_seq < $3`, id, user, seq)
		if err != nil {
			return err
		}
		if moved, err := res.RowsAffected(); err != nil || moved == 0 {
			return err
		}
		to := []kurir.UserID{user}
		if c.kind == Private {
			to = append(to, c.view(user).Peer)
		}
		n, err = appendRead(ctx, tx, &Event{ChatID: id, Kind: EventRead, ActorID: user, UserID: user, MessageSeq: seq, At: s.clock.Now()}, to)
		return err
	})
	if err == nil && n != nil {
		s.publish(ctx, n)
	}
	return err
}

// appendRead appends a read mark to the update logs of users and returns
// the Notice to publish once the transaction commits.
func appendRead(ctx context.Context, tx *sqldb.Tx, ev *Event, users []kurir.UserID) (*Notice, error) {
	n := &Notice{Event: *ev}
	for _, u := range users {
		if err := ensurePTS(ctx, tx, u); err != nil {
			return nil, err
		}
		r := Recipient{User: u}
		if err := tx.QueryRowContext(ctx, `UPDATE user_pts SET pts = pts + 1 WHERE user_id = $1 RETURNING pts`, u).Scan(&r.PTS); err != nil {
			return nil, fmt.Errorf("advance update log: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO user_updates (user_id, pts, chat_id, chat_seq, reader_id, read_seq, read_at)
			VALUES ($1, $2, $3, 0, $4, $5, $6)`, u, r.PTS, ev.ChatID, ev.UserID, ev.MessageSeq, sqldb.Micros(ev.At)); err != nil {
			return nil, fmt.Errorf("append a read mark to the update log: %w", err)
		}
		n.To = append(n.To, r)
	}
	return n, nil
}
