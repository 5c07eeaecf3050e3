package moderation

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"kurir"
	"kurir/sqldb"
)

// The states of an appeal.
const (
	AppealPending  = "pending"
	AppealUpheld   = "upheld"   // the decision was wrong and is reversed
	AppealRejected = "rejected" // the decision stands
)

// The kinds of appeal.
const (
	// AppealDecision is the affected user's complaint against an action.
	AppealDecision = "decision"
	// AppealDismissal is a notifier's or reporter's request to review a
	// case that was dismissed; upheld, the case is reopened for action.
	AppealDismissal = "dismissal"
)

// Appeal is a complaint to the internal complaint system (DSA Art. 20):
// against a decision by the person it restricts, or against a dismissal by
// whoever signalled the case.
type Appeal struct {
	ID   int64
	Kind string // AppealDecision or AppealDismissal
	// ActionID is the decision appealed against; 0 for a dismissal.
	ActionID int64
	CaseID   int64
	// User is who appealed: the affected user, or the reporter who asks
	// for a review; 0 for a notifier without an account, whose notice is
	// Notice.
	User   kurir.UserID
	Notice int64
	Text   string
	State  string
	// Due is when it should be decided by (Config.AppealSLA after it was
	// filed); Assignee, if not 0, is who is to decide it; Decider is who
	// took the decision under review, who may not.
	Due      time.Time
	Assignee kurir.UserID
	Decider  kurir.UserID
	// DecidedBy, Reason and Decided are set once it is decided.
	DecidedBy kurir.UserID
	Reason    string
	Created   time.Time
	Decided   time.Time
	// Action is the decision appealed against (for AppealDecision).
	Action Action
	// Case is the dismissed case, as it is now (for AppealDismissal, in
	// the appeal queue).
	Case *Case
}

// Overdue reports whether the appeal is pending past its due date at now.
func (p Appeal) Overdue(now time.Time) bool { return p.State == AppealPending && now.After(p.Due) }

const appealColumns = `p.id, COALESCE(p.action_id, 0), p.case_id, p.user_id, p.notice_id, p.text, p.state, p.due_at, p.assignee_id, p.decider_id,
	p.decided_by, p.decision_reason, p.created_at, p.decided_at`

func scanAppeal(row interface{ Scan(...any) error }) (Appeal, error) {
	var p Appeal
	var due, created, decided int64
	if err := row.Scan(&p.ID, &p.ActionID, &p.CaseID, &p.User, &p.Notice, &p.Text, &p.State, &due, &p.Assignee, &p.Decider,
		&p.DecidedBy, &p.Reason, &created, &decided); err != nil {
		return Appeal{}, err
	}
	p.Kind = AppealDecision
	if p.ActionID == 0 {
		p.Kind = AppealDismissal
	}
	p.Due, p.Created = sqldb.FromMicros(due), sqldb.FromMicros(created)
	if decided != 0 {
		p.Decided = sqldb.FromMicros(decided)
	}
	return p, nil
}

// Statements returns the decisions against the user's content or account,
// newest first, each with its appeal if there is one: what they are owed
// under DSA Art. 17.
func (s *Service) Statements(ctx context.Context, user kurir.UserID) ([]Action, map[int64]Appeal, error) {
	as, err := actions(ctx, s.db.Read(), `affected_id = $1`, user)
	if err != nil {
		return nil, nil, err
	}
	for i, j := 0, len(as)-1; i < j; i, j = i+1, j-1 {
		as[i], as[j] = as[j], as[i]
	}
	appeals := map[int64]Appeal{}
	rows, err := s.db.Read().QueryContext(ctx, `SELECT `+appealColumns+` FROM mod_appeals p WHERE p.user_id = $1 AND p.action_id IS NOT NULL`, user)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	for rows.Next() {
		p, err := scanAppeal(rows)
		if err != nil {
			return nil, nil, err
		}
		appeals[p.ActionID] = p
	}
	return as, appeals, rows.Err()
}

// AppealDeadline is the last moment a decision taken at may be appealed.
func (s *Service) AppealDeadline(at time.Time) time.Time { return at.Add(s.cfg.AppealWindow) }

