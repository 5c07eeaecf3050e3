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
	"slices"
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
//
// For each enabled entry it keeps in memory only what a lookup needs to
// decide: the hash (in the Index) and the entry's bank, 2 bytes by ID (see
// entryBanks). A match reads the rest of its entry from the database.
type Service struct {
	db    *sqldb.DB
	clock kurir.Clock
	log   *slog.Logger
	index *Index

	manageOnly bool // NewManager: no index, Sync does nothing

	syncMu sync.Mutex // one Sync at a time
	seq    int64      // last change applied, under syncMu
	loaded bool       // under syncMu

	mu     sync.RWMutex // guards banks, bankNo and live, which Sync changes and Lookup reads
	banks  []bankState  // by bank number; a bank is never deleted, so numbers stay
	bankNo map[string]uint16
	live   entryBanks // enabled entries: bank number + 1 by entry ID
}

type bankState struct {
	name   string
	action Action
}

// entryBanks maps entry IDs to a bank number + 1 (0 for an entry that is
// not enabled) in pages of 4,096 IDs. Entry IDs are assigned in order, so
// the pages are dense: 2 bytes per ID where entries exist, nothing where
// none do.
type entryBanks struct {
	pages map[int64]*[4096]uint16
}

func (e *entryBanks) get(id int64) uint16 {
	if p := e.pages[id>>12]; p != nil {
		return p[id&4095]
	}
	return 0
}

func (e *entryBanks) set(id int64, v uint16) {
	p := e.pages[id>>12]
	if p == nil {
		if v == 0 {
			return
		}
		if e.pages == nil {
			e.pages = map[int64]*[4096]uint16{}
		}
		p = new([4096]uint16)
		e.pages[id>>12] = p
	}
	p[id&4095] = v
}

