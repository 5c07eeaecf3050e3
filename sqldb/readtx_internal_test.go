package sqldb

import (
	"context"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestReadTxsPrepareWithEveryConnectionBusy: as many read transactions as the
// SQLite read pool allows run a query that is not prepared yet, at the same
// moment — as happens when clients reconnect in a crowd to a freshly started
// server. Preparing it must not wait for a connection that only those
// transactions could give back.
func TestReadTxsPrepareWithEveryConnectionBusy(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, "sqlite:"+filepath.Join(t.TempDir(), "k.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	// No deferred Close: after a deadlock it would wait forever too.
	n := db.read.Stats().MaxOpenConnections // exactly the pool: more would queue rather than deadlock
	var inside atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			errs <- db.ReadTx(ctx, func(tx *Tx) error {
				// Hold the connection until every transaction holds one.
				inside.Add(1)
				for inside.Load() < int64(n) {
					time.Sleep(time.Millisecond)
				}
				var got int
				if err := tx.QueryRowContext(ctx, `SELECT $1 + 1`, i).Scan(&got); err != nil {
					return err
				}
				if got != i+1 {
					t.Errorf("SELECT %d + 1 = %d", i, got)
				}
				return nil
			})
		})
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatalf("%d read transactions preparing one query at once did not finish within 10s: deadlocked", n)
	}
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if err := db.Close(); err != nil {
		t.Error(err)
	}
}

// TestPostgresPoolSize: pool_max_conns in a PostgreSQL URL sets how many
// connections a node holds open and never reaches the server; a bad value is
// refused with the parameter named.
func TestPostgresPoolSize(t *testing.T) {
	u, n, err := poolSize("postgres://kurir:secret@db:5432/kurir?sslmode=disable&pool_max_conns=3", 8)
	if err != nil || n != 3 || u != "postgres://kurir:secret@db:5432/kurir?sslmode=disable" {
		t.Fatalf("poolSize = %q, %d, %v", u, n, err)
	}
	if _, n, _ := poolSize("postgres://db/kurir", 8); n != 8 {
		t.Errorf("default pool = %d, want 8", n)
	}
	for _, bad := range []string{"0", "-1", "many", "10001"} {
		_, _, err := poolSize("postgres://u:secret@db/kurir?pool_max_conns="+bad, 8)
		if err == nil || !strings.Contains(err.Error(), "pool_max_conns") || strings.Contains(err.Error(), "secret") {
			t.Errorf("pool_max_conns=%s: err %v, want a refusal naming the parameter without the password", bad, err)
		}
	}
}
