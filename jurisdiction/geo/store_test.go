package geo_test

import (
	"context"
	"net/netip"
	"strings"
	"testing"
	"time"

	"kurir/jurisdiction/geo"
	"kurir/sqldb"
	"kurir/sqldb/sqldbtest"
)

func TestSaveLoad(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		ctx := t.Context()
		if tab, id, err := geo.Load(ctx, db); tab != nil || id != 0 || err != nil {
			t.Fatalf("Load with none saved = %v, %d, %v; want nil, 0, nil", tab, id, err)
		}
		if _, ok, err := geo.Newest(ctx, db); ok || err != nil {
			t.Fatalf("Newest with none saved = %v, %v", ok, err)
		}

		first, _ := parse(t, "1.0.0.0,1.0.0.255,AU\n2001:200::,2001:200:ffff:ffff:ffff:ffff:ffff:ffff,JP\n")
		at := time.Date(2026, 5, 1, 12, 0, 0, 123000, time.UTC)
		id1, err := geo.Save(ctx, db, first, "dbip-country-lite-2026-05.csv", at)
		if err != nil {
			t.Fatal(err)
		}
		tab, id, err := geo.Load(ctx, db)
		if err != nil || id != id1 {
			t.Fatalf("Load = %d, %v; want table %d", id, err, id1)
		}
		lookups(t, tab, map[string]string{"1.0.0.0": "AU", "1.0.1.0": "", "2001:200::1": "JP"})
		info, ok, err := geo.Newest(ctx, db)
		enc, _ := first.MarshalBinary()
		if err != nil || !ok || info.ID != id1 || !info.ImportedAt.Equal(at) || info.Source != "dbip-country-lite-2026-05.csv" ||
			info.Ranges != 2 || info.Size != int64(len(enc)) {
			t.Errorf("Newest = %+v, %v, %v", info, ok, err)
		}

		// Each save is the newest; only two are kept.
		var ids []int64
		for _, cc := range []string{"CN", "DE", "FR"} {
			next, _ := parse(t, "1.0.0.0,1.0.0.255,"+cc+"\n")
			id, err := geo.Save(ctx, db, next, cc+".csv", at.Add(time.Hour))
			if err != nil {
				t.Fatal(err)
			}
			if len(ids) > 0 && id <= ids[len(ids)-1] || id <= id1 {
				t.Errorf("IDs %d, %v, then %d: want them increasing", id1, ids, id)
			}
			ids = append(ids, id)
		}
		tab, id, err = geo.Load(ctx, db)
		if err != nil || id != ids[2] {
			t.Fatalf("Load = %d, %v; want the newest, %d", id, err, ids[2])
		}
		lookups(t, tab, map[string]string{"1.0.0.0": "FR", "2001:200::1": ""})
		var rows int
		if err := db.Read().QueryRowContext(ctx, `SELECT COUNT(*) FROM geo_tables`).Scan(&rows); err != nil || rows != 2 {
			t.Errorf("%d tables stored (%v), want 2", rows, err)
		}
	}, geo.Migrations)
}

func TestLocator(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		ctx := t.Context()
		ip := netip.MustParseAddr("1.0.0.1")
		loc := geo.NewLocator(db, nil)
		if err := loc.Sync(ctx); err != nil {
			t.Fatal(err)
		}
		if cc, ok := loc.Lookup(ip); ok {
			t.Errorf("no table yet, found %q", cc)
		}

		save := func(cc string) int64 {
			t.Helper()
			tab, _ := parse(t, "1.0.0.0,1.0.0.255,"+cc+"\n")
			id, err := geo.Save(ctx, db, tab, cc, time.Now())
			if err != nil {
				t.Fatal(err)
			}
			return id
		}
		id1 := save("AU")
		if cc, ok := loc.Lookup(ip); ok {
			t.Errorf("before Sync, found %q", cc)
		}
		if err := loc.Sync(ctx); err != nil {
			t.Fatal(err)
		}
		if cc, _ := loc.Lookup(ip); cc != "AU" {
			t.Errorf("after Sync, Lookup = %q, want AU", cc)
		}
		held, id := loc.Table()
		if err := loc.Sync(ctx); err != nil {
			t.Fatal(err)
		}
		if again, _ := loc.Table(); id != id1 || again != held {
			t.Errorf("a Sync with nothing new replaced table %d", id)
		}

		// A second import, as if from another node, is picked up by Sync.
		id2 := save("CN")
		if cc, _ := loc.Lookup(ip); cc != "AU" {
			t.Errorf("before Sync, Lookup = %q, want AU still", cc)
		}
		if err := loc.Sync(ctx); err != nil {
			t.Fatal(err)
		}
		if cc, _ := loc.Lookup(ip); cc != "CN" {
			t.Errorf("after the second import, Lookup = %q, want CN", cc)
		}
		if _, id := loc.Table(); id != id2 {
			t.Errorf("holding table %d, want %d", id, id2)
		}

		// RunSync picks up a third.
		runCtx, stop := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() {
			defer close(done)
			loc.RunSync(runCtx, 10*time.Millisecond)
		}()
		save("DE")
		deadline := time.Now().Add(10 * time.Second)
		for cc, _ := loc.Lookup(ip); cc != "DE"; cc, _ = loc.Lookup(ip) {
			if time.Now().After(deadline) {
				t.Fatalf("RunSync did not pick up the new table: Lookup = %q", cc)
			}
			time.Sleep(5 * time.Millisecond)
		}
		stop()
		<-done

		// A table this binary cannot read (from a newer kurir, say) is
		// reported once; the one in use stays.
		err := db.WriteTx(ctx, func(tx *sqldb.Tx) error {
			_, err := tx.ExecContext(ctx, `INSERT INTO geo_tables (imported_at, source, ranges, data) VALUES ($1, $2, $3, $4)`,
				sqldb.Micros(time.Now()), "kurir 2.0", 1, []byte("KGEO\x02 a format from the future"))
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if err := loc.Sync(ctx); err == nil || !strings.Contains(err.Error(), "keeping the one in use") {
			t.Errorf("Sync of an unreadable table: %v", err)
		}
		if err := loc.Sync(ctx); err != nil {
			t.Errorf("second Sync of the unreadable table: %v, want it left alone", err)
		}
		if cc, _ := loc.Lookup(ip); cc != "DE" {
			t.Errorf("after an unreadable table, Lookup = %q, want DE still", cc)
		}
		save("FR")
		if err := loc.Sync(ctx); err != nil {
			t.Fatal(err)
		}
		if cc, _ := loc.Lookup(ip); cc != "FR" {
			t.Errorf("after the next import, Lookup = %q, want FR", cc)
		}
	}, geo.Migrations)
}
