package sqldb_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"kurir/sqldb"
	"kurir/sqldb/sqldbtest"
)

var widgets = sqldb.Migrations{Component: "widgets", FS: os.DirFS("testdata/widgets")}

func TestMigrateIsIdempotentAndVersioned(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		// A second run applies nothing and does not fail.
		if err := db.Migrate(ctx, widgets); err != nil {
			t.Fatalf("second Migrate: %v", err)
		}
		// A newer set adds only its new file.
		v2 := sqldb.Migrations{Component: "widgets", FS: os.DirFS("testdata/widgets_v2")}
		if err := db.Migrate(ctx, v2); err != nil {
			t.Fatalf("Migrate v2: %v", err)
		}
		var colour string
		insertWidget(t, db, "a")
		if err := db.Read().QueryRowContext(ctx, `SELECT colour FROM widgets WHERE name = $1`, "a").Scan(&colour); err != nil {
			t.Fatal(err)
		}
		if colour != "blue" {
			t.Errorf("colour = %q, want blue", colour)
		}
		var versions int
		db.Read().QueryRowContext(ctx, `SELECT COUNT(*) FROM schema_migrations WHERE component = 'widgets'`).Scan(&versions)
		if versions != 2 {
			t.Errorf("recorded versions = %d, want 2", versions)
		}
		// The old binary (knowing only v1) must refuse the newer database.
		err := db.Migrate(ctx, widgets)
		if err == nil || !strings.Contains(err.Error(), "newer than this binary") {
			t.Errorf("old binary on new schema: err = %v, want refusal", err)
		}
	}, widgets)
}

func TestMigrateRejectsBadFiles(t *testing.T) {
	db := sqldbtest.SQLite(t)
	tests := []struct {
		name string
		fs   fstest.MapFS
		want string
	}{
		{"bad name", fstest.MapFS{"1_x.sql": {Data: []byte("SELECT 1")}}, "name must be NNNN_name.sql"},
		{"gap", fstest.MapFS{"0001_a.sql": {Data: []byte("SELECT 1")}, "0003_c.sql": {Data: []byte("SELECT 1")}}, "expected 0002"},
		{"bad sql", fstest.MapFS{"0001_a.sql": {Data: []byte("CREATE TABLEX nope")}}, "migrate bad sql 0001_a"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := db.Migrate(context.Background(), sqldb.Migrations{Component: tt.name, FS: tt.fs})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to mention %q", err, tt.want)
			}
		})
	}
	// The failed migration left no version behind.
	var n int
	db.Read().QueryRowContext(context.Background(), `SELECT COUNT(*) FROM schema_migrations`).Scan(&n)
	if n != 0 {
		t.Errorf("schema_migrations has %d rows after failures, want 0", n)
	}
}

func insertWidget(t *testing.T, db *sqldb.DB, name string) int64 {
	t.Helper()
	var id int64
	err := db.WriteTx(context.Background(), func(tx *sqldb.Tx) error {
		return tx.QueryRowContext(context.Background(),
			`INSERT INTO widgets (name, payload, made_at) VALUES ($1, $2, $3) RETURNING id`,
			name, []byte{0, 1, 2, 255}, sqldb.Micros(time.Now())).Scan(&id)
	})
	if err != nil {
		t.Fatalf("insert %q: %v", name, err)
	}
	return id
}

func TestWriteTx(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		first := insertWidget(t, db, "first")
		second := insertWidget(t, db, "second")
		if second <= first {
			t.Errorf("ids %d then %d, want increasing", first, second)
		}

		// An error rolls everything back.
		boom := errors.New("boom")
		err := db.WriteTx(ctx, func(tx *sqldb.Tx) error {
			if _, err := tx.ExecContext(ctx, `INSERT INTO widgets (name, made_at) VALUES ('rolled back', 0)`); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("err = %v, want boom", err)
		}
		var n int
		db.Read().QueryRowContext(ctx, `SELECT COUNT(*) FROM widgets WHERE name = 'rolled back'`).Scan(&n)
		if n != 0 {
			t.Errorf("rolled-back row is visible")
		}

		// Unique violations are recognised on both engines.
		err = db.WriteTx(ctx, func(tx *sqldb.Tx) error {
			_, err := tx.ExecContext(ctx, `INSERT INTO widgets (name, made_at) VALUES ('first', 0)`)
			return err
		})
		if !sqldb.IsUniqueViolation(err) {
			t.Errorf("duplicate insert: IsUniqueViolation(%v) = false", err)
		}

		// Bytes and timestamps round-trip exactly.
		var payload []byte
		var madeAt int64
		if err := db.Read().QueryRowContext(ctx, `SELECT payload, made_at FROM widgets WHERE id = $1`, first).Scan(&payload, &madeAt); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(payload, []byte{0, 1, 2, 255}) {
			t.Errorf("payload = %v", payload)
		}
		if got := sqldb.FromMicros(madeAt); time.Since(got) > time.Minute || got.Location() != time.UTC {
			t.Errorf("made_at = %v", got)
		}
	}, widgets)
}

