package messaging

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"kurir"
	"kurir/sqldb"
)

// This file holds what moderation does to chats and messages. The calls
// here act for the platform, not for a member: they check no membership,
// and the moderation package decides who may make them.
//
// Both kinds of takedown are tombstones. Taking down a chat changes one row
// and appends one event, whatever the chat's size: every read path checks
// the row, so the chat goes dark for every reader on every node at once.
// Removing a message moves what it said aside and leaves it reading as
// deleted. Either can be reversed.

// TakeDown makes a group or channel unavailable to everyone, with reason
// shown to its members, and pushes the change to those connected.
func (s *Service) TakeDown(ctx context.Context, id ChatID, reason string) error {
	reason, err := cleanText("reason", "reason", reason, 500, false)
	if err != nil {
		return err
	}
	return s.setTakenDown(ctx, id, true, reason)
}

// Reinstate reverses TakeDown: the chat and all it held are back.
func (s *Service) Reinstate(ctx context.Context, id ChatID) error {
	return s.setTakenDown(ctx, id, false, "")
}

func (s *Service) setTakenDown(ctx context.Context, id ChatID, down bool, reason string) error {
	now := s.clock.Now().UTC().Truncate(time.Microsecond)
	var n *Notice
	err := s.db.WriteTx(ctx, func(tx *sqldb.Tx) error {
		var kind Kind
		var at int64
		err := tx.QueryRowContext(ctx, `SELECT kind, taken_down_at FROM chats WHERE id = $1`, id).Scan(&kind, &at)
		if errors.Is(err, sql.ErrNoRows) {
			return noChat(id)
		}
		if err != nil {
			return fmt.Errorf("load chat %d: %w", id, err)
		}
		switch {
		case kind == Private:
			return kurir.Errorf(kurir.EInvalid, "Private chats cannot be taken down; act on the message or the account instead.")
		case down && at != 0:
			return kurir.Errorf(kurir.EConflict, "Chat %d is already taken down.", id)
		case !down && at == 0:
			return kurir.Errorf(kurir.EConflict, "Chat %d is not taken down.", id)
		}
		ev := Event{ChatID: id, Kind: EventReinstated, At: now}
		at = 0
		if down {
			ev.Kind, at = EventTakedown, sqldb.Micros(now)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE chats SET taken_down_at = $2, takedown_reason = $3 WHERE id = $1`, id, at, reason); err != nil {
			return fmt.Errorf("take down chat %d: %w", id, err)
		}
		n, err = appendEvent(ctx, tx, &ev, false)
		return err
	})
	if err != nil {
		return err
	}
	s.publish(ctx, n)
	// Copies of the chat's messages forwarded elsewhere go (or come back)
	// after it, in batches: the takedown itself stays one row, whatever
	// the chat's size.
	if down {
		s.cascade(ctx, "remove the copies of a chat taken down", MessageRef{ChatID: id}, func(tx *sqldb.Tx) ([]*Notice, error) {
			return removeChatCopies(ctx, tx, id, reason, now)
		})
	} else {
		s.cascade(ctx, "restore the copies of a chat reinstated", MessageRef{ChatID: id}, func(tx *sqldb.Tx) ([]*Notice, error) {
			return restoreChatCopies(ctx, tx, id, now)
		})
	}
	return nil
}

// removeChatCopies removes up to copyBatch of the copies, in other chats,
// of messages of chat, which was taken down: a copy of a channel's post
// would otherwise keep showing what the takedown took away. It returns
// their events, none once the chat is reinstated meanwhile.
func removeChatCopies(ctx context.Context, tx *sqldb.Tx, chat ChatID, reason string, now time.Time) ([]*Notice, error) {
	var down int64
	if err := tx.QueryRowContext(ctx, `SELECT taken_down_at FROM chats WHERE id = $1`, chat).Scan(&down); err != nil || down == 0 {
		return nil, err
	}
	rows, err := tx.QueryContext(ctx, fmt.Sprintf(`SELECT chat_id, seq, fwd_seq FROM messages
		WHERE fwd_chat_id = $1 AND fwd_chat_id <> 0 AND chat_id <> $1 AND deleted_at = 0 ORDER BY chat_id, seq LIMIT %d`, copyBatch), chat)
	if err != nil {
		return nil, fmt.Errorf("find copies of chat %d: %w", chat, err)
	}
	type copyRef struct{ m, of MessageRef }
	var refs []copyRef
	for rows.Next() {
		var r copyRef
		if err := rows.Scan(&r.m.ChatID, &r.m.Seq, &r.of.Seq); err != nil {
			rows.Close()
			return nil, err
		}
		r.of.ChatID = chat
		refs = append(refs, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	var out []*Notice
	for _, r := range refs {
		n, err := removeOne(ctx, tx, r.m, r.of, reason, now)
		if err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, nil
}

// restoreChatCopies puts back up to copyBatch of the copies removed because
// chat was taken down, leaving those whose original is itself removed;
// none once the chat is taken down again meanwhile.
func restoreChatCopies(ctx context.Context, tx *sqldb.Tx, chat ChatID, now time.Time) ([]*Notice, error) {
	var down int64
	if err := tx.QueryRowContext(ctx, `SELECT taken_down_at FROM chats WHERE id = $1`, chat).Scan(&down); err != nil || down != 0 {
		return nil, err
	}
	copies, err := messageRefs(ctx, tx, fmt.Sprintf(`SELECT r.chat_id, r.seq FROM removed_messages r
		WHERE r.copy_of_chat = $1 AND r.copy_of_chat <> 0 AND r.chat_id <> $1
		AND NOT EXISTS (SELECT 1 FROM removed_messages o WHERE o.chat_id = r.copy_of_chat AND o.seq = r.copy_of_seq)
		ORDER BY r.chat_id, r.seq LIMIT %d`, copyBatch), chat)
	if err != nil {
		return nil, fmt.Errorf("find removed copies of chat %d: %w", chat, err)
	}
	var out []*Notice
	for _, c := range copies {
		n, err := restoreOne(ctx, tx, c, now)
		if err != nil {
			return nil, err
		}
		if n != nil {
			out = append(out, n)
		}
	}
	return out, nil
}

// RemoveMessage takes a message down: it reads as deleted for everyone and
// leaves search, and its media can no longer be fetched through it. It
// returns the message as it was, for the record of the decision. A message
// held for review stays unseen, now as removed.
func (s *Service) RemoveMessage(ctx context.Context, id ChatID, seq int64, reason string) (Message, error) {
	reason, err := cleanText("reason", "reason", reason, 500, false)
	if err != nil {
		return Message{}, err
	}
	now := s.clock.Now().UTC().Truncate(time.Microsecond)
	var n *Notice
	var msg Message
	err = s.db.WriteTx(ctx, func(tx *sqldb.Tx) error {
		var err error
		msg, err = getMessage(ctx, tx, id, seq)
		if err != nil {
			return err
		}
		if msg.Deleted {
			res, err := tx.ExecContext(ctx, `UPDATE removed_messages SET held = 0, reason = $3 WHERE chat_id = $1 AND seq = $2 AND held = 1`, id, seq, reason)
			if err != nil {
				return err
			}
			if k, _ := res.RowsAffected(); k == 1 {
				msg.Deleted = false
				return fillRemoved(ctx, tx, &msg)
			}
			var removed int64
			if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM removed_messages WHERE chat_id = $1 AND seq = $2`, id, seq).Scan(&removed); err != nil {
				return err
			}
			if removed != 0 {
				return kurir.Errorf(kurir.EConflict, "Message %d of chat %d is already removed.", seq, id)
			}
			return kurir.Errorf(kurir.EConflict, "Message %d of chat %d was deleted by its author or the chat's admins.", seq, id)
		}
		n, err = removeOne(ctx, tx, MessageRef{ChatID: id, Seq: seq}, MessageRef{}, reason, now)
		return err
	})
	if err != nil {
		return Message{}, err
	}
	if n != nil {
		s.publish(ctx, n)
		orig := MessageRef{ChatID: id, Seq: seq}
		s.cascade(ctx, "remove the forwarded copies", orig, func(tx *sqldb.Tx) ([]*Notice, error) {
			return removeCopies(ctx, tx, orig, reason, now)
		})
	}
	return msg, nil
}

