package moderation

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"kurir"
	"kurir/account"
	"kurir/media"
	"kurir/messaging"
	"kurir/sqldb"
)

// The states of a case.
const (
	StateOpen      = "open"
	StateEscalated = "escalated"
	StateResolved  = "resolved"
)

// Case is a case as it appears in the queue.
type Case struct {
	ID          int64
	Subject     Subject
	Category    Category
	Priority    int64
	State       string
	Assignee    kurir.UserID
	Reach       int64
	SignalCount int64
	Sources     []Source
	Due         time.Time // the category's SLA from the first signal
	Opened      time.Time
	Updated     time.Time
	Resolved    time.Time // zero unless resolved
	Outcome     string    // actioned or dismissed, once resolved
}

// Overdue reports whether the case is unresolved past its SLA at now.
func (c Case) Overdue(now time.Time) bool { return c.State != StateResolved && now.After(c.Due) }

const caseColumns = `id, subject, category, priority, state, assignee_id, reach, signal_count, sources, due_at, opened_at, updated_at, resolved_at, outcome`

func scanCase(row interface{ Scan(...any) error }) (Case, error) {
	var c Case
	var subject, cat, sources string
	var due, opened, updated, resolved int64
	if err := row.Scan(&c.ID, &subject, &cat, &c.Priority, &c.State, &c.Assignee, &c.Reach, &c.SignalCount, &sources,
		&due, &opened, &updated, &resolved, &c.Outcome); err != nil {
		return Case{}, err
	}
	c.Subject, _ = ParseSubject(subject)
	c.Category = Category(cat)
	for _, s := range strings.Split(sources, ",") {
		if s != "" {
			c.Sources = append(c.Sources, Source(s))
		}
	}
	c.Due, c.Opened, c.Updated = sqldb.FromMicros(due), sqldb.FromMicros(opened), sqldb.FromMicros(updated)
	if resolved != 0 {
		c.Resolved = sqldb.FromMicros(resolved)
	}
	return c, nil
}

// QueueFilter selects cases. The zero filter is every unresolved case.
type QueueFilter struct {
	State    string // open, escalated or resolved; "" for open and escalated
	Category Category
	Source   Source
	Assignee kurir.UserID // only cases assigned to this person
	Limit    int
	Offset   int
}

