package dsa

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"strings"
	"time"

	"kurir/jurisdiction"
	"kurir/moderation"
	"kurir/sqldb"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Migrations is the schema of the record of submissions, for
// sqldb.DB.Migrate. It refers to moderation's mod_actions, so it comes after
// moderation.Migrations.
var Migrations = sqldb.Embedded("dsa", migrationFiles, "migrations")

// The outcomes of a submission, as dsa_submissions records them.
const (
	// StatusAccepted: the database took the statement; it is never sent again.
	StatusAccepted = "accepted"
	// StatusFailed: the database refused the statement itself (or kurir
	// could not write it); it is not sent again until retried by hand.
	StatusFailed = "failed"
	// StatusSkipped: there is no statement to submit (ErrOutsideEEA).
	StatusSkipped = "skipped"
	// StatusError: the call failed for a reason that is not the
	// statement's (a bad token, the database down); it is sent again on
	// the next pass.
	StatusError = "error"
)

// recordColumns read an action as an ActionRecord, with when its content was
// posted (the message, file, chat or account), whether a chat is a group or
// a channel, and the organisation of a trusted flagger who flagged it.
const recordColumns = `a.id, a.kind, a.subject, a.territory, a.category, a.ground, a.legal_reference, a.facts, a.content_type,
	a.source, a.automated_detection, a.automated_decision, a.ends_at, a.created_at, a.reversed_at,
	COALESCE(CASE
		WHEN a.subject LIKE 'message:%' THEN (SELECT m.created_at FROM messages m WHERE m.chat_id = a.chat_id AND m.seq = a.seq)
		WHEN a.subject LIKE 'chat:%' THEN (SELECT c.created_at FROM chats c WHERE c.id = a.chat_id)
		WHEN a.subject LIKE 'user:%' THEN (SELECT u.created_at FROM users u WHERE u.id = a.user_id)
		WHEN a.subject LIKE 'media:%' THEN (SELECT md.created_at FROM media md WHERE md.id = CAST(SUBSTR(a.subject, 7) AS BIGINT))
	END, 0),
	COALESCE(CASE WHEN a.subject LIKE 'chat:%' THEN (SELECT c.kind FROM chats c WHERE c.id = a.chat_id) END, ''),
	COALESCE((SELECT f.organisation FROM mod_signals sg JOIN mod_flaggers f ON f.user_id = sg.reporter_id
		WHERE sg.case_id = a.case_id AND sg.source = 'trusted_flagger' ORDER BY sg.id LIMIT 1), '')`

// pendingWhere selects the actions still to submit: never tried, or last
// tried without an outcome for the statement itself.
const pendingWhere = `(d.action_id IS NULL OR d.status = '` + StatusError + `')`

// records reads up to limit actions with IDs above after that match where
// (a condition on a, the action, and d, its submission, whose parameters
// are args, numbered from $3), oldest first, each with the terms' address
// termsURL.
func records(ctx context.Context, q sqldb.Querier, termsURL string, after int64, limit int, where string, args ...any) ([]ActionRecord, error) {
	if where == "" {
		where = "TRUE"
	}
	rows, err := q.QueryContext(ctx, `SELECT `+recordColumns+` FROM mod_actions a LEFT JOIN dsa_submissions d ON d.action_id = a.id
		WHERE a.id > $1 AND `+where+` ORDER BY a.id LIMIT $2`, append([]any{after, limit}, args...)...)
	if err != nil {
		return nil, fmt.Errorf("read actions: %w", err)
	}
	defer rows.Close()
	var out []ActionRecord
	byRules := false
	for rows.Next() {
		r := ActionRecord{TermsURL: termsURL}
		var kind, territory, category, ground, source string
		var autoDetect, autoDecide, until, at, reversed, contentAt int64
		if err := rows.Scan(&r.ID, &kind, &r.Subject, &territory, &category, &ground, &r.LegalReference, &r.Facts, &r.ContentType,
			&source, &autoDetect, &autoDecide, &until, &at, &reversed, &contentAt, &r.ChatKind, &r.SourceIdentity); err != nil {
			return nil, fmt.Errorf("read actions: %w", err)
		}
		r.Kind, r.Category, r.Ground, r.Source = moderation.ActionKind(kind), moderation.Category(category), moderation.Ground(ground), moderation.Source(source)
		r.AutomatedDetection, r.AutomatedDecision = autoDetect != 0, autoDecide != 0
		r.Until, r.At, r.Reversed, r.ContentAt = micros(until), micros(at), micros(reversed), micros(contentAt)
		for _, c := range strings.Split(territory, ",") {
			if c = strings.TrimSpace(c); c != "" {
				r.Territory = append(r.Territory, c)
			}
		}
		byRules = byRules || r.Kind == moderation.Restrict && len(r.Territory) == 0
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read actions: %w", err)
	}
	rows.Close()
	if byRules {
		// A restriction by country rules applies where the rules make its
		// category illegal: the rules as they are now, which is where the
		// restriction withholds the content now.
		rules, err := countryRules(ctx, q)
		if err != nil {
			return nil, err
		}
		for i, r := range out {
			if r.Kind == moderation.Restrict && len(r.Territory) == 0 {
				out[i].Rules = rules[r.Category]
			}
		}
	}
	return out, nil
}

