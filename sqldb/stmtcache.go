package sqldb

import (
	"context"
	"database/sql"
	"sync"
)

// maxCachedStmts bounds the statement cache. Queries are constants in the
// code, so the working set is small; the bound only guards against a query
// built from data, which then simply goes unprepared.
const maxCachedStmts = 1024

// stmtCache keeps a prepared statement per query text. SQLite (through
// modernc) parses every query it is given afresh, which was a third of the
// send path's CPU; a prepared statement is parsed once per connection.
// PostgreSQL's driver caches statements itself, so only SQLite uses this.
type stmtCache struct {
	db *sql.DB
	mu sync.RWMutex
	m  map[string]*sql.Stmt
}

func newStmtCache(db *sql.DB) *stmtCache { return &stmtCache{db: db, m: map[string]*sql.Stmt{}} }

// get returns the prepared statement for query, or nil if it cannot be
// prepared or cached (the caller then runs the query directly, which also
// reports any error in it).
func (c *stmtCache) get(ctx context.Context, query string) *sql.Stmt {
	c.mu.RLock()
	st := c.m[query]
	c.mu.RUnlock()
	if st != nil {
		return st
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if st = c.m[query]; st != nil {
		return st
	}
	// Closed (m is nil): the caller runs the query on the closed database,
	// which says so, as a straggler after shutdown should be told.
	if c.m == nil || len(c.m) >= maxCachedStmts {
		return nil
	}
	st, err := c.db.PrepareContext(context.WithoutCancel(ctx), query)
	if err != nil {
		return nil
	}
	c.m[query] = st
	return st
}

func (c *stmtCache) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, st := range c.m {
		st.Close()
	}
	c.m = nil
}

// cachedReader runs reads through prepared statements.
type cachedReader struct {
	db    *sql.DB
	cache *stmtCache
}

func (r cachedReader) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if st := r.cache.get(ctx, query); st != nil {
		return st.ExecContext(ctx, args...)
	}
	return r.db.ExecContext(ctx, query, args...)
}

func (r cachedReader) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if st := r.cache.get(ctx, query); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return r.db.QueryContext(ctx, query, args...)
}

func (r cachedReader) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	if st := r.cache.get(ctx, query); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return r.db.QueryRowContext(ctx, query, args...)
}
