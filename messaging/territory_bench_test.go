package messaging_test

import (
	"context"
	"fmt"
	"testing"

	"kurir"
	"kurir/account"
	"kurir/messaging"
	"kurir/sqldb"
	"kurir/sqldb/sqldbtest"
)

// BenchmarkHistoryTerritorial measures what the territorial filter adds to
// reading a page of 50 messages of a channel (the most common read):
//
//	none       no reader location: the filter is skipped (moderation's reads)
//	placed     a reader in a country, 10,000 restrictions on other chats
//	withheld   the same, with every 5th message of this page withheld there
//
// Run with -bench HistoryTerritorial; compare the three within one run.
func BenchmarkHistoryTerritorial(b *testing.B) {
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
			owner, err := acc.Register(ctx, account.RegisterParams{Username: "publisher", Password: "long-enough-pass-9"})
			if err != nil {
				b.Fatal(err)
			}
			// Other chats with restrictions, written at once as a bulk
			// import would: the index holds them all.
			const others = 10_000
			err = db.WriteTx(ctx, func(tx *sqldb.Tx) error {
				for i := range others {
					if _, err := tx.ExecContext(ctx, `INSERT INTO restrictions (chat_id, seq, scope, reason, created_at) VALUES ($1, $2, $3, 'r', 1)`,
						1_000_000+i/10, i%10+1, []string{"DE", "FR", "RU", "TR"}[i%4]); err != nil {
						return err
					}
				}
				_, err := tx.ExecContext(ctx, `UPDATE restriction_version SET version = version + 1 WHERE id = 1`)
				return err
			})
			if err != nil {
				b.Fatal(err)
			}
			ch, err := svc.CreateChannel(ctx, owner.ID, messaging.NewChat{Title: "the channel"})
			if err != nil {
				b.Fatal(err)
			}
			var seqs []int64
			for i := range 50 {
				m, err := svc.Send(ctx, owner.ID, ch.ID, messaging.SendParams{Text: fmt.Sprintf("post %d with some words in it", i), IdempotencyKey: fmt.Sprintf("p-%d", i)})
				if err != nil {
					b.Fatal(err)
				}
				seqs = append(seqs, m.Seq)
			}
			read := func(b *testing.B, ctx context.Context, wantWithheld int) {
				b.Helper()
				for b.Loop() {
					page, err := svc.History(ctx, owner.ID, ch.ID, 0, messaging.Older, 50)
					if err != nil {
						b.Fatal(err)
					}
					n := 0
					for _, m := range page {
						if m.Withheld != nil {
							n++
						}
					}
					if len(page) != 50 || n != wantWithheld {
						b.Fatalf("page of %d with %d withheld, want 50 with %d", len(page), n, wantWithheld)
					}
				}
			}
			inDE := kurir.WithLocation(ctx, kurir.Location{Network: "DE", Declared: "AT"})
			b.Run("none", func(b *testing.B) { read(b, ctx, 0) })
			b.Run("placed", func(b *testing.B) { read(b, inDE, 0) })
			for i, seq := range seqs {
				if i%5 == 0 {
					if _, err := svc.Restrict(ctx, messaging.Restriction{Chat: ch.ID, Seq: seq, Scope: []string{"DE"}, Reason: "r"}); err != nil {
						b.Fatal(err)
					}
				}
			}
			b.Run("withheld", func(b *testing.B) { read(b, inDE, 10) })
		})
	}
}
