package secret_test

import (
	"context"
	"fmt"
	"kurir/ratelimit"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"kurir/secret"
	"kurir/sqldb"
	"kurir/sqldb/sqldbtest"
)

// benchDB opens a fresh database of engine for a benchmark.
func benchDB(b *testing.B, engine string) *sqldb.DB {
	if engine == "postgres" {
		return sqldbtest.Postgres(b, schema...)
	}
	return sqldbtest.SQLite(b, schema...)
}

// BenchmarkSend stores one envelope of 1 KiB of ciphertext per operation,
// stamped and recorded for idempotency, as POST /api/v1/secret/envelopes
// does without HTTP: one sender at a time (serial), and 8 × GOMAXPROCS
// senders at once (parallel), which SQLite commits in groups.
func BenchmarkSend(b *testing.B) {
	const parallelism = 8
	for _, engine := range []string{"sqlite", "postgres"} {
		for _, parallel := range []bool{false, true} {
			name := engine + "/serial"
			senders := 1
			if parallel {
				name = engine + "/parallel"
				senders = parallelism * runtime.GOMAXPROCS(0)
			}
			b.Run(name, func(b *testing.B) {
				ctx := context.Background()
				w := newWorldWith(b, benchDB(b, engine), unlimited)
				_, bob := w.user(b, "bobby")
				w.publish(b, bob, 0)
				devs := make(chan secret.Device, senders)
				for i := range senders {
					_, d := w.user(b, fmt.Sprint("sender", i))
					devs <- d
				}
				o, _ := outgoing(bob, "", "")
				o.Body = body(false, 1024)
				var seq atomic.Int64
				b.SetBytes(int64(len(o.Body)))
				b.ReportAllocs()
				b.ResetTimer()
				if !parallel {
					from := <-devs
					for i := 0; b.Loop(); i++ {
						o.ClientID = strconv.Itoa(i)
						if _, err := w.svc.Send(ctx, from, []secret.Outgoing{o}); err != nil {
							b.Fatal(err)
						}
					}
					return
				}
				b.SetParallelism(parallelism)
				b.RunParallel(func(pb *testing.PB) {
					from := <-devs
					o := o
					for pb.Next() {
						o.ClientID = strconv.FormatInt(seq.Add(1), 10)
						if _, err := w.svc.Send(ctx, from, []secret.Outgoing{o}); err != nil {
							b.Error(err)
							return
						}
					}
				})
			})
		}
	}
}

// BenchmarkFetchAck drains a device's queue as a client does: fetch up to
// 100 envelopes, acknowledge them, repeat. One operation is one envelope of
// 1 KiB, fetched and deleted; the queue is filled before the timer starts.
// On PostgreSQL the table is then analyzed, as autovacuum does in a running
// database; postgres-fresh drains it with the planner's statistics of an
// empty table.
func BenchmarkFetchAck(b *testing.B) {
	for _, engine := range []string{"sqlite", "postgres", "postgres-fresh"} {
		b.Run(engine, func(b *testing.B) {
			ctx := context.Background()
			db := benchDB(b, strings.TrimSuffix(engine, "-fresh"))
			w := newWorldWith(b, db, unlimited)
			_, alice := w.user(b, "alice")
			_, bob := w.user(b, "bobby")
			w.publish(b, bob, 0)
			o, _ := outgoing(bob, "", "")
			o.Body = body(false, 1024)
			batch := make([]secret.Outgoing, secret.MaxEnvelopesPerSend)
			for sent := 0; sent < b.N; sent += len(batch) {
				for i := range batch {
					batch[i] = o
					batch[i].ClientID = strconv.Itoa(sent + i)
				}
				if _, err := w.svc.Send(ctx, alice, batch); err != nil {
					b.Fatal(err)
				}
			}
			if engine == "postgres" {
				if _, err := db.Read().ExecContext(ctx, "ANALYZE secret_envelopes"); err != nil {
					b.Fatal(err)
				}
			}
			b.SetBytes(int64(len(o.Body)))
			b.ReportAllocs()
			b.ResetTimer()
			ids := make([]string, 0, secret.DefaultFetch)
			for done := 0; done < b.N; {
				got, err := w.svc.Pending(ctx, bob, secret.DefaultFetch)
				if err != nil {
					b.Fatal(err)
				}
				if len(got) == 0 {
					b.Fatalf("the queue ran dry after %d of %d", done, b.N)
				}
				ids = ids[:0]
				for _, e := range got {
					ids = append(ids, e.ID)
				}
				if _, err := w.svc.Ack(ctx, bob, ids); err != nil {
					b.Fatal(err)
				}
				done += len(got)
			}
		})
	}
}

// unlimited is the service without the limits that keep one sender from
// flooding a device: a benchmark is that flood.
var unlimited = secret.Config{Sends: &ratelimit.Limit{}, MaxPendingFromSender: 1 << 30, MaxPendingPerDevice: 1 << 30}