// FileAppeal appeals a decision against the user's own content or account.
// It is open for the appeal window after the decision, once per decision,
// and due Config.AppealSLA later.
func (s *Service) FileAppeal(ctx context.Context, user kurir.UserID, actionID int64, text string) (Appeal, error) {
	text, err := cleanText("text", "appeal", text, s.cfg.MaxComment, true)
	if err != nil {
		return Appeal{}, err
	}
	now := s.now()
	var p Appeal
	err = s.db.WriteTx(ctx, func(tx *sqldb.Tx) error {
		as, err := actions(ctx, tx, `id = $1 AND affected_id = $2`, actionID, user)
		if err != nil {
			return err
		}
		if len(as) == 0 {
			return kurir.Errorf(kurir.ENotFound, "No decision %d about you.", actionID)
		}
		a := as[0]
		switch {
		case !a.Reversed.IsZero():
			return kurir.Errorf(kurir.EConflict, "Decision %d was already reversed.", actionID)
		case now.After(s.AppealDeadline(a.At)):
			return &kurir.Error{Code: kurir.EForbidden, Reason: "appeal_window_closed",
				Message: fmt.Sprintf("Decisions can be appealed for %d days; this one was taken on %s.", int(s.cfg.AppealWindow.Hours()/24), a.At.Format(time.DateOnly))}
		}
		var n int64
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM mod_appeals WHERE action_id = $1`, actionID).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return &kurir.Error{Code: kurir.EConflict, Reason: "already_appealed", Message: "You have already appealed this decision."}
		}
		p = Appeal{Kind: AppealDecision, ActionID: actionID, CaseID: a.CaseID, User: user, Text: text, State: AppealPending,
			Created: now, Due: now.Add(s.cfg.AppealSLA), Decider: a.Moderator, Action: a}
		if err := tx.QueryRowContext(ctx, `INSERT INTO mod_appeals (action_id, case_id, user_id, text, created_at, due_at, decider_id)
			VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`,
			actionID, a.CaseID, user, text, sqldb.Micros(now), sqldb.Micros(p.Due), a.Moderator).Scan(&p.ID); err != nil {
			return fmt.Errorf("record appeal: %w", err)
		}
		return addEvent(ctx, tx, a.CaseID, user, "appeal", fmt.Sprintf("appeal %d against action %d", p.ID, actionID), now)
	})
	return p, err
}

// RequestNoticeReview asks, for whoever holds notice id's token, for a
// review of the dismissal of their notice's case (DSA Art. 20: notifiers
// may complain too). It is open for the appeal window after the dismissal,
// once per notice.
func (s *Service) RequestNoticeReview(ctx context.Context, id int64, token, text string) (Appeal, error) {
	st, err := s.Notice(ctx, id, token)
	if err != nil {
		return Appeal{}, err
	}
	var caseID int64
	if err := s.db.Read().QueryRowContext(ctx, `SELECT case_id FROM mod_notices WHERE id = $1`, id).Scan(&caseID); err != nil {
		return Appeal{}, err
	}
	if st.Outcome != "dismissed" {
		return Appeal{}, &kurir.Error{Code: kurir.EConflict, Reason: "not_dismissed",
			Message: "Only a notice that was dismissed can be reviewed; this one has not been, or was acted on."}
	}
	return s.requestReview(ctx, caseID, 0, id, text)
}

// RequestReportReview asks for a review of the dismissal of the case the
// reporter's report (signal) reportID joined, on the same terms as
// RequestNoticeReview.
func (s *Service) RequestReportReview(ctx context.Context, reporter kurir.UserID, reportID int64, text string) (Appeal, error) {
	var caseID int64
	err := s.db.Read().QueryRowContext(ctx, `SELECT case_id FROM mod_signals WHERE id = $1 AND reporter_id = $2`, reportID, reporter).Scan(&caseID)
	if errors.Is(err, sql.ErrNoRows) {
		return Appeal{}, kurir.Errorf(kurir.ENotFound, "No report %d of yours.", reportID)
	}
	if err != nil {
		return Appeal{}, err
	}
	return s.requestReview(ctx, caseID, reporter, 0, text)
}

// requestReview files a review of the dismissal of case caseID for user
// (a reporter) or notice (a notifier's).
func (s *Service) requestReview(ctx context.Context, caseID int64, user kurir.UserID, notice int64, text string) (Appeal, error) {
	text, err := cleanText("text", "request for review", text, s.cfg.MaxComment, true)
	if err != nil {
		return Appeal{}, err
	}
	now := s.now()
	p := Appeal{Kind: AppealDismissal, CaseID: caseID, User: user, Notice: notice, Text: text, State: AppealPending,
		Created: now, Due: now.Add(s.cfg.AppealSLA)}
	err = s.db.WriteTx(ctx, func(tx *sqldb.Tx) error {
		c, err := scanCase(tx.QueryRowContext(ctx, `SELECT `+caseColumns+` FROM mod_cases WHERE id = $1`, caseID))
		if err != nil {
			return err
		}
		if c.State != StateResolved || c.Outcome != "dismissed" {
			return &kurir.Error{Code: kurir.EConflict, Reason: "not_dismissed",
				Message: "Only a dismissed case can be reviewed; this one is still open, or was acted on."}
		}
		if now.After(s.AppealDeadline(c.Resolved)) {
			return &kurir.Error{Code: kurir.EForbidden, Reason: "appeal_window_closed",
				Message: fmt.Sprintf("A dismissal can be contested for %d days; this one was on %s.", int(s.cfg.AppealWindow.Hours()/24), c.Resolved.Format(time.DateOnly))}
		}
		var n int64
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM mod_appeals WHERE action_id IS NULL AND case_id = $1 AND user_id = $2 AND notice_id = $3`,
			caseID, user, notice).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return &kurir.Error{Code: kurir.EConflict, Reason: "already_appealed", Message: "You have already asked for a review of this decision."}
		}
		// Whoever dismissed it last may not review it.
		if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(actor_id), 0) FROM mod_events WHERE id = (SELECT MAX(id) FROM mod_events WHERE case_id = $1 AND kind = 'dismiss')`,
			caseID).Scan(&p.Decider); err != nil {
			return err
		}
		p.Case = &c
		if err := tx.QueryRowContext(ctx, `INSERT INTO mod_appeals (action_id, case_id, user_id, notice_id, text, created_at, due_at, decider_id)
			VALUES (NULL, $1, $2, $3, $4, $5, $6, $7) RETURNING id`,
			caseID, user, notice, text, sqldb.Micros(now), sqldb.Micros(p.Due), p.Decider).Scan(&p.ID); err != nil {
			return fmt.Errorf("record review request: %w", err)
		}
		who := fmt.Sprintf("reporter %d", user)
		if notice != 0 {
			who = fmt.Sprintf("notice %d", notice)
		}
		return addEvent(ctx, tx, caseID, user, "appeal", fmt.Sprintf("appeal %d: %s asks for a review of the dismissal", p.ID, who), now)
	})
	if err != nil {
		return Appeal{}, err
	}
	return p, nil
}

// ReportReviews returns the reporter's requests for review
// (RequestReportReview) of the given cases, by case.
func (s *Service) ReportReviews(ctx context.Context, reporter kurir.UserID, caseIDs []int64) (map[int64]Appeal, error) {
	out := map[int64]Appeal{}
	if len(caseIDs) == 0 {
		return out, nil
	}
	args := []any{reporter}
	for _, id := range caseIDs {
		args = append(args, id)
	}
	rows, err := s.db.Read().QueryContext(ctx, `SELECT `+appealColumns+` FROM mod_appeals p WHERE p.user_id = $1 AND p.action_id IS NULL
		AND p.case_id IN (`+marks(len(caseIDs) + 1)[4:]+`)`, args...)
	if err != nil {
		return nil, fmt.Errorf("review requests: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		p, err := scanAppeal(rows)
		if err != nil {
			return nil, err
		}
		out[p.CaseID] = p
	}
	return out, rows.Err()
}

// AppealFilter selects appeals for the appeal queue.
type AppealFilter struct {
	State    string       // pending (the default), upheld or rejected
	Assignee kurir.UserID // only those assigned to this person
	Limit    int
}

// Appeals returns the appeals in a state; see AppealQueue.
func (s *Service) Appeals(ctx context.Context, by Staff, state string, limit int) ([]Appeal, error) {
	return s.AppealQueue(ctx, by, AppealFilter{State: state, Limit: limit})
}

// AppealQueue returns appeals: pending ones due soonest first (so the
// overdue lead), decided ones most recently decided first. Each comes with
// the decision appealed against, or the dismissed case. The list shows what
// was removed (excerpts, facts), so reading it is audited, at most once
// a minute per staff member and filter (recordListView).
func (s *Service) AppealQueue(ctx context.Context, by Staff, f AppealFilter) ([]Appeal, error) {
	if err := by.require(permView); err != nil {
		return nil, err
	}
	state := f.State
	if state == "" {
		state = AppealPending
	}
	if state != AppealPending && state != AppealUpheld && state != AppealRejected {
		return nil, kurir.Invalid("state", "unknown_state", "An appeal is pending, upheld or rejected.")
	}
	where, args := `p.state = $1`, []any{state}
	if f.Assignee != 0 {
		where += ` AND p.assignee_id = $2`
		args = append(args, f.Assignee)
	}
	order := `p.due_at, p.id`
	if state != AppealPending {
		order = `p.decided_at DESC, p.id DESC`
	}
	rows, err := s.db.Read().QueryContext(ctx, `SELECT `+appealColumns+` FROM mod_appeals p WHERE `+where+` ORDER BY `+order+
		fmt.Sprintf(` LIMIT %d`, clamp(f.Limit, 200)), args...)
	if err != nil {
		return nil, fmt.Errorf("appeals: %w", err)
	}
	var out []Appeal
	for rows.Next() {
		p, err := scanAppeal(rows)
		if err != nil {
			rows.Close()
			return nil, err
		}
		out = append(out, p)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if err := s.appealSubjects(ctx, out); err != nil {
		return nil, err
	}
	ids := make([]string, len(out))
	for i, p := range out {
		ids[i] = strconv.FormatInt(p.ID, 10)
	}
	err = s.recordListView(ctx, by, "appeals.view", "appeals:"+state, fmt.Sprintf("assignee=%d limit=%d", f.Assignee, f.Limit),
		fmt.Sprintf("%d shown: %s", len(out), strings.Join(ids, ",")))
	if err != nil {
		return nil, err
	}
	return out, nil
}

// appealSubjects fills in each appeal's Action or Case.
func (s *Service) appealSubjects(ctx context.Context, ps []Appeal) error {
	var actionIDs, caseIDs []any
	for _, p := range ps {
		if p.ActionID != 0 {
			actionIDs = append(actionIDs, p.ActionID)
		} else {
			caseIDs = append(caseIDs, p.CaseID)
		}
	}
	acts := map[int64]Action{}
	if len(actionIDs) > 0 {
		as, err := actions(ctx, s.db.Read(), `id IN (`+marks(len(actionIDs))+`)`, actionIDs...)
		if err != nil {
			return err
		}
		for _, a := range as {
			acts[a.ID] = a
		}
	}
	cases := map[int64]Case{}
	if len(caseIDs) > 0 {
		rows, err := s.db.Read().QueryContext(ctx, `SELECT `+caseColumns+` FROM mod_cases WHERE id IN (`+marks(len(caseIDs))+`)`, caseIDs...)
		if err != nil {
			return fmt.Errorf("appealed cases: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			c, err := scanCase(rows)
			if err != nil {
				return err
			}
			cases[c.ID] = c
		}
		if err := rows.Err(); err != nil {
			return err
		}
	}
	for i := range ps {
		if ps[i].ActionID != 0 {
			ps[i].Action = acts[ps[i].ActionID]
		} else if c, ok := cases[ps[i].CaseID]; ok {
			ps[i].Case = &c
		}
	}
	return nil
}

// marks returns n numbered placeholders, $1 to $n.
func marks(n int) string {
	m := make([]string, n)
	for i := range m {
		m[i] = fmt.Sprintf("$%d", i+1)
	}
	return strings.Join(m, ", ")
}

// appeal loads appeal id with its decision or case.
func (s *Service) appeal(ctx context.Context, id int64) (Appeal, error) {
	p, err := scanAppeal(s.db.Read().QueryRowContext(ctx, `SELECT `+appealColumns+` FROM mod_appeals p WHERE p.id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Appeal{}, kurir.Errorf(kurir.ENotFound, "No appeal %d.", id)
	}
	if err != nil {
		return Appeal{}, err
	}
	ps := []Appeal{p}
	if err := s.appealSubjects(ctx, ps); err != nil {
		return Appeal{}, err
	}
	return ps[0], nil
}

