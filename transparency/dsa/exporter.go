package dsa

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"kurir"
	"kurir/sqldb"
)

// MaxBatch is the most statements the database's API takes in one call.
const MaxBatch = 100

// Exporter submits the statements of reasons not yet accepted to the DSA
// Transparency Database, MaxBatch at a time, and records in dsa_submissions
// what became of each, so each is submitted once.
//
// Several nodes may run one at the same time: the database refuses a
// second statement with the same PUID, and the node that hears so records
// the statement as accepted. An Exporter's methods are not meant to be
// called concurrently with each other; Run calls them one after another.
type Exporter struct {
	DB *sqldb.DB
	// Endpoint is the database's base URL, such as
	// https://transparency.dsa.ec.europa.eu; calls go to
	// Endpoint/api/v1/statements.
	Endpoint string
	Token    string        // the API token, sent as a bearer token
	Client   *http.Client  // nil: one with a one-minute timeout
	Log      *slog.Logger  // nil: no logging
	Clock    kurir.Clock   // nil: the system clock
	Attempts int           // tries per batch when the database is down or busy (0: 4)
	Backoff  time.Duration // wait before the second try, doubling after (0: 2s)
	// TermsURL is the address of the terms of service, for decisions on
	// the terms to link to their clause (ActionRecord.TermsURL); "" links
	// nothing.
	TermsURL string

	// floor is an action ID at or below which nothing is pending, as far
	// as this Exporter knows, so that a pass does not read again the whole
	// history of actions that were submitted long ago.
	floor int64
}

// settle is how old an action must be before a pass takes it as certainly
// committed: IDs are taken before commit, so a younger one may still be
// joined by a lower ID committed later.
const settle = 10 * time.Minute

// Summary is what a submission pass did.
type Summary struct {
	Batches  int // batches sent (each tried up to Attempts times)
	Accepted int // statements the database accepted
	Failed   int // statements it refused, or that kurir could not write
	Skipped  int // actions with no statement to submit (ErrOutsideEEA)
}

func (s *Summary) add(o Summary) {
	s.Batches += o.Batches
	s.Accepted += o.Accepted
	s.Failed += o.Failed
	s.Skipped += o.Skipped
}

// String reads like "3 batches: 250 accepted, 0 failed, 1 skipped".
func (s Summary) String() string {
	batches := "batches"
	if s.Batches == 1 {
		batches = "batch"
	}
	return fmt.Sprintf("%d %s: %d accepted, %d failed, %d skipped", s.Batches, batches, s.Accepted, s.Failed, s.Skipped)
}

func (e *Exporter) log() *slog.Logger {
	if e.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return e.Log
}

func (e *Exporter) now() time.Time {
	if e.Clock == nil {
		return time.Now()
	}
	return e.Clock.Now()
}

func (e *Exporter) client() *http.Client {
	if e.Client != nil {
		return e.Client
	}
	return &http.Client{Timeout: time.Minute}
}

// Pending returns the statements of up to limit actions not yet submitted
// (or last tried without an answer about the statement itself), oldest
// first, with their action IDs. Actions without a statement (ErrOutsideEEA)
// or whose statement cannot be written are left out; SubmitBatch records
// them.
func (e *Exporter) Pending(ctx context.Context, limit int) ([]Statement, []int64, error) {
	rs, err := records(ctx, e.DB.Read(), e.TermsURL, 0, limit, pendingWhere)
	if err != nil {
		return nil, nil, err
	}
	var sts []Statement
	var ids []int64
	for _, r := range rs {
		if s, err := FromAction(r); err == nil {
			sts, ids = append(sts, s), append(ids, r.ID)
		}
	}
	return sts, ids, nil
}

// outcome is what became of one action's statement.
type outcome struct {
	action   int64
	status   string
	uuid     string
	response string
	tries    int // calls that carried it
}

