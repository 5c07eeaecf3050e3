// Package sqldb opens kurir's relational store — SQLite (embedded, pure Go) or
// PostgreSQL — from one URL, applies the schema migrations that each capability
// package embeds, and runs transactions. The same SQL runs on both engines:
// queries use $1-style placeholders, which both accept, and migrations are
// written once (see Migrations for the two words the engines spell differently).
//
// On SQLite all writes go through a single connection, so concurrent requests
// queue in Go instead of failing with "database is locked"; reads use a separate
// pool of read-only connections, which WAL mode lets run beside the writer.
// PostgreSQL takes concurrent writers and uses one pool for both.
package sqldb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// Engine names a database engine.
type Engine string

// The engines kurir runs on.
const (
	SQLite   Engine = "sqlite"
	Postgres Engine = "postgres"
)

// DB is an open database. It is safe for concurrent use; Close it once, after
// every user has stopped.
type DB struct {
	engine Engine
	write  *sql.DB // SQLite: used only by the group writer. PostgreSQL: same pool as read.
	read   *sql.DB
	group  *groupWriter  // SQLite only: runs every write transaction
	ckpt   *checkpointer // SQLite only: copies the log into the database file
	// SQLite only: prepared statements for the writer and for readers.
	writeStmts, readStmts *stmtCache
	log                   *slog.Logger
}

// Querier runs queries. *sql.DB, *sql.Tx and *Tx satisfy it, so SQL helpers
// can run inside or outside a transaction.
type Querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// Open connects to the database named by rawURL:
//
//	sqlite:PATH            a SQLite file (created if missing), e.g. sqlite:kurir-data/kurir.db
//	postgres://...         PostgreSQL (also postgresql://), any libpq-style URL pgx accepts
//
// Open checks the connection before returning. It does not apply migrations;
// call Migrate.
func Open(ctx context.Context, rawURL string, log *slog.Logger) (*DB, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	var db *DB
	var err error
	switch {
	case strings.HasPrefix(rawURL, "sqlite:"):
		db, err = openSQLite(strings.TrimPrefix(rawURL, "sqlite:"), log)
	case strings.HasPrefix(rawURL, "postgres://"), strings.HasPrefix(rawURL, "postgresql://"):
		db, err = openPostgres(rawURL, log)
	default:
		return nil, fmt.Errorf("database URL %q: want sqlite:PATH or postgres://...", redact(rawURL))
	}
	if err != nil {
		return nil, err
	}
	if err := db.Ping(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("connect to %s database %s: %w", db.engine, redact(rawURL), err)
	}
	return db, nil
}

func openSQLite(path string, log *slog.Logger) (*DB, error) {
	path = strings.TrimPrefix(path, "//")
	if path == "" {
		return nil, errors.New("database URL sqlite: needs a file path, e.g. sqlite:kurir-data/kurir.db")
	}
	// FULL synchronous: a commit is on disk before the caller is told it happened,
	// so nothing acknowledged is lost even on power failure.
	common := "_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)&_pragma=synchronous(FULL)"
	write, err := sql.Open("sqlite", "file:"+path+"?"+common+"&_pragma=journal_mode(WAL)&_pragma=temp_store(MEMORY)&_txlock=immediate"+
		fmt.Sprintf("&_pragma=wal_autocheckpoint(%d)", writerAutoCheckpoint))
	if err != nil {
		return nil, err
	}
	// The group writer is the only user of this pool and runs one transaction
	// at a time. The second connection lets the statement cache prepare a
	// statement while the writer's transaction holds the first; a statement
	// is then prepared again, once, on whichever connection runs it.
	write.SetMaxOpenConns(2)
	write.SetMaxIdleConns(2)
	write.SetConnMaxLifetime(0)
	write.SetConnMaxIdleTime(0)
	// Create the file and switch it to WAL before readers open it read-only.
	if err := write.Ping(); err != nil {
		write.Close()
		return nil, fmt.Errorf("open SQLite database %s: %w", path, err)
	}
	read, err := sql.Open("sqlite", "file:"+path+"?"+common+"&_pragma=query_only(1)")
	if err != nil {
		write.Close()
		return nil, err
	}
	n := max(4, 2*runtime.GOMAXPROCS(0))
	read.SetMaxOpenConns(n)
	read.SetMaxIdleConns(n)
	db := &DB{engine: SQLite, write: write, read: read, log: log,
		writeStmts: newStmtCache(write), readStmts: newStmtCache(read)}
	ckpt, err := sql.Open("sqlite", "file:"+path+"?"+common)
	if err != nil {
		write.Close()
		read.Close()
		return nil, err
	}
	db.group = newGroupWriter(write, db.writeStmts)
	db.ckpt = newCheckpointer(ckpt, log)
	return db, nil
}