// AssignAppeal gives a pending appeal to a moderator or admin to decide
// (0 to unassign): never to whoever took the decision under review, nor
// to whoever appealed.
func (s *Service) AssignAppeal(ctx context.Context, by Staff, id int64, to kurir.UserID) error {
	if err := by.require(permSort); err != nil {
		return err
	}
	p, err := s.appeal(ctx, id)
	if err != nil {
		return err
	}
	if to != 0 {
		u, err := s.acc.UserByID(ctx, to)
		if err != nil {
			return err
		}
		if (Staff{ID: to, Role: u.Role}).require(permAct) != nil {
			return kurir.Invalid("assignee", "not_moderator", "User %d cannot decide appeals: only moderators and admins can.", to)
		}
		if to == p.Decider || to == p.User {
			return &kurir.Error{Code: kurir.EInvalid, Field: "assignee", Reason: "own_decision",
				Message: "An appeal goes to someone other than who took the decision, or who appealed."}
		}
	}
	return s.db.WriteTx(ctx, func(tx *sqldb.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE mod_appeals SET assignee_id = $2 WHERE id = $1 AND state = 'pending'`, id, to)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return kurir.Errorf(kurir.EConflict, "Appeal %d was already decided.", id)
		}
		if err := addEvent(ctx, tx, p.CaseID, by.ID, "appeal_assign", fmt.Sprintf("appeal %d to user:%d", id, to), s.now()); err != nil {
			return err
		}
		return record(ctx, tx, by, "appeal.assign", fmt.Sprintf("appeal:%d", id), fmt.Sprintf("user:%d", to))
	})
}

// DecideAppeal decides an appeal: a person other than the one who took
// the decision under review and the person appealing, with reasons.
// Upholding an appeal against an action reverses it at once; upholding a
// review of a dismissal reopens the case (or, if the subject has another
// open case by now, notes it there) for a moderator to act on.
func (s *Service) DecideAppeal(ctx context.Context, by Staff, appealID int64, uphold bool, reason string) (Appeal, error) {
	if err := by.require(permAct); err != nil {
		return Appeal{}, err
	}
	reason, err := cleanText("reason", "reason", reason, 2000, true)
	if err != nil {
		return Appeal{}, err
	}
	p, err := s.appeal(ctx, appealID)
	if err != nil {
		return Appeal{}, err
	}
	if p.State != AppealPending {
		return Appeal{}, kurir.Errorf(kurir.EConflict, "Appeal %d was already decided (%s).", appealID, p.State)
	}
	if p.User != 0 && p.User == by.ID {
		return Appeal{}, &kurir.Error{Code: kurir.EForbidden, Reason: "own_appeal",
			Message: "Nobody decides their own appeal; another moderator will."}
	}
	// The operator (ID 0) is a decider too: their decisions go to staff.
	if p.Decider == by.ID || p.Kind == AppealDecision && p.Action.Moderator == by.ID {
		return Appeal{}, &kurir.Error{Code: kurir.EForbidden, Reason: "own_decision",
			Message: "An appeal goes to someone other than the moderator who took the decision."}
	}
	now := s.now()
	p.DecidedBy, p.Reason, p.Decided = by.ID, reason, now
	p.State = AppealRejected
	if uphold {
		p.State = AppealUpheld
	}
	decide := func(tx *sqldb.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE mod_appeals SET state = $2, decided_by = $3, decision_reason = $4, decided_at = $5
			WHERE id = $1 AND state = 'pending'`, appealID, p.State, by.ID, reason, sqldb.Micros(now))
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return kurir.Errorf(kurir.EConflict, "Appeal %d was already decided.", appealID)
		}
		return addEvent(ctx, tx, p.CaseID, by.ID, "appeal_"+p.State, fmt.Sprintf("appeal %d: %s", appealID, reason), now)
	}
	switch {
	case uphold && p.Kind == AppealDecision:
		err = s.reverse(ctx, by, p.ActionID, "appeal upheld: "+reason, "appeal.uphold", decide)
	case uphold:
		err = s.db.WriteTx(ctx, func(tx *sqldb.Tx) error {
			if err := decide(tx); err != nil {
				return err
			}
			if err := reopen(ctx, tx, p, by, reason, now); err != nil {
				return err
			}
			return record(ctx, tx, by, "appeal.uphold", caseKey(p.CaseID), fmt.Sprintf("appeal %d against a dismissal: %s", appealID, reason))
		})
	default:
		subject := caseKey(p.CaseID)
		if p.Kind == AppealDecision {
			subject = p.Action.Subject.Key()
		}
		err = s.db.WriteTx(ctx, func(tx *sqldb.Tx) error {
			if err := decide(tx); err != nil {
				return err
			}
			return record(ctx, tx, by, "appeal.reject", subject, fmt.Sprintf("appeal %d: %s", appealID, reason))
		})
	}
	if err != nil {
		return Appeal{}, err
	}
	return p, nil
}

