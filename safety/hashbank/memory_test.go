package hashbank

import (
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"kurir/clocktest"
	"kurir/sqldb"
	"kurir/sqldb/sqldbtest"
)

// BenchmarkServiceMemory starts a Service over a SQLite database holding n
// enabled PDQ entries (1M, or KURIR_BENCH_BANK_ENTRIES) and reports the
// heap the whole Service holds once loaded, per entry, and how long the
// start took: everything a node keeps for its banks, not only the index.
//
//	go test -run '^$' -bench 'ServiceMemory$' -benchtime 1x ./safety/hashbank/
func BenchmarkServiceMemory(b *testing.B) {
	n := 1_000_000
	if v, err := strconv.Atoi(os.Getenv("KURIR_BENCH_BANK_ENTRIES")); err == nil && v > 0 {
		n = v
	}
	db := sqldbtest.SQLite(b, Migrations)
	ctx := b.Context()
	clock := clocktest.New(time.Time{})
	setup, err := NewService(ctx, db, clock, nil)
	if err != nil {
		b.Fatal(err)
	}
	if err := setup.CreateBank(ctx, "CHILD_SAFETY", Block, ""); err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(3, 4))
	const batch = 500
	for i := 0; i < n; i += 50_000 {
		err := db.WriteTx(ctx, func(tx *sqldb.Tx) error {
			for j := i; j < min(i+50_000, n); j += batch {
				var q strings.Builder
				q.WriteString(`INSERT INTO hash_entries (bank, signal, value, provenance, created_at, updated_at) VALUES `)
				for k := j; k < min(j+batch, n); k++ {
					if k > j {
						q.WriteString(", ")
					}
					fmt.Fprintf(&q, "('CHILD_SAFETY', 'pdq', '%016x%016x%016x%016x', 'NCMEC hash list 2026-11', 0, 0)", rng.Uint64(), rng.Uint64(), rng.Uint64(), rng.Uint64())
				}
				if _, err := tx.ExecContext(ctx, q.String()); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	for b.Loop() {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		start := time.Now()
		s, err := NewService(ctx, db, clock, nil)
		if err != nil {
			b.Fatal(err)
		}
		took := time.Since(start)
		runtime.GC()
		runtime.ReadMemStats(&after)
		if got := s.index.Len(); got != n {
			b.Fatalf("loaded %d entries, want %d", got, n)
		}
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/float64(n), "B/entry")
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/(1<<20), "MiB")
		b.ReportMetric(took.Seconds(), "s/start")
		runtime.KeepAlive(s)
	}
}

// BenchmarkServiceMemoryNoDB measures what BenchmarkServiceMemory does at
// sizes where filling a database takes too long for a benchmark (10M): the
// same start-up code takes in n synthetic rows (random PDQ hashes, IDs 1
// to n, one bank) without reading them from a database, and the Service's
// heap is reported per entry.
//
//	go test -run '^$' -bench ServiceMemoryNoDB -benchtime 1x ./safety/hashbank/
func BenchmarkServiceMemoryNoDB(b *testing.B) {
	for _, n := range []int{1_000_000, 10_000_000} {
		b.Run(fmt.Sprintf("%dM", n/1_000_000), func(b *testing.B) {
			for b.Loop() {
				var before, after runtime.MemStats
				runtime.GC()
				runtime.ReadMemStats(&before)
				s := NewManager(nil, clocktest.New(time.Time{}), nil)
				s.banks, s.bankNo = []bankState{{"CHILD_SAFETY", Block}}, map[string]uint16{"CHILD_SAFETY": 0}
				rng := rand.New(rand.NewPCG(3, 4))
				var l loader
				for id := int64(1); id <= int64(n); id++ {
					s.loadEntry(&l, id, "CHILD_SAFETY", SignalPDQ, fmt.Sprintf("%016x%016x%016x%016x", rng.Uint64(), rng.Uint64(), rng.Uint64(), rng.Uint64()))
				}
				s.index.load(l.ids, l.hashes)
				l = loader{}
				runtime.GC()
				runtime.ReadMemStats(&after)
				if got := s.index.Len(); got != n {
					b.Fatalf("loaded %d entries, want %d", got, n)
				}
				b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/float64(n), "B/entry")
				b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/(1<<30), "GiB")
				b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/(1<<30), "GiB-allocated")
				runtime.KeepAlive(s)
			}
		})
	}
}
