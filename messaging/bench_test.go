package messaging_test

import (
	"context"
	"fmt"
	"strconv"
	"sync/atomic"
	"testing"

	"kurir"
	"kurir/account"
	"kurir/messaging"
	"kurir/sqldb"
	"kurir/sqldb/sqldbtest"
)

// BenchmarkSendPrivate measures committed 1:1 messages per second from many
// concurrent senders, each in their own private chat: the send path's store
// cost (idempotency check, seq, event, message, both users' update logs,
// search index), without HTTP.
func BenchmarkSendPrivate(b *testing.B) {
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
			const pairs = 64
			type pair struct {
				from kurir.UserID
				chat messaging.ChatID
			}
			ps := make([]pair, pairs)
			for i := range pairs {
				a, err := acc.Register(ctx, account.RegisterParams{Username: fmt.Sprintf("sender%03d", i), Password: "long-enough-pass-9"})
				if err != nil {
					b.Fatal(err)
				}
				c, err := acc.Register(ctx, account.RegisterParams{Username: fmt.Sprintf("receiver%03d", i), Password: "long-enough-pass-9"})
				if err != nil {
					b.Fatal(err)
				}
				chat, err := svc.OpenPrivate(ctx, a.ID, c.ID)
				if err != nil {
					b.Fatal(err)
				}
				ps[i] = pair{a.ID, chat.ID}
			}
			var next, n atomic.Int64
			b.SetParallelism(pairs / 2) // 64 senders on 2 cores
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				p := ps[next.Add(1)-1]
				for pb.Next() {
					key := strconv.FormatInt(n.Add(1), 10)
					if _, err := svc.Send(ctx, p.from, p.chat, messaging.SendParams{Text: "hello there, this is a benchmark message", IdempotencyKey: key}); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
		})
	}
}
