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
	// Outcome, once resolved, is actioned or dismissed, or merged for a
	// notice's case that staff linked to a subject that had a case already.
	Outcome string
	// Lang and Country are where the first person who signalled it was:
	// their language (the primary subtag of Accept-Language, such as "de")
	// and country (ISO 3166-1 alpha-2); "" when unknown or automated.
	Lang, Country string
}

// Overdue reports whether the case is unresolved past its SLA at now.
func (c Case) Overdue(now time.Time) bool { return c.State != StateResolved && now.After(c.Due) }

const caseColumns = `id, subject, category, priority, state, assignee_id, reach, signal_count, sources, due_at, opened_at, updated_at, resolved_at, outcome, lang, country`

func scanCase(row interface{ Scan(...any) error }) (Case, error) {
	var c Case
	var subject, cat, sources string
	var due, opened, updated, resolved int64
	if err := row.Scan(&c.ID, &subject, &cat, &c.Priority, &c.State, &c.Assignee, &c.Reach, &c.SignalCount, &sources,
		&due, &opened, &updated, &resolved, &c.Outcome, &c.Lang, &c.Country); err != nil {
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
	// Lang and Country keep only cases whose first signal came from a
	// person reading this language or in this country (see Case).
	Lang, Country string
	Limit         int
	Offset        int
}

// Queue returns cases: those past their SLA first, then the highest
// priority first and, among equals, the one due soonest; for an admin,
// escalated cases come before all others. The view is audited (what was asked for, by whom) at most
// once a minute per staff member and filter: the console refreshes the
// queue every few seconds.
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
	if f.Lang != "" {
		l := languageTag(f.Lang)
		if l == "" || l != strings.ToLower(f.Lang) {
			return nil, kurir.Invalid("lang", "bad_language", "%q is not a language; give a code such as de or ar.", f.Lang)
		}
		where = append(where, `lang = `+arg(l))
	}
	if f.Country != "" {
		c := strings.ToUpper(f.Country)
		if !kurir.IsCountry(c) {
			return nil, kurir.Invalid("country", "bad_country", "%q is not a country; give an ISO 3166-1 code such as DE.", f.Country)
		}
		where = append(where, `country = `+arg(c))
	}
	// Past its SLA a case goes ahead of every case still in time, and
	// escalated cases, waiting for a senior, go ahead for admins.
	order := `CASE WHEN due_at < ` + arg(sqldb.Micros(s.now())) + ` THEN 0 ELSE 1 END, priority DESC, due_at, id`
	if by.Role == kurir.RoleAdmin {
		order = `CASE WHEN state = 'escalated' THEN 0 ELSE 1 END, ` + order
	}
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
	if err := rows.Err(); err != nil {
		return nil, err
	}
	view := fmt.Sprintf("state=%s category=%s source=%s assignee=%d lang=%s country=%s offset=%d",
		f.State, f.Category, f.Source, f.Assignee, f.Lang, f.Country, f.Offset)
	if err := s.recordListView(ctx, by, "queue.view", "queue", view, view); err != nil {
		return nil, err
	}
	return out, nil
}

// recordListView records in the audit log that by read a list (action on
// key, as filter selected it, with note saying what it showed), at most
// once a minute per staff member, list and filter: the console refreshes
// its lists every few seconds, and a write per refresh would fill the
// audit log and hold the database's writer for nothing new.
func (s *Service) recordListView(ctx context.Context, by Staff, action, key, filter, note string) error {
	if ok, _ := s.queueViews.Allow(fmt.Sprintf("%d %s %s %s", by.ID, action, key, filter)); !ok {
		return nil
	}
	return s.db.WriteTx(ctx, func(tx *sqldb.Tx) error { return record(ctx, tx, by, action, key, note) })
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
	// Media is the file of a media subject (see its Status: held or ready),
	// or of a message subject that carries one.
	Media *media.Media
	// Notices are the notices filed into the case, whole: the location as
	// given and the full explanation.
	Notices []NoticeRecord
}

