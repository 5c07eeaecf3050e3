package moderation

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"

	"kurir"
	"kurir/media"
	"kurir/messaging"
	"kurir/sqldb"
)

// ReportParams is a user's report.
type ReportParams struct {
	Subject  Subject
	Category Category
	// Comment is the reporter's own words, which nobody checked.
	Comment string
	// Evidence, if not nil, is what the server verified about the subject
	// before filing the report, such as a secret-chat message's franking
	// proof. Only server code that did the verifying sets it; a handler
	// of a user's request must never fill it from the request.
	Evidence *Evidence
	// Lang is the reporter's Accept-Language, so that a case is queued
	// under the language of whoever reported it first.
	Lang string
}

// Report is a report as its reporter follows it.
type Report struct {
	ID       int64
	CaseID   int64
	Subject  Subject
	Category Category
	Comment  string
	Evidence *Evidence // nil unless the server verified some
	At       time.Time
	// State is the case's: open, escalated or resolved; Outcome, once it is
	// resolved, is actioned or dismissed.
	State   string
	Outcome string
}

// Report files a user's report about something they can see: a message, a
// group or channel, another user, or a file posted where they can see it.
// Reports from trusted flaggers go ahead of the queue; a reporter counts
// once per case (a second report while it is open is EConflict), and
// their weight comes from how their past reports were decided. An account
// files at most Config.ReportsPerHour reports an hour (trusted flaggers
// excepted); past that it gets ERateLimited. The case records the
// reporter's language and country (kurir.LocationFrom) if it is new.
func (s *Service) Report(ctx context.Context, reporter kurir.UserID, p ReportParams) (Report, error) {
	if !p.Category.Valid() {
		return Report{}, kurir.Invalid("reason", "unknown_reason", "Choose a reason from the list (GET /api/v1/report-reasons).")
	}
	comment, err := cleanText("comment", "comment", p.Comment, s.cfg.MaxComment, false)
	if err != nil {
		return Report{}, err
	}
	var ev *Evidence
	if p.Evidence != nil {
		if err := p.Evidence.check(); err != nil {
			return Report{}, err
		}
		e := *p.Evidence
		e.SentAt = sqldb.FromMicros(sqldb.Micros(e.SentAt)) // as it is stored
		ev = &e
	}
	sig := signal{subject: p.Subject, source: SourceUser, category: p.Category, reporter: reporter, comment: comment, evidence: ev}
	if err := s.describe(ctx, reporter, &sig); err != nil {
		return Report{}, err
	}
	now := s.now()
	var rep Report
	err = s.db.WriteTx(ctx, func(tx *sqldb.Tx) error {
		var org string
		err := tx.QueryRowContext(ctx, `SELECT organisation FROM mod_flaggers WHERE user_id = $1`, reporter).Scan(&org)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		if org != "" {
			sig.source = SourceFlagger
		} else if err := s.reportLimit(ctx, tx, reporter, now); err != nil {
			return err
		}
		if sig.weight, err = reporterWeight(ctx, tx, reporter, org != ""); err != nil {
			return err
		}
		caseID, err := file(ctx, tx, sig, now)
		if err != nil {
			return err
		}
		loc := kurir.LocationFrom(ctx)
		country := loc.Declared
		if country == "" {
			country = loc.Network
		}
		if err := setOrigin(ctx, tx, caseID, languageTag(p.Lang), country); err != nil {
			return err
		}
		// The report may join a case that is already escalated.
		rep = Report{CaseID: caseID, Subject: p.Subject, Category: p.Category, Comment: comment, Evidence: ev, At: now}
		return tx.QueryRowContext(ctx, `SELECT g.id, c.state FROM mod_signals g JOIN mod_cases c ON c.id = g.case_id
			WHERE g.case_id = $1 AND g.reporter_id = $2`, caseID, reporter).Scan(&rep.ID, &rep.State)
	})
	if err != nil {
		return Report{}, err
	}
	return rep, nil
}

