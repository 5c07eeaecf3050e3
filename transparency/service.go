package transparency

import (
	"context"
	"database/sql"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"kurir"
	"kurir/sqldb"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Migrations is the transparency schema, for sqldb.DB.Migrate.
var Migrations = sqldb.Embedded("transparency", migrationFiles, "migrations")

// Config tunes the service; a zero field means its default.
type Config struct {
	// BandBelow publishes legal-request counts from 1 to BandBelow-1 as a
	// band ("1-9"), so that no single request can be picked out (default
	// 10; 1 publishes every count exactly).
	BandBelow int64
}

// Service computes, stores and serves the reports. It is safe for
// concurrent use, and on several nodes over one database.
type Service struct {
	db    *sqldb.DB
	clock kurir.Clock
	log   *slog.Logger
	cfg   Config
}

// NewService returns the transparency service.
func NewService(db *sqldb.DB, clock kurir.Clock, log *slog.Logger, cfg Config) *Service {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if cfg.BandBelow == 0 {
		cfg.BandBelow = 10
	}
	return &Service{db: db, clock: clock, log: log, cfg: cfg}
}

// BandBelow is the threshold under which legal counts are banded.
func (s *Service) BandBelow() int64 { return s.cfg.BandBelow }

// day is a UTC calendar day.
func dayOf(t time.Time) time.Time {
	t = t.UTC()
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}

// ParseDay reads a day as YYYY-MM-DD.
func ParseDay(s string) (time.Time, error) {
	d, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return time.Time{}, kurir.Invalid("day", "bad_day", "%q is not a day such as 2026-11-28.", s)
	}
	return d, nil
}

// Day returns the report of a day: stored once the day is over, computed
// now (and marked partial) for today, and ENotFound for the future.
func (s *Service) Day(ctx context.Context, day time.Time) (Report, error) {
	day = dayOf(day)
	today := dayOf(s.clock.Now())
	switch {
	case day.After(today):
		return Report{}, kurir.Errorf(kurir.ENotFound, "There is no report for %s yet.", day.Format(time.DateOnly))
	case day.Equal(today):
		r, err := s.compute(ctx, day)
		r.Partial = true
		return r, err
	}
	r, ok, err := s.stored(ctx, day)
	if err != nil || ok {
		return r, err
	}
	first, any, err := s.firstRecord(ctx)
	if err != nil {
		return Report{}, err
	}
	if !any || day.Before(first) {
		// Nothing happened then: an empty report, not worth a row nor a query.
		r := newReport(day.Format(time.DateOnly), day, day.AddDate(0, 0, 1))
		r.Generated = s.clock.Now().UTC().Truncate(time.Second)
		return r, nil
	}
	// Not stored yet (the job has not run since midnight): compute and keep it.
	return s.ensure(ctx, day)
}

// Month returns the report of the month of t: the sum of its days so far.
func (s *Service) Month(ctx context.Context, year int, month time.Month) (Report, error) {
	from := time.Date(year, month, 1, 0, 0, 0, 0, time.UTC)
	return s.span(ctx, from.Format("2006-01"), from, from.AddDate(0, 1, 0))
}

// Year returns the report of a year: the sum of its days so far.
func (s *Service) Year(ctx context.Context, year int) (Report, error) {
	from := time.Date(year, 1, 1, 0, 0, 0, 0, time.UTC)
	return s.span(ctx, fmt.Sprint(year), from, from.AddDate(1, 0, 0))
}

// span sums the days of [from, to) up to today.
func (s *Service) span(ctx context.Context, period string, from, to time.Time) (Report, error) {
	today := dayOf(s.clock.Now())
	if from.After(today) {
		return Report{}, kurir.Errorf(kurir.ENotFound, "There is no report for %s yet.", period)
	}
	r := newReport(period, from, to)
	for d := from; d.Before(to) && !d.After(today); d = d.AddDate(0, 0, 1) {
		day, err := s.Day(ctx, d)
		if err != nil {
			return Report{}, err
		}
		r.add(day)
		r.Partial = r.Partial || day.Partial
	}
	r.Partial = r.Partial || to.After(today)
	r.Generated = s.clock.Now().UTC().Truncate(time.Second)
	return r, nil
}

