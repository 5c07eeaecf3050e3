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
	"kurir/blob"
	"kurir/media"
	"kurir/sqldb"
)

// BulkParams is one decision to apply to everything a query finds: every
// message that carries a file, or every group and channel that posted it.
type BulkParams struct {
	Kind ActionKind // RemoveMessage or TakeDown
	// SHA256 names the file, as stored or as uploaded.
	SHA256         string
	Category       Category
	Ground         Ground
	LegalReference string
	Facts          string
}

// BulkTarget is one subject a bulk action will act on.
type BulkTarget struct {
	Subject  Subject
	Title    string // the chat's
	Members  int64
	Affected kurir.UserID
}

// The states of a bulk request.
const (
	BulkPending  = "pending" // waiting for a second person's approval
	BulkRunning  = "running" // approved; a worker is acting on its targets
	BulkDone     = "done"    // every target acted on, or failed
	BulkRejected = "rejected"
)

// Bulk is a bulk action, previewed or requested.
type Bulk struct {
	ID          int64
	Params      BulkParams
	Targets     []BulkTarget // in a preview; a request keeps only the subjects
	Subjects    []Subject
	State       string
	RequestedBy kurir.UserID
	DecidedBy   kurir.UserID
	Reason      string
	Done        int64 // actions taken so far
	Failed      int64 // subjects that could not be acted on (gone, already acted on)
	Created     time.Time
	Decided     time.Time
	// NeedsApproval says a second person must approve before it runs.
	NeedsApproval bool
}

// maxBulk bounds the subjects of one bulk action.
const maxBulk = 10_000

// PreviewBulk finds what a bulk action would act on, changing nothing but
// the audit log: the preview names every chat that posted the file.
func (s *Service) PreviewBulk(ctx context.Context, by Staff, p BulkParams) (Bulk, error) {
	b, err := s.previewBulk(ctx, by, p)
	if err != nil {
		return Bulk{}, err
	}
	err = s.db.WriteTx(ctx, func(tx *sqldb.Tx) error {
		return record(ctx, tx, by, "bulk.preview", "sha256:"+b.Params.SHA256, fmt.Sprintf("%s: %d subjects", b.Params.Kind, len(b.Targets)))
	})
	if err != nil {
		return Bulk{}, err
	}
	return b, nil
}

// previewBulk is PreviewBulk without the audit entry, for RequestBulk,
// which records the request instead.
func (s *Service) previewBulk(ctx context.Context, by Staff, p BulkParams) (Bulk, error) {
	if err := by.require(permAct); err != nil {
		return Bulk{}, err
	}
	p, err := s.checkBulk(p)
	if err != nil {
		return Bulk{}, err
	}
	b := Bulk{Params: p}
	if b.Targets, err = s.bulkTargets(ctx, p); err != nil {
		return Bulk{}, err
	}
	for _, t := range b.Targets {
		b.Subjects = append(b.Subjects, t.Subject)
	}
	b.NeedsApproval = len(b.Targets) > s.cfg.BulkApprovalAbove
	return b, nil
}

func (s *Service) checkBulk(p BulkParams) (BulkParams, error) {
	if p.Kind != RemoveMessage && p.Kind != TakeDown {
		return p, kurir.Invalid("kind", "unknown_action", "A bulk action removes messages (remove_message) or takes chats down (takedown).")
	}
	h, err := blob.ParseHash(strings.TrimSpace(p.SHA256))
	if err != nil {
		return p, kurir.Invalid("sha256", "bad_hash", "%v", err)
	}
	p.SHA256 = h.String()
	if !p.Category.Valid() {
		return p, kurir.Invalid("category", "unknown_category", "Choose the category the content falls under.")
	}
	if p.Ground == "" {
		p.Ground = GroundTerms
	}
	if p.Ground != GroundTerms && p.Ground != GroundIllegal {
		return p, kurir.Invalid("ground", "unknown_ground", "The ground is terms or illegal.")
	}
	if p.Facts, err = cleanText("facts", "facts", p.Facts, 5000, true); err != nil {
		return p, err
	}
	if p.LegalReference, err = cleanText("legal_reference", "legal reference", p.LegalReference, 500, p.Ground == GroundIllegal); err != nil {
		return p, err
	}
	return p, nil
}