// describe checks that the reporter can see the subject of sig (nobody
// learns from a report whether something they cannot see exists) and fills
// in its reach and the evidence as it is now, so a later deletion by its
// author does not hide from the moderator what was reported.
func (s *Service) describe(ctx context.Context, reporter kurir.UserID, sig *signal) error {
	subj := sig.subject
	switch subj.Kind {
	case SubjectMessage:
		m, err := s.msg.MessageVisible(ctx, reporter, subj.Chat, subj.Seq)
		if err != nil {
			return err
		}
		if m.SenderID == reporter {
			return kurir.Invalid("subject", "own_content", "You cannot report your own message; delete it instead.")
		}
		sig.detail = evidence(m)
		c, err := s.msg.ReviewChat(ctx, subj.Chat)
		if err != nil {
			return err
		}
		if sig.reach, err = s.reach(ctx, subj, c.MemberCount, m.Views); err != nil {
			return err
		}
	case SubjectChat:
		if err := s.msg.ChatVisible(ctx, reporter, subj.Chat); err != nil {
			return err
		}
		c, err := s.msg.ReviewChat(ctx, subj.Chat)
		if err != nil {
			return err
		}
		if c.Kind == messaging.Private {
			return kurir.Invalid("subject", "private_chat", "Report the person or their message rather than a private chat.")
		}
		sig.detail = excerpt(fmt.Sprintf("%s %q (@%s): %s", c.Kind, c.Title, c.Username, c.About))
		if sig.reach, err = s.reach(ctx, subj, c.MemberCount, 0); err != nil {
			return err
		}
	case SubjectUser:
		if subj.User == reporter {
			return kurir.Invalid("subject", "own_content", "You cannot report yourself.")
		}
		u, err := s.acc.UserByID(ctx, subj.User)
		if err != nil {
			return err
		}
		sig.detail = excerpt(fmt.Sprintf("@%s %q", u.Username, u.DisplayName))
	case SubjectMedia:
		// Only a file posted where the reporter can read it: nobody learns
		// from a report whether a file they cannot see exists.
		gone := kurir.Errorf(kurir.ENotFound, "No file %d.", subj.Media)
		ok, err := s.msg.MediaVisible(ctx, reporter, subj.Media)
		if err != nil {
			return err
		}
		if !ok {
			return gone
		}
		m, err := media.Describe(ctx, s.db.Read(), media.ID(subj.Media))
		if err != nil {
			return gone
		}
		if m.OwnerID == reporter {
			return kurir.Invalid("subject", "own_content", "You cannot report your own file; delete the message that carries it instead.")
		}
		sig.detail = excerpt(fmt.Sprintf("[%s %q, %d bytes, media %d, sha256 %s]", m.Kind, m.Name, m.Size, m.ID, m.SHA256))
	default:
		return kurir.Invalid("subject", "bad_subject", "Reports are about a message, a group or channel, a user, or a file.")
	}
	return nil
}

// advisoryReports is the first key of the PostgreSQL advisory lock that
// serialises one reporter's reports (the second is the reporter's ID, cut
// to 32 bits: two reporters sharing a lock only wait for each other).
const advisoryReports int32 = 0x6b726570 // "krep"

// reportLimit refuses a report past the reporter's hourly limit. It counts
// in the database, so the limit holds across nodes.
func (s *Service) reportLimit(ctx context.Context, tx *sqldb.Tx, reporter kurir.UserID, now time.Time) error {
	if tx.Engine() == sqldb.Postgres {
		// One reporter's reports are counted one at a time, or reports
		// sent at once would each count the others as not there yet.
		// (SQLite's one writer serialises them already.)
		if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1, $2)`, advisoryReports, int32(reporter)); err != nil {
			return fmt.Errorf("report limit: %w", err)
		}
	}
	var n, oldest int64
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*), COALESCE(MIN(created_at), 0) FROM mod_signals WHERE reporter_id = $1 AND created_at > $2`,
		reporter, sqldb.Micros(now.Add(-time.Hour))).Scan(&n, &oldest); err != nil {
		return fmt.Errorf("report limit: %w", err)
	}
	if n < int64(s.cfg.ReportsPerHour) {
		return nil
	}
	wait := sqldb.FromMicros(oldest).Add(time.Hour).Sub(now)
	return &kurir.Error{Code: kurir.ERateLimited, Reason: "too_many_reports", RetryAfter: wait,
		Message: fmt.Sprintf("You have sent %d reports in the last hour, the most one account may. Try again in %d minutes.", n, int(wait.Minutes())+1)}
}

// messageMedia returns the subject of the file a message carries.
func (s *Service) messageMedia(ctx context.Context, subj Subject) (Subject, error) {
	m, err := s.reviewedMessage(ctx, subj)
	if err != nil {
		return Subject{}, err
	}
	if m.MediaID == 0 {
		return Subject{}, kurir.Invalid("kind", "no_media", "Message %d in chat %d carries no file to remove.", subj.Seq, subj.Chat)
	}
	return Subject{Kind: SubjectMedia, Media: m.MediaID}, nil
}