// stored reads a day's stored report.
func (s *Service) stored(ctx context.Context, day time.Time) (Report, bool, error) {
	var raw string
	err := s.db.Read().QueryRowContext(ctx, `SELECT report FROM transparency_days WHERE day = $1`, day.Format(time.DateOnly)).Scan(&raw)
	if errors.Is(err, sql.ErrNoRows) {
		return Report{}, false, nil
	}
	if err != nil {
		return Report{}, false, fmt.Errorf("stored report of %s: %w", day.Format(time.DateOnly), err)
	}
	r := newReport("", time.Time{}, time.Time{})
	if err := json.Unmarshal([]byte(raw), &r); err != nil {
		return Report{}, false, fmt.Errorf("stored report of %s: %w", day.Format(time.DateOnly), err)
	}
	return r, true, nil
}

// ensure computes and stores a finished day's report unless another node
// has; either way it returns the one stored.
func (s *Service) ensure(ctx context.Context, day time.Time) (Report, error) {
	r, err := s.compute(ctx, day)
	if err != nil {
		return Report{}, err
	}
	raw, err := json.Marshal(r)
	if err != nil {
		return Report{}, err
	}
	err = s.db.WriteTx(ctx, func(tx *sqldb.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO transparency_days (day, report, computed_at) VALUES ($1, $2, $3) ON CONFLICT (day) DO NOTHING`,
			day.Format(time.DateOnly), string(raw), sqldb.Micros(s.clock.Now()))
		return err
	})
	if err != nil {
		return Report{}, fmt.Errorf("store report of %s: %w", day.Format(time.DateOnly), err)
	}
	stored, _, err := s.stored(ctx, day)
	return stored, err
}

// Rebuild recomputes and replaces the reports of every finished day from
// from to yesterday, calling progress after each; it returns how many.
func (s *Service) Rebuild(ctx context.Context, from time.Time, progress func(done, total int)) (int, error) {
	from = dayOf(from)
	today := dayOf(s.clock.Now())
	if !from.Before(today) {
		return 0, kurir.Invalid("from", "not_past", "Only finished days are rebuilt; %s is not over.", from.Format(time.DateOnly))
	}
	total := int(today.Sub(from).Hours() / 24)
	n := 0
	for d := from; d.Before(today); d = d.AddDate(0, 0, 1) {
		if err := s.recount(ctx, d); err != nil {
			return n, err
		}
		r, err := s.compute(ctx, d)
		if err != nil {
			return n, err
		}
		raw, err := json.Marshal(r)
		if err != nil {
			return n, err
		}
		err = s.db.WriteTx(ctx, func(tx *sqldb.Tx) error {
			_, err := tx.ExecContext(ctx, `INSERT INTO transparency_days (day, report, computed_at) VALUES ($1, $2, $3)
				ON CONFLICT (day) DO UPDATE SET report = $2, computed_at = $3`, d.Format(time.DateOnly), string(raw), sqldb.Micros(s.clock.Now()))
			return err
		})
		if err != nil {
			return n, fmt.Errorf("store report of %s: %w", d.Format(time.DateOnly), err)
		}
		n++
		if progress != nil {
			progress(n, total)
		}
	}
	return n, nil
}

// recount replaces a day's counts of actions and reversals with counts
// made afresh from the records themselves.
func (s *Service) recount(ctx context.Context, day time.Time) error {
	lo, hi := sqldb.Micros(day), sqldb.Micros(day.AddDate(0, 0, 1))
	d := day.Format(time.DateOnly)
	return s.db.WriteTx(ctx, func(tx *sqldb.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM mod_action_stats WHERE day = $1`, d); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO mod_action_stats (day, event, kind, category, source, scope, content_type,
				automated_detection, automated_decision, bucket, count)
			SELECT $1, 'action', a.kind, a.category, a.source,
				CASE WHEN a.kind <> 'restrict' THEN 'worldwide' WHEN a.territory = '' THEN 'rules' ELSE a.territory END,
				a.content_type, a.automated_detection, a.automated_decision,
				`+bucketSQL("(a.created_at - c.opened_at)")+`,
				COUNT(*)
			FROM mod_actions a JOIN mod_cases c ON c.id = a.case_id
			WHERE a.created_at >= $2 AND a.created_at < $3
			GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10`, d, lo, hi); err != nil {
			return fmt.Errorf("recount actions of %s: %w", d, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO mod_action_stats (day, event, kind, category, source, scope, content_type,
				automated_detection, automated_decision, bucket, count)
			SELECT $1, 'reversal', kind, category, '', '', '', 0, 0, 0, COUNT(*)
			FROM mod_actions WHERE reversed_at >= $2 AND reversed_at < $3
			GROUP BY 1, 2, 3, 4`, d, lo, hi); err != nil {
			return fmt.Errorf("recount reversals of %s: %w", d, err)
		}
		return nil
	})
}