// copyBatch is how many forwarded copies one transaction removes or
// restores: a viral message may have many thousands, and one transaction
// for all of them would hold the writer (all of SQLite's) for seconds.
const copyBatch = 500

// cascade runs batch, each call in its own transaction, until it returns
// no events, publishing them as it goes. It outlives ctx's cancellation:
// once the original is decided its copies must follow. A failure is logged
// (the copies left are found again by the next call for the same message).
func (s *Service) cascade(ctx context.Context, what string, orig MessageRef, batch func(tx *sqldb.Tx) ([]*Notice, error)) {
	ctx = context.WithoutCancel(ctx)
	for {
		var ns []*Notice
		err := s.db.WriteTx(ctx, func(tx *sqldb.Tx) error {
			var err error
			ns, err = batch(tx)
			return err
		})
		if err != nil {
			s.log.Error("moderation: "+what, "chat", orig.ChatID, "seq", orig.Seq, "err", err)
			return
		}
		for _, n := range ns {
			s.publish(ctx, n)
		}
		if len(ns) < copyBatch {
			return
		}
	}
}

// removeOne moves what message m says aside into removed_messages (naming
// the message it is a copy of, if copyOf is set) and leaves it reading as
// deleted, returning the event to publish.
func removeOne(ctx context.Context, tx *sqldb.Tx, m, copyOf MessageRef, reason string, now time.Time) (*Notice, error) {
	if _, err := tx.ExecContext(ctx, `INSERT INTO removed_messages (chat_id, seq, text, media_id, media, reason, removed_at, copy_of_chat, copy_of_seq)
		SELECT chat_id, seq, text, media_id, media, $3, $4, $5, $6 FROM messages WHERE chat_id = $1 AND seq = $2`,
		m.ChatID, m.Seq, reason, sqldb.Micros(now), copyOf.ChatID, copyOf.Seq); err != nil {
		return nil, fmt.Errorf("keep removed message: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE messages SET text = '', media_id = 0, media = '', deleted_at = $3 WHERE chat_id = $1 AND seq = $2`,
		m.ChatID, m.Seq, sqldb.Micros(now)); err != nil {
		return nil, fmt.Errorf("remove message: %w", err)
	}
	return appendEvent(ctx, tx, &Event{ChatID: m.ChatID, Kind: EventRemoved, MessageSeq: m.Seq, At: now}, false)
}

// removeCopies removes, after the message orig, up to copyBatch of its
// forwarded copies still shown in other chats (a forward keeps its first
// origin, so copies of copies are among them): a copy says what the
// original said, and a removal that left them would leave the content up.
// It returns their events to publish, none once orig is no longer removed
// (reversed meanwhile).
func removeCopies(ctx context.Context, tx *sqldb.Tx, orig MessageRef, reason string, now time.Time) ([]*Notice, error) {
	var removed int64
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM removed_messages WHERE chat_id = $1 AND seq = $2 AND held = 0`, orig.ChatID, orig.Seq).Scan(&removed); err != nil || removed == 0 {
		return nil, err
	}
	refs, err := messageRefs(ctx, tx, fmt.Sprintf(`SELECT chat_id, seq FROM messages WHERE fwd_chat_id = $1 AND fwd_seq = $2 AND fwd_chat_id <> 0 AND deleted_at = 0 ORDER BY chat_id, seq LIMIT %d`, copyBatch), orig.ChatID, orig.Seq)
	if err != nil {
		return nil, fmt.Errorf("find forwarded copies: %w", err)
	}
	var out []*Notice
	for _, r := range refs {
		n, err := removeOne(ctx, tx, r, orig, reason, now)
		if err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, nil
}

// messageRefs runs a query of (chat_id, seq) rows.
func messageRefs(ctx context.Context, tx *sqldb.Tx, query string, args ...any) ([]MessageRef, error) {
	rows, err := tx.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []MessageRef
	for rows.Next() {
		var r MessageRef
		if err := rows.Scan(&r.ChatID, &r.Seq); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// fillRemoved gives msg the content removed_messages keeps for it.
func fillRemoved(ctx context.Context, q sqldb.Querier, msg *Message) error {
	var media string
	if err := q.QueryRowContext(ctx, `SELECT text, media FROM removed_messages WHERE chat_id = $1 AND seq = $2`, msg.ChatID, msg.Seq).Scan(&msg.Text, &media); err != nil {
		return err
	}
	msg.Media = parseAttachment(media)
	return nil
}

// HoldMessage takes a message already shown out of sight until a
// moderator reviews it, as a hold at sending keeps one: it reads as
// deleted, ReleaseHeld shows it again and RemoveMessage removes it. It
// reports false, changing nothing, if the message is deleted, removed or
// held already. Forwarded copies stay: a hold is not yet a decision.
func (s *Service) HoldMessage(ctx context.Context, id ChatID, seq int64, reason string) (bool, error) {
	reason, err := cleanText("reason", "reason", reason, 500, false)
	if err != nil {
		return false, err
	}
	now := s.clock.Now().UTC().Truncate(time.Microsecond)
	var n *Notice
	err = s.db.WriteTx(ctx, func(tx *sqldb.Tx) error {
		n = nil
		msg, err := getMessage(ctx, tx, id, seq)
		if err != nil || msg.Deleted {
			return err
		}
		if n, err = removeOne(ctx, tx, MessageRef{ChatID: id, Seq: seq}, MessageRef{}, "held for review: "+reason, now); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE removed_messages SET held = 1 WHERE chat_id = $1 AND seq = $2`, id, seq)
		return err
	})
	if err != nil || n == nil {
		return false, err
	}
	s.publish(ctx, n)
	return true, nil
}

