package messaging

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"kurir"
	"kurir/sqldb"
)

// Direction is which way a history page goes from its anchor.
type Direction int

// History directions.
const (
	Older Direction = iota // messages before the anchor, newest first
	Newer                  // messages after the anchor, oldest first
)

// History returns up to limit messages of a chat that user may read, before
// or after the anchor seq (anchor 0 with Older means the newest). Messages
// deleted for everyone are left out, as are those user deleted for
// themselves.
func (s *Service) History(ctx context.Context, user kurir.UserID, id ChatID, anchor int64, dir Direction, limit int) ([]Message, error) {
	limit = clampLimit(limit, 100)
	var out []Message
	err := s.db.ReadTx(ctx, func(tx *sqldb.Tx) error {
		c, err := s.loadChat(ctx, tx, id, user)
		if err != nil {
			return err
		}
		if !c.canRead() {
			return c.readErr()
		}
		cleared := int64(0)
		if c.isMember() {
			cleared = c.cleared
		}
		q := `SELECT ` + messageColumns + ` FROM messages m WHERE chat_id = $1 AND deleted_at = 0 AND seq > $2
			AND NOT EXISTS (SELECT 1 FROM hidden_messages h WHERE h.user_id = $3 AND h.chat_id = m.chat_id AND h.seq = m.seq)`
		args := []any{id, cleared, user, limit}
		switch {
		case dir == Newer:
			q += ` AND seq > $5 ORDER BY seq ASC LIMIT $4`
			args = append(args, anchor)
		case anchor <= 0:
			q += ` ORDER BY seq DESC LIMIT $4`
		default:
			q += ` AND seq < $5 ORDER BY seq DESC LIMIT $4`
			args = append(args, anchor)
		}
		rows, err := tx.QueryContext(ctx, q, args...)
		if err != nil {
			return fmt.Errorf("history of chat %d: %w", id, err)
		}
		defer rows.Close()
		for rows.Next() {
			m, err := scanMessage(rows)
			if err != nil {
				return err
			}
			out = append(out, m)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		return s.withholdMessages(ctx, out)
	})
	return out, err
}

func clampLimit(limit, max int) int {
	if limit <= 0 || limit > max {
		return max
	}
	return limit
}

// Dialog is an entry of a user's chat list.
type Dialog struct {
	Chat        Chat
	LastMessage *Message // nil if the chat has none
	// Unread counts messages from others after the read mark, up to MaxUnread.
	Unread       int
	LastActivity time.Time
}

// MaxUnread caps unread counts: a chat list shows "999+", not an exact
// count that would cost a scan of a busy channel.
const MaxUnread = 999

// DialogCursor continues a chat list after its last entry.
type DialogCursor struct {
	Activity time.Time
	ChatID   ChatID
}

// Dialogs returns the user's chats, most recently active first, after the
// cursor (zero for the first page). Private chats appear once they have a
// message.
func (s *Service) Dialogs(ctx context.Context, user kurir.UserID, after DialogCursor, limit int) ([]Dialog, error) {
	limit = clampLimit(limit, 100)
	var out []Dialog
	err := s.db.ReadTx(ctx, func(tx *sqldb.Tx) error {
		args := []any{user, limit}
		cond := ""
		if !after.Activity.IsZero() {
			args = append(args, sqldb.Micros(after.Activity), after.ChatID)
			cond = ` AND (c.last_activity_at < $3 OR (c.last_activity_at = $3 AND c.id < $4))`
		}
		rows, err := tx.QueryContext(ctx, `SELECT `+chatColumns+`, c.last_activity_at, c.last_message_seq
			FROM chat_members m JOIN chats c ON c.id = m.chat_id
			WHERE m.user_id = $1 AND m.status = 'member' AND (c.kind <> 'private' OR c.last_message_seq > 0)`+cond+`
			ORDER BY c.last_activity_at DESC, c.id DESC LIMIT $2`, args...)
		if err != nil {
			return fmt.Errorf("chat list: %w", err)
		}
		type entry struct {
			c        *chatRow
			activity int64
			last     int64
		}
		var entries []entry
		for rows.Next() {
			var e entry
			c, err := scanChat(rows, &e.activity, &e.last)
			if err == nil {
				err = s.territorial(ctx, c)
			}
			if err != nil {
				rows.Close()
				return err
			}
			e.c = c
			entries = append(entries, e)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, e := range entries {
			d := Dialog{Chat: e.c.view(user), LastActivity: sqldb.FromMicros(e.activity)}
			if err := peerRead(ctx, tx, &d.Chat); err != nil {
				return err
			}
			if e.c.takenDown != 0 || e.c.withheld != nil {
				out = append(out, d) // listed, with why, but nothing in it shows
				continue
			}
			if e.last > e.c.cleared {
				// The latest message still there: a deleted one is not news.
				m, err := scanMessage(tx.QueryRowContext(ctx, `SELECT `+messageColumns+` FROM messages m
					WHERE chat_id = $1 AND seq > $2 AND seq <= $3 AND deleted_at = 0
					AND NOT EXISTS (SELECT 1 FROM hidden_messages h WHERE h.user_id = $4 AND h.chat_id = m.chat_id AND h.seq = m.seq)
					ORDER BY seq DESC LIMIT 1`, e.c.id, e.c.cleared, e.last, user))
				switch {
				case err == nil:
					last := []Message{m}
					if err := s.withholdMessages(ctx, last); err != nil {
						return err
					}
					d.LastMessage = &last[0]
				case !errors.Is(err, sql.ErrNoRows):
					return err
				}
			}
			if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM (SELECT 1 FROM messages m
				WHERE chat_id = $1 AND seq > $2 AND sender_id <> $3 AND deleted_at = 0
				AND NOT EXISTS (SELECT 1 FROM hidden_messages h WHERE h.user_id = $3 AND h.chat_id = m.chat_id AND h.seq = m.seq)
				LIMIT $4) AS unread`,
				e.c.id, max(e.c.readSeq, e.c.cleared), user, MaxUnread).Scan(&d.Unread); err != nil {
				return err
			}
			out = append(out, d)
		}
		return nil
	})
	return out, err
}

// Difference is what changed in a user's update log after a pts.
type Difference struct {
	Updates []Update
	// PTS is where the next call should continue from.
	PTS int64
	// TooLong means the gap is larger than the server replays: reload the
	// chat list and each open chat's history instead, then continue from PTS.
	TooLong bool
}

// MaxDifference is the longest gap Difference and ChatDifference replay.
const MaxDifference = 10_000

// Difference returns the changes in user's private chats and small groups
// after pts, oldest first, at most limit of them. Events are filled with
// messages as they are now (so an edited message shows its new text).
func (s *Service) Difference(ctx context.Context, user kurir.UserID, pts int64, limit int) (Difference, error) {
	limit = clampLimit(limit, 1000)
	var d Difference
	err := s.db.ReadTx(ctx, func(tx *sqldb.Tx) error {
		if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(pts), 0) FROM user_pts WHERE user_id = $1`, user).Scan(&d.PTS); err != nil {
			return err
		}
		if pts < 0 || pts > d.PTS {
			return kurir.Invalid("pts", "beyond_end", "Your update log is at %d; %d is not a position in it.", d.PTS, pts)
		}
		if d.PTS-pts > MaxDifference {
			d.TooLong = true
			return nil
		}
		// Read marks (read_seq > 0) have no chat event; they are made up
		// as events of kind read, with no message.
		rows, err := tx.QueryContext(ctx, `SELECT * FROM (
			SELECT u.pts, `+eventColumns+`, `+eventMessageColumns+`
			FROM user_updates u JOIN chat_events e ON e.chat_id = u.chat_id AND e.seq = u.chat_seq `+eventMessageJoin+`
			JOIN chats c ON c.id = u.chat_id
			WHERE u.user_id = $1 AND u.pts > $2 AND u.read_seq = 0 AND (c.taken_down_at = 0 OR e.kind = 'takedown')
			UNION ALL
			SELECT u.pts, u.chat_id, 0, 'read', u.reader_id, u.read_seq, u.reader_id, u.read_at, 0, 0, 0, '', 0, 0, 0, 0, 0, 0, 0, 0, '', 0
			FROM user_updates u JOIN chats c ON c.id = u.chat_id
			WHERE u.user_id = $1 AND u.pts > $2 AND u.read_seq > 0 AND c.taken_down_at = 0
			) d ORDER BY 1 LIMIT $3`, user, pts, limit)
		if err != nil {
			return fmt.Errorf("difference: %w", err)
		}
		for rows.Next() {
			var u Update
			if err := scanEvent(rows, &u.PTS, &u.Event); err != nil {
				rows.Close()
				return err
			}
			d.Updates = append(d.Updates, u)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		evs := make([]*Event, len(d.Updates))
		for i := range d.Updates {
			evs[i] = &d.Updates[i].Event
		}
		if err := s.withholdEvents(ctx, evs); err != nil {
			return err
		}
		if len(d.Updates) == limit {
			d.PTS = d.Updates[len(d.Updates)-1].PTS
		}
		return nil
	})
	return d, err
}

// ChatDifference returns a chat's changes after seq, oldest first, at most
// limit: how members sync large groups and channels (and any chat after a
// reload). It returns the events, the seq to continue from, and whether the
// gap is too long to replay.
func (s *Service) ChatDifference(ctx context.Context, user kurir.UserID, id ChatID, seq int64, limit int) ([]Event, int64, bool, error) {
	limit = clampLimit(limit, 1000)
	var out []Event
	var next int64
	var tooLong bool
	err := s.db.ReadTx(ctx, func(tx *sqldb.Tx) error {
		c, err := s.loadChat(ctx, tx, id, user)
		if err != nil {
			return err
		}
		if !c.canRead() {
			return c.readErr()
		}
		next = c.seq
		if seq < 0 || seq > c.seq {
			return kurir.Invalid("seq", "beyond_end", "Chat %d is at %d; %d is not a position in it.", id, c.seq, seq)
		}
		if c.seq-seq > MaxDifference {
			tooLong = true
			return nil
		}
		rows, err := tx.QueryContext(ctx, `SELECT 0, `+eventColumns+`, `+eventMessageColumns+`
			FROM chat_events e `+eventMessageJoin+`
			WHERE e.chat_id = $1 AND e.seq > $2 ORDER BY e.seq LIMIT $3`, id, seq, limit)
		if err != nil {
			return fmt.Errorf("chat difference: %w", err)
		}
		for rows.Next() {
			var ev Event
			var zero int64
			if err := scanEvent(rows, &zero, &ev); err != nil {
				rows.Close()
				return err
			}
			out = append(out, ev)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		evs := make([]*Event, len(out))
		for i := range out {
			evs[i] = &out[i]
		}
		if err := s.withholdEvents(ctx, evs); err != nil {
			return err
		}
		if len(out) == limit {
			next = out[len(out)-1].Seq
		}
		return nil
	})
	return out, next, tooLong, err
}

// eventColumns are an event's columns (alias e), and eventMessageColumns,
// through eventMessageJoin, the message as it is now of a message or edit
// event (so an edited message shows its new text), or zeros for the others.
const (
	eventColumns        = `e.chat_id, e.seq, e.kind, e.actor_id, e.message_seq, e.user_id, e.at`
	eventMessageColumns = `COALESCE(m.chat_id, 0), COALESCE(m.seq, 0), COALESCE(m.sender_id, 0), COALESCE(m.text, ''),
		COALESCE(m.reply_to, 0), COALESCE(m.fwd_chat_id, 0), COALESCE(m.fwd_seq, 0), COALESCE(m.fwd_sender_id, 0),
		COALESCE(m.fwd_at, 0), COALESCE(m.created_at, 0), COALESCE(m.edited_at, 0), COALESCE(m.deleted_at, 0), COALESCE(m.media, ''),
		COALESCE(m.views, 0)`
	eventMessageJoin = `LEFT JOIN messages m ON e.kind IN ('message', 'edit', 'restored') AND m.chat_id = e.chat_id AND m.seq = e.message_seq`
)

// scanEvent scans a row of pts, eventColumns and eventMessageColumns.
func scanEvent(row interface{ Scan(...any) error }, pts *int64, ev *Event) error {
	var kind string
	var at int64
	var m messageRow
	if err := row.Scan(append([]any{pts, &ev.ChatID, &ev.Seq, &kind, &ev.ActorID, &ev.MessageSeq, &ev.UserID, &at}, m.dest()...)...); err != nil {
		return err
	}
	ev.Kind, ev.At = EventKind(kind), sqldb.FromMicros(at)
	if ev.Kind != EventMessage && ev.Kind != EventEdit && ev.Kind != EventRestored {
		return nil
	}
	if m.m.Seq == 0 {
		return kurir.Errorf(kurir.ENotFound, "No message %d in chat %d.", ev.MessageSeq, ev.ChatID)
	}
	msg := m.message()
	ev.Message = &msg
	return nil
}

// SyncState is where a user's devices start syncing from.
type SyncState struct {
	PTS int64
	// LargeChats are the user's large groups and channels with their current
	// seq, which devices sync one by one with ChatDifference.
	LargeChats map[ChatID]int64
}

// State returns the user's current update-log position and large chats.
func (s *Service) State(ctx context.Context, user kurir.UserID) (SyncState, error) {
	st := SyncState{LargeChats: map[ChatID]int64{}}
	err := s.db.ReadTx(ctx, func(tx *sqldb.Tx) error {
		if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(pts), 0) FROM user_pts WHERE user_id = $1`, user).Scan(&st.PTS); err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, `SELECT c.id, c.seq FROM chat_members m JOIN chats c ON c.id = m.chat_id
			WHERE m.user_id = $1 AND m.status = 'member' AND c.large = 1`, user)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var id ChatID
			var seq int64
			if err := rows.Scan(&id, &seq); err != nil {
				return err
			}
			st.LargeChats[id] = seq
		}
		return rows.Err()
	})
	return st, err
}

// MediaVisible reports whether user may see media object id because it is
// attached to a message they can read: not deleted, not hidden by them, in
// a chat they are a member of (after any history they cleared) or in a
// public group or channel they are not banned from. The media service asks
// this before serving a file to anyone but its owner. A posting withheld
// where the reader is does not count: the file is visible only through
// another.
func (s *Service) MediaVisible(ctx context.Context, user kurir.UserID, id int64) (bool, error) {
	const visible = ` FROM messages m JOIN chats c ON c.id = m.chat_id
		LEFT JOIN chat_members cm ON cm.chat_id = m.chat_id AND cm.user_id = $2
		WHERE m.media_id = $1 AND m.deleted_at = 0 AND c.taken_down_at = 0
		AND ((cm.status = 'member' AND m.seq > cm.cleared_seq)
			OR (COALESCE(c.username, '') <> '' AND c.kind <> 'private' AND COALESCE(cm.status, '') <> 'banned'))
		AND NOT EXISTS (SELECT 1 FROM hidden_messages h WHERE h.user_id = $2 AND h.chat_id = m.chat_id AND h.seq = m.seq)`
	loc := kurir.LocationFrom(ctx)
	rs, err := s.restrictions(ctx)
	if err != nil {
		return false, err
	}
	if loc == (kurir.Location{}) || len(rs.chats) == 0 {
		var ok bool
		if err := s.db.Read().QueryRowContext(ctx, `SELECT EXISTS (SELECT 1`+visible+`)`, id, user).Scan(&ok); err != nil {
			return false, fmt.Errorf("media visibility: %w", err)
		}
		return ok, nil
	}
	// Restrictions are about; look for a posting not withheld here among
	// the first few (a file is rarely posted in more places than that).
	rows, err := s.db.Read().QueryContext(ctx, `SELECT m.chat_id, m.seq, m.fwd_chat_id, m.fwd_seq`+visible+` LIMIT 200`, id, user)
	if err != nil {
		return false, fmt.Errorf("media visibility: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var m Message
		var fwdChat ChatID
		var fwdSeq int64
		if err := rows.Scan(&m.ChatID, &m.Seq, &fwdChat, &fwdSeq); err != nil {
			return false, err
		}
		if fwdChat != 0 {
			m.Forward = &Forward{ChatID: fwdChat, Seq: fwdSeq}
		}
		if s.withheldMessage(rs, loc, &m, false) == nil {
			return true, nil
		}
	}
	return false, rows.Err()
}
