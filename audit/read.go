package audit

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"kurir"
	"kurir/sqldb"
)

// Result is what Verify found.
type Result struct {
	Entries  int64  // entries checked
	OK       bool   // the chain is intact
	BrokenAt int64  // when !OK, the ID of the first broken entry (0 if the head row itself is gone)
	Problem  string // when !OK, what is wrong there, for a person
	Head     string // when OK, the last entry's hash ("" for an empty log): write it down to detect a rewrite later
}

// Verify recomputes the chain from the first entry to the last, in ID order,
// and reports the first broken link: an entry whose hash does not match its
// content, whose Prev is not the hash of the entry before, or whose ID skips
// one (a deleted entry), or a head that does not match the last entry (a
// log cut short). It reads the log as a stream, in constant memory.
//
// q may be the database's reader while entries are being appended: entries
// appended after Verify read the head are checked too. A broken chain is
// reported in the Result; the error is for failures to read.
func Verify(ctx context.Context, q sqldb.Querier) (Result, error) {
	headID, headHash, ok, err := head(ctx, q)
	if err != nil {
		return Result{}, err
	}
	if !ok {
		return Result{Problem: "the log's head row is missing"}, nil
	}
	rows, err := q.QueryContext(ctx, `SELECT `+columns+` FROM audit_log ORDER BY id`)
	if err != nil {
		return Result{}, fmt.Errorf("audit: read the log: %w", err)
	}
	defer rows.Close()
	var (
		r    Result
		prev string // hash of the entry before
		last int64  // ID of the entry before
	)
	broken := func(id int64, format string, args ...any) (Result, error) {
		r.BrokenAt, r.Problem = id, fmt.Sprintf(format, args...)
		return r, nil
	}
	for rows.Next() {
		e, err := scanEntry(rows)
		if err != nil {
			return Result{}, fmt.Errorf("audit: read entry after %d: %w", last, err)
		}
		switch {
		case e.ID != last+1 && last == 0:
			return broken(1, "entry is missing (the log starts at entry %d)", e.ID)
		case e.ID != last+1:
			return broken(last+1, "entry is missing (the log goes from entry %d to %d)", last, e.ID)
		case e.Hash != e.hash():
			return broken(e.ID, "hash does not match its content")
		case e.Prev != prev && last == 0:
			return broken(e.ID, "the first entry names a previous hash")
		case e.Prev != prev:
			return broken(e.ID, "previous hash does not match entry %d's hash (one of the two was rewritten)", last)
		case e.ID == headID && e.Hash != headHash:
			return broken(e.ID, "hash does not match the one the log's head recorded for it")
		}
		prev, last = e.Hash, e.ID
		r.Entries++
	}
	if err := rows.Err(); err != nil {
		return Result{}, fmt.Errorf("audit: read the log: %w", err)
	}
	if last < headID {
		return broken(last+1, "entry is missing: the log's head records %d entries but the log ends at entry %d (cut short)", headID, last)
	}
	if last > headID {
		// Entries past the head Verify read may have been appended since;
		// the head, which only grows, must cover them now.
		now, _, ok, err := head(ctx, q)
		if err != nil {
			return Result{}, err
		}
		if !ok {
			return broken(0, "the log's head row is missing")
		}
		if last > now {
			return broken(now+1, "entry is past the log's head (entry %d): it was added outside kurir", now)
		}
	}
	r.OK, r.Head = true, prev
	return r, nil
}

// head reads the log's head row: the last entry's ID and hash. ok is false
// if the row is gone.
func head(ctx context.Context, q sqldb.Querier) (id int64, hash string, ok bool, err error) {
	err = q.QueryRowContext(ctx, `SELECT last_id, last_hash FROM audit_head WHERE id = 1`).Scan(&id, &hash)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, "", false, nil
	}
	if err != nil {
		return 0, "", false, fmt.Errorf("audit: read the log's head: %w", err)
	}
	return id, hash, true, nil
}

// Limits of List.
const (
	DefaultLimit = 100
	MaxLimit     = 1000
)

// Filter selects entries for List. Zero fields select everything.
type Filter struct {
	Actor   kurir.UserID // only this actor's entries (0: every actor's, the system's included)
	Subject string       // only entries about exactly this subject
	Action  string       // only entries of exactly this action
	Before  int64        // only entries with smaller IDs, to page back (0: from the newest)
	Limit   int          // at most this many (0: DefaultLimit; at most MaxLimit)
}

// List returns the entries f selects, newest first. A negative Actor, Before
// or Limit, or a Limit over MaxLimit, is refused with kurir.EInvalid.
func List(ctx context.Context, q sqldb.Querier, f Filter) ([]Entry, error) {
	switch {
	case f.Actor < 0:
		return nil, kurir.Invalid("actor", "invalid_actor", "The actor %d is not a user ID.", f.Actor)
	case f.Before < 0:
		return nil, kurir.Invalid("before", "invalid_before", "Before must be an entry ID, not %d.", f.Before)
	case f.Limit < 0 || f.Limit > MaxLimit:
		return nil, kurir.Invalid("limit", "invalid_limit", "The limit must be between 1 and %d, not %d.", MaxLimit, f.Limit)
	case f.Limit == 0:
		f.Limit = DefaultLimit
	}
	var where []string
	var args []any
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, fmt.Sprintf(cond, len(args)))
	}
	if f.Actor != 0 {
		add("actor_id = $%d", int64(f.Actor))
	}
	if f.Subject != "" {
		add("subject = $%d", f.Subject)
	}
	if f.Action != "" {
		add("action = $%d", f.Action)
	}
	if f.Before != 0 {
		add("id < $%d", f.Before)
	}
	query := `SELECT ` + columns + ` FROM audit_log`
	if len(where) > 0 {
		query += ` WHERE ` + strings.Join(where, ` AND `)
	}
	args = append(args, f.Limit)
	query += fmt.Sprintf(` ORDER BY id DESC LIMIT $%d`, len(args))
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("audit: list: %w", err)
	}
	defer rows.Close()
	var out []Entry
	for rows.Next() {
		e, err := scanEntry(rows)
		if err != nil {
			return nil, fmt.Errorf("audit: list: %w", err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("audit: list: %w", err)
	}
	return out, nil
}

// columns are the audit_log columns scanEntry reads, in its order.
const columns = `id, at, actor_id, role, action, subject, detail, prev, hash`

func scanEntry(rows *sql.Rows) (Entry, error) {
	var e Entry
	var at int64
	err := rows.Scan(&e.ID, &at, &e.Actor, &e.Role, &e.Action, &e.Subject, &e.Detail, &e.Prev, &e.Hash)
	e.At = sqldb.FromMicros(at)
	return e, err
}

// hash recomputes e's hash from its content and Prev.
func (e Entry) hash() string {
	return hashOf(e.Prev, e.ID, sqldb.Micros(e.At), e.Actor, e.Role, e.Action, e.Subject, e.Detail)
}
