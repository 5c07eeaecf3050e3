// Package sqldbtest gives tests a fresh, migrated database on every engine:
// SQLite always, and PostgreSQL when KURIR_TEST_POSTGRES_URL is set.
package sqldbtest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	"kurir/sqldb"
)

// PostgresEnv is the environment variable that points tests at PostgreSQL.
const PostgresEnv = "KURIR_TEST_POSTGRES_URL"

// SkipMessage tells a developer how to run the PostgreSQL half of the tests.
const SkipMessage = PostgresEnv + " is not set; to run this test on PostgreSQL too, set it, e.g. " +
	PostgresEnv + "=postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// Run runs fn as the subtests "sqlite" and "postgres", each with a fresh
// database migrated with sets. The postgres subtest skips with SkipMessage
// when KURIR_TEST_POSTGRES_URL is unset.
func Run(t *testing.T, fn func(t *testing.T, db *sqldb.DB), sets ...sqldb.Migrations) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) { fn(t, SQLite(t, sets...)) })
	t.Run("postgres", func(t *testing.T) { fn(t, Postgres(t, sets...)) })
}

// URLs returns a fresh database URL per engine, keyed by engine name, for
// tests that start a whole server. PostgreSQL is absent when unset.
func URLs(t testing.TB) map[sqldb.Engine]string {
	t.Helper()
	urls := map[sqldb.Engine]string{sqldb.SQLite: SQLiteURL(t)}
	if os.Getenv(PostgresEnv) != "" {
		urls[sqldb.Postgres] = PostgresURL(t)
	}
	return urls
}

// SQLiteURL returns the URL of a new SQLite file in t.TempDir().
func SQLiteURL(t testing.TB) string {
	return "sqlite:" + filepath.Join(t.TempDir(), "kurir.db")
}

// SQLite opens a fresh SQLite database in t.TempDir(), migrated with sets,
// and closes it when the test ends.
func SQLite(t testing.TB, sets ...sqldb.Migrations) *sqldb.DB {
	t.Helper()
	return open(t, SQLiteURL(t), sets)
}

// Postgres opens a fresh PostgreSQL schema, migrated with sets, and drops it
// when the test ends. It skips the test when KURIR_TEST_POSTGRES_URL is unset.
func Postgres(t testing.TB, sets ...sqldb.Migrations) *sqldb.DB {
	t.Helper()
	return open(t, PostgresURL(t), sets)
}

// PostgresURL creates an empty schema in the database at
// KURIR_TEST_POSTGRES_URL and returns a URL whose connections use it, so
// tests never see each other's tables. The schema is dropped when the test
// ends. It skips the test when the variable is unset.
func PostgresURL(t testing.TB) string {
	t.Helper()
	base := os.Getenv(PostgresEnv)
	if base == "" {
		t.Skip(SkipMessage)
	}
	schema := lower("t_" + rand.Text()[:16])
	if err := adminExec(base, "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("create schema on %s: %v", PostgresEnv, err)
	}
	t.Cleanup(func() {
		if err := adminExec(base, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("parse %s: %v", PostgresEnv, err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	// Test packages run side by side, each with many databases open at once;
	// a small pool keeps them all inside PostgreSQL's max_connections.
	if q.Get("pool_max_conns") == "" {
		q.Set("pool_max_conns", "4")
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// adminExec runs one statement on a connection of its own, closed at once,
// so no connection is held for the length of a test.
func adminExec(base, stmt string) error {
	admin, err := sql.Open("pgx", base)
	if err != nil {
		return err
	}
	defer admin.Close()
	_, err = admin.Exec(stmt)
	return err
}

func lower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

func open(t testing.TB, rawURL string, sets []sqldb.Migrations) *sqldb.DB {
	t.Helper()
	ctx := context.Background()
	db, err := sqldb.Open(ctx, rawURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Errorf("close database: %v", err)
		}
	})
	if err := db.Migrate(ctx, sets...); err != nil {
		t.Fatal(fmt.Errorf("migrate: %w", err))
	}
	return db
}