// bulkTargets finds the subjects of p: the messages that carry the file,
// or the groups and channels they were posted in.
func (s *Service) bulkTargets(ctx context.Context, p BulkParams) ([]BulkTarget, error) {
	h, _ := blob.ParseHash(p.SHA256)
	ids, err := media.WithHash(ctx, s.db.Read(), h)
	if err != nil {
		return nil, err
	}
	raw := make([]int64, len(ids))
	for i, id := range ids {
		raw[i] = int64(id)
	}
	posts, err := s.msg.Postings(ctx, raw, maxBulk+1)
	if err != nil {
		return nil, err
	}
	if len(posts) > maxBulk {
		return nil, kurir.Invalid("sha256", "too_many", "This file was posted more than %d times; act on it with kurir admin media remove instead.", maxBulk)
	}
	var out []BulkTarget
	seen := map[string]bool{}
	for _, p2 := range posts {
		t := BulkTarget{Title: p2.Title, Members: p2.Members}
		switch p.Kind {
		case RemoveMessage:
			t.Subject, t.Affected = Subject{Kind: SubjectMessage, Chat: p2.Chat, Seq: p2.Seq}, p2.Sender
		case TakeDown:
			if p2.Kind == "private" {
				continue
			}
			t.Subject, t.Affected = Subject{Kind: SubjectChat, Chat: p2.Chat}, p2.Owner
		}
		if !seen[t.Subject.Key()] {
			seen[t.Subject.Key()] = true
			out = append(out, t)
		}
	}
	return out, nil
}

// RequestBulk freezes a bulk action's targets and runs it at once if it
// acts on at most Config.BulkApprovalAbove subjects; above that it waits for
// a second person's approval (ApproveBulk).
func (s *Service) RequestBulk(ctx context.Context, by Staff, p BulkParams) (Bulk, error) {
	b, err := s.previewBulk(ctx, by, p)
	if err != nil {
		return Bulk{}, err
	}
	if len(b.Subjects) == 0 {
		return Bulk{}, kurir.Errorf(kurir.ENotFound, "Nothing to act on: no message that can be seen carries this file.")
	}
	now := s.now()
	b.State, b.RequestedBy, b.Created = BulkPending, by.ID, now
	keys := make([]string, len(b.Subjects))
	for i, subj := range b.Subjects {
		keys[i] = subj.Key()
	}
	err = s.db.WriteTx(ctx, func(tx *sqldb.Tx) error {
		if err := tx.QueryRowContext(ctx, `INSERT INTO mod_bulk (kind, query, category, ground, legal_reference, facts, targets, state,
			requested_by, requested_role, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, 'pending', $8, $9, $10) RETURNING id`,
			string(b.Params.Kind), "sha256:"+b.Params.SHA256, string(b.Params.Category), string(b.Params.Ground), b.Params.LegalReference,
			b.Params.Facts, strings.Join(keys, ","), by.ID, string(by.Role), sqldb.Micros(now)).Scan(&b.ID); err != nil {
			return fmt.Errorf("record bulk action: %w", err)
		}
		return record(ctx, tx, by, "bulk.request", fmt.Sprintf("bulk:%d", b.ID),
			fmt.Sprintf("%s of %d subjects posting %s: %s", b.Params.Kind, len(keys), b.Params.SHA256, b.Params.Facts))
	})
	if err != nil {
		return Bulk{}, err
	}
	if b.NeedsApproval {
		return b, nil
	}
	return s.runBulk(ctx, b, by)
}