// SubmitBatch submits the oldest pending statements, at most MaxBatch, in
// one call, and records the outcome of each. It returns how many the
// database accepted. A call the database does not answer, or answers with
// 5xx or 429, is tried again with growing waits (Attempts times); a 422
// marks the statements it names as failed, with the database's reasons,
// and leaves the others pending; any other 4xx marks the whole batch
// failed, except 401, 403 and 404, which say the token or the endpoint is
// wrong and leave it pending. Those, and a database still down after the
// last try, return an error.
func (e *Exporter) SubmitBatch(ctx context.Context) (int, error) {
	s, err := e.submitBatch(ctx)
	return s.Accepted, err
}

func (e *Exporter) submitBatch(ctx context.Context) (Summary, error) {
	var sum Summary
	rs, err := records(ctx, e.DB.Read(), e.TermsURL, e.floor, MaxBatch, pendingWhere)
	if err != nil || len(rs) == 0 {
		return sum, err
	}
	var sts []Statement
	var ids []int64
	var outs []outcome
	for _, r := range rs {
		s, err := FromAction(r)
		switch {
		case errors.Is(err, ErrOutsideEEA):
			outs = append(outs, outcome{action: r.ID, status: StatusSkipped, response: err.Error()})
			sum.Skipped++
		case err != nil:
			e.log().Error("a statement of reasons cannot be written in the DSA schema", "action", r.ID, "err", err)
			outs = append(outs, outcome{action: r.ID, status: StatusFailed, response: "kurir could not write the statement: " + err.Error()})
			sum.Failed++
		default:
			sts, ids = append(sts, s), append(ids, r.ID)
		}
	}
	var callErr error
	if len(sts) > 0 {
		var more []outcome
		more, callErr = e.call(ctx, sts, ids)
		sum.Batches++
		for _, o := range more {
			switch o.status {
			case StatusAccepted:
				sum.Accepted++
			case StatusFailed:
				sum.Failed++
			}
		}
		outs = append(outs, more...)
	}
	if err := e.record(ctx, outs); err != nil {
		return sum, errors.Join(callErr, err)
	}
	return sum, callErr
}

// SubmitPending submits batch after batch until nothing is pending, and
// returns what it did. It stops at the first error.
func (e *Exporter) SubmitPending(ctx context.Context) (Summary, error) {
	var total Summary
	for {
		s, err := e.submitBatch(ctx)
		total.add(s)
		if err != nil {
			return total, err
		}
		if s.Accepted+s.Failed+s.Skipped == 0 {
			// Nothing is pending: every action old enough to be surely
			// committed is done with.
			var id int64
			err := e.DB.Read().QueryRowContext(ctx, `SELECT COALESCE(MAX(id), 0) FROM mod_actions WHERE created_at < $1`,
				sqldb.Micros(e.now().Add(-settle))).Scan(&id)
			if err == nil && id > e.floor {
				e.floor = id
			}
			return total, nil
		}
	}
}