// TestConcurrentWrites is the "database is locked" test: many goroutines
// write and read at once, and every write must succeed exactly once.
func TestConcurrentWrites(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		const workers, each = 32, 25
		var wg sync.WaitGroup
		errs := make(chan error, workers*each*2)
		for range workers {
			wg.Go(func() {
				for range each {
					err := db.WriteTx(ctx, func(tx *sqldb.Tx) error {
						_, err := tx.ExecContext(ctx, `UPDATE counters SET n = n + 1 WHERE name = 'hits'`)
						return err
					})
					if err != nil {
						errs <- err
					}
					var n int64
					if err := db.Read().QueryRowContext(ctx, `SELECT n FROM counters WHERE name = 'hits'`).Scan(&n); err != nil {
						errs <- err
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		var n int64
		db.Read().QueryRowContext(ctx, `SELECT n FROM counters WHERE name = 'hits'`).Scan(&n)
		if n != workers*each {
			t.Errorf("counter = %d, want %d", n, workers*each)
		}
	}, widgets)
}

func TestReadIsReadOnlyOnSQLite(t *testing.T) {
	db := sqldbtest.SQLite(t, widgets)
	_, err := db.Read().ExecContext(context.Background(), `INSERT INTO widgets (name, made_at) VALUES ('x', 0)`)
	if err == nil {
		t.Fatal("write through Read() succeeded, want read-only error")
	}
}

func TestOpenRejectsUnknownURL(t *testing.T) {
	for _, u := range []string{"mysql://x", "", "sqlite:"} {
		if _, err := sqldb.Open(context.Background(), u, nil); err == nil {
			t.Errorf("Open(%q) succeeded", u)
		}
	}
}

// TestReadTxSeesOneSnapshot: a write committed while a read transaction runs
// is invisible to it, so a sync answer never mixes two moments.
func TestReadTxSeesOneSnapshot(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		insertWidget(t, db, "before")
		err := db.ReadTx(ctx, func(tx *sqldb.Tx) error {
			var first, second int
			if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM widgets`).Scan(&first); err != nil {
				return err
			}
			insertWidget(t, db, "during")
			if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM widgets`).Scan(&second); err != nil {
				return err
			}
			if first != 1 || second != first {
				t.Errorf("counts in one read transaction: %d then %d, want 1 and 1", first, second)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}, widgets)
}

func TestEngineSpecificMigrations(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		set := sqldb.Migrations{Component: "engines", FS: fstest.MapFS{
			"0001_base.sql":           {Data: []byte("CREATE TABLE notes (body TEXT)")},
			"0002_which.sqlite.sql":   {Data: []byte("INSERT INTO notes VALUES ('sqlite')")},
			"0002_which.postgres.sql": {Data: []byte("INSERT INTO notes VALUES ('postgres')")},
		}}
		if err := db.Migrate(ctx, set); err != nil {
			t.Fatal(err)
		}
		var body string
		db.Read().QueryRowContext(ctx, `SELECT body FROM notes`).Scan(&body)
		if body != string(db.Engine()) {
			t.Errorf("engine-specific migration wrote %q on %s", body, db.Engine())
		}
		half := sqldb.Migrations{Component: "half", FS: fstest.MapFS{"0001_x.sqlite.sql": {Data: []byte("SELECT 1")}}}
		if err := db.Migrate(ctx, half); err == nil || !strings.Contains(err.Error(), "needs both") {
			t.Errorf("one engine-specific file alone: err = %v", err)
		}
	})
}