// Case returns a case with its signals, history, actions and context. The
// view is recorded in the audit log: reviewers read content people reported.
// Notifiers' names and addresses are shown only to staff who may act
// (NoticeRecord.Withheld), and the chat around the subject only where
// showsChat allows it.
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
		if d.Actions, err = actions(ctx, tx, `case_id = $1`, id); err != nil {
			return err
		}
		d.Notices, err = caseNotices(ctx, tx, id)
		return err
	})
	if err != nil {
		return CaseDetail{}, err
	}
	if !by.may(permAct) {
		for i, n := range d.Notices {
			if n.Name != "" || n.Email != "" {
				d.Notices[i].Name, d.Notices[i].Email, d.Notices[i].Withheld = "", "", true
			}
		}
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
		whole, err := s.showsChat(ctx, d.Case)
		if err != nil {
			return CaseDetail{}, err
		}
		switch {
		case whole:
			if ms, err := s.msg.ReviewMessages(ctx, d.Subject.Chat, d.Subject.Seq, 5); err == nil {
				d.Messages = ms
			}
		case d.Subject.Kind == SubjectMessage:
			if m, err := s.reviewedMessage(ctx, d.Subject); err == nil {
				d.Messages = []messaging.ReviewedMessage{m}
			}
		}
		if d.Subject.Kind == SubjectMessage {
			for _, m := range d.Messages {
				if m.Seq == d.Subject.Seq && m.MediaID != 0 {
					if f, err := media.Describe(ctx, s.db.Read(), media.ID(m.MediaID)); err == nil {
						d.Media = &f
					}
				}
			}
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
		if err != nil {
			return err
		}
		return queueDecisionMail(ctx, tx, id, nil, now)
	})
}

// ReviewMedia checks that media object mediaID is (or, before moderation
// removed it, was) attached to a message in the chat of case caseID, and
// records in the audit log that by is about to view it.
func (s *Service) ReviewMedia(ctx context.Context, by Staff, caseID, mediaID int64) error {
	if err := by.require(permView); err != nil {
		return err
	}
	c, err := scanCase(s.db.Read().QueryRowContext(ctx, `SELECT `+caseColumns+` FROM mod_cases WHERE id = $1`, caseID))
	if errors.Is(err, sql.ErrNoRows) {
		return kurir.Errorf(kurir.ENotFound, "Case %d shows no media %d.", caseID, mediaID)
	}
	if err != nil {
		return err
	}
	whole, err := s.showsChat(ctx, c)
	if err != nil {
		return err
	}
	// Where the case shows its chat, any file posted there; otherwise
	// only the file of the case's own message.
	seq := `1 = 1`
	if !whole {
		seq = `m.seq = c.seq AND c.seq <> 0`
	}
	var ok bool
	err = s.db.Read().QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM mod_cases c WHERE c.id = $1 AND (c.media_id = $2 OR c.chat_id <> 0 AND (
		EXISTS (SELECT 1 FROM messages m WHERE m.chat_id = c.chat_id AND m.media_id = $2 AND `+seq+`)
		OR EXISTS (SELECT 1 FROM removed_messages m WHERE m.chat_id = c.chat_id AND m.media_id = $2 AND `+seq+`))))`, caseID, mediaID).Scan(&ok)
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

// showsChat reports whether reviewers of case c may read the chat of its
// subject around it (the messages before and after a message, a chat's
// latest messages, any file posted there): when the chat is one a visitor
// could read, or when one of its members reported the case, and so chose
// to show it to moderation. Otherwise, as when staff linked a notice to a
// private group (LinkCase) or automated detection flagged a message there,
// the case shows the one message it is about, with its file, and nothing
// else of the chat.
func (s *Service) showsChat(ctx context.Context, c Case) (bool, error) {
	if c.Subject.Kind != SubjectMessage && c.Subject.Kind != SubjectChat {
		return true, nil
	}
	r, err := s.msg.ReviewChat(ctx, c.Subject.Chat)
	if err != nil {
		return false, nil // nothing to show
	}
	if public(r) {
		return true, nil
	}
	var reported bool
	err = s.db.Read().QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM mod_signals g JOIN chat_members cm ON cm.chat_id = $2 AND cm.user_id = g.reporter_id
		WHERE g.case_id = $1 AND g.reporter_id <> 0)`, c.ID, c.Subject.Chat).Scan(&reported)
	if err != nil {
		return false, fmt.Errorf("reported by a member: %w", err)
	}
	return reported, nil
}