// bucketSQL is moderation.TimeBucket in SQL, for a duration d in
// microseconds, in integer arithmetic both engines do alike. The migration
// that created mod_action_stats wrote it out once more.
func bucketSQL(d string) string {
	return `CASE WHEN ` + d + ` < 0 THEN 0
		WHEN ` + d + ` < 60000000 THEN ` + d + ` / 1000000
		WHEN ` + d + ` < 3600000000 THEN 60 + ` + d + ` / 60000000
		WHEN ` + d + ` < 604800000000 THEN 120 + ` + d + ` / 3600000000
		ELSE 288 END`
}

// CatchUp stores the report of every finished day that has none, from the
// first day with a record to yesterday, and returns how many it stored. It
// is what the daily job runs: after downtime it fills the gap, and nodes
// running it at once store each day once.
func (s *Service) CatchUp(ctx context.Context) (int, error) {
	first, ok, err := s.firstRecord(ctx)
	if err != nil || !ok {
		return 0, err
	}
	var last string
	if err := s.db.Read().QueryRowContext(ctx, `SELECT COALESCE(MAX(day), '') FROM transparency_days`).Scan(&last); err != nil {
		return 0, err
	}
	from := first
	if last != "" {
		if d, err := time.Parse(time.DateOnly, last); err == nil && d.AddDate(0, 0, 1).After(from) {
			from = d.AddDate(0, 0, 1)
		}
	}
	today := dayOf(s.clock.Now())
	n := 0
	for d := from; d.Before(today); d = d.AddDate(0, 0, 1) {
		if _, err := s.ensure(ctx, d); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// firstRecord is the day of the earliest action, appeal or legal request.
func (s *Service) firstRecord(ctx context.Context) (time.Time, bool, error) {
	var us int64
	err := s.db.Read().QueryRowContext(ctx, `SELECT COALESCE(MIN(t), 0) FROM (
		SELECT MIN(created_at) AS t FROM mod_actions
		UNION ALL SELECT MIN(created_at) FROM mod_appeals
		UNION ALL SELECT MIN(received_at) FROM legal_requests) AS firsts WHERE t IS NOT NULL`).Scan(&us)
	if err != nil {
		return time.Time{}, false, fmt.Errorf("first record: %w", err)
	}
	if us == 0 {
		return time.Time{}, false, nil
	}
	return dayOf(sqldb.FromMicros(us)), true, nil
}

// RunDaily runs CatchUp every interval until ctx ends.
func (s *Service) RunDaily(ctx context.Context, interval time.Duration, after func(ctx context.Context, stored int)) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		n, err := s.CatchUp(ctx)
		if err != nil && ctx.Err() == nil {
			s.log.Error("daily transparency report", "err", err)
		}
		if n > 0 {
			s.log.Info("daily transparency reports stored", "days", n)
			if after != nil {
				after(ctx, n)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// compute counts a day's records.
func (s *Service) compute(ctx context.Context, day time.Time) (Report, error) {
	from, to := day, day.AddDate(0, 0, 1)
	r := newReport(day.Format(time.DateOnly), from, to)
	lo, hi := sqldb.Micros(from), sqldb.Micros(to)
	err := s.db.ReadTx(ctx, func(tx *sqldb.Tx) error {
		// The day's counts, which moderation keeps with each action.
		rows, err := tx.QueryContext(ctx, `SELECT event, kind, category, source, scope, content_type, automated_detection, automated_decision,
			bucket, count FROM mod_action_stats WHERE day = $1`, day.Format(time.DateOnly))
		if err != nil {
			return fmt.Errorf("count actions: %w", err)
		}
		for rows.Next() {
			var event, kind, cat, source, scope, content string
			var detect, decide, bucket, n int64
			if err := rows.Scan(&event, &kind, &cat, &source, &scope, &content, &detect, &decide, &bucket, &n); err != nil {
				rows.Close()
				return err
			}
			a := &r.Actions
			if event == "reversal" {
				a.Reversed += n
				continue
			}
			a.Total += n
			a.ByKind[kind] += n
			a.ByCategory[cat] += n
			a.BySource[source] += n
			a.ByContentType[content] += n
			for _, c := range strings.Split(scope, ",") {
				a.ByScope[c] += n
			}
			if detect != 0 {
				a.AutomatedDetection += n
			}
			if decide != 0 {
				a.AutomatedDecision += n
			}
			if kind == "takedown" {
				a.ChatsTakenDown[cat] += n
			}
			r.Speed.Histogram[bucket] += n
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		r.Speed.settle()
		if err := tx.QueryRowContext(ctx, `SELECT
			(SELECT COUNT(*) FROM mod_appeals WHERE created_at >= $1 AND created_at < $2),
			(SELECT COUNT(*) FROM mod_appeals WHERE decided_at >= $1 AND decided_at < $2),
			(SELECT COUNT(*) FROM mod_appeals WHERE decided_at >= $1 AND decided_at < $2 AND state = 'upheld')`, lo, hi).
			Scan(&r.Appeals.Received, &r.Appeals.Decided, &r.Appeals.Reversed); err != nil {
			return fmt.Errorf("count appeals: %w", err)
		}
		return s.legal(ctx, tx, &r, lo, hi)
	})
	if err != nil {
		return Report{}, err
	}
	r.Generated = s.clock.Now().UTC().Truncate(time.Second)
	return r, nil
}

// legal counts the law-enforcement requests received in [lo, hi), and the
// outcomes of those closed in it.
func (s *Service) legal(ctx context.Context, tx *sqldb.Tx, r *Report, lo, hi int64) error {
	rows, err := tx.QueryContext(ctx, `SELECT jurisdiction, kind, COUNT(*) FROM legal_requests
		WHERE received_at >= $1 AND received_at < $2 GROUP BY jurisdiction, kind`, lo, hi)
	if err != nil {
		return fmt.Errorf("count legal requests: %w", err)
	}
	for rows.Next() {
		var country, kind string
		var n int64
		if err := rows.Scan(&country, &kind, &n); err != nil {
			rows.Close()
			return err
		}
		r.Legal.Received += n
		r.Legal.ByCountry[country] += n
		r.Legal.ByKind[kind] += n
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	rows, err = tx.QueryContext(ctx, `SELECT state, kind, targets, approved FROM legal_requests
		WHERE closed_at >= $1 AND closed_at < $2 AND state IN ('fulfilled', 'rejected', 'withdrawn')`, lo, hi)
	if err != nil {
		return fmt.Errorf("legal outcomes: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var state, kind, targets, approved string
		if err := rows.Scan(&state, &kind, &targets, &approved); err != nil {
			return err
		}
		r.Legal.ByOutcome[state]++
		if state == "fulfilled" && approved != "" && (kind == "disclosure" || kind == "emergency") {
			var ts []struct {
				User int64 `json:"user_id"`
			}
			if err := json.Unmarshal([]byte(targets), &ts); err != nil {
				return fmt.Errorf("legal request targets: %w", err)
			}
			for _, t := range ts {
				if t.User != 0 {
					r.Legal.AccountsAffected++
				}
			}
		}
	}
	return rows.Err()
}
