package moderation

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

// signal is one signal to file into a case.
type signal struct {
	subject  Subject
	source   Source
	category Category
	reporter kurir.UserID // 0 for signals no person sent
	notice   int64
	comment  string
	detail   string    // evidence as it was when signalled, such as the message text
	evidence *Evidence // what the server verified, for a report that carries it
	reach    int64
	weight   float64 // how much the signal counts (a reporter's track record)
}

// file adds sig to the case about its subject that is not resolved,
// opening one if there is none, and sets the case's priority from all its
// signals. It returns the case's ID. A reporter who already signalled the
// subject while that case is open gets EConflict and nothing is written;
// once it is resolved they can report the subject again, into a new case.
func file(ctx context.Context, tx *sqldb.Tx, sig signal, now time.Time) (int64, error) {
	key := sig.subject.Key()
	var c struct {
		id, count, weight, reach, opened, due int64
		category, sources                     string
	}
	err := tx.QueryRowContext(ctx, `SELECT id, signal_count, weight_milli, reach, opened_at, due_at, category, sources
		FROM mod_cases WHERE subject = $1 AND state <> 'resolved'`, key).
		Scan(&c.id, &c.count, &c.weight, &c.reach, &c.opened, &c.due, &c.category, &c.sources)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		c.opened, c.category = sqldb.Micros(now), string(sig.category)
		c.due = sqldb.Micros(now.Add(sig.category.SLA()))
		err = tx.QueryRowContext(ctx, `INSERT INTO mod_cases (subject, chat_id, seq, user_id, media_id, category, priority, due_at, opened_at, updated_at)
			VALUES ($1, $2, $3, $4, $8, $5, 0, $6, $7, $7) RETURNING id`,
			key, sig.subject.Chat, sig.subject.Seq, sig.subject.User, c.category, c.due, c.opened, sig.subject.Media).Scan(&c.id)
		if err != nil {
			return 0, fmt.Errorf("open case: %w", err)
		}
		if err := addEvent(ctx, tx, c.id, 0, "opened", string(sig.source)+": "+string(sig.category), now); err != nil {
			return 0, err
		}
	case err != nil:
		return 0, fmt.Errorf("find case: %w", err)
	case sig.reporter != 0:
		var n int64
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM mod_signals WHERE case_id = $1 AND reporter_id = $2`, c.id, sig.reporter).Scan(&n); err != nil {
			return 0, err
		}
		if n > 0 {
			return 0, alreadyReported()
		}
	}
	milli := int64(math.Round(sig.weight * 1000))
	evidence, err := encodeEvidence(sig.evidence)
	if err != nil {
		return 0, err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO mod_signals (case_id, subject, source, category, reporter_id, notice_id, comment, detail, evidence, weight_milli, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
		c.id, key, string(sig.source), string(sig.category), sig.reporter, sig.notice, sig.comment, sig.detail, evidence, milli, sqldb.Micros(now)); err != nil {
		if sqldb.IsUniqueViolation(err) {
			return 0, alreadyReported()
		}
		return 0, fmt.Errorf("record signal: %w", err)
	}
	cat := moreSevere(Category(c.category), sig.category)
	due := min(c.due, c.opened+cat.SLA().Microseconds())
	sources := addSource(c.sources, sig.source)
	reach := max(c.reach, sig.reach)
	prio := priority(cat, reach, c.weight+milli, sources)
	if _, err := tx.ExecContext(ctx, `UPDATE mod_cases SET category = $2, due_at = $3, sources = $4, reach = $5, priority = $6,
		signal_count = signal_count + 1, weight_milli = weight_milli + $7, updated_at = $8 WHERE id = $1`,
		c.id, string(cat), due, sources, reach, prio, milli, sqldb.Micros(now)); err != nil {
		return 0, fmt.Errorf("update case: %w", err)
	}
	if c.count > 0 {
		if err := addEvent(ctx, tx, c.id, 0, "signal", string(sig.source)+": "+string(sig.category), now); err != nil {
			return 0, err
		}
	}
	return c.id, nil
}

// reach is how many people a message or chat subject reaches now: the
// chat's members or, if more, the views of the message (of the chat's
// recent posts for a chat subject), since a public channel's post is read
// by many who never join. It is read afresh for each signal, and a case
// keeps the most it has seen, so a post that went viral after its first
// report ranks higher at the next.
func (s *Service) reach(ctx context.Context, subj Subject, members int64, views int64) (int64, error) {
	if subj.Kind == SubjectChat {
		recent, err := s.msg.RecentViews(ctx, subj.Chat)
		if err != nil {
			return 0, err
		}
		views = recent
	}
	return max(members, views), nil
}

// alreadyReported refuses a second signal from one reporter into a case.
func alreadyReported() error {
	return &kurir.Error{Code: kurir.EConflict, Reason: "already_reported", Message: "You have already reported this; one report counts, and it is being handled."}
}

// addSource adds s to a comma-separated set of sources.
func addSource(set string, s Source) string {
	list := strings.Split(set, ",")
	if set == "" {
		list = nil
	}
	if !slices.Contains(list, string(s)) {
		list = append(list, string(s))
	}
	slices.Sort(list)
	return strings.Join(list, ",")
}

// priority scores a case 0..100: the category's severity (child safety and
// terrorism first), how many people the subject reaches, how much weight
// its signals carry (each reporter counted once, weighted by their track
// record), and the most trusted source that signalled it.
func priority(cat Category, reach, weightMilli int64, sources string) int64 {
	p := float64(cat.Severity())
	p += min(20, 4*math.Log10(float64(reach)+1))
	p += min(20, 10*math.Log2(1+float64(weightMilli)/1000))
	bonus := 0
	for _, s := range strings.Split(sources, ",") {
		bonus = max(bonus, Source(s).bonus())
	}
	return min(100, int64(math.Round(p))+int64(bonus))
}

// reporterWeight is how much a report counts: from 0.2 for a reporter whose
// reports have all been dismissed to 2 for one whose reports have all led to
// action, 1 for a reporter with no record; a trusted flagger's counts 3.
func reporterWeight(ctx context.Context, q sqldb.Querier, reporter kurir.UserID, flagger bool) (float64, error) {
	if flagger {
		return 3, nil
	}
	var actioned, decided int64
	err := q.QueryRowContext(ctx, `SELECT COALESCE(SUM(CASE WHEN c.outcome = 'actioned' THEN 1 ELSE 0 END), 0), COUNT(*)
		FROM mod_signals g JOIN mod_cases c ON c.id = g.case_id
		WHERE g.reporter_id = $1 AND c.state = 'resolved'`, reporter).Scan(&actioned, &decided)
	if err != nil {
		return 0, fmt.Errorf("reporter record: %w", err)
	}
	return max(0.2, 2*float64(actioned+1)/float64(decided+2)), nil
}