// ReleaseHeld shows a message held for review, as RestoreMessage does, and
// reports whether it was held; a message that is not held is left alone.
func (s *Service) ReleaseHeld(ctx context.Context, id ChatID, seq int64) (bool, error) {
	var held int64
	err := s.db.Read().QueryRowContext(ctx, `SELECT COUNT(*) FROM removed_messages WHERE chat_id = $1 AND seq = $2 AND held = 1`, id, seq).Scan(&held)
	if err != nil || held == 0 {
		return false, err
	}
	return true, s.RestoreMessage(ctx, id, seq)
}

// RestoreMessage reverses RemoveMessage, bringing back the forwarded copies
// removed with the message too.
func (s *Service) RestoreMessage(ctx context.Context, id ChatID, seq int64) error {
	now := s.clock.Now().UTC().Truncate(time.Microsecond)
	orig := MessageRef{ChatID: id, Seq: seq}
	var n *Notice
	err := s.db.WriteTx(ctx, func(tx *sqldb.Tx) error {
		var err error
		if n, err = restoreOne(ctx, tx, orig, now); err != nil {
			return err
		}
		if n == nil {
			return kurir.Errorf(kurir.ENotFound, "Message %d of chat %d is not removed.", seq, id)
		}
		return nil
	})
	if err != nil {
		return err
	}
	s.publish(ctx, n)
	s.cascade(ctx, "restore the forwarded copies", orig, func(tx *sqldb.Tx) ([]*Notice, error) {
		return restoreCopies(ctx, tx, orig, now)
	})
	return nil
}

