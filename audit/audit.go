// Package audit is the tamper-evident record of every privileged read or
// write: what moderators, legal staff and administrators looked at or changed,
// and what the operator did from the command line.
//
// The log is append-only and hash-chained. Each entry's hash covers its own
// content and the hash of the entry before it, and a one-row head records the
// last entry's ID and hash. Editing an entry, deleting one, or cutting entries
// off the end therefore breaks the chain at that entry, and Verify names it.
// Someone who can write to the database can still rewrite the whole chain
// from the point they changed onward; only a copy of the head kept elsewhere
// shows that: Anchor writes the head out of the database from time to time,
// and CheckHeads tells whether the log still matches the heads kept.
package audit

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"embed"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"kurir"
	"kurir/sqldb"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Migrations is the audit log's schema, for sqldb.DB.Migrate. It refers to no
// other component's tables.
var Migrations = sqldb.Embedded("audit", migrationFiles, "migrations")

// Limits on an entry's fields. Action and Subject are chosen by the code that
// records an entry, so a value past its limit is a mistake and is refused;
// Detail may carry what people wrote, so it is cut to fit instead.
const (
	MaxAction  = 64   // bytes
	MaxSubject = 256  // bytes
	MaxDetail  = 4096 // bytes
)

// Entry is one privileged read or write.
type Entry struct {
	ID      int64        // assigned by Append: 1, 2, 3... without gaps
	At      time.Time    // when; stored to the microsecond
	Actor   kurir.UserID // who; 0 is the system or the operator's CLI
	Role    kurir.Role   // the actor's role when acting; "" for the system
	Action  string       // what, e.g. "case.view", "action.takedown", "appeal.decide"
	Subject string       // to what, e.g. "case:12", "chat:5", "message:5:17", "user:3"
	Detail  string       // free text or JSON, at most MaxDetail bytes
	Hash    string       // hex SHA-256 of Prev and every field above
	Prev    string       // Hash of the entry before; "" for the first
}

// Append adds e to the log inside tx, so that the entry commits or rolls back
// with the change it records. It fills in ID, Prev and Hash, sets At to now
// if it is zero (and in any case to the microsecond, as stored), cleans
// Detail to valid UTF-8 without NUL bytes and cuts it to MaxDetail bytes, and
// returns the entry as stored. A malformed Action, Subject, Role or Actor is
// refused with kurir.EInvalid and nothing is written.
//
// Append takes the log's head row for the rest of the transaction, so that
// appends from every node form one chain; concurrent appends wait for it.
// Call it as late in the transaction as possible, to hold it briefly.
func Append(ctx context.Context, tx *sqldb.Tx, e Entry) (Entry, error) {
	e, err := clean(e)
	if err != nil {
		return Entry{}, err
	}
	err = tx.QueryRowContext(ctx,
		`UPDATE audit_head SET last_id = last_id + 1 WHERE id = 1 RETURNING last_id, last_hash`).Scan(&e.ID, &e.Prev)
	if errors.Is(err, sql.ErrNoRows) {
		return Entry{}, errors.New("audit: append: the log's head row is missing")
	}
	if err != nil {
		return Entry{}, fmt.Errorf("audit: take the log's head: %w", err)
	}
	e.Hash = e.hash()
	if _, err := tx.ExecContext(ctx,
		`INSERT INTO audit_log (`+columns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		e.ID, sqldb.Micros(e.At), int64(e.Actor), string(e.Role), e.Action, e.Subject, e.Detail, e.Prev, e.Hash); err != nil {
		return Entry{}, fmt.Errorf("audit: append entry %d: %w", e.ID, err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE audit_head SET last_hash = $1 WHERE id = 1`, e.Hash); err != nil {
		return Entry{}, fmt.Errorf("audit: advance the log's head: %w", err)
	}
	return e, nil
}

// Record is Append in a write transaction of its own, for reads and for
// actions whose change is not in the database.
func Record(ctx context.Context, db *sqldb.DB, e Entry) (Entry, error) {
	var out Entry
	err := db.WriteTx(ctx, func(tx *sqldb.Tx) error {
		var err error
		out, err = Append(ctx, tx, e)
		return err
	})
	if err != nil {
		return Entry{}, err
	}
	return out, nil
}

// clean validates e's fields and puts them in their stored form.
func clean(e Entry) (Entry, error) {
	if e.Actor < 0 {
		return Entry{}, kurir.Invalid("actor", "invalid_actor", "The actor %d is not a user ID.", e.Actor)
	}
	if e.Role != "" && !e.Role.Valid() {
		return Entry{}, kurir.Invalid("role", "invalid_role", "Unknown role %q.", e.Role)
	}
	if e.Action == "" || len(e.Action) > MaxAction || strings.IndexFunc(e.Action, notActionRune) >= 0 {
		return Entry{}, kurir.Invalid("action", "invalid_action",
			"The action %q must be 1 to %d letters, digits, dots, underscores or hyphens.", e.Action, MaxAction)
	}
	if len(e.Subject) > MaxSubject || !utf8.ValidString(e.Subject) || strings.IndexFunc(e.Subject, unicode.IsControl) >= 0 {
		return Entry{}, kurir.Invalid("subject", "invalid_subject",
			"The subject must be at most %d bytes of UTF-8 text without control characters.", MaxSubject)
	}
	e.Detail = cleanDetail(e.Detail)
	if e.At.IsZero() {
		e.At = time.Now()
	}
	e.At = sqldb.FromMicros(sqldb.Micros(e.At))
	e.ID, e.Prev, e.Hash = 0, "", ""
	return e, nil
}

func notActionRune(r rune) bool {
	return !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || r == '.' || r == '_' || r == '-')
}

// cleanDetail makes s storable as the same text on both engines (PostgreSQL
// refuses invalid UTF-8 and NUL bytes in TEXT) and cuts it to MaxDetail
// bytes at a character boundary, ending with "…" when it cut.
func cleanDetail(s string) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	if strings.IndexByte(s, 0) >= 0 {
		s = strings.ReplaceAll(s, "\x00", "\uFFFD")
	}
	if len(s) <= MaxDetail {
		return s
	}
	const ellipsis = "…"
	n := MaxDetail - len(ellipsis)
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + ellipsis
}

// hashDomain starts every hashed encoding, so that an entry's hash can never
// equal a hash kurir computes over anything else.
const hashDomain = "kurir audit entry v1\x00"

// hashOf returns the hex SHA-256 of an entry and the hash before it. Every
// string is preceded by its length and every number is 8 bytes, so no two
// different entries have the same encoding.
func hashOf(prev string, id, atMicros int64, actor kurir.UserID, role kurir.Role, action, subject, detail string) string {
	var small [512]byte
	b := append(small[:0], hashDomain...)
	b = appendString(b, prev)
	b = binary.BigEndian.AppendUint64(b, uint64(id))
	b = binary.BigEndian.AppendUint64(b, uint64(atMicros))
	b = binary.BigEndian.AppendUint64(b, uint64(actor))
	b = appendString(b, string(role))
	b = appendString(b, action)
	b = appendString(b, subject)
	b = appendString(b, detail)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

func appendString(b []byte, s string) []byte {
	b = binary.BigEndian.AppendUint64(b, uint64(len(s)))
	return append(b, s...)
}
