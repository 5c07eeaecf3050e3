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

// Appeal is a complaint against a decision (DSA Art. 20).
type Appeal struct {
	ID       int64
	ActionID int64
	User     kurir.UserID
	Text     string
	State    string
	// DecidedBy, Reason and Decided are set once it is decided.
	DecidedBy kurir.UserID
	Reason    string
	Created   time.Time
	Decided   time.Time
	// Action is the decision appealed against.
	Action Action
}

const appealColumns = `p.id, p.action_id, p.user_id, p.text, p.state, p.decided_by, p.decision_reason, p.created_at, p.decided_at`

func scanAppeal(row interface{ Scan(...any) error }, extra ...any) (Appeal, error) {
	var p Appeal
	var created, decided int64
	if err := row.Scan(append([]any{&p.ID, &p.ActionID, &p.User, &p.Text, &p.State, &p.DecidedBy, &p.Reason, &created, &decided}, extra...)...); err != nil {
		return Appeal{}, err
	}
	p.Created = sqldb.FromMicros(created)
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
	rows, err := s.db.Read().QueryContext(ctx, `SELECT `+appealColumns+` FROM mod_appeals p WHERE p.user_id = $1`, user)
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
// It is open for the appeal window after the decision, once per decision.
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
		p = Appeal{ActionID: actionID, User: user, Text: text, State: AppealPending, Created: now, Action: a}
		if err := tx.QueryRowContext(ctx, `INSERT INTO mod_appeals (action_id, user_id, text, created_at) VALUES ($1, $2, $3, $4) RETURNING id`,
			actionID, user, text, sqldb.Micros(now)).Scan(&p.ID); err != nil {
			return fmt.Errorf("record appeal: %w", err)
		}
		return addEvent(ctx, tx, a.CaseID, user, "appeal", fmt.Sprintf("appeal %d against action %d", p.ID, actionID), now)
	})
	return p, err
}

// Appeals returns appeals in a state (pending first by default), oldest first.
func (s *Service) Appeals(ctx context.Context, by Staff, state string, limit int) ([]Appeal, error) {
	if err := by.require(permView); err != nil {
		return nil, err
	}
	if state == "" {
		state = AppealPending
	}
	if state != AppealPending && state != AppealUpheld && state != AppealRejected {
		return nil, kurir.Invalid("state", "unknown_state", "An appeal is pending, upheld or rejected.")
	}
	rows, err := s.db.Read().QueryContext(ctx, `SELECT `+appealColumns+`, `+prefixed("a.", actionColumns)+`
		FROM mod_appeals p JOIN mod_actions a ON a.id = p.action_id WHERE p.state = $1 ORDER BY p.id LIMIT $2`, state, clamp(limit, 200))
	if err != nil {
		return nil, fmt.Errorf("appeals: %w", err)
	}
	defer rows.Close()
	var out []Appeal
	for rows.Next() {
		var ar actionRow
		p, err := scanAppeal(rows, ar.dest()...)
		if err != nil {
			return nil, err
		}
		p.Action = ar.action()
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	// The list shows what was removed (excerpts, facts): an audited read.
	ids := make([]string, len(out))
	for i, p := range out {
		ids[i] = strconv.FormatInt(p.ID, 10)
	}
	err = s.db.WriteTx(ctx, func(tx *sqldb.Tx) error {
		return record(ctx, tx, by, "appeals.view", "appeals:"+state, fmt.Sprintf("%d shown: %s", len(out), strings.Join(ids, ",")))
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// DecideAppeal decides an appeal: a person other than the moderator who
// took the decision and the person appealing, with reasons. Upholding it
// reverses the action at once.
func (s *Service) DecideAppeal(ctx context.Context, by Staff, appealID int64, uphold bool, reason string) (Appeal, error) {
	if err := by.require(permAct); err != nil {
		return Appeal{}, err
	}
	reason, err := cleanText("reason", "reason", reason, 2000, true)
	if err != nil {
		return Appeal{}, err
	}
	var ar actionRow
	p, err := scanAppeal(s.db.Read().QueryRowContext(ctx, `SELECT `+appealColumns+`, `+prefixed("a.", actionColumns)+`
		FROM mod_appeals p JOIN mod_actions a ON a.id = p.action_id WHERE p.id = $1`, appealID), ar.dest()...)
	if errors.Is(err, sql.ErrNoRows) {
		return Appeal{}, kurir.Errorf(kurir.ENotFound, "No appeal %d.", appealID)
	}
	if err != nil {
		return Appeal{}, err
	}
	p.Action = ar.action()
	if p.State != AppealPending {
		return Appeal{}, kurir.Errorf(kurir.EConflict, "Appeal %d was already decided (%s).", appealID, p.State)
	}
	if p.User == by.ID {
		return Appeal{}, &kurir.Error{Code: kurir.EForbidden, Reason: "own_appeal",
			Message: "Nobody decides their own appeal; another moderator will."}
	}
	if p.Action.Moderator == by.ID {
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
		return addEvent(ctx, tx, p.Action.CaseID, by.ID, "appeal_"+p.State, fmt.Sprintf("appeal %d: %s", appealID, reason), now)
	}
	if uphold {
		err = s.reverse(ctx, by, p.ActionID, "appeal upheld: "+reason, "appeal.uphold", decide)
	} else {
		err = s.db.WriteTx(ctx, func(tx *sqldb.Tx) error {
			if err := decide(tx); err != nil {
				return err
			}
			return record(ctx, tx, by, "appeal.reject", p.Action.Subject.Key(), fmt.Sprintf("appeal %d: %s", appealID, reason))
		})
	}
	if err != nil {
		return Appeal{}, err
	}
	return p, nil
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