// NewService loads every enabled entry into a new Index.
func NewService(ctx context.Context, db *sqldb.DB, clock kurir.Clock, log *slog.Logger) (*Service, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Service{db: db, clock: clock, log: log, index: NewIndex(), bankNo: map[string]uint16{}}
	if err := s.Sync(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// NewManager returns a Service for changing banks and their entries
// (command-line tools) that loads no index: it starts at once whatever the
// banks hold, and its Lookup finds nothing. Running nodes apply its changes
// by following the change log, as they do any node's.
func NewManager(db *sqldb.DB, clock kurir.Clock, log *slog.Logger) *Service {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Service{db: db, clock: clock, log: log, index: NewIndex(), bankNo: map[string]uint16{}, manageOnly: true}
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
// existing one; a change applies on every node within a sync.
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
		if err := lockChanges(ctx, tx); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO hash_banks (name, action, description, created_at) VALUES ($1, $2, $3, $4)
			ON CONFLICT (name) DO UPDATE SET action = excluded.action, description = excluded.description`,
			name, string(action), description, sqldb.Micros(s.clock.Now()))
		if err != nil {
			return err
		}
		// Nodes follow the change log; this row tells them to reread the
		// banks, so a new action applies everywhere within a sync.
		_, err = tx.ExecContext(ctx, `INSERT INTO hash_changes (entry_id, enabled, bank) VALUES (0, 0, $1)`, name)
		return err
	})
	if err != nil {
		return fmt.Errorf("create bank %s: %w", name, err)
	}
	return s.Sync(ctx)
}

// Banks lists the banks with their enabled entry counts.
func (s *Service) Banks(ctx context.Context) ([]Bank, error) {
	rows, err := s.db.Read().QueryContext(ctx, `SELECT b.name, b.action, b.description, b.created_at,
		(SELECT COUNT(*) FROM hash_entries WHERE hash_entries.bank = b.name AND hash_entries.enabled = 1 AND `+visible+`)
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
// Sync to the Index. The first Sync loads the enabled entries from the
// entries table and then follows the change log from where it ended.
func (s *Service) Sync(ctx context.Context) error {
	if s.manageOnly {
		return nil
	}
	s.syncMu.Lock()
	defer s.syncMu.Unlock()
	if !s.loaded {
		if err := s.load(ctx); err != nil {
			return err
		}
		s.loaded = true
	}
	for {
		n, err := s.follow(ctx)
		if err != nil || n < followPage {
			return err
		}
	}
}

// followPage is how many changes Sync applies at a time: few enough that
// the Index's overlay stays within its cap.
const followPage = 4096

// load reads the banks and every enabled entry, and notes the change log's
// end. A change committed after that is replayed by follow; replaying one
// the entries already show changes nothing.
func (s *Service) load(ctx context.Context) error {
	var last int64
	if err := s.db.Read().QueryRowContext(ctx, `SELECT COALESCE(MAX(seq), 0) FROM hash_changes`).Scan(&last); err != nil {
		return fmt.Errorf("read hash bank change log: %w", err)
	}
	if err := s.loadBanks(ctx); err != nil {
		return err
	}
	rows, err := s.db.Read().QueryContext(ctx, `SELECT id, bank, signal, value FROM hash_entries WHERE enabled = 1 AND `+visible)
	if err != nil {
		return fmt.Errorf("load hash bank entries: %w", err)
	}
	defer rows.Close()
	var l loader
	s.mu.Lock()
	defer s.mu.Unlock()
	for rows.Next() {
		var id int64
		var bank, signal, value string
		if err := rows.Scan(&id, &bank, &signal, &value); err != nil {
			return err
		}
		s.loadEntry(&l, id, bank, SignalType(signal), value)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	s.index.load(l.ids, l.hashes)
	s.seq = last
	return nil
}

// loader gathers the PDQ entries load reads, to build the table at once.
type loader struct {
	ids    []int64
	hashes [][4]uint64
}

// loadEntry takes in one enabled entry at start-up, under s.mu.
func (s *Service) loadEntry(l *loader, id int64, bank string, t SignalType, value string) {
	v, err := decodeValue(t, value)
	if err != nil {
		s.log.Error("hash bank entry unreadable", "entry", id, "err", err)
		return
	}
	no, ok := s.bankNo[bank]
	if !ok {
		return // its bank row is missing; the foreign key prevents it
	}
	s.live.set(id, no+1)
	switch t {
	case SignalPDQ:
		l.ids = append(l.ids, id)
		l.hashes = append(l.hashes, toWords(PDQ(v)))
	case SignalMD5:
		s.index.md5.add(exactKey(v), id)
	case SignalSHA256:
		s.index.sha256.add(exactKey(v), id)
	}
}

// follow applies the next followPage changes of the log and returns how
// many it read. A page ends early after an import's change, which loads
// the import's entries.
func (s *Service) follow(ctx context.Context) (int, error) {
	rows, err := s.db.Read().QueryContext(ctx, `SELECT c.seq, c.entry_id, c.enabled, c.bank, c.import_id,
		COALESCE(e.bank, ''), COALESCE(e.signal, ''), COALESCE(e.value, '')
		FROM hash_changes c LEFT JOIN hash_entries e ON e.id = c.entry_id WHERE c.seq > $1 ORDER BY c.seq LIMIT $2`, s.seq, followPage)
	if err != nil {
		return 0, fmt.Errorf("follow hash bank changes: %w", err)
	}
	type change struct {
		id      int64
		enabled bool
		bank    string
		sig     Signal
	}
	var changes []change
	var last, imported int64
	n := 0
	reload := false
	for imported == 0 && rows.Next() {
		var c change
		var enabled int
		var bankChanged, signal, value string
		if err := rows.Scan(&last, &c.id, &enabled, &bankChanged, &imported, &c.bank, &signal, &value); err != nil {
			rows.Close()
			return 0, err
		}
		n++
		if imported != 0 {
			break // the import is loaded once the changes before it are applied
		}
		if c.id == 0 {
			reload = true // a bank's action or description changed
			continue
		}
		c.enabled, c.sig.Type = enabled != 0, SignalType(signal)
		if c.sig.Value, err = decodeValue(c.sig.Type, value); err != nil {
			s.log.Error("hash bank entry unreadable", "entry", c.id, "err", err)
			continue
		}
		changes = append(changes, c)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	s.mu.RLock()
	for _, c := range changes {
		if _, known := s.bankNo[c.bank]; !known {
			reload = true
		}
	}
	s.mu.RUnlock()
	if reload {
		if err := s.loadBanks(ctx); err != nil {
			return 0, err
		}
	}
	// Compare each entry's state before the page with its state after, so
	// an entry added and disabled within one page never reaches the Index.
	add, remove := map[int64]Signal{}, map[int64]Signal{}
	before := map[int64]bool{}
	s.mu.Lock()
	for _, c := range changes {
		cur := s.live.get(c.id)
		if _, seen := before[c.id]; !seen {
			before[c.id] = cur != 0
		}
		no, known := s.bankNo[c.bank]
		if c.enabled && known {
			s.live.set(c.id, no+1)
		} else {
			s.live.set(c.id, 0)
		}
		now := s.live.get(c.id) != 0
		delete(add, c.id)
		delete(remove, c.id)
		if now && !before[c.id] {
			add[c.id] = c.sig
		} else if !now && before[c.id] {
			remove[c.id] = c.sig
		}
	}
	s.mu.Unlock()
	if len(add) > 0 || len(remove) > 0 {
		s.index.Change(add, remove)
	}
	if imported != 0 {
		if err := s.loadImport(ctx, imported); err != nil {
			return 0, err
		}
		s.seq = last
		return followPage, nil // there may be more after it
	}
	if n > 0 {
		s.seq = last
	}
	return n, nil
}

// loadImport adds the enabled entries of an import that was just made
// visible to the Index, followPage at a time (so that the Index's overlay
// stays within its cap). An entry already there (load read it) is left.
func (s *Service) loadImport(ctx context.Context, id int64) error {
	if err := s.loadBanks(ctx); err != nil { // the import may be into a bank new to this node
		return err
	}
	for after := int64(0); ; {
		rows, err := s.db.Read().QueryContext(ctx, `SELECT id, bank, signal, value FROM hash_entries
			WHERE import_id = $1 AND id > $2 AND enabled = 1 ORDER BY id LIMIT $3`, id, after, followPage)
		if err != nil {
			return fmt.Errorf("load imported hash bank entries: %w", err)
		}
		add := map[int64]Signal{}
		n := 0
		s.mu.Lock()
		for rows.Next() {
			var eid int64
			var bank, signal, value string
			if err := rows.Scan(&eid, &bank, &signal, &value); err != nil {
				s.mu.Unlock()
				rows.Close()
				return err
			}
			n, after = n+1, eid
			no, known := s.bankNo[bank]
			if !known || s.live.get(eid) != 0 {
				continue
			}
			sig := Signal{Type: SignalType(signal)}
			if sig.Value, err = decodeValue(sig.Type, value); err != nil {
				s.log.Error("hash bank entry unreadable", "entry", eid, "err", err)
				continue
			}
			s.live.set(eid, no+1)
			add[eid] = sig
		}
		s.mu.Unlock()
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		if len(add) > 0 {
			s.index.Change(add, nil)
		}
		if n < followPage {
			return nil
		}
	}
}

// loadBanks reads the banks' actions. A bank keeps its number for the
// Service's life: entries in memory refer to it by number.
func (s *Service) loadBanks(ctx context.Context) error {
	rows, err := s.db.Read().QueryContext(ctx, `SELECT name, action FROM hash_banks ORDER BY name`)
	if err != nil {
		return fmt.Errorf("load hash banks: %w", err)
	}
	defer rows.Close()
	var all []bankState
	for rows.Next() {
		var b bankState
		var a string
		if err := rows.Scan(&b.name, &a); err != nil {
			return err
		}
		b.action = Action(a)
		all = append(all, b)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	banks := slices.Clone(s.banks) // a Lookup may hold the old slice
	for _, b := range all {
		if no, ok := s.bankNo[b.name]; ok {
			banks[no] = b
		} else if len(banks) < 1<<16-1 {
			s.bankNo[b.name] = uint16(len(banks))
			banks = append(banks, b)
		} else {
			s.log.Error("too many hash banks; ignoring one", "bank", b.name)
		}
	}
	s.banks = banks
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
// MaxDistance. Pass nil for a hash that was not computed. The action is
// decided from memory; each match's entry is then read from the database
// (if that fails, the Match still names the entry's ID, bank and signal).
func (s *Service) Lookup(ctx context.Context, sha256 *[32]byte, md5 *[16]byte, pdq []PDQ) []Match {
	type hit struct {
		id     int64
		signal SignalType
		d      int
	}
	var hits []hit
	add := func(id int64, t SignalType, d int) {
		for _, h := range hits {
			if h.id == id {
				return
			}
		}
		hits = append(hits, hit{id, t, d})
	}
	if sha256 != nil {
		for _, id := range s.index.LookupSHA256(*sha256) {
			add(id, SignalSHA256, 0)
		}
	}
	if md5 != nil {
		for _, id := range s.index.LookupMD5(*md5) {
			add(id, SignalMD5, 0)
		}
	}
	for _, h := range pdq {
		for _, hit := range s.index.LookupPDQ(h, MaxDistance) {
			add(hit.Entry, SignalPDQ, hit.Distance)
		}
	}
	if len(hits) == 0 {
		return nil
	}
	var out []Match
	s.mu.RLock()
	for _, h := range hits {
		no := s.live.get(h.id)
		if no == 0 {
			continue // disabled since the index found it
		}
		b := s.banks[no-1]
		out = append(out, Match{Entry: Entry{ID: h.id, Bank: b.name, Signal: h.signal, Enabled: true}, Action: b.action, Distance: h.d})
	}
	s.mu.RUnlock()
	for i := range out {
		e, err := s.Entry(ctx, out[i].Entry.ID)
		if err != nil {
			s.log.Error("read matched hash bank entry", "entry", out[i].Entry.ID, "err", err)
			continue
		}
		out[i].Entry = e
	}
	return out
}

// Entry returns entry id, or ENotFound.
func (s *Service) Entry(ctx context.Context, id int64) (Entry, error) {
	var e Entry
	var signal string
	var enabled int
	err := s.db.Read().QueryRowContext(ctx, `SELECT id, bank, signal, value, enabled, provenance FROM hash_entries WHERE id = $1`, id).
		Scan(&e.ID, &e.Bank, &signal, &e.Value, &enabled, &e.Provenance)
	if errors.Is(err, sql.ErrNoRows) {
		return e, kurir.Errorf(kurir.ENotFound, "No hash bank entry %d.", id)
	}
	e.Signal, e.Enabled = SignalType(signal), enabled != 0
	return e, err
}