// restoreCopies puts back up to copyBatch of the copies removed with orig,
// returning their events; none once orig is removed again meanwhile.
func restoreCopies(ctx context.Context, tx *sqldb.Tx, orig MessageRef, now time.Time) ([]*Notice, error) {
	// Not while orig is removed again, or its chat taken down meanwhile
	// (the chat's reinstatement brings the copies back then).
	var removed int64
	if err := tx.QueryRowContext(ctx, `SELECT (SELECT COUNT(*) FROM removed_messages WHERE chat_id = $1 AND seq = $2)
		+ (SELECT COUNT(*) FROM chats WHERE id = $1 AND taken_down_at <> 0)`, orig.ChatID, orig.Seq).Scan(&removed); err != nil || removed != 0 {
		return nil, err
	}
	copies, err := messageRefs(ctx, tx, fmt.Sprintf(`SELECT chat_id, seq FROM removed_messages WHERE copy_of_chat = $1 AND copy_of_seq = $2 AND copy_of_chat <> 0 ORDER BY chat_id, seq LIMIT %d`, copyBatch), orig.ChatID, orig.Seq)
	if err != nil {
		return nil, fmt.Errorf("find removed copies: %w", err)
	}
	var out []*Notice
	for _, c := range copies {
		n, err := restoreOne(ctx, tx, c, now)
		if err != nil {
			return nil, err
		}
		if n != nil {
			out = append(out, n)
		}
	}
	return out, nil
}