// reopen puts the dismissed case of upheld review p back in the queue,
// unless its subject has an unresolved case by now, which is told instead.
func reopen(ctx context.Context, tx *sqldb.Tx, p Appeal, by Staff, reason string, now time.Time) error {
	var subject string
	if err := tx.QueryRowContext(ctx, `SELECT subject FROM mod_cases WHERE id = $1`, p.CaseID).Scan(&subject); err != nil {
		return err
	}
	var open int64
	err := tx.QueryRowContext(ctx, `SELECT id FROM mod_cases WHERE subject = $1 AND state <> 'resolved'`, subject).Scan(&open)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return err
	}
	note := fmt.Sprintf("the dismissal of case %d was overturned on review (appeal %d): %s", p.CaseID, p.ID, reason)
	if open != 0 {
		return addEvent(ctx, tx, open, by.ID, "reopen", note, now)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE mod_cases SET state = 'open', outcome = '', resolved_at = 0, updated_at = $2 WHERE id = $1`,
		p.CaseID, sqldb.Micros(now)); err != nil {
		return fmt.Errorf("reopen case %d: %w", p.CaseID, err)
	}
	return addEvent(ctx, tx, p.CaseID, by.ID, "reopen", note, now)
}

// Reversal is how the decision on a case was reversed, as the people who
// signalled the case learn it: reporters and notifiers are owed the
// outcome, and a reversal changes it.
type Reversal struct {
	At time.Time
	// ByAppeal is whether the affected user's appeal was upheld, rather
	// than staff reversing the decision of their own accord.
	ByAppeal bool
}

// Reversals returns the reversal of the decision on each of the cases
// whose decision was reversed; cases not decided, dismissed or whose
// decision stands are not in the map.
func (s *Service) Reversals(ctx context.Context, caseIDs []int64) (map[int64]Reversal, error) {
	out := map[int64]Reversal{}
	if len(caseIDs) == 0 {
		return out, nil
	}
	marks := make([]string, len(caseIDs))
	args := make([]any, len(caseIDs))
	for i, id := range caseIDs {
		marks[i], args[i] = fmt.Sprintf("$%d", i+1), id
	}
	rows, err := s.db.Read().QueryContext(ctx, `SELECT a.case_id, a.reversed_at, COALESCE(p.state, '') FROM mod_actions a
		LEFT JOIN mod_appeals p ON p.action_id = a.id WHERE a.reversed_at <> 0 AND a.case_id IN (`+strings.Join(marks, ", ")+`) ORDER BY a.id`, args...)
	if err != nil {
		return nil, fmt.Errorf("reversals: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id, at int64
		var appeal string
		if err := rows.Scan(&id, &at, &appeal); err != nil {
			return nil, err
		}
		out[id] = Reversal{At: sqldb.FromMicros(at), ByAppeal: appeal == AppealUpheld}
	}
	return out, rows.Err()
}

// actionRow scans actionColumns after other columns.
type actionRow struct {
	kind, subject, cat, ground, source, scope  string
	autoDetect, autoDecide, ends, at, reversed int64
	a                                          Action
}

func (r *actionRow) dest() []any {
	return []any{&r.a.ID, &r.a.CaseID, &r.kind, &r.a.Label, &r.subject, &r.a.Affected, &r.cat, &r.ground, &r.a.LegalReference, &r.a.Facts, &r.a.ContentType,
		&r.a.Excerpt, &r.source, &r.autoDetect, &r.autoDecide, &r.ends, &r.a.Moderator, &r.at, &r.reversed, &r.a.ReversedBy, &r.a.ReversalReason,
		&r.scope, &r.a.RestrictionID}
}

func (r *actionRow) action() Action {
	a := r.a
	a.Kind, a.Category, a.Ground, a.Source = ActionKind(r.kind), Category(r.cat), Ground(r.ground), Source(r.source)
	a.Subject, _ = ParseSubject(r.subject)
	if r.scope != "" {
		a.Territory = strings.Split(r.scope, ",")
	}
	a.AutomatedDetection, a.AutomatedDecision = r.autoDetect != 0, r.autoDecide != 0
	a.At = sqldb.FromMicros(r.at)
	if r.ends != 0 {
		a.Until = sqldb.FromMicros(r.ends)
	}
	if r.reversed != 0 {
		a.Reversed = sqldb.FromMicros(r.reversed)
	}
	return a
}
