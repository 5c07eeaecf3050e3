package geo

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"kurir/sqldb"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Migrations is the schema of stored tables, for sqldb.DB.Migrate.
var Migrations = sqldb.Embedded("geo", migrationFiles, "migrations")

// keep is how many tables Save leaves in the database: the newest, and the
// one before it.
const keep = 2

// Save stores t as the newest table, imported at now from source (what the
// operator imported, such as a file name), deletes all but the newest two,
// and returns the new table's ID. IDs increase with every Save.
func Save(ctx context.Context, db *sqldb.DB, t *Table, source string, now time.Time) (int64, error) {
	data, err := t.MarshalBinary()
	if err != nil {
		return 0, err
	}
	var id int64
	err = db.WriteTx(ctx, func(tx *sqldb.Tx) error {
		if err := tx.QueryRowContext(ctx, `INSERT INTO geo_tables (imported_at, source, ranges, data) VALUES ($1, $2, $3, $4) RETURNING id`,
			sqldb.Micros(now), source, t.Len(), data).Scan(&id); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `DELETE FROM geo_tables WHERE id NOT IN (SELECT id FROM geo_tables ORDER BY id DESC LIMIT $1)`, keep)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("save IP-to-country table: %w", err)
	}
	return id, nil
}

// Load returns the newest table and its ID, or nil and 0 if none has been
// saved.
func Load(ctx context.Context, db *sqldb.DB) (*Table, int64, error) {
	data, id, err := newest(ctx, db)
	if err != nil || id == 0 {
		return nil, 0, err
	}
	t := new(Table)
	if err := t.UnmarshalBinary(data); err != nil {
		return nil, 0, fmt.Errorf("load IP-to-country table %d: %w", id, err)
	}
	return t, id, nil
}

// newest returns the newest table's encoding and ID, or 0 for none.
func newest(ctx context.Context, db *sqldb.DB) ([]byte, int64, error) {
	var id int64
	var data []byte
	err := db.Read().QueryRowContext(ctx, `SELECT id, data FROM geo_tables ORDER BY id DESC LIMIT 1`).Scan(&id, &data)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, 0, nil
	}
	if err != nil {
		return nil, 0, fmt.Errorf("load IP-to-country table: %w", err)
	}
	return data, id, nil
}

// Info describes a stored table.
type Info struct {
	ID         int64
	ImportedAt time.Time
	Source     string
	Ranges     int   // Table.Len
	Size       int64 // bytes, encoded
}

// Newest describes the newest table without loading it, and reports false
// if none has been saved.
func Newest(ctx context.Context, db *sqldb.DB) (Info, bool, error) {
	var in Info
	var at int64
	err := db.Read().QueryRowContext(ctx, `SELECT id, imported_at, source, ranges, LENGTH(data) FROM geo_tables ORDER BY id DESC LIMIT 1`).
		Scan(&in.ID, &at, &in.Source, &in.Ranges, &in.Size)
	if errors.Is(err, sql.ErrNoRows) {
		return Info{}, false, nil
	}
	if err != nil {
		return Info{}, false, fmt.Errorf("newest IP-to-country table: %w", err)
	}
	in.ImportedAt = sqldb.FromMicros(at)
	return in, true, nil
}

// Locator answers lookups from the newest stored table, which it holds in
// memory. Sync (or RunSync) swaps in a newer table when one is saved, on
// any node, without pausing lookups. It is safe for concurrent use.
type Locator struct {
	db     *sqldb.DB
	log    *slog.Logger
	syncMu sync.Mutex // one Sync at a time
	broken int64      // the ID of a table this binary cannot decode, under syncMu
	held   atomic.Pointer[held]
}

// held is the table a Locator holds, with its ID.
type held struct {
	table *Table
	id    int64
}

// NewLocator returns a Locator that holds no table yet: call Sync before
// serving. log may be nil.
func NewLocator(db *sqldb.DB, log *slog.Logger) *Locator {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Locator{db: db, log: log}
}

// Sync loads the newest stored table if it is not the one held. When it
// is, Sync costs one small query. A table that cannot be decoded (damaged,
// or written by a newer kurir) is reported once and then left alone, and
// the table held before stays in use.
func (l *Locator) Sync(ctx context.Context) error {
	l.syncMu.Lock()
	defer l.syncMu.Unlock()
	var newestID int64
	if err := l.db.Read().QueryRowContext(ctx, `SELECT COALESCE(MAX(id), 0) FROM geo_tables`).Scan(&newestID); err != nil {
		return fmt.Errorf("check for a new IP-to-country table: %w", err)
	}
	h := l.held.Load()
	if h != nil && h.id == newestID || h == nil && newestID == 0 || newestID == l.broken {
		return nil
	}
	data, id, err := newest(ctx, l.db)
	if err != nil {
		return err
	}
	var t *Table
	if id != 0 {
		t = new(Table)
		if err := t.UnmarshalBinary(data); err != nil {
			l.broken = id
			return fmt.Errorf("load IP-to-country table %d, keeping the one in use: %w", id, err)
		}
		l.log.Info("IP-to-country table loaded", "table", id, "ranges", t.Len())
	}
	l.held.Store(&held{table: t, id: id})
	return nil
}

// RunSync calls Sync every interval until ctx ends.
func (l *Locator) RunSync(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if err := l.Sync(ctx); err != nil && ctx.Err() == nil {
			l.log.Error("IP-to-country table sync", "err", err)
		}
	}
}

// Lookup returns the country of addr in the table held (see
// Table.Lookup), and false if no table is held or none of its ranges
// holds addr.
func (l *Locator) Lookup(addr netip.Addr) (country string, ok bool) {
	h := l.held.Load()
	if h == nil {
		return "", false
	}
	return h.table.Lookup(addr)
}

// Table returns the table held and its ID: nil and 0 before the first
// Sync that found one.
func (l *Locator) Table() (*Table, int64) {
	h := l.held.Load()
	if h == nil {
		return nil, 0
	}
	return h.table, h.id
}
