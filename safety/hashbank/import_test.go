package hashbank_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"kurir/account"
	"kurir/clocktest"
	"kurir/messaging"
	"kurir/safety/hashbank"
	"kurir/safety/pdq"
	"kurir/sqldb"
	"kurir/sqldb/sqldbtest"
)

// randomHashes returns n distinct random PDQ hashes, one per line.
func randomHashes(seed uint64, n int) ([]pdq.Hash, string) {
	r := rand.New(rand.NewPCG(seed, seed))
	hashes := make([]pdq.Hash, n)
	var b strings.Builder
	for i := range hashes {
		for j := range hashes[i] {
			hashes[i][j] = byte(r.Uint32())
		}
		b.WriteString(hashes[i].String())
		b.WriteByte('\n')
	}
	return hashes, b.String()
}

// TestLargeImportDoesNotStallSends: messages sent while a large import is
// being written go through during it, instead of waiting for the whole
// import (it writes a few thousand entries per transaction). It imports
// 60,000 hashes, or $KURIR_TEST_IMPORT_HASHES, and logs the slowest send:
//
//	KURIR_TEST_IMPORT_HASHES=1000000 go test -run TestLargeImportDoesNotStallSends -v ./safety/hashbank/
func TestLargeImportDoesNotStallSends(t *testing.T) {
	size := 60_000
	if v, err := strconv.Atoi(os.Getenv("KURIR_TEST_IMPORT_HASHES")); err == nil && v > 0 {
		size = v
	}
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		ctx := t.Context()
		clock := clocktest.New(time.Time{})
		acc := account.NewService(db, clock, nil, account.Config{Argon2: account.CheapArgon2Params, Limits: &account.Limits{}})
		msg := messaging.NewService(db, nil, clock, nil, messaging.Config{})
		u, err := acc.Register(ctx, account.RegisterParams{Username: "chatter", Password: "wet-otter-lantern-9"})
		if err != nil {
			t.Fatal(err)
		}
		chat, err := msg.CreateGroup(ctx, u.ID, messaging.NewChat{Title: "busy"})
		if err != nil {
			t.Fatal(err)
		}
		banks := node(t, db)
		must(t, banks.CreateBank(ctx, "SPAM", hashbank.Flag, ""))
		_, file := randomHashes(1, size)

		// A send that completes while the import's entries are partly
		// written went through between two of its transactions; a send
		// made to wait for the whole import sees none or all of them.
		var between, worst atomic.Int64
		stop := make(chan struct{})
		var wg sync.WaitGroup
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				start := time.Now()
				_, err := msg.Send(ctx, u.ID, chat.ID, messaging.SendParams{Text: fmt.Sprint("tick ", i), IdempotencyKey: fmt.Sprint("k", i)})
				if err != nil {
					t.Errorf("send during the import: %v", err)
					return
				}
				if took := int64(time.Since(start)); took > worst.Load() {
					worst.Store(took)
				}
				var partly bool
				if err := db.Read().QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM hash_entries)
					AND NOT EXISTS (SELECT 1 FROM hash_imports WHERE state = 'done')`).Scan(&partly); err != nil {
					t.Error(err)
					return
				}
				if partly {
					between.Add(1)
				}
				time.Sleep(5 * time.Millisecond)
			}
		})
		start := time.Now()
		res, err := banks.Import(ctx, "SPAM", strings.NewReader(file), hashbank.List, hashbank.SignalPDQ, "test", nil)
		took := time.Since(start)
		close(stop)
		wg.Wait()
		if err != nil || res.Added != size {
			t.Fatalf("import: %+v, %v", res, err)
		}
		t.Logf("import of %d hashes took %v; %d sends completed between its transactions; the slowest send took %v", size, took, between.Load(), time.Duration(worst.Load()))
		if between.Load() < 3 {
			t.Errorf("only %d messages were sent while the import was part written; sends were stalled behind it", between.Load())
		}
	}, account.Migrations, messaging.Migrations, hashbank.Migrations)
}

// TestFailedImportLeavesNothing: while an import is being written none of
// its entries can be found, counted or exported, on this node or another;
// an import that fails part way (here, cancelled) leaves no entry behind.
func TestFailedImportLeavesNothing(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		ctx := t.Context()
		banks := node(t, db)
		must(t, banks.CreateBank(ctx, "TERRORISM", hashbank.Block, ""))
		hashes, file := randomHashes(2, 60_000)
		staged := func() int {
			var k int
			if err := db.Read().QueryRowContext(ctx, `SELECT COUNT(*) FROM hash_entries`).Scan(&k); err != nil {
				t.Error(err)
			}
			return k
		}

		importCtx, cancel := context.WithCancel(ctx)
		defer cancel()
		var seen []string
		done := make(chan struct{})
		go func() {
			defer close(done)
			deadline := time.Now().Add(time.Minute)
			for staged() == 0 {
				if time.Now().After(deadline) {
					seen = append(seen, "nothing was staged within a minute")
					cancel()
					return
				}
				time.Sleep(time.Millisecond)
			}
			other := node(t, db) // a node starting while the import is half written
			for _, s := range []*hashbank.Service{banks, other} {
				if err := s.Sync(ctx); err != nil {
					seen = append(seen, err.Error())
				}
				if m := s.Lookup(ctx, nil, nil, hashes[:1]); len(m) != 0 {
					seen = append(seen, fmt.Sprintf("a staged hash was found: %+v", m))
				}
			}
			if all, err := banks.Banks(ctx); err != nil || len(all) != 1 || all[0].Entries != 0 {
				seen = append(seen, fmt.Sprintf("banks while staging: %+v, %v", all, err))
			}
			var out strings.Builder
			if n, err := banks.Export(ctx, "TERRORISM", &out, hashbank.List, hashbank.SignalPDQ); err != nil || n != 0 {
				seen = append(seen, fmt.Sprintf("export while staging: %d entries, %v", n, err))
			}
			cancel()
		}()
		_, err := banks.Import(importCtx, "TERRORISM", strings.NewReader(file), hashbank.List, hashbank.SignalPDQ, "test", nil)
		<-done
		for _, s := range seen {
			t.Error(s)
		}
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("import: %v, want it cancelled", err)
		}
		if k := staged(); k != 0 {
			t.Errorf("%d entries left after a failed import, want none", k)
		}
		must(t, banks.Sync(ctx))
		if m := banks.Lookup(ctx, nil, nil, hashes[:1]); len(m) != 0 {
			t.Errorf("a hash of the failed import was found: %+v", m)
		}
		// The same file imports whole afterwards, and is then found.
		res, err := banks.Import(ctx, "TERRORISM", strings.NewReader(file), hashbank.List, hashbank.SignalPDQ, "test", nil)
		if err != nil || res.Added != 60_000 {
			t.Fatalf("import again: %+v, %v", res, err)
		}
		other := node(t, db)
		for _, s := range []*hashbank.Service{banks, other} {
			if m := s.Lookup(ctx, nil, nil, hashes[59_999:]); len(m) != 1 {
				t.Errorf("after the import: %d matches for its last hash, want 1", len(m))
			}
		}
	}, hashbank.Migrations)
}