// evidence is what a moderator needs of a message if it is gone later.
func evidence(m messaging.Message) string {
	s := m.Text
	if m.Media != nil {
		s = fmt.Sprintf("[%s %q, %d bytes, media %d] %s", m.Media.Kind, m.Media.Name, m.Media.Size, m.Media.MediaID, s)
	}
	return excerpt(s)
}

// excerpt shortens s to at most 1,024 characters.
func excerpt(s string) string {
	for utf8.RuneCountInString(s) > 1024 {
		_, n := utf8.DecodeLastRuneInString(s)
		s = s[:len(s)-n]
	}
	return s
}

// Reports returns the reporter's reports, newest first, with how each was
// decided: notifiers learn the outcome of their notice.
func (s *Service) Reports(ctx context.Context, reporter kurir.UserID, limit int) ([]Report, error) {
	rows, err := s.db.Read().QueryContext(ctx, `SELECT g.id, g.case_id, g.subject, g.category, g.comment, g.evidence, g.created_at, c.state, c.outcome
		FROM mod_signals g JOIN mod_cases c ON c.id = g.case_id WHERE g.reporter_id = $1 ORDER BY g.id DESC LIMIT $2`,
		reporter, clamp(limit, 100))
	if err != nil {
		return nil, fmt.Errorf("reports: %w", err)
	}
	defer rows.Close()
	var out []Report
	for rows.Next() {
		var r Report
		var subject, cat, evidence string
		var at int64
		if err := rows.Scan(&r.ID, &r.CaseID, &subject, &cat, &r.Comment, &evidence, &at, &r.State, &r.Outcome); err != nil {
			return nil, err
		}
		if r.Evidence, err = decodeEvidence(evidence); err != nil {
			return nil, fmt.Errorf("report %d: %w", r.ID, err)
		}
		r.Subject, _ = ParseSubject(subject)
		r.Category, r.At = Category(cat), sqldb.FromMicros(at)
		out = append(out, r)
	}
	return out, rows.Err()
}

func clamp(limit, max int) int {
	if limit <= 0 || limit > max {
		return max
	}
	return limit
}

// Flagger is a trusted flagger: an account of a registered organisation.
type Flagger struct {
	User         kurir.UserID
	Organisation string
	AddedAt      time.Time
}

// AddFlagger makes an account a trusted flagger for organisation.
func (s *Service) AddFlagger(ctx context.Context, by Staff, user kurir.UserID, organisation string) error {
	if err := by.require(permConfigure); err != nil {
		return err
	}
	org, err := cleanText("organisation", "organisation", organisation, 200, true)
	if err != nil {
		return err
	}
	if _, err := s.acc.UserByID(ctx, user); err != nil {
		return err
	}
	return s.db.WriteTx(ctx, func(tx *sqldb.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO mod_flaggers (user_id, organisation, added_at) VALUES ($1, $2, $3)
			ON CONFLICT (user_id) DO UPDATE SET organisation = excluded.organisation`, user, org, sqldb.Micros(s.now())); err != nil {
			return err
		}
		return record(ctx, tx, by, "flagger.add", SubjectUserKey(user), org)
	})
}

// RemoveFlagger ends an account's standing as a trusted flagger.
func (s *Service) RemoveFlagger(ctx context.Context, by Staff, user kurir.UserID) error {
	if err := by.require(permConfigure); err != nil {
		return err
	}
	return s.db.WriteTx(ctx, func(tx *sqldb.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM mod_flaggers WHERE user_id = $1`, user)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return kurir.Errorf(kurir.ENotFound, "User %d is not a trusted flagger.", user)
		}
		return record(ctx, tx, by, "flagger.remove", SubjectUserKey(user), "")
	})
}

// Flaggers lists the trusted flaggers. Reading it is audited at most once
// a minute per staff member (recordListView).
func (s *Service) Flaggers(ctx context.Context, by Staff) ([]Flagger, error) {
	if err := by.require(permView); err != nil {
		return nil, err
	}
	rows, err := s.db.Read().QueryContext(ctx, `SELECT user_id, organisation, added_at FROM mod_flaggers ORDER BY user_id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Flagger
	for rows.Next() {
		var f Flagger
		var at int64
		if err := rows.Scan(&f.User, &f.Organisation, &at); err != nil {
			return nil, err
		}
		f.AddedAt = sqldb.FromMicros(at)
		out = append(out, f)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	err = s.recordListView(ctx, by, "flaggers.view", "flaggers", "", fmt.Sprintf("%d shown", len(out)))
	if err != nil {
		return nil, err
	}
	return out, nil
}

// SubjectUserKey is the subject key of an account.
func SubjectUserKey(u kurir.UserID) string { return Subject{Kind: SubjectUser, User: u}.Key() }
