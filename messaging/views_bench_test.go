package messaging_test

import (
	"context"
	"sync/atomic"
	"testing"

	"kurir"
	"kurir/account"
	"kurir/messaging"
	"kurir/sqldb"
	"kurir/sqldb/sqldbtest"
)

// BenchmarkRecordViews measures view reports into one public channel, as a
// viral post brings them: each op is a new viewer reporting a screenful of
// 20 posts (20 views counted), from many goroutines at once, so that they
// contend for the same message rows. "repeat" is the same viewers
// reporting again, which counts nothing.
func BenchmarkRecordViews(b *testing.B) {
	for _, engine := range []string{"sqlite", "postgres"} {
		b.Run(engine, func(b *testing.B) {
			var db *sqldb.DB
			if engine == "sqlite" {
				db = sqldbtest.SQLite(b, account.Migrations, messaging.Migrations)
			} else {
				db = sqldbtest.Postgres(b, account.Migrations, messaging.Migrations)
			}
			ctx := context.Background()
			acc := account.NewService(db, kurir.SystemClock{}, nil, account.Config{Argon2: account.CheapArgon2Params, Limits: &account.Limits{}})
			svc := messaging.NewService(db, nil, kurir.SystemClock{}, nil, messaging.Config{})
			owner, err := acc.Register(ctx, account.RegisterParams{Username: "editor", Password: "long-enough-pass-9"})
			if err != nil {
				b.Fatal(err)
			}
			ch, err := svc.CreateChannel(ctx, owner.ID, messaging.NewChat{Title: "Big news", Username: "bignews"})
			if err != nil {
				b.Fatal(err)
			}
			var seqs []int64
			for i := range 20 {
				m, err := svc.Send(ctx, owner.ID, ch.ID, messaging.SendParams{Text: "post", IdempotencyKey: string(rune('a' + i))})
				if err != nil {
					b.Fatal(err)
				}
				seqs = append(seqs, m.Seq)
			}
			// Viewers need no account row: anyone may read a public channel.
			var next atomic.Int64
			next.Store(1 << 40)
			b.Run("new", func(b *testing.B) {
				b.SetParallelism(4)
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						if _, err := svc.RecordViews(ctx, kurir.UserID(next.Add(1)), ch.ID, seqs); err != nil {
							b.Error(err)
							return
						}
					}
				})
				b.ReportMetric(float64(b.N*len(seqs))/b.Elapsed().Seconds(), "views/s")
			})
			b.Run("repeat", func(b *testing.B) {
				var viewer atomic.Int64
				viewer.Store(1 << 40)
				b.SetParallelism(4)
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						id := viewer.Add(1)
						if id > next.Load() {
							id = 1<<40 + 1
						}
						if _, err := svc.RecordViews(ctx, kurir.UserID(id), ch.ID, seqs); err != nil {
							b.Error(err)
							return
						}
					}
				})
				b.ReportMetric(float64(b.N*len(seqs))/b.Elapsed().Seconds(), "views/s")
			})
		})
	}
}
