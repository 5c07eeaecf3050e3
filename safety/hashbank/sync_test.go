package hashbank_test

import (
	"context"
	"crypto/sha256"
	"fmt"
	"strings"
	"testing"
	"time"

	"kurir/clocktest"
	"kurir/safety/hashbank"
	"kurir/sqldb"
	"kurir/sqldb/sqldbtest"
)

// node starts a hash bank service on db, as each kurir serve process does.
func node(t *testing.T, db *sqldb.DB) *hashbank.Service {
	t.Helper()
	s, err := hashbank.NewService(t.Context(), db, clocktest.New(time.Time{}), nil)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func action(ms []hashbank.Match) hashbank.Action {
	if len(ms) != 1 {
		return hashbank.Action(fmt.Sprintf("%d matches", len(ms)))
	}
	return ms[0].Action
}

// TestBankActionChangeReachesEveryNode: turning a bank from flag to block
// (kurir admin bank create on an existing bank) applies on the node that
// made the change and, after a sync, on another node that was already
// running, with no restart.
func TestBankActionChangeReachesEveryNode(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		ctx := t.Context()
		a := node(t, db)
		must(t, a.CreateBank(ctx, "NCII", hashbank.Flag, ""))
		sum := sha256.Sum256([]byte("an intimate photo shared without consent"))
		if _, err := a.Import(ctx, "NCII", strings.NewReader(fmt.Sprintf("%x\n", sum)), hashbank.List, hashbank.SignalSHA256, "", nil); err != nil {
			t.Fatal(err)
		}
		b := node(t, db)
		if got := action(b.Lookup(ctx, &sum, nil, nil)); got != hashbank.Flag {
			t.Fatalf("second node before the change: %s, want flag", got)
		}
		must(t, a.CreateBank(ctx, "NCII", hashbank.Block, "escalated"))
		if got := action(a.Lookup(ctx, &sum, nil, nil)); got != hashbank.Block {
			t.Errorf("the node that changed it: %s, want block", got)
		}
		must(t, b.Sync(ctx))
		if got := action(b.Lookup(ctx, &sum, nil, nil)); got != hashbank.Block {
			t.Errorf("second node after a sync: %s, want block", got)
		}
		banks, err := b.Banks(ctx)
		if err != nil || len(banks) != 1 || banks[0].Description != "escalated" {
			t.Errorf("Banks = %+v, %v", banks, err)
		}
	}, hashbank.Migrations)
}

// TestChangesReachARunningNodeWithinASecond runs the sync loop as kurir
// serve does (every 500 ms) on a second node and checks that an entry
// added, an entry disabled and a bank's new action on the first node all
// take effect there. It polls up to a generous deadline and logs how long
// each took; the one-second figure is measured in docs/BENCHMARKS.md.
func TestChangesReachARunningNodeWithinASecond(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		ctx := t.Context()
		a, b := node(t, db), node(t, db)
		loop, stop := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() { defer close(done); b.RunSync(loop, 500*time.Millisecond) }()
		defer func() { stop(); <-done }()

		within := func(what string, ok func() bool) {
			t.Helper()
			start := time.Now()
			for !ok() {
				if time.Since(start) > 5*time.Second {
					t.Fatalf("%s: not seen by the other node after %v", what, time.Since(start))
				}
				time.Sleep(10 * time.Millisecond)
			}
			t.Logf("%s: seen by the other node after %v", what, time.Since(start).Round(time.Millisecond))
		}
		must(t, a.CreateBank(ctx, "TERRORISM", hashbank.Hold, ""))
		sum := sha256.Sum256([]byte("a beheading video"))
		if _, err := a.Import(ctx, "TERRORISM", strings.NewReader(fmt.Sprintf("%x\n", sum)), hashbank.List, hashbank.SignalSHA256, "", nil); err != nil {
			t.Fatal(err)
		}
		within("an added entry", func() bool { return action(b.Lookup(ctx, &sum, nil, nil)) == hashbank.Hold })
		must(t, a.CreateBank(ctx, "TERRORISM", hashbank.Block, ""))
		within("a bank's new action", func() bool { return action(b.Lookup(ctx, &sum, nil, nil)) == hashbank.Block })
		id := a.Lookup(ctx, &sum, nil, nil)[0].Entry.ID
		must(t, a.SetEnabled(ctx, id, false))
		within("a disabled entry", func() bool { return len(b.Lookup(ctx, &sum, nil, nil)) == 0 })
	}, hashbank.Migrations)
}