// restoreOne puts back what removed_messages keeps of message m and returns
// the event to publish, or nil if m is not removed.
func restoreOne(ctx context.Context, tx *sqldb.Tx, m MessageRef, now time.Time) (*Notice, error) {
	res, err := tx.ExecContext(ctx, `UPDATE messages SET deleted_at = 0,
		text = (SELECT r.text FROM removed_messages r WHERE r.chat_id = messages.chat_id AND r.seq = messages.seq),
		media_id = (SELECT r.media_id FROM removed_messages r WHERE r.chat_id = messages.chat_id AND r.seq = messages.seq),
		media = (SELECT r.media FROM removed_messages r WHERE r.chat_id = messages.chat_id AND r.seq = messages.seq)
		WHERE chat_id = $1 AND seq = $2 AND EXISTS (SELECT 1 FROM removed_messages r WHERE r.chat_id = $1 AND r.seq = $2)`, m.ChatID, m.Seq)
	if err != nil {
		return nil, fmt.Errorf("restore message: %w", err)
	}
	if k, _ := res.RowsAffected(); k == 0 {
		return nil, nil
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM removed_messages WHERE chat_id = $1 AND seq = $2`, m.ChatID, m.Seq); err != nil {
		return nil, err
	}
	n, err := appendEvent(ctx, tx, &Event{ChatID: m.ChatID, Kind: EventRestored, MessageSeq: m.Seq, At: now}, false)
	if err != nil {
		return nil, err
	}
	msg, err := getMessage(ctx, tx, m.ChatID, m.Seq)
	n.Event.Message = &msg
	return n, err
}

// The labels moderation can put on a group or channel.
var Labels = []string{"sensitive", "graphic", "misleading", "scam_risk"}

// SetLabel puts a label on a group or channel (on) or takes it off, and
// tells its members' devices, as a change of the chat's info.
func (s *Service) SetLabel(ctx context.Context, id ChatID, label string, on bool) error {
	if !slices.Contains(Labels, label) {
		return kurir.Invalid("label", "unknown_label", "A label is one of %s.", strings.Join(Labels, ", "))
	}
	now := s.clock.Now().UTC().Truncate(time.Microsecond)
	var n *Notice
	err := s.db.WriteTx(ctx, func(tx *sqldb.Tx) error {
		var kind Kind
		var labels string
		err := tx.QueryRowContext(ctx, `SELECT kind, labels FROM chats WHERE id = $1`, id).Scan(&kind, &labels)
		if errors.Is(err, sql.ErrNoRows) {
			return noChat(id)
		}
		if err != nil {
			return err
		}
		if kind == Private {
			return kurir.Errorf(kurir.EInvalid, "Private chats cannot be labelled.")
		}
		set := strings.Split(labels, ",")
		if labels == "" {
			set = nil
		}
		has := slices.Contains(set, label)
		switch {
		case on && has:
			return kurir.Errorf(kurir.EConflict, "Chat %d is already labelled %s.", id, label)
		case !on && !has:
			return kurir.Errorf(kurir.EConflict, "Chat %d is not labelled %s.", id, label)
		case on:
			set = append(set, label)
		default:
			set = slices.DeleteFunc(set, func(l string) bool { return l == label })
		}
		slices.Sort(set)
		if _, err := tx.ExecContext(ctx, `UPDATE chats SET labels = $2 WHERE id = $1`, id, strings.Join(set, ",")); err != nil {
			return err
		}
		n, err = appendEvent(ctx, tx, &Event{ChatID: id, Kind: EventInfo, At: now}, false)
		return err
	})
	if err != nil {
		return err
	}
	s.publish(ctx, n)
	return nil
}

// Review is what a moderator sees of a chat: its state whatever moderation
// did to it, and who answers for it.
type Review struct {
	Chat
	Owner     kurir.UserID // its creator, for a private chat the first user
	TakenDown time.Time    // zero unless taken down
}

// ReviewChat returns a chat as a moderator sees it.
func (s *Service) ReviewChat(ctx context.Context, id ChatID) (Review, error) {
	c, err := loadChat(ctx, s.db.Read(), id, 0)
	if err != nil {
		return Review{}, err
	}
	r := Review{Chat: c.view(0), Owner: c.creator}
	if c.takenDown != 0 {
		r.TakenDown = sqldb.FromMicros(c.takenDown)
	}
	return r, nil
}

// ReviewedMessage is a message as a moderator sees it: removed ones with
// what they said.
type ReviewedMessage struct {
	Message
	MediaID int64     // the media object attached, if any
	Removed time.Time // zero unless moderation removed it (or holds it)
	Reason  string    // why it was removed
	Held    bool      // held for review when sent: nobody has seen it
}

// ReviewMessages returns the message seq of a chat with up to around
// messages before and after it, oldest first, as a moderator sees them:
// the context of a report. The message itself is reviewed[i] where
// reviewed[i].Seq == seq; ENotFound if it does not exist. With seq 0 it
// returns the chat's latest messages.
func (s *Service) ReviewMessages(ctx context.Context, id ChatID, seq int64, around int) ([]ReviewedMessage, error) {
	around = clampLimit(around, 50)
	var out []ReviewedMessage
	err := s.db.ReadTx(ctx, func(tx *sqldb.Tx) error {
		q := `SELECT ` + messageColumnsM + `, COALESCE(r.media_id, m.media_id), COALESCE(r.removed_at, 0), COALESCE(r.reason, ''),
			COALESCE(r.text, ''), COALESCE(r.media, ''), COALESCE(r.held, 0)
			FROM messages m LEFT JOIN removed_messages r ON r.chat_id = m.chat_id AND r.seq = m.seq
			WHERE m.chat_id = $1 AND m.seq %s $2 ORDER BY m.seq %s LIMIT $3`
		found := seq <= 0
		if found {
			seq = math.MaxInt64
		}
		for _, part := range []struct {
			op, order string
			limit     int
		}{{"<", "DESC", around}, {"=", "ASC", 1}, {">", "ASC", around}} {
			rows, err := tx.QueryContext(ctx, fmt.Sprintf(q, part.op, part.order), id, seq, part.limit)
			if err != nil {
				return fmt.Errorf("review messages: %w", err)
			}
			var page []ReviewedMessage
			for rows.Next() {
				var rm ReviewedMessage
				var removed, held int64
				var text, media string
				var err error
				if rm.Message, err = scanMessage(rows, &rm.MediaID, &removed, &rm.Reason, &text, &media, &held); err != nil {
					rows.Close()
					return err
				}
				if removed != 0 {
					rm.Removed = sqldb.FromMicros(removed)
					rm.Deleted = false
					rm.Text = text
					rm.Media = parseAttachment(media)
					rm.Held = held != 0
				}
				page = append(page, rm)
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return err
			}
			if part.op == "<" {
				for i, j := 0, len(page)-1; i < j; i, j = i+1, j-1 {
					page[i], page[j] = page[j], page[i]
				}
			}
			if part.op == "=" && len(page) == 1 {
				found = true
			}
			out = append(out, page...)
		}
		if !found {
			return kurir.Errorf(kurir.ENotFound, "No message %d in chat %d.", seq, id)
		}
		return nil
	})
	return out, err
}

// ChatVisible returns nil if user can see chat id (so may report it), and
// otherwise the error they would get opening it.
func (s *Service) ChatVisible(ctx context.Context, user kurir.UserID, id ChatID) error {
	c, err := s.loadChat(ctx, s.db.Read(), id, user)
	if err != nil {
		return err
	}
	if !c.canRead() {
		return c.readErr()
	}
	return nil
}

// MessageVisible returns the message seq of chat id if user can read it (so
// may report it), and otherwise ENotFound.
func (s *Service) MessageVisible(ctx context.Context, user kurir.UserID, id ChatID, seq int64) (Message, error) {
	return s.readable(ctx, s.db.Read(), user, id, seq)
}

// Posting is a message that carries a given media object, where it was
// posted: what a bulk takedown by hash acts on.
type Posting struct {
	Chat    ChatID
	Seq     int64
	Kind    Kind
	Title   string
	Members int64
	Sender  kurir.UserID
	Owner   kurir.UserID // the chat's creator
}

// Postings lists up to limit messages, not deleted, that carry any of the
// media objects, in chats not taken down, newest first.
func (s *Service) Postings(ctx context.Context, media []int64, limit int) ([]Posting, error) {
	if len(media) == 0 {
		return nil, nil
	}
	args := []any{limit}
	in := make([]string, len(media))
	for i, id := range media {
		args = append(args, id)
		in[i] = fmt.Sprintf("$%d", i+2)
	}
	rows, err := s.db.Read().QueryContext(ctx, `SELECT m.chat_id, m.seq, c.kind, c.title, c.member_count, m.sender_id, c.creator_id
		FROM messages m JOIN chats c ON c.id = m.chat_id
		WHERE m.media_id IN (`+strings.Join(in, ", ")+`) AND m.deleted_at = 0 AND c.taken_down_at = 0
		ORDER BY m.created_at DESC LIMIT $1`, args...)
	if err != nil {
		return nil, fmt.Errorf("postings: %w", err)
	}
	defer rows.Close()
	var out []Posting
	for rows.Next() {
		var p Posting
		if err := rows.Scan(&p.Chat, &p.Seq, &p.Kind, &p.Title, &p.Members, &p.Sender, &p.Owner); err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}