// ApproveBulk lets a pending bulk action run: someone other than who asked.
func (s *Service) ApproveBulk(ctx context.Context, by Staff, id int64) (Bulk, error) {
	if err := by.require(permAct); err != nil {
		return Bulk{}, err
	}
	b, _, err := s.loadBulk(ctx, id)
	if err != nil {
		return Bulk{}, err
	}
	if b.State != BulkPending {
		return Bulk{}, kurir.Errorf(kurir.EConflict, "Bulk action %d is already %s.", id, b.State)
	}
	if b.RequestedBy == by.ID {
		return Bulk{}, &kurir.Error{Code: kurir.EForbidden, Reason: "own_request",
			Message: "A bulk action this large needs a second person's approval; ask another moderator."}
	}
	return s.runBulk(ctx, b, by)
}

// RejectBulk refuses a pending bulk action.
func (s *Service) RejectBulk(ctx context.Context, by Staff, id int64, reason string) error {
	if err := by.require(permAct); err != nil {
		return err
	}
	reason, err := cleanText("reason", "reason", reason, 2000, true)
	if err != nil {
		return err
	}
	return s.db.WriteTx(ctx, func(tx *sqldb.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE mod_bulk SET state = 'rejected', decided_by = $2, decision_reason = $3, decided_at = $4
			WHERE id = $1 AND state = 'pending'`, id, by.ID, reason, sqldb.Micros(s.now()))
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return kurir.Errorf(kurir.EConflict, "Bulk action %d is not pending.", id)
		}
		return record(ctx, tx, by, "bulk.reject", fmt.Sprintf("bulk:%d", id), reason)
	})
}

// runBulk starts b, approved by approver: it freezes one row per target and
// marks b running, so that whatever happens to the caller, a worker
// (RunBulk) acts on every target exactly once. With
// Config.BulkInBackground b comes back running and RunBulk does the work;
// without (the command line), the caller's goroutine does it, detached from
// its context, and b comes back done.
func (s *Service) runBulk(ctx context.Context, b Bulk, approver Staff) (Bulk, error) {
	now := s.now()
	// Claim it first, so two approvals cannot both run it.
	err := s.db.WriteTx(ctx, func(tx *sqldb.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE mod_bulk SET state = 'running', decided_by = $2, decided_at = $3 WHERE id = $1 AND state = 'pending'`,
			b.ID, approver.ID, sqldb.Micros(now))
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return kurir.Errorf(kurir.EConflict, "Bulk action %d is not pending.", b.ID)
		}
		for i, subj := range b.Subjects {
			if _, err := tx.ExecContext(ctx, `INSERT INTO mod_bulk_targets (bulk_id, pos, subject) VALUES ($1, $2, $3)`,
				b.ID, i, subj.Key()); err != nil {
				return fmt.Errorf("bulk target: %w", err)
			}
		}
		return record(ctx, tx, approver, "bulk.run", fmt.Sprintf("bulk:%d", b.ID), fmt.Sprintf("%d subjects", len(b.Subjects)))
	})
	if err != nil {
		return Bulk{}, err
	}
	if s.cfg.BulkInBackground {
		select {
		case s.bulkKick <- struct{}{}:
		default: // a kick is already waiting
		}
		b.State, b.DecidedBy, b.Decided = BulkRunning, approver.ID, now
		return b, nil
	}
	ctx = context.WithoutCancel(ctx)
	if _, err := s.workBulk(ctx, b.ID); err != nil {
		return Bulk{}, err
	}
	b2, _, err := s.loadBulk(ctx, b.ID)
	return b2, err
}

// bulkClaim is how long a node holds a running bulk action between two
// targets; a node that dies holding it delays the rest by at most this.
const bulkClaim = time.Minute