// Retry makes the statements that failed pending again, for after the
// cause is fixed, and returns how many.
func (e *Exporter) Retry(ctx context.Context) (int, error) {
	var n int64
	err := e.DB.WriteTx(ctx, func(tx *sqldb.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM dsa_submissions WHERE status = $1`, StatusFailed)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	e.floor = 0
	return int(n), err
}

// Run submits what is pending every interval until ctx is done, starting
// at once.
func (e *Exporter) Run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		s, err := e.SubmitPending(ctx)
		if s.Batches+s.Skipped+s.Failed > 0 {
			e.log().Info("statements of reasons submitted to the DSA Transparency Database",
				"batches", s.Batches, "accepted", s.Accepted, "failed", s.Failed, "skipped", s.Skipped)
		}
		if err != nil && ctx.Err() == nil {
			e.log().Error("submit statements of reasons to the DSA Transparency Database", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// record writes the outcomes, leaving an accepted statement accepted.
func (e *Exporter) record(ctx context.Context, outs []outcome) error {
	if len(outs) == 0 {
		return nil
	}
	// What the database said is recorded even if the pass is being
	// stopped: an accepted statement recorded as pending would be sent
	// again.
	ctx = context.WithoutCancel(ctx)
	now := sqldb.Micros(e.now())
	// Rows are written in one order on every node, so that two nodes
	// recording overlapping batches at once wait for each other rather
	// than deadlock on PostgreSQL.
	outs = slices.SortedFunc(slices.Values(outs), func(a, b outcome) int { return cmp.Compare(a.action, b.action) })
	return e.DB.WriteTx(ctx, func(tx *sqldb.Tx) error {
		for _, o := range outs {
			if _, err := tx.ExecContext(ctx, `INSERT INTO dsa_submissions (action_id, puid, status, uuid, response, attempts, submitted_at)
				VALUES ($1, $2, $3, $4, $5, $6, $7)
				ON CONFLICT (action_id) DO UPDATE SET status = excluded.status, uuid = excluded.uuid, response = excluded.response,
					attempts = dsa_submissions.attempts + excluded.attempts, submitted_at = excluded.submitted_at
				WHERE dsa_submissions.status <> 'accepted'`,
				o.action, PUID(o.action), o.status, o.uuid, clip(o.response, 8000), o.tries, now); err != nil {
				return fmt.Errorf("record submission of action %d: %w", o.action, err)
			}
		}
		return nil
	})
}

// call sends one batch, trying again while the database is down or busy,
// and returns the outcome of each statement it learned one for.
func (e *Exporter) call(ctx context.Context, sts []Statement, ids []int64) ([]outcome, error) {
	body, err := json.Marshal(struct {
		Statements []Statement `json:"statements"`
	}{sts})
	if err != nil {
		return nil, err
	}
	var try int
	all := func(status, response string) []outcome {
		out := make([]outcome, len(ids))
		for i, id := range ids {
			out[i] = outcome{action: id, status: status, response: response, tries: try}
		}
		return out
	}
	attempts, wait := e.Attempts, e.Backoff
	if attempts <= 0 {
		attempts = 4
	}
	if wait <= 0 {
		wait = 2 * time.Second
	}
	url := strings.TrimRight(e.Endpoint, "/") + "/api/v1/statements"
	var status int
	var answer []byte
	var header http.Header
	for try = 1; ; try++ {
		status, answer, header, err = e.post(ctx, url, body)
		retry := err != nil || status >= 500 || status == http.StatusTooManyRequests || status == http.StatusRequestTimeout
		if !retry {
			break
		}
		what := fmt.Sprintf("HTTP %d: %s", status, clip(string(answer), 500))
		if err != nil {
			what = err.Error()
		}
		if try >= attempts || ctx.Err() != nil {
			e.log().Error("the DSA Transparency Database did not take a batch; it stays pending", "statements", len(sts), "tries", try, "last", what)
			return all(StatusError, what), &kurir.Error{Code: kurir.EUnavailable,
				Message: fmt.Sprintf("The DSA Transparency Database did not answer a batch of %d after %d tries: %s", len(sts), try, what)}
		}
		e.log().Warn("the DSA Transparency Database did not take a batch; trying again", "statements", len(sts), "try", try, "wait", wait, "last", what)
		pause := wait
		if s, err := strconv.Atoi(header.Get("Retry-After")); err == nil && s > 0 {
			pause = max(pause, min(time.Duration(s)*time.Second, time.Minute))
		}
		t := time.NewTimer(pause)
		select {
		case <-ctx.Done():
			t.Stop()
		case <-t.C:
		}
		wait *= 2
	}
	text := clip(string(answer), 4000)
	switch {
	case status == http.StatusCreated || status == http.StatusOK:
		return tried(accepted(ids, sts, answer), try), nil
	case status == http.StatusUnprocessableEntity:
		outs, ok := refused(ids, answer)
		if !ok {
			outs = all(StatusFailed, fmt.Sprintf("HTTP 422: %s", text))
		}
		outs = tried(outs, try)
		for _, o := range outs {
			if o.status == StatusFailed {
				e.log().Error("the DSA Transparency Database refused a statement of reasons", "action", o.action, "response", o.response)
			}
		}
		return outs, nil
	case status == http.StatusUnauthorized || status == http.StatusForbidden || status == http.StatusNotFound:
		what := fmt.Sprintf("HTTP %d: %s", status, text)
		e.log().Error("the DSA Transparency Database refused the call: check the token and the endpoint", "status", status, "url", url, "response", text)
		code := kurir.EUnauthenticated
		if status == http.StatusNotFound {
			code = kurir.ENotFound
		}
		return all(StatusError, what), &kurir.Error{Code: code,
			Message: fmt.Sprintf("The DSA Transparency Database at %s refused the call (HTTP %d): check the token and the endpoint", url, status)}
	default:
		what := fmt.Sprintf("HTTP %d: %s", status, text)
		e.log().Error("the DSA Transparency Database refused a batch; it is marked failed", "statements", len(sts), "status", status, "response", text)
		return all(StatusFailed, what), nil
	}
}

// tried sets the calls that carried each outcome's statement.
func tried(outs []outcome, n int) []outcome {
	for i := range outs {
		outs[i].tries = n
	}
	return outs
}

// post makes one call and reads at most 1 MiB of the answer.
func (e *Exporter) post(ctx context.Context, url string, body []byte) (int, []byte, http.Header, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, nil, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+e.Token)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Content-Type", "application/json")
	resp, err := e.client().Do(req)
	if err != nil {
		return 0, nil, nil, err
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return 0, nil, nil, err
	}
	return resp.StatusCode, answer, resp.Header, nil
}

// accepted reads a 201 answer: every statement was created, each with the
// database's identifier.
func accepted(ids []int64, sts []Statement, answer []byte) []outcome {
	var created struct {
		Statements []struct {
			UUID string          `json:"uuid"`
			ID   json.RawMessage `json:"id"`
			PUID string          `json:"puid"`
		} `json:"statements"`
	}
	_ = json.Unmarshal(answer, &created) // the status says they were created; the identifiers are a bonus
	byPUID := map[string]string{}
	for _, c := range created.Statements {
		id := c.UUID
		if id == "" && len(c.ID) > 0 && string(c.ID) != "null" {
			id = strings.Trim(string(c.ID), `"`)
		}
		byPUID[c.PUID] = id
	}
	out := make([]outcome, len(ids))
	for i, id := range ids {
		uuid := byPUID[sts[i].PUID]
		if uuid == "" && len(created.Statements) == len(ids) && created.Statements[i].PUID == "" {
			uuid = created.Statements[i].UUID
		}
		out[i] = outcome{action: id, status: StatusAccepted, uuid: uuid}
	}
	return out
}