// TestStartupReadsEntriesNotTheLog: a node starting up loads the enabled
// entries from the entries table, so it is right even when the change log
// has been emptied, and then follows the log from there.
func TestStartupReadsEntriesNotTheLog(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		ctx := t.Context()
		a := node(t, db)
		must(t, a.CreateBank(ctx, "SPAM", hashbank.Flag, ""))
		var sums [3][32]byte
		var list strings.Builder
		for i := range sums {
			sums[i] = sha256.Sum256(fmt.Appendf(nil, "spam flyer %d", i))
			fmt.Fprintf(&list, "%x\n", sums[i])
		}
		if _, err := a.Import(ctx, "SPAM", strings.NewReader(list.String()), hashbank.List, hashbank.SignalSHA256, "", nil); err != nil {
			t.Fatal(err)
		}
		if _, err := a.Import(ctx, "SPAM", strings.NewReader(pdqA+"\n"), hashbank.List, hashbank.SignalPDQ, "", nil); err != nil {
			t.Fatal(err)
		}
		disabled := a.Lookup(ctx, &sums[1], nil, nil)[0].Entry.ID
		must(t, a.SetEnabled(ctx, disabled, false))
		if err := db.WriteTx(ctx, func(tx *sqldb.Tx) error {
			_, err := tx.ExecContext(ctx, `DELETE FROM hash_changes`)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		b := node(t, db)
		for i, want := range []int{1, 0, 1} {
			if got := len(b.Lookup(ctx, &sums[i], nil, nil)); got != want {
				t.Errorf("entry %d: %d matches on a node started after the log was emptied, want %d", i, got, want)
			}
		}
		if got := b.Lookup(ctx, nil, nil, []hashbank.PDQ{flip(pdqA, 10)}); len(got) != 1 || got[0].Distance != 10 || got[0].Entry.Value != pdqA {
			t.Errorf("PDQ entry on the new node: %+v", got)
		}
		must(t, a.SetEnabled(ctx, disabled, true))
		must(t, b.Sync(ctx))
		if got := len(b.Lookup(ctx, &sums[1], nil, nil)); got != 1 {
			t.Errorf("re-enabled after startup: %d matches, want 1", got)
		}
	}, hashbank.Migrations)
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestManagerChangesReachNodes: the command-line tools change banks through
// a Manager, which loads nothing; a running node applies what it did.
func TestManagerChangesReachNodes(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		ctx := t.Context()
		running := node(t, db)
		admin := hashbank.NewManager(db, clocktest.New(time.Time{}), nil)
		must(t, admin.CreateBank(ctx, "SPAM", hashbank.Hold, ""))
		sum := sha256.Sum256([]byte("spam flyer"))
		if _, err := admin.Import(ctx, "SPAM", strings.NewReader(fmt.Sprintf("%x\n", sum)), hashbank.List, hashbank.SignalSHA256, "", nil); err != nil {
			t.Fatal(err)
		}
		must(t, running.Sync(ctx))
		if got := action(running.Lookup(ctx, &sum, nil, nil)); got != hashbank.Hold {
			t.Errorf("running node after the manager's import: %s, want hold", got)
		}
		found, err := admin.Find(ctx, fmt.Sprintf("%X", sum))
		if err != nil || len(found) != 1 {
			t.Fatalf("Find = %+v, %v", found, err)
		}
		must(t, admin.SetEnabled(ctx, found[0].ID, false))
		must(t, running.Sync(ctx))
		if got := running.Lookup(ctx, &sum, nil, nil); len(got) != 0 {
			t.Errorf("running node after the manager's disable: %+v", got)
		}
	}, hashbank.Migrations)
}
