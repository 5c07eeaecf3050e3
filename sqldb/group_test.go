package sqldb_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"kurir/sqldb"
	"kurir/sqldb/sqldbtest"
)

// TestGroupCommitIsolatesFailures sends many concurrent writes, every third
// of which fails after writing: on both engines exactly the others commit,
// and each caller learns its own outcome.
func TestGroupCommitIsolatesFailures(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		const n = 300
		var wg sync.WaitGroup
		var ok, failed atomic.Int64
		for i := range n {
			wg.Go(func() {
				err := db.WriteTx(ctx, func(tx *sqldb.Tx) error {
					if _, err := tx.ExecContext(ctx, `INSERT INTO widgets (name, made_at) VALUES ($1, 0)`, fmt.Sprint("w", i)); err != nil {
						return err
					}
					if i%3 == 0 {
						return errors.New("refused")
					}
					return nil
				})
				switch {
				case err == nil:
					ok.Add(1)
				case err.Error() == "refused" && i%3 == 0:
					failed.Add(1)
				default:
					t.Errorf("write %d: %v", i, err)
				}
			})
		}
		wg.Wait()
		var rows int64
		db.Read().QueryRowContext(ctx, `SELECT COUNT(*) FROM widgets`).Scan(&rows)
		if rows != ok.Load() || ok.Load() != n-n/3 || failed.Load() != n/3 {
			t.Errorf("rows %d, committed %d, failed %d; want %d, %d, %d", rows, ok.Load(), failed.Load(), n-n/3, n-n/3, n/3)
		}
		var bad int64
		db.Read().QueryRowContext(ctx, `SELECT COUNT(*) FROM widgets WHERE name IN ('w0', 'w3', 'w297')`).Scan(&bad)
		if bad != 0 {
			t.Errorf("%d rows of failed writes are visible", bad)
		}
	}, widgets)
}

func TestWriteTxPanicReachesCaller(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		func() {
			defer func() {
				if p := recover(); p == nil {
					t.Error("panic in fn did not reach the caller")
				}
			}()
			db.WriteTx(ctx, func(tx *sqldb.Tx) error {
				tx.ExecContext(ctx, `INSERT INTO widgets (name, made_at) VALUES ('panicked', 0)`)
				panic("boom")
			})
		}()
		// The database still works, and the panicking write left nothing.
		insertWidget(t, db, "after")
		var n int
		db.Read().QueryRowContext(ctx, `SELECT COUNT(*) FROM widgets WHERE name = 'panicked'`).Scan(&n)
		if n != 0 {
			t.Error("the panicking write was committed")
		}
	}, widgets)
}

func TestWriteTxCancelledBeforeStartDoesNothing(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		ran := false
		err := db.WriteTx(ctx, func(tx *sqldb.Tx) error { ran = true; return nil })
		if !errors.Is(err, context.Canceled) || ran {
			t.Errorf("err = %v, ran = %v; want context.Canceled and not run", err, ran)
		}
	}, widgets)
}

func TestWriteAfterCloseFails(t *testing.T) {
	db, err := sqldb.Open(context.Background(), sqldbtest.SQLiteURL(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	if err := db.WriteTx(context.Background(), func(tx *sqldb.Tx) error { return nil }); err == nil {
		t.Error("WriteTx after Close succeeded")
	}
}

// TestReadAfterCloseFails: a read that comes after Close (a straggling
// goroutine at shutdown) is told the database is closed. (The statement
// cache also gives up once closed, for a read that races Close; that race
// is not reproduced here.)
func TestReadAfterCloseFails(t *testing.T) {
	db, err := sqldb.Open(context.Background(), sqldbtest.SQLiteURL(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	var n int
	if err := db.Read().QueryRowContext(context.Background(), `SELECT 1 + 1`).Scan(&n); err == nil {
		t.Errorf("a read after Close gave %d, want an error", n)
	}
}

// BenchmarkWriteTx measures small committed writes per second from many
// concurrent callers: on SQLite this is the group commit's throughput.
func BenchmarkWriteTx(b *testing.B) {
	for _, engine := range []string{"sqlite", "postgres"} {
		b.Run(engine, func(b *testing.B) {
			var db *sqldb.DB
			if engine == "sqlite" {
				db = sqldbtest.SQLite(b, widgets)
			} else {
				db = sqldbtest.Postgres(b, widgets)
			}
			ctx := context.Background()
			var n atomic.Int64
			b.SetParallelism(64)
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					err := db.WriteTx(ctx, func(tx *sqldb.Tx) error {
						_, err := tx.ExecContext(ctx, `INSERT INTO widgets (name, made_at) VALUES ($1, $2)`, fmt.Sprint("w", n.Add(1)), 0)
						return err
					})
					if err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "commits/s")
		})
	}
}
