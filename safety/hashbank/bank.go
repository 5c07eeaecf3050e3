// Package hashbank keeps banks of hashes of known harmful content (exact
// SHA-256 and MD5, and PDQ perceptual hashes matched within 31 bits) and
// answers, in microseconds, whether a file matches any enabled entry.
//
// Entries live in the database; every node holds them in an Index kept
// current by following the change log, so an entry added or disabled on
// one node takes effect on all of them within a second, without a pause
// to rebuild anything.
package hashbank

import (
	"context"
	"database/sql"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"kurir"
	"kurir/sqldb"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Migrations is the hash bank schema, for sqldb.DB.Migrate.
var Migrations = sqldb.Embedded("hashbank", migrationFiles, "migrations")

// SignalType is the kind of hash an entry holds.
type SignalType string

// The signal types.
const (
	SignalPDQ    SignalType = "pdq"
	SignalMD5    SignalType = "md5"
	SignalSHA256 SignalType = "sha256"
)

// ParseSignal parses a signal type's name (as HMA and ThreatExchange write
// them: "pdq", "md5", "sha256", also "photo_pdq" and "video_md5").
func ParseSignal(s string) (SignalType, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "pdq", "photo_pdq", "pdq_photo", "hash_pdq":
		return SignalPDQ, nil
	case "md5", "video_md5", "photo_md5", "hash_md5":
		return SignalMD5, nil
	case "sha256", "sha-256", "hash_sha256":
		return SignalSHA256, nil
	}
	return "", fmt.Errorf("unknown signal type %q (want pdq, md5 or sha256)", s)
}

// decodeValue parses a hash in hex for its signal type.
func decodeValue(t SignalType, s string) ([]byte, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	want := 64
	if t == SignalMD5 {
		want = 32
	}
	if len(s) != want {
		return nil, fmt.Errorf("%s hash %q: want %d hexadecimal digits, got %d", t, clip(s), want, len(s))
	}
	b, err := hex.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("%s hash %q: not hexadecimal", t, clip(s))
	}
	return b, nil
}

func clip(s string) string {
	if len(s) > 80 {
		return s[:77] + "..."
	}
	return s
}

// Action is what a match in a bank does.
type Action string

// The actions.
const (
	Block Action = "block" // refuse the upload
	Hold  Action = "hold"  // store it, invisible until reviewed
	Flag  Action = "flag"  // deliver it, and open a case
)

// Bank is a named list of hashes with the action its matches take.
type Bank struct {
	Name        string
	Action      Action
	Description string
	CreatedAt   time.Time
	Entries     int64 // enabled entries
}

// Entry is one hash in a bank.
type Entry struct {
	ID         int64
	Bank       string
	Signal     SignalType
	Value      string // hex
	Enabled    bool
	Provenance string
}

// Match is an entry a file matched, with its bank's action.
type Match struct {
	Entry    Entry
	Action   Action
	Distance int // PDQ only
}

// Service manages banks and answers lookups from its Index. It is safe for
// concurrent use.
type Service struct {
	db    *sqldb.DB
	clock kurir.Clock
	log   *slog.Logger
	index *Index

	syncMu sync.Mutex // one Sync at a time
	seq    int64      // last change applied, under syncMu

	mu    sync.RWMutex // guards banks and meta, which Sync changes and Lookup reads
	banks map[string]Action
	meta  map[int64]Entry // enabled entries by ID
}