// RunBulk works on running bulk actions until ctx is done: at once (which
// resumes those a stopped node left unfinished, once its claim has run
// out), whenever an approval in this process starts one, and every
// interval for those started elsewhere. A server that runs it sets
// Config.BulkInBackground. Several nodes may run it.
func (s *Service) RunBulk(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if err := s.WorkBulk(ctx); err != nil && ctx.Err() == nil {
			s.log.Warn("bulk moderation action", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-s.bulkKick:
		}
	}
}

// WorkBulk acts on every running bulk action no other node holds, and
// returns when they are done or ctx is.
func (s *Service) WorkBulk(ctx context.Context) error {
	for {
		var ids []int64
		rows, err := s.db.Read().QueryContext(ctx, `SELECT id FROM mod_bulk WHERE state = 'running' AND claimed_until < $1 ORDER BY id LIMIT 20`,
			sqldb.Micros(s.now()))
		if err != nil {
			return fmt.Errorf("running bulk actions: %w", err)
		}
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return err
			}
			ids = append(ids, id)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		worked := false
		for _, id := range ids {
			ok, err := s.workBulk(ctx, id)
			if err != nil {
				return err
			}
			worked = worked || ok
		}
		if !worked {
			return nil
		}
	}
}

// claimBulk holds bulk action id for bulkClaim if nobody else does (or,
// with held, extends this node's hold), and reports whether it now holds it.
func (s *Service) claimBulk(ctx context.Context, id int64, held int64) (int64, bool, error) {
	now := s.now()
	until := sqldb.Micros(now.Add(bulkClaim))
	cond, arg := `claimed_until < $3`, any(sqldb.Micros(now))
	if held != 0 {
		cond, arg = `claimed_until = $3`, held
	}
	var n int64
	err := s.db.WriteTx(ctx, func(tx *sqldb.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE mod_bulk SET claimed_until = $2 WHERE id = $1 AND state = 'running' AND `+cond, id, until, arg)
		if err != nil {
			return err
		}
		n, _ = res.RowsAffected()
		return nil
	})
	if err != nil {
		return 0, false, fmt.Errorf("claim bulk action %d: %w", id, err)
	}
	return until, n == 1, nil
}

// workBulk acts on the targets of running bulk action id that are not yet
// done, if it can claim it, and reports whether it did. Each target gets a
// case, an action and a statement of reasons of its own, acting as the
// requester; its case is recorded before it is acted on, so that a target
// interrupted halfway is finished, not acted on twice, when resumed.
func (s *Service) workBulk(ctx context.Context, id int64) (bool, error) {
	held, ok, err := s.claimBulk(ctx, id, 0)
	if err != nil || !ok {
		return false, err
	}
	b, role, err := s.loadBulk(ctx, id)
	if err != nil {
		return false, err
	}
	requester := Staff{ID: b.RequestedBy, Role: role}
	type target struct {
		pos    int64
		key    string
		caseID int64
	}
	var todo []target
	rows, err := s.db.Read().QueryContext(ctx, `SELECT pos, subject, case_id FROM mod_bulk_targets WHERE bulk_id = $1 AND state = 'pending' ORDER BY pos`, id)
	if err != nil {
		return false, fmt.Errorf("bulk targets: %w", err)
	}
	for rows.Next() {
		var t target
		if err := rows.Scan(&t.pos, &t.key, &t.caseID); err != nil {
			rows.Close()
			return false, err
		}
		todo = append(todo, t)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return false, err
	}
	for _, t := range todo {
		// A target once begun is finished whatever happens to ctx: an
		// action half taken cannot always be undone.
		caseID, aerr := s.bulkTarget(context.WithoutCancel(ctx), requester, b, t.pos, t.key, t.caseID)
		if ctx.Err() != nil {
			return true, ctx.Err() // resumed where it stopped, by whoever claims it next
		}
		state, col, why := "done", "done", ""
		if aerr != nil {
			s.log.Info("bulk action skipped a subject", "bulk", id, "subject", t.key, "err", aerr)
			state, col, why = "failed", "failed", excerpt(aerr.Error())
		}
		err := s.db.WriteTx(ctx, func(tx *sqldb.Tx) error {
			res, err := tx.ExecContext(ctx, `UPDATE mod_bulk_targets SET state = $3, case_id = $4, error = $5 WHERE bulk_id = $1 AND pos = $2 AND state = 'pending'`,
				id, t.pos, state, caseID, why)
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n == 1 {
				_, err = tx.ExecContext(ctx, `UPDATE mod_bulk SET `+col+` = `+col+` + 1 WHERE id = $1`, id)
			}
			return err
		})
		if err != nil {
			return true, fmt.Errorf("bulk action %d: %w", id, err)
		}
		if held, ok, err = s.claimBulk(ctx, id, held); err != nil || !ok {
			return true, err // another node took it over: it goes on from here
		}
	}
	err = s.db.WriteTx(ctx, func(tx *sqldb.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE mod_bulk SET state = 'done', claimed_until = 0 WHERE id = $1 AND state = 'running'
			AND NOT EXISTS (SELECT 1 FROM mod_bulk_targets WHERE bulk_id = $1 AND state = 'pending')`, id)
		return err
	})
	return true, err
}