// duplicatePUID is how the database says a PUID is already taken.
const duplicatePUID = "not unique"

// refused reads a 422 answer to a batch: the errors of each statement that
// has any, keyed statement_N. None of the batch was created; a statement
// whose only fault is that its PUID is taken was accepted before (by this
// node, before a crash, or by another), and one with no faults stays
// pending. It reports false if the answer names no statement.
func refused(ids []int64, answer []byte) ([]outcome, bool) {
	var body struct {
		Errors map[string]json.RawMessage `json:"errors"`
	}
	if json.Unmarshal(answer, &body) != nil {
		return nil, false
	}
	var out []outcome
	for key, raw := range body.Errors {
		n, err := strconv.Atoi(strings.TrimPrefix(key, "statement_"))
		if !strings.HasPrefix(key, "statement_") || err != nil || n < 0 || n >= len(ids) {
			continue
		}
		var fields map[string][]string
		if json.Unmarshal(raw, &fields) != nil || len(fields) == 0 {
			out = append(out, outcome{action: ids[n], status: StatusFailed, response: string(raw)})
			continue
		}
		if msgs, ok := fields["puid"]; ok && len(fields) == 1 && len(msgs) > 0 && strings.Contains(msgs[0], duplicatePUID) {
			out = append(out, outcome{action: ids[n], status: StatusAccepted, response: "already in the database: " + msgs[0]})
			continue
		}
		out = append(out, outcome{action: ids[n], status: StatusFailed, response: string(raw)})
	}
	return out, len(out) > 0
}
