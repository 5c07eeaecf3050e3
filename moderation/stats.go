package moderation

import (
	"context"
	"fmt"
	"strings"
	"time"

	"kurir/sqldb"
)

// TimeBucket is the bucket of the time from a first signal to an action,
// as mod_action_stats counts it: whole seconds under a minute (0-59), whole
// minutes under an hour (60-119), whole hours under a week (120-287), and
// 288 for longer. Percentiles read from the buckets are exact to that
// resolution, and a month's are the sum of its days'.
func TimeBucket(d time.Duration) int64 {
	s := int64(d / time.Second)
	switch {
	case s < 0:
		return 0
	case s < 60:
		return s
	case s < 3600:
		return 60 + s/60
	case s < 168*3600:
		return 120 + s/3600
	}
	return 288
}

// TimeBucketSeconds is the lower bound of a bucket, in seconds.
func TimeBucketSeconds(b int64) int64 {
	switch {
	case b < 60:
		return b
	case b < 120:
		return (b - 60) * 60
	case b < 288:
		return (b - 120) * 3600
	}
	return 168 * 3600
}

// statsDay is the UTC day an event is counted on.
func statsDay(t time.Time) string { return t.UTC().Format(time.DateOnly) }

// actionScope is where an action applies, as the stats count it.
func actionScope(kind ActionKind, territory []string) string {
	switch {
	case kind != Restrict:
		return "worldwide"
	case len(territory) == 0:
		return "rules"
	}
	return strings.Join(territory, ",")
}

// countAction adds a recorded action to the day's counts; opened is when
// its case opened (the first signal), in microseconds.
func countAction(ctx context.Context, tx *sqldb.Tx, a *Action, opened int64) error {
	bucket := TimeBucket(time.Duration(sqldb.Micros(a.At)-opened) * time.Microsecond)
	_, err := tx.ExecContext(ctx, `INSERT INTO mod_action_stats (day, event, kind, category, source, scope, content_type,
		automated_detection, automated_decision, bucket, count) VALUES ($1, 'action', $2, $3, $4, $5, $6, $7, $8, $9, 1)
		ON CONFLICT (day, event, kind, category, source, scope, content_type, automated_detection, automated_decision, bucket)
		DO UPDATE SET count = mod_action_stats.count + 1`,
		statsDay(a.At), string(a.Kind), string(a.Category), string(a.Source), actionScope(a.Kind, a.Territory), a.ContentType,
		boolInt(a.AutomatedDetection), boolInt(a.AutomatedDecision), bucket)
	if err != nil {
		return fmt.Errorf("count action: %w", err)
	}
	return nil
}

// countReversal adds a reversal, on the day it happened, to the counts.
func countReversal(ctx context.Context, tx *sqldb.Tx, a Action, at time.Time) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO mod_action_stats (day, event, kind, category, source, scope, content_type,
		automated_detection, automated_decision, bucket, count) VALUES ($1, 'reversal', $2, $3, '', '', '', 0, 0, 0, 1)
		ON CONFLICT (day, event, kind, category, source, scope, content_type, automated_detection, automated_decision, bucket)
		DO UPDATE SET count = mod_action_stats.count + 1`, statsDay(at), string(a.Kind), string(a.Category))
	if err != nil {
		return fmt.Errorf("count reversal: %w", err)
	}
	return nil
}