// countryRules reads jurisdiction's country rules, by category.
func countryRules(ctx context.Context, q sqldb.Querier) (map[moderation.Category][]jurisdiction.Rule, error) {
	rows, err := q.QueryContext(ctx, `SELECT id, scope, category, legal_ref FROM jur_rules ORDER BY scope, id`)
	if err != nil {
		return nil, fmt.Errorf("read country rules: %w", err)
	}
	defer rows.Close()
	out := map[moderation.Category][]jurisdiction.Rule{}
	for rows.Next() {
		var r jurisdiction.Rule
		var category string
		if err := rows.Scan(&r.ID, &r.Scope, &category, &r.LegalRef); err != nil {
			return nil, fmt.Errorf("read country rules: %w", err)
		}
		r.Category = moderation.Category(category)
		out[r.Category] = append(out[r.Category], r)
	}
	return out, rows.Err()
}

func micros(us int64) time.Time {
	if us == 0 {
		return time.Time{}
	}
	return sqldb.FromMicros(us)
}

// ExportOptions choose the statements Export writes.
type ExportOptions struct {
	Since   time.Time // actions taken at or after this; zero: all
	Pending bool      // only those not yet accepted, failed or skipped
	// TermsURL is the address of the terms of service, for decisions on
	// the terms to link to their clause (ActionRecord.TermsURL).
	TermsURL string
}

// Export calls emit with the statement of every action opts choose, oldest
// first, reading in pages. Actions that have no statement (ErrOutsideEEA)
// are left out; those whose statement cannot be written are left out too
// and returned, each wrapped in the error Export returns (errors.Join),
// after the rest are emitted. An error from emit stops it.
func Export(ctx context.Context, q sqldb.Querier, opts ExportOptions, emit func(actionID int64, s Statement) error) error {
	const page = 500
	var where []string
	var args []any
	if opts.Pending {
		where = append(where, pendingWhere)
	}
	if !opts.Since.IsZero() {
		args = append(args, sqldb.Micros(opts.Since))
		where = append(where, fmt.Sprintf("a.created_at >= $%d", len(args)+2))
	}
	var bad []error
	after := int64(0)
	for {
		rs, err := records(ctx, q, opts.TermsURL, after, page, strings.Join(where, " AND "), args...)
		if err != nil {
			return err
		}
		for _, r := range rs {
			after = r.ID
			s, err := FromAction(r)
			if errors.Is(err, ErrOutsideEEA) {
				continue
			}
			if err != nil {
				bad = append(bad, err)
				continue
			}
			if err := emit(r.ID, s); err != nil {
				return err
			}
		}
		if len(rs) < page {
			return errors.Join(bad...)
		}
	}
}

// Progress is how far submission has got.
type Progress struct {
	Pending, Accepted, Failed, Skipped int
	// Failures are the latest statements the database refused (or kurir
	// could not write), newest first, with why.
	Failures []Failure
}

// Failure is a statement that failed, with the reason recorded.
type Failure struct {
	ActionID int64
	At       time.Time
	Response string
}

// ReadProgress counts the actions by the outcome of their submission and
// lists up to failures of the latest failures.
func ReadProgress(ctx context.Context, q sqldb.Querier, failures int) (Progress, error) {
	var p Progress
	err := q.QueryRowContext(ctx, `SELECT
		(SELECT COUNT(*) FROM mod_actions a LEFT JOIN dsa_submissions d ON d.action_id = a.id WHERE `+pendingWhere+`),
		(SELECT COUNT(*) FROM dsa_submissions WHERE status = $1),
		(SELECT COUNT(*) FROM dsa_submissions WHERE status = $2),
		(SELECT COUNT(*) FROM dsa_submissions WHERE status = $3)`, StatusAccepted, StatusFailed, StatusSkipped).
		Scan(&p.Pending, &p.Accepted, &p.Failed, &p.Skipped)
	if err != nil {
		return p, fmt.Errorf("count submissions: %w", err)
	}
	rows, err := q.QueryContext(ctx, `SELECT action_id, submitted_at, response FROM dsa_submissions WHERE status = $1
		ORDER BY submitted_at DESC, action_id DESC LIMIT $2`, StatusFailed, failures)
	if err != nil {
		return p, fmt.Errorf("read failures: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var f Failure
		var at int64
		if err := rows.Scan(&f.ActionID, &at, &f.Response); err != nil {
			return p, err
		}
		f.At = sqldb.FromMicros(at)
		p.Failures = append(p.Failures, f)
	}
	return p, rows.Err()
}