// public reports whether a visitor without an account can read chat r: a
// group or channel with a public @name.
func public(r messaging.Review) bool { return r.Kind != messaging.Private && r.Username != "" }

// mayLink checks that by may point a notice's case at subj (LinkCase).
// Staff choose what a notice means, so the choice is bounded by what a
// notifier could have seen: a private conversation between two people
// never (only a participant's report brings one to moderation), and a
// private group or channel, or a file posted only in private chats, only
// by a moderator, not triage. Such a case then shows the one message it is
// about, not the chat around it (showsChat).
func (s *Service) mayLink(ctx context.Context, by Staff, subj Subject) (private bool, err error) {
	switch subj.Kind {
	case SubjectMessage, SubjectChat:
		r, err := s.msg.ReviewChat(ctx, subj.Chat)
		if err != nil {
			return false, err
		}
		if r.Kind == messaging.Private {
			return true, &kurir.Error{Code: kurir.EForbidden, Reason: "private_subject",
				Message: "A private conversation between two people cannot be linked to a notice: nobody outside it could have seen it."}
		}
		if public(r) {
			return false, nil
		}
	case SubjectMedia:
		var shared bool
		if err := s.db.Read().QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM chats c WHERE c.kind <> 'private' AND c.username IS NOT NULL AND c.username <> '' AND (
			EXISTS (SELECT 1 FROM messages m WHERE m.chat_id = c.id AND m.media_id = $1)
			OR EXISTS (SELECT 1 FROM removed_messages r WHERE r.chat_id = c.id AND r.media_id = $1)))`, subj.Media).Scan(&shared); err != nil {
			return false, fmt.Errorf("file posted in public: %w", err)
		}
		if shared {
			return false, nil
		}
	default:
		return false, nil
	}
	if !by.may(permAct) {
		return true, &kurir.Error{Code: kurir.EForbidden, Reason: "private_subject",
			Message: "Only a moderator may link a notice to a private group or channel, or to a file posted only in private chats."}
	}
	return true, nil
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

// languageTag is the primary language subtag of the first language an
// Accept-Language header (or a bare tag) names, lower case, such as "de"
// for "de-AT,de;q=0.9"; "" if it names none.
func languageTag(accept string) string {
	first, _, _ := strings.Cut(accept, ",")
	tag, _, _ := strings.Cut(strings.TrimSpace(first), ";")
	base, _, _ := strings.Cut(strings.TrimSpace(tag), "-")
	base, _, _ = strings.Cut(base, "_")
	if len(base) < 2 || len(base) > 3 {
		return ""
	}
	for _, r := range base {
		if (r < 'a' || r > 'z') && (r < 'A' || r > 'Z') {
			return ""
		}
	}
	return strings.ToLower(base)
}

// setOrigin records on case caseID the language and country of a person
// who signalled it, unless an earlier signal already gave them.
func setOrigin(ctx context.Context, tx *sqldb.Tx, caseID int64, lang, country string) error {
	if !kurir.IsCountry(country) {
		country = ""
	}
	_, err := tx.ExecContext(ctx, `UPDATE mod_cases SET lang = CASE WHEN lang = '' THEN $2 ELSE lang END,
		country = CASE WHEN country = '' THEN $3 ELSE country END WHERE id = $1`, caseID, lang, country)
	if err != nil {
		return fmt.Errorf("case origin: %w", err)
	}
	return nil
}

// LinkCase points a notice's case, whose location named nothing a visitor
// could see, at the subject staff found it means, so that it can be acted
// on. target is a subject key (message:CHAT:SEQ, chat:ID, user:ID,
// media:ID) or any location a notice may give (a link such as
// https://HOST/chats/5/17), looked up as staff see the platform. If the
// subject already has a case, the notice's signals join it and the
// notice's case is resolved as merged. It returns the ID of the case that
// now holds the notice. Triage may link to what a visitor could see; a
// private group or channel, or a file posted only in private chats, takes a
// moderator, and a private conversation between two people is refused
// (EForbidden, reason private_subject; see mayLink). The link is audited.
func (s *Service) LinkCase(ctx context.Context, by Staff, caseID int64, target string) (int64, error) {
	if err := by.require(permSort); err != nil {
		return 0, err
	}
	target, err := cleanText("subject", "subject", target, 2000, true)
	if err != nil {
		return 0, err
	}
	subj, reach, err := s.resolve(ctx, target)
	if err != nil {
		return 0, err
	}
	private, err := s.mayLink(ctx, by, subj)
	if err != nil {
		return 0, err
	}
	key := subj.Key()
	now := s.now()
	into := caseID
	err = s.db.WriteTx(ctx, func(tx *sqldb.Tx) error {
		c, err := scanCase(tx.QueryRowContext(ctx, `SELECT `+caseColumns+` FROM mod_cases WHERE id = $1`, caseID))
		if errors.Is(err, sql.ErrNoRows) {
			return kurir.Errorf(kurir.ENotFound, "No case %d.", caseID)
		}
		if err != nil {
			return err
		}
		if c.State == StateResolved {
			return kurir.Errorf(kurir.EConflict, "Case %d is already resolved (%s).", caseID, c.Outcome)
		}
		if c.Subject.Kind != SubjectNotice {
			return kurir.Invalid("case", "not_a_notice", "Case %d is about %s already; only a notice's case whose location named nothing is linked.", caseID, c.Subject.Key())
		}
		var other Case
		other, err = scanCase(tx.QueryRowContext(ctx, `SELECT `+caseColumns+` FROM mod_cases WHERE subject = $1 AND state <> 'resolved'`, key))
		switch {
		case errors.Is(err, sql.ErrNoRows):
			var weight int64
			if err := tx.QueryRowContext(ctx, `SELECT weight_milli FROM mod_cases WHERE id = $1`, caseID).Scan(&weight); err != nil {
				return err
			}
			reach = max(reach, c.Reach)
			if _, err := tx.ExecContext(ctx, `UPDATE mod_cases SET subject = $2, chat_id = $3, seq = $4, user_id = $5, media_id = $6, reach = $7,
				priority = $8, updated_at = $9 WHERE id = $1`, caseID, key, subj.Chat, subj.Seq, subj.User, subj.Media, reach,
				priority(c.Category, reach, weight, strings.Join(sourceNames(c.Sources), ",")), sqldb.Micros(now)); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `UPDATE mod_signals SET subject = $2 WHERE case_id = $1`, caseID, key); err != nil {
				return err
			}
		case err != nil:
			return err
		default:
			into = other.ID
			if err := merge(ctx, tx, c, other, key, now); err != nil {
				return err
			}
			if err := addEvent(ctx, tx, caseID, by.ID, "merged", fmt.Sprintf("into case %d (%s)", into, key), now); err != nil {
				return err
			}
		}
		note := fmt.Sprintf("%s: %s", key, target)
		if private {
			note += " (private: not visible to visitors)"
		}
		if err := addEvent(ctx, tx, into, by.ID, "linked", note, now); err != nil {
			return err
		}
		return record(ctx, tx, by, "case.link", caseKey(caseID), note)
	})
	return into, err
}

// merge moves the signals and notices of case from into case to, about
// subject key, recomputes to's counts and priority, and resolves from as
// merged.
func merge(ctx context.Context, tx *sqldb.Tx, from, to Case, key string, now time.Time) error {
	var weight, toWeight int64
	if err := tx.QueryRowContext(ctx, `SELECT (SELECT weight_milli FROM mod_cases WHERE id = $1), (SELECT weight_milli FROM mod_cases WHERE id = $2)`,
		from.ID, to.ID).Scan(&weight, &toWeight); err != nil {
		return err
	}
	// A notifier already counted in the other case counts there once.
	if _, err := tx.ExecContext(ctx, `UPDATE mod_signals SET notifier = '' WHERE case_id = $1 AND notifier IN
		(SELECT notifier FROM mod_signals WHERE case_id = $2 AND notifier <> '')`, from.ID, to.ID); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE mod_signals SET case_id = $2, subject = $3 WHERE case_id = $1`, from.ID, to.ID, key); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE mod_notices SET case_id = $2 WHERE case_id = $1`, from.ID, to.ID); err != nil {
		return err
	}
	cat := moreSevere(to.Category, from.Category)
	due := min(sqldb.Micros(to.Due), sqldb.Micros(to.Opened)+cat.SLA().Microseconds())
	sources := strings.Join(sourceNames(to.Sources), ",")
	for _, src := range from.Sources {
		sources = addSource(sources, src)
	}
	reach := max(to.Reach, from.Reach)
	if _, err := tx.ExecContext(ctx, `UPDATE mod_cases SET category = $2, due_at = $3, sources = $4, reach = $5, priority = $6,
		signal_count = signal_count + $7, weight_milli = weight_milli + $8, updated_at = $9,
		lang = CASE WHEN lang = '' THEN $10 ELSE lang END, country = CASE WHEN country = '' THEN $11 ELSE country END WHERE id = $1`,
		to.ID, string(cat), due, sources, reach, priority(cat, reach, toWeight+weight, sources), from.SignalCount, weight, sqldb.Micros(now),
		from.Lang, from.Country); err != nil {
		return err
	}
	_, err := tx.ExecContext(ctx, `UPDATE mod_cases SET state = 'resolved', outcome = 'merged', resolved_at = $2, updated_at = $2, signal_count = 0, weight_milli = 0
		WHERE id = $1`, from.ID, sqldb.Micros(now))
	return err
}

func sourceNames(ss []Source) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = string(s)
	}
	return out
}

// resolve finds the subject target names, as staff see the platform: a
// subject key, or a location of any form a notice may give. It returns the
// subject and its reach.
func (s *Service) resolve(ctx context.Context, target string) (Subject, int64, error) {
	if subj, err := ParseSubject(target); err == nil {
		switch subj.Kind {
		case SubjectMessage:
			if _, err := s.reviewedMessage(ctx, subj); err != nil {
				return Subject{}, 0, err
			}
		case SubjectChat:
		case SubjectUser:
			_, err := s.acc.UserByID(ctx, subj.User)
			return subj, 0, err
		case SubjectMedia:
			_, err := media.Describe(ctx, s.db.Read(), media.ID(subj.Media))
			return subj, 0, err
		default:
			return Subject{}, 0, kurir.Invalid("subject", "bad_subject", "Link the case to a message, a chat, a user or a file.")
		}
		c, err := s.msg.ReviewChat(ctx, subj.Chat)
		return subj, c.MemberCount, err
	}
	p, ok := parsePlace(target)
	if !ok {
		return Subject{}, 0, kurir.Invalid("subject", "bad_subject",
			"%q names nothing; give message:CHAT:SEQ, chat:ID, user:ID, @name[/SEQ] or a link such as https://HOST/chats/5/17.", target)
	}
	chat := p.chat
	switch {
	case p.name != "":
		c, err := s.msg.ChatByUsername(ctx, 0, p.name)
		if err != nil {
			if p.seq == 0 {
				if u, uerr := s.acc.UserByUsername(ctx, p.name); uerr == nil {
					return Subject{Kind: SubjectUser, User: u.ID}, 0, nil
				}
			}
			return Subject{}, 0, kurir.Errorf(kurir.ENotFound, "No chat or user @%s.", p.name)
		}
		chat = c.ID
	case p.code != "":
		id, err := s.inviteChat(ctx, p.code)
		if err != nil {
			return Subject{}, 0, err
		}
		chat = id
	}
	c, err := s.msg.ReviewChat(ctx, chat)
	if err != nil {
		return Subject{}, 0, err
	}
	if p.seq == 0 {
		return Subject{Kind: SubjectChat, Chat: chat}, c.MemberCount, nil
	}
	subj := Subject{Kind: SubjectMessage, Chat: chat, Seq: p.seq}
	if _, err := s.reviewedMessage(ctx, subj); err != nil {
		return Subject{}, 0, err
	}
	return subj, c.MemberCount, nil
}