func openPostgres(rawURL string, log *slog.Logger) (*DB, error) {
	connURL, size, err := poolSize(rawURL, max(8, 4*runtime.GOMAXPROCS(0)))
	if err != nil {
		return nil, err
	}
	pool, err := sql.Open("pgx", connURL)
	if err != nil {
		return nil, fmt.Errorf("open PostgreSQL %s: %w", redact(rawURL), err)
	}
	pool.SetMaxOpenConns(size)
	pool.SetMaxIdleConns(size)
	pool.SetConnMaxIdleTime(5 * time.Minute)
	return &DB{engine: Postgres, write: pool, read: pool, log: log}, nil
}

// poolSize takes the pool_max_conns parameter (the name pgxpool uses) out of
// a PostgreSQL URL: the most connections one node holds open, def when absent.
// PostgreSQL would refuse it as an unknown run-time parameter.
func poolSize(rawURL string, def int) (string, int, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return "", 0, fmt.Errorf("database URL %s: %w", redact(rawURL), err)
	}
	q := u.Query()
	v := q.Get("pool_max_conns")
	if v == "" {
		return rawURL, def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > 10000 {
		return "", 0, fmt.Errorf("database URL %s: pool_max_conns=%q: want a whole number from 1 to 10000", redact(rawURL), v)
	}
	q.Del("pool_max_conns")
	u.RawQuery = q.Encode()
	return u.String(), n, nil
}

// redact hides a password in a database URL so it can be logged.
func redact(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil || u.User == nil {
		return rawURL
	}
	return u.Redacted()
}

// Engine reports which engine db runs on.
func (db *DB) Engine() Engine { return db.engine }

// GroupStats reports, on SQLite, how many group commits the writer has made
// and how many WriteTx calls they carried; their ratio is the batching that
// makes SQLite's write throughput. Both are zero on PostgreSQL.
func (db *DB) GroupStats() (commits, txs int64) {
	if db.group == nil {
		return 0, 0
	}
	return db.group.groups.Load(), db.group.txs.Load()
}

// Ping checks that the database answers.
func (db *DB) Ping(ctx context.Context) error {
	if err := db.write.PingContext(ctx); err != nil {
		return err
	}
	return db.read.PingContext(ctx)
}

// Close closes every connection. Write transactions already queued fail.
func (db *DB) Close() error {
	var err error
	if db.group != nil {
		db.group.close()
		err = db.ckpt.close()
		db.writeStmts.close()
		db.readStmts.close()
	}
	err = errors.Join(err, db.write.Close())
	if db.read != db.write {
		err = errors.Join(err, db.read.Close())
	}
	return err
}

// Read returns a Querier for reads outside a transaction. On SQLite its
// connections are read-only; a write through it fails.
func (db *DB) Read() Querier {
	if db.readStmts != nil {
		return cachedReader{db: db.read, cache: db.readStmts}
	}
	return db.read
}

// Tx is a transaction. It is not safe for concurrent use, and is valid only
// inside the function it was passed to.
type Tx struct {
	tx     *sql.Tx
	engine Engine
	// detach makes statements ignore cancellation: on SQLite a cancelled
	// statement interrupts the connection, which would roll back the other
	// writes committing in the same group.
	detach bool
	// stmts, if set, holds prepared statements for the transaction's connection.
	stmts *stmtCache
}

// Engine reports which engine the transaction runs on, for the rare query that
// must be spelled per engine.
func (tx *Tx) Engine() Engine { return tx.engine }

func (tx *Tx) context(ctx context.Context) context.Context {
	if tx.detach {
		return context.WithoutCancel(ctx)
	}
	return ctx
}

// stmt returns the transaction's handle on a cached prepared statement for
// query, or nil to run the query unprepared.
func (tx *Tx) stmt(ctx context.Context, query string) *sql.Stmt {
	if tx.stmts == nil {
		return nil
	}
	if st := tx.stmts.get(ctx, query); st != nil {
		return tx.tx.StmtContext(ctx, st)
	}
	return nil
}