// bulkTarget acts on one target of b, whose case, if filed by an earlier
// attempt, is caseID; it returns the case.
func (s *Service) bulkTarget(ctx context.Context, requester Staff, b Bulk, pos int64, key string, caseID int64) (int64, error) {
	subj, err := ParseSubject(key)
	if err != nil {
		return 0, err
	}
	if caseID != 0 {
		var state, outcome string
		if err := s.db.Read().QueryRowContext(ctx, `SELECT state, outcome FROM mod_cases WHERE id = $1`, caseID).Scan(&state, &outcome); err != nil {
			return caseID, err
		}
		if state == StateResolved {
			if outcome == "actioned" {
				return caseID, nil // acted on before an interruption
			}
			return caseID, kurir.Errorf(kurir.EConflict, "Case %d was resolved as %s meanwhile.", caseID, outcome)
		}
	} else {
		sig := signal{subject: subj, source: SourceOwn, category: b.Params.Category, weight: 1,
			detail: fmt.Sprintf("bulk action %d: posted file %s", b.ID, b.Params.SHA256)}
		err := s.db.WriteTx(ctx, func(tx *sqldb.Tx) error {
			var err error
			if caseID, err = file(ctx, tx, sig, s.now()); err != nil {
				return err
			}
			_, err = tx.ExecContext(ctx, `UPDATE mod_bulk_targets SET case_id = $3 WHERE bulk_id = $1 AND pos = $2`, b.ID, pos, caseID)
			return err
		})
		if err != nil {
			return 0, err
		}
	}
	_, err = s.Act(ctx, requester, caseID, ActParams{Kind: b.Params.Kind, Category: b.Params.Category, Ground: b.Params.Ground,
		LegalReference: b.Params.LegalReference, Facts: b.Params.Facts})
	return caseID, err
}

// BulkTargetState is how one target of a bulk action fared.
type BulkTargetState struct {
	Subject Subject
	State   string // pending, done or failed
	CaseID  int64  // 0 until its case is filed
	Error   string // why it failed
}

