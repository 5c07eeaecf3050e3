package messaging_test

import (
	"context"
	"fmt"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

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
			// Index for search alongside, as kurir serve does, so that the
			// figure includes it.
			indexing, stop := context.WithCancel(ctx)
			defer stop()
			go svc.RunSearchIndexer(indexing, 200*time.Millisecond)
			commits0, txs0 := db.GroupStats()
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
			if _, err := svc.IndexPending(ctx); err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
			if commits, txs := db.GroupStats(); commits > commits0 {
				b.ReportMetric(float64(txs-txs0)/float64(commits-commits0), "txs/commit")
			}
		})
	}
}

// BenchmarkChannelPost shows that storing a channel post costs the same
// whatever the audience: a channel with one subscriber and one with a
// million take the same time and allocations per post, because channels
// write no per-subscriber rows. (The million subscribers are inserted in
// bulk with SQL before the timer starts.)
func BenchmarkChannelPost(b *testing.B) {
	for _, subscribers := range []int{1, 1_000_000} {
		b.Run(fmt.Sprintf("subscribers=%d", subscribers), func(b *testing.B) {
			db := sqldbtest.SQLite(b, account.Migrations, messaging.Migrations)
			ctx := context.Background()
			acc := account.NewService(db, kurir.SystemClock{}, nil, account.Config{Argon2: account.CheapArgon2Params, Limits: &account.Limits{}})
			svc := messaging.NewService(db, nil, kurir.SystemClock{}, nil, messaging.Config{})
			owner, err := acc.Register(ctx, account.RegisterParams{Username: "publisher", Password: "long-enough-pass-9"})
			if err != nil {
				b.Fatal(err)
			}
			ch, err := svc.CreateChannel(ctx, owner.ID, messaging.NewChat{Title: "Big news"})
			if err != nil {
				b.Fatal(err)
			}
			err = db.WriteTx(ctx, func(tx *sqldb.Tx) error {
				if _, err := tx.ExecContext(ctx, `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $1)
					INSERT INTO users (display_name, created_at) SELECT 'subscriber', 0 FROM n`, subscribers); err != nil {
					return err
				}
				if _, err := tx.ExecContext(ctx, `INSERT INTO chat_members (chat_id, user_id, joined_at)
					SELECT $1, id, 0 FROM users WHERE id <> $2`, ch.ID, owner.ID); err != nil {
					return err
				}
				_, err := tx.ExecContext(ctx, `UPDATE chats SET member_count = member_count + $2 WHERE id = $1`, ch.ID, subscribers)
				return err
			})
			if err != nil {
				b.Fatal(err)
			}
			// Fold the bulk insert into the database file now, so that the
			// timed posts do not pay for checkpointing it.
			var busy, logged, done int
			if err := db.Read().QueryRowContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`).Scan(&busy, &logged, &done); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				if _, err := svc.Send(ctx, owner.ID, ch.ID, messaging.SendParams{Text: "Morning edition", IdempotencyKey: strconv.Itoa(i)}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