// ExecContext runs a statement that returns no rows.
func (tx *Tx) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	ctx = tx.context(ctx)
	if st := tx.stmt(ctx, query); st != nil {
		return st.ExecContext(ctx, args...)
	}
	return tx.tx.ExecContext(ctx, query, args...)
}

// QueryContext runs a query. Close the rows before fn returns.
func (tx *Tx) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	ctx = tx.context(ctx)
	if st := tx.stmt(ctx, query); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return tx.tx.QueryContext(ctx, query, args...)
}

// QueryRowContext runs a query that returns at most one row.
func (tx *Tx) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	ctx = tx.context(ctx)
	if st := tx.stmt(ctx, query); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return tx.tx.QueryRowContext(ctx, query, args...)
}

// WriteTx runs fn in a read-write transaction and commits it if fn returns
// nil; otherwise it rolls back and returns fn's error. It returns once the
// outcome is durable. fn must not call WriteTx (it would wait for itself) and
// must have no effect outside the transaction, since it may run again: on
// PostgreSQL a serialization failure or deadlock retries fn (up to three
// attempts).
//
// On SQLite every fn runs on one writer goroutine, one after another, and
// concurrent calls are committed together (see groupWriter). If ctx ends
// before fn starts, fn does not run; once it has started, fn runs to the
// end and WriteTx reports its real outcome.
func (db *DB) WriteTx(ctx context.Context, fn func(tx *Tx) error) error {
	if db.group != nil {
		return db.group.do(ctx, fn)
	}
	const attempts = 3
	var err error
	for i := range attempts {
		err = db.writeTxOnce(ctx, fn)
		if err == nil || !retryable(err) || i == attempts-1 {
			return err
		}
		db.log.Debug("retrying transaction", "attempt", i+1, "err", err)
	}
	return err
}

func (db *DB) writeTxOnce(ctx context.Context, fn func(tx *Tx) error) (err error) {
	stx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin transaction: %w", err)
	}
	tx := &Tx{tx: stx, engine: db.engine}
	defer func() {
		if p := recover(); p != nil {
			stx.Rollback()
			panic(p)
		}
		if err != nil {
			stx.Rollback()
		}
	}()
	if err = fn(tx); err != nil {
		return err
	}
	if err = stx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// ReadTx runs fn in a read-only transaction, so that all its queries see one
// consistent snapshot of the database (on PostgreSQL at REPEATABLE READ; its
// default, READ COMMITTED, would give each statement its own).
func (db *DB) ReadTx(ctx context.Context, fn func(tx *Tx) error) error {
	opts := &sql.TxOptions{ReadOnly: true}
	if db.engine == Postgres {
		opts.Isolation = sql.LevelRepeatableRead
	}
	stx, err := db.read.BeginTx(ctx, opts)
	if err != nil {
		return fmt.Errorf("begin read transaction: %w", err)
	}
	defer stx.Rollback()
	// No statement cache here: preparing takes a connection from the pool,
	// and if every connection were held by a read transaction waiting to
	// prepare, none would ever come back.
	return fn(&Tx{tx: stx, engine: db.engine})
}

func retryable(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code == "40001" || pgErr.Code == "40P01"
	}
	return false
}

// IsUniqueViolation reports whether err is a unique or primary-key constraint
// failure on either engine.
func IsUniqueViolation(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code == "23505"
	}
	var sqErr *sqlite.Error
	if errors.As(err, &sqErr) {
		c := sqErr.Code()
		return c == sqlite3.SQLITE_CONSTRAINT_UNIQUE || c == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
	}
	return false
}

// Micros converts t to the storage form of every timestamp: Unix microseconds
// in a BIGINT column, which both engines store and compare identically.
func Micros(t time.Time) int64 { return t.UnixMicro() }

// FromMicros converts a stored timestamp back to a time in UTC.
func FromMicros(us int64) time.Time { return time.UnixMicro(us).UTC() }

// NullMicros converts t to a nullable timestamp: NULL for the zero time.
func NullMicros(t time.Time) sql.NullInt64 {
	if t.IsZero() {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: t.UnixMicro(), Valid: true}
}

// FromNullMicros converts a nullable stored timestamp back: the zero time for NULL.
func FromNullMicros(n sql.NullInt64) time.Time {
	if !n.Valid {
		return time.Time{}
	}
	return FromMicros(n.Int64)
}