// Queue returns cases, highest priority first and, among equals, the one
// due soonest.
func (s *Service) Queue(ctx context.Context, by Staff, f QueueFilter) ([]Case, error) {
	if err := by.require(permView); err != nil {
		return nil, err
	}
	var where []string
	var args []any
	arg := func(v any) string { args = append(args, v); return fmt.Sprintf("$%d", len(args)) }
	switch f.State {
	case "":
		where = append(where, `state <> 'resolved'`)
	case StateOpen, StateEscalated, StateResolved:
		where = append(where, `state = `+arg(f.State))
	default:
		return nil, kurir.Invalid("state", "unknown_state", "A case is open, escalated or resolved.")
	}
	if f.Category != "" {
		if !f.Category.Valid() {
			return nil, kurir.Invalid("category", "unknown_category", "Unknown category %q.", f.Category)
		}
		where = append(where, `category = `+arg(string(f.Category)))
	}
	if f.Source != "" {
		// sources is a sorted comma-separated set: match a whole element
		where = append(where, `(',' || sources || ',') LIKE `+arg("%,"+string(f.Source)+",%"))
	}
	if f.Assignee != 0 {
		where = append(where, `assignee_id = `+arg(f.Assignee))
	}
	order := `priority DESC, due_at, id`
	if f.State == StateResolved {
		order = `resolved_at DESC, id DESC`
	}
	q := `SELECT ` + caseColumns + ` FROM mod_cases WHERE ` + strings.Join(where, " AND ") +
		` ORDER BY ` + order + ` LIMIT ` + arg(clamp(f.Limit, 200)) + ` OFFSET ` + arg(max(0, f.Offset))
	rows, err := s.db.Read().QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("queue: %w", err)
	}
	defer rows.Close()
	var out []Case
	for rows.Next() {
		c, err := scanCase(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// Signal is one signal of a case as its reviewers see it.
type Signal struct {
	ID       int64
	Source   Source
	Category Category
	Reporter kurir.UserID // 0 for notices and automated detection
	Notice   int64
	Comment  string    // the reporter's or notifier's words, unchecked
	Detail   string    // the evidence as it was when signalled
	Evidence *Evidence // what the server verified before filing it; nil if nothing
	Weight   float64
	At       time.Time
}

// CaseEvent is an entry of a case's history.
type CaseEvent struct {
	Actor kurir.UserID
	Kind  string
	Note  string
	At    time.Time
}

// CaseDetail is everything a reviewer sees of a case.
type CaseDetail struct {
	Case
	Signals []Signal
	History []CaseEvent
	Actions []Action
	// Messages is, for a message subject, the message with those around it
	// (the context of a report); for a chat subject, its latest messages.
	Messages []messaging.ReviewedMessage
	// Chat is the group or channel of a message or chat subject.
	Chat *messaging.Review
	// Media is the file of a media subject (see its Status: held or ready).
	Media *media.Media
}

// Case returns a case with its signals, history, actions and context. The
// view is recorded in the audit log: reviewers read content people reported.
func (s *Service) Case(ctx context.Context, by Staff, id int64) (CaseDetail, error) {
	if err := by.require(permView); err != nil {
		return CaseDetail{}, err
	}
	var d CaseDetail
	err := s.db.ReadTx(ctx, func(tx *sqldb.Tx) error {
		var err error
		d.Case, err = scanCase(tx.QueryRowContext(ctx, `SELECT `+caseColumns+` FROM mod_cases WHERE id = $1`, id))
		if errors.Is(err, sql.ErrNoRows) {
			return kurir.Errorf(kurir.ENotFound, "No case %d.", id)
		}
		if err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, `SELECT id, source, category, reporter_id, notice_id, comment, detail, evidence, weight_milli, created_at
			FROM mod_signals WHERE case_id = $1 ORDER BY id`, id)
		if err != nil {
			return err
		}
		for rows.Next() {
			var g Signal
			var src, cat, evidence string
			var w, at int64
			if err := rows.Scan(&g.ID, &src, &cat, &g.Reporter, &g.Notice, &g.Comment, &g.Detail, &evidence, &w, &at); err != nil {
				rows.Close()
				return err
			}
			if g.Evidence, err = decodeEvidence(evidence); err != nil {
				rows.Close()
				return fmt.Errorf("signal %d: %w", g.ID, err)
			}
			g.Source, g.Category, g.Weight, g.At = Source(src), Category(cat), float64(w)/1000, sqldb.FromMicros(at)
			d.Signals = append(d.Signals, g)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		rows, err = tx.QueryContext(ctx, `SELECT actor_id, kind, note, at FROM mod_events WHERE case_id = $1 ORDER BY id`, id)
		if err != nil {
			return err
		}
		for rows.Next() {
			var e CaseEvent
			var at int64
			if err := rows.Scan(&e.Actor, &e.Kind, &e.Note, &at); err != nil {
				rows.Close()
				return err
			}
			e.At = sqldb.FromMicros(at)
			d.History = append(d.History, e)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		d.Actions, err = actions(ctx, tx, `case_id = $1`, id)
		return err
	})
	if err != nil {
		return CaseDetail{}, err
	}
	switch d.Subject.Kind {
	case SubjectMedia:
		if m, err := media.Describe(ctx, s.db.Read(), media.ID(d.Subject.Media)); err == nil {
			d.Media = &m
		}
	case SubjectMessage, SubjectChat:
		c, err := s.msg.ReviewChat(ctx, d.Subject.Chat)
		if err == nil {
			d.Chat = &c
		}
		if ms, err := s.msg.ReviewMessages(ctx, d.Subject.Chat, d.Subject.Seq, 5); err == nil {
			d.Messages = ms
		}
	}
	err = s.db.WriteTx(ctx, func(tx *sqldb.Tx) error {
		return record(ctx, tx, by, "case.view", caseKey(id), d.Subject.Key())
	})
	return d, err
}

func caseKey(id int64) string { return fmt.Sprintf("case:%d", id) }

// sortCase changes an unresolved case for a reviewer, recording it in the
// case's history and the audit log.
func (s *Service) sortCase(ctx context.Context, by Staff, id int64, perm permission, kind, note string,
	fn func(tx *sqldb.Tx, c Case) error) error {
	if err := by.require(perm); err != nil {
		return err
	}
	now := s.now()
	return s.db.WriteTx(ctx, func(tx *sqldb.Tx) error {
		c, err := scanCase(tx.QueryRowContext(ctx, `SELECT `+caseColumns+` FROM mod_cases WHERE id = $1`, id))
		if errors.Is(err, sql.ErrNoRows) {
			return kurir.Errorf(kurir.ENotFound, "No case %d.", id)
		}
		if err != nil {
			return err
		}
		if c.State == StateResolved && kind != "comment" {
			return kurir.Errorf(kurir.EConflict, "Case %d is already resolved (%s).", id, c.Outcome)
		}
		if fn != nil {
			if err := fn(tx, c); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE mod_cases SET updated_at = $2 WHERE id = $1`, id, sqldb.Micros(now)); err != nil {
			return err
		}
		if err := addEvent(ctx, tx, id, by.ID, kind, note, now); err != nil {
			return err
		}
		return record(ctx, tx, by, "case."+kind, caseKey(id), note)
	})
}

// Assign gives a case to a member of staff (0 to unassign).
func (s *Service) Assign(ctx context.Context, by Staff, id int64, to kurir.UserID) error {
	if to != 0 {
		u, err := s.acc.UserByID(ctx, to)
		if err != nil {
			return err
		}
		if (Staff{ID: to, Role: u.Role}).require(permView) != nil {
			return kurir.Invalid("assignee", "not_staff", "User %d is not moderation staff.", to)
		}
	}
	return s.sortCase(ctx, by, id, permSort, "assign", fmt.Sprintf("user:%d", to), func(tx *sqldb.Tx, c Case) error {
		_, err := tx.ExecContext(ctx, `UPDATE mod_cases SET assignee_id = $2 WHERE id = $1`, id, to)
		return err
	})
}

// Escalate sends a case to senior review, with a note saying why.
func (s *Service) Escalate(ctx context.Context, by Staff, id int64, note string) error {
	note, err := cleanText("note", "note", note, 2000, false)
	if err != nil {
		return err
	}
	return s.sortCase(ctx, by, id, permSort, "escalate", note, func(tx *sqldb.Tx, c Case) error {
		if c.State == StateEscalated {
			return kurir.Errorf(kurir.EConflict, "Case %d is already escalated.", id)
		}
		_, err := tx.ExecContext(ctx, `UPDATE mod_cases SET state = 'escalated' WHERE id = $1`, id)
		return err
	})
}

// Comment adds an internal note to a case.
func (s *Service) Comment(ctx context.Context, by Staff, id int64, note string) error {
	note, err := cleanText("note", "note", note, 2000, true)
	if err != nil {
		return err
	}
	return s.sortCase(ctx, by, id, permSort, "comment", note, nil)
}

// Dismiss resolves a case without action: nothing was wrong. It counts
// against the accuracy of those who reported it, and a message held for
// review is released to everyone.
func (s *Service) Dismiss(ctx context.Context, by Staff, id int64, reason string) error {
	reason, err := cleanText("reason", "reason", reason, 2000, true)
	if err != nil {
		return err
	}
	if err := by.require(permAct); err != nil {
		return err
	}
	c, err := scanCase(s.db.Read().QueryRowContext(ctx, `SELECT `+caseColumns+` FROM mod_cases WHERE id = $1`, id))
	if err == nil && by.ID != 0 {
		kind := map[SubjectKind]ActionKind{SubjectMessage: RemoveMessage, SubjectChat: TakeDown, SubjectUser: Ban, SubjectMedia: RemoveMedia}[c.Subject.Kind]
		if t, terr := s.target(ctx, c.Subject, kind); kind != "" && terr == nil && t.affected == by.ID {
			return ownContent()
		}
	}
	if err == nil && c.State != StateResolved && c.Subject.Kind == SubjectMessage {
		released, err := s.msg.ReleaseHeld(ctx, c.Subject.Chat, c.Subject.Seq)
		if err != nil {
			return err
		}
		if released {
			reason = "released from hold: " + reason
		}
	}
	if err == nil && c.State != StateResolved && c.Subject.Kind == SubjectMedia {
		err := media.Release(ctx, s.db, media.ID(c.Subject.Media))
		switch {
		case err == nil:
			reason = "released from hold: " + reason
		case kurir.ErrorCode(err) != kurir.EConflict: // not held: nothing to release
			return err
		}
	}
	now := s.now()
	return s.sortCase(ctx, by, id, permAct, "dismiss", reason, func(tx *sqldb.Tx, c Case) error {
		_, err := tx.ExecContext(ctx, `UPDATE mod_cases SET state = 'resolved', outcome = 'dismissed', resolved_at = $2 WHERE id = $1`, id, sqldb.Micros(now))
		return err
	})
}

// ReviewMedia checks that media object mediaID is (or, before moderation
// removed it, was) attached to a message in the chat of case caseID, and
// records in the audit log that by is about to view it.
func (s *Service) ReviewMedia(ctx context.Context, by Staff, caseID, mediaID int64) error {
	if err := by.require(permView); err != nil {
		return err
	}
	var ok bool
	err := s.db.Read().QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM mod_cases c WHERE c.id = $1 AND (c.media_id = $2 OR c.chat_id <> 0 AND (
		EXISTS (SELECT 1 FROM messages m WHERE m.chat_id = c.chat_id AND m.media_id = $2)
		OR EXISTS (SELECT 1 FROM removed_messages r WHERE r.chat_id = c.chat_id AND r.media_id = $2))))`, caseID, mediaID).Scan(&ok)
	if err != nil {
		return err
	}
	if !ok {
		return kurir.Errorf(kurir.ENotFound, "Case %d shows no media %d.", caseID, mediaID)
	}
	return s.db.WriteTx(ctx, func(tx *sqldb.Tx) error {
		return record(ctx, tx, by, "case.media", caseKey(caseID), fmt.Sprintf("media:%d", mediaID))
	})
}

// AccountReview is what a reviewer sees of an account: who it is, its
// standing, the decisions against it, and its record as a reporter.
type AccountReview struct {
	User account.User
	// Actions are the decisions against its content or account, newest first.
	Actions []Action
	// OpenCases counts the unresolved cases about the account itself.
	OpenCases int64
	// Reports counts the reports it filed, and ReportsActioned those that
	// led to action.
	Reports, ReportsActioned int64
}

// Account returns an account as a reviewer sees it. The view is audited.
func (s *Service) Account(ctx context.Context, by Staff, id kurir.UserID) (AccountReview, error) {
	if err := by.require(permView); err != nil {
		return AccountReview{}, err
	}
	u, err := s.acc.UserByID(ctx, id)
	if err != nil {
		return AccountReview{}, err
	}
	r := AccountReview{User: u}
	q := s.db.Read()
	if r.Actions, err = actions(ctx, q, `affected_id = $1`, id); err != nil {
		return AccountReview{}, err
	}
	slices.Reverse(r.Actions)
	if err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM mod_cases WHERE subject = $1 AND state <> 'resolved'`, SubjectUserKey(id)).Scan(&r.OpenCases); err != nil {
		return AccountReview{}, err
	}
	if err := q.QueryRowContext(ctx, `SELECT COUNT(*), COALESCE(SUM(CASE WHEN c.outcome = 'actioned' THEN 1 ELSE 0 END), 0)
		FROM mod_signals g JOIN mod_cases c ON c.id = g.case_id WHERE g.reporter_id = $1`, id).Scan(&r.Reports, &r.ReportsActioned); err != nil {
		return AccountReview{}, err
	}
	err = s.db.WriteTx(ctx, func(tx *sqldb.Tx) error {
		return record(ctx, tx, by, "user.view", SubjectUserKey(id), "")
	})
	return r, err
}