// BulkProgress returns bulk action id with how each of its targets fared
// (none while it is pending). The read is audited: it names the subjects.
func (s *Service) BulkProgress(ctx context.Context, by Staff, id int64) (Bulk, []BulkTargetState, error) {
	if err := by.require(permView); err != nil {
		return Bulk{}, nil, err
	}
	b, _, err := s.loadBulk(ctx, id)
	if err != nil {
		return Bulk{}, nil, err
	}
	rows, err := s.db.Read().QueryContext(ctx, `SELECT subject, state, case_id, error FROM mod_bulk_targets WHERE bulk_id = $1 ORDER BY pos`, id)
	if err != nil {
		return Bulk{}, nil, fmt.Errorf("bulk targets: %w", err)
	}
	defer rows.Close()
	var out []BulkTargetState
	for rows.Next() {
		var t BulkTargetState
		var key string
		if err := rows.Scan(&key, &t.State, &t.CaseID, &t.Error); err != nil {
			return Bulk{}, nil, err
		}
		t.Subject, _ = ParseSubject(key)
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return Bulk{}, nil, err
	}
	err = s.db.WriteTx(ctx, func(tx *sqldb.Tx) error {
		return record(ctx, tx, by, "bulk.view", fmt.Sprintf("bulk:%d", id), fmt.Sprintf("%s: %d done, %d failed", b.State, b.Done, b.Failed))
	})
	if err != nil {
		return Bulk{}, nil, err
	}
	return b, out, nil
}

const bulkColumns = `id, kind, query, category, ground, legal_reference, facts, targets, state, requested_by, requested_role,
	decided_by, decision_reason, done, failed, created_at, decided_at`

func scanBulk(row interface{ Scan(...any) error }) (Bulk, kurir.Role, error) {
	var b Bulk
	var kind, query, cat, ground, targets, role string
	var created, decided int64
	if err := row.Scan(&b.ID, &kind, &query, &cat, &ground, &b.Params.LegalReference, &b.Params.Facts, &targets, &b.State,
		&b.RequestedBy, &role, &b.DecidedBy, &b.Reason, &b.Done, &b.Failed, &created, &decided); err != nil {
		return Bulk{}, "", err
	}
	b.Params.Kind, b.Params.Category, b.Params.Ground = ActionKind(kind), Category(cat), Ground(ground)
	b.Params.SHA256 = strings.TrimPrefix(query, "sha256:")
	for _, k := range strings.Split(targets, ",") {
		if subj, err := ParseSubject(k); err == nil {
			b.Subjects = append(b.Subjects, subj)
		}
	}
	b.Created = sqldb.FromMicros(created)
	if decided != 0 {
		b.Decided = sqldb.FromMicros(decided)
	}
	b.NeedsApproval = b.State == BulkPending
	return b, kurir.Role(role), nil
}

func (s *Service) loadBulk(ctx context.Context, id int64) (Bulk, kurir.Role, error) {
	b, role, err := scanBulk(s.db.Read().QueryRowContext(ctx, `SELECT `+bulkColumns+` FROM mod_bulk WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Bulk{}, "", kurir.Errorf(kurir.ENotFound, "No bulk action %d.", id)
	}
	return b, role, err
}

// BulkRequests lists bulk actions in a state (pending by default), newest
// first. Reading it is audited at most once a minute per staff member and
// filter (recordListView).
func (s *Service) BulkRequests(ctx context.Context, by Staff, state string, limit int) ([]Bulk, error) {
	if err := by.require(permView); err != nil {
		return nil, err
	}
	if state == "" {
		state = BulkPending
	}
	if state != BulkPending && state != BulkRunning && state != BulkDone && state != BulkRejected {
		return nil, kurir.Invalid("state", "unknown_state", "A bulk action is pending, running, done or rejected.")
	}
	rows, err := s.db.Read().QueryContext(ctx, `SELECT `+bulkColumns+` FROM mod_bulk WHERE state = $1 ORDER BY id DESC LIMIT $2`, state, clamp(limit, 200))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Bulk
	for rows.Next() {
		b, _, err := scanBulk(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	ids := make([]string, len(out))
	for i, b := range out {
		ids[i] = strconv.FormatInt(b.ID, 10)
	}
	err = s.recordListView(ctx, by, "bulk.list", "bulk:"+state, fmt.Sprintf("limit=%d", limit),
		fmt.Sprintf("%d shown: %s", len(out), strings.Join(ids, ",")))
	if err != nil {
		return nil, err
	}
	return out, nil
}