// NewService loads every enabled entry into a new Index.
func NewService(ctx context.Context, db *sqldb.DB, clock kurir.Clock, log *slog.Logger) (*Service, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Service{db: db, clock: clock, log: log, index: NewIndex(), meta: map[int64]Entry{}}
	if err := s.Sync(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

var nameOK = func(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, c := range s {
		if !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// CreateBank creates a bank, or changes the action and description of an
// existing one.
func (s *Service) CreateBank(ctx context.Context, name string, action Action, description string) error {
	if !nameOK(name) {
		return kurir.Invalid("name", "invalid_bank_name", "A bank's name is 1 to 64 capitals, digits, '_' or '-', such as CHILD_SAFETY.")
	}
	switch action {
	case Block, Hold, Flag:
	default:
		return kurir.Invalid("action", "invalid_action", "A bank's action is block, hold or flag, not %q.", action)
	}
	err := s.db.WriteTx(ctx, func(tx *sqldb.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO hash_banks (name, action, description, created_at) VALUES ($1, $2, $3, $4)
			ON CONFLICT (name) DO UPDATE SET action = excluded.action, description = excluded.description`,
			name, string(action), description, sqldb.Micros(s.clock.Now()))
		return err
	})
	if err != nil {
		return fmt.Errorf("create bank %s: %w", name, err)
	}
	return nil
}

// Banks lists the banks with their enabled entry counts.
func (s *Service) Banks(ctx context.Context) ([]Bank, error) {
	rows, err := s.db.Read().QueryContext(ctx, `SELECT b.name, b.action, b.description, b.created_at,
		(SELECT COUNT(*) FROM hash_entries e WHERE e.bank = b.name AND e.enabled = 1)
		FROM hash_banks b ORDER BY b.name`)
	if err != nil {
		return nil, fmt.Errorf("list banks: %w", err)
	}
	defer rows.Close()
	var out []Bank
	for rows.Next() {
		var b Bank
		var action string
		var created int64
		if err := rows.Scan(&b.Name, &action, &b.Description, &created, &b.Entries); err != nil {
			return nil, err
		}
		b.Action, b.CreatedAt = Action(action), sqldb.FromMicros(created)
		out = append(out, b)
	}
	return out, rows.Err()
}

// bank returns a bank's action, or ENotFound.
func bankAction(ctx context.Context, q sqldb.Querier, name string) (Action, error) {
	var a string
	err := q.QueryRowContext(ctx, `SELECT action FROM hash_banks WHERE name = $1`, name).Scan(&a)
	if errors.Is(err, sql.ErrNoRows) {
		return "", kurir.Errorf(kurir.ENotFound, "No hash bank %q; create it first.", name)
	}
	return Action(a), err
}

// SetEnabled enables or disables an entry; it takes effect on every node
// within a second.
func (s *Service) SetEnabled(ctx context.Context, id int64, enabled bool) error {
	err := s.db.WriteTx(ctx, func(tx *sqldb.Tx) error {
		if err := lockChanges(ctx, tx); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `UPDATE hash_entries SET enabled = $2, updated_at = $3 WHERE id = $1 AND enabled <> $2`,
			id, boolInt(enabled), sqldb.Micros(s.clock.Now()))
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			var exists bool
			if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM hash_entries WHERE id = $1)`, id).Scan(&exists); err != nil {
				return err
			}
			if !exists {
				return kurir.Errorf(kurir.ENotFound, "No hash bank entry %d.", id)
			}
			return nil // already so
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO hash_changes (entry_id, enabled) VALUES ($1, $2)`, id, boolInt(enabled))
		return err
	})
	if err != nil {
		return err
	}
	return s.Sync(ctx)
}

// lockChanges makes change-log writers take turns on PostgreSQL, so that
// the log's sequence numbers commit in order and a follower that has seen
// seq N has seen every change before it. (SQLite writes one at a time.)
func lockChanges(ctx context.Context, tx *sqldb.Tx) error {
	if tx.Engine() != sqldb.Postgres {
		return nil
	}
	_, err := tx.ExecContext(ctx, `LOCK TABLE hash_changes IN EXCLUSIVE MODE`)
	return err
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// Sync applies the changes other nodes (or this one) made since the last
// Sync to the Index.
func (s *Service) Sync(ctx context.Context) error {
	s.syncMu.Lock()
	defer s.syncMu.Unlock()
	if s.banks == nil || s.seq == 0 {
		if err := s.loadBanks(ctx); err != nil {
			return err
		}
	}
	for {
		rows, err := s.db.Read().QueryContext(ctx, `SELECT c.seq, c.enabled, e.id, e.bank, e.signal, e.value, e.provenance
			FROM hash_changes c JOIN hash_entries e ON e.id = c.entry_id WHERE c.seq > $1 ORDER BY c.seq LIMIT 50000`, s.seq)
		if err != nil {
			return fmt.Errorf("follow hash bank changes: %w", err)
		}
		add, remove := map[int64]Signal{}, map[int64]Signal{}
		n := 0
		var last int64
		newBank := false
		for rows.Next() {
			var e Entry
			var enabled int
			var signal string
			if err := rows.Scan(&last, &enabled, &e.ID, &e.Bank, &signal, &e.Value, &e.Provenance); err != nil {
				rows.Close()
				return err
			}
			n++
			e.Signal, e.Enabled = SignalType(signal), enabled != 0
			v, err := decodeValue(e.Signal, e.Value)
			if err != nil {
				s.log.Error("hash bank entry unreadable", "entry", e.ID, "err", err)
				continue
			}
			s.mu.RLock()
			_, known := s.banks[e.Bank]
			s.mu.RUnlock()
			newBank = newBank || !known
			sig := Signal{Type: e.Signal, Value: v}
			s.mu.Lock()
			if e.Enabled {
				delete(remove, e.ID)
				if _, had := s.meta[e.ID]; !had {
					add[e.ID] = sig
				}
				s.meta[e.ID] = e
			} else {
				delete(add, e.ID)
				if _, had := s.meta[e.ID]; had {
					remove[e.ID] = sig
				}
				delete(s.meta, e.ID)
			}
			s.mu.Unlock()
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		if newBank {
			if err := s.loadBanks(ctx); err != nil {
				return err
			}
		}
		if len(add) > 0 || len(remove) > 0 {
			s.index.Change(add, remove)
		}
		if n > 0 {
			s.seq = last
		}
		if n < 50000 {
			return nil
		}
	}
}

func (s *Service) loadBanks(ctx context.Context) error {
	rows, err := s.db.Read().QueryContext(ctx, `SELECT name, action FROM hash_banks`)
	if err != nil {
		return fmt.Errorf("load hash banks: %w", err)
	}
	defer rows.Close()
	banks := map[string]Action{}
	for rows.Next() {
		var n, a string
		if err := rows.Scan(&n, &a); err != nil {
			return err
		}
		banks[n] = Action(a)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	s.banks = banks
	s.mu.Unlock()
	return nil
}

// RunSync calls Sync every interval until ctx ends.
func (s *Service) RunSync(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if err := s.Sync(ctx); err != nil && ctx.Err() == nil {
			s.log.Error("hash bank sync", "err", err)
		}
	}
}

// Lookup returns the enabled entries that match a file's hashes: its
// SHA-256 and MD5 exactly, and its PDQ hashes (any of the 8 dihedral
// variants, so a rotated or mirrored copy still matches) within
// MaxDistance. Pass nil for a hash that was not computed.
func (s *Service) Lookup(sha256 *[32]byte, md5 *[16]byte, pdq []PDQ) []Match {
	var out []Match
	seen := map[int64]bool{}
	s.mu.RLock()
	defer s.mu.RUnlock()
	add := func(id int64, d int) {
		if seen[id] {
			return
		}
		e, ok := s.meta[id]
		if !ok {
			return
		}
		seen[id] = true
		out = append(out, Match{Entry: e, Action: s.banks[e.Bank], Distance: d})
	}
	if sha256 != nil {
		for _, id := range s.index.LookupSHA256(*sha256) {
			add(id, 0)
		}
	}
	if md5 != nil {
		for _, id := range s.index.LookupMD5(*md5) {
			add(id, 0)
		}
	}
	for _, h := range pdq {
		for _, hit := range s.index.LookupPDQ(h, MaxDistance) {
			add(hit.Entry, hit.Distance)
		}
	}
	return out
}
