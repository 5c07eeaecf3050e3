package account_test

import (
	"fmt"
	"sync/atomic"
	"testing"

	"kurir"
	"kurir/account"
	"kurir/sqldb"
	"kurir/sqldb/sqldbtest"
)

// benchEngines runs a benchmark on SQLite and, when KURIR_TEST_POSTGRES_URL
// is set, on PostgreSQL, with the production password cost.
func benchEngines(b *testing.B, fn func(b *testing.B, svc *account.Service)) {
	open := map[string]func(testing.TB, ...sqldb.Migrations) *sqldb.DB{
		"sqlite": sqldbtest.SQLite, "postgres": sqldbtest.Postgres,
	}
	for _, engine := range []string{"sqlite", "postgres"} {
		b.Run(engine, func(b *testing.B) {
			db := open[engine](b, account.Migrations)
			svc := account.NewService(db, kurir.SystemClock{}, nil, account.Config{
				Argon2: account.DefaultArgon2Params, Limits: &account.Limits{},
			})
			fn(b, svc)
		})
	}
}

const benchPassword = "correct-horse-battery-staple"

// BenchmarkRegister measures registrations per second: argon2id hashing
// (DefaultArgon2Params) plus the insert, from parallel clients.
func BenchmarkRegister(b *testing.B) {
	benchEngines(b, func(b *testing.B, svc *account.Service) {
		var n atomic.Int64
		b.ReportAllocs()
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				name := fmt.Sprintf("user%08d", n.Add(1))
				if _, err := svc.Register(b.Context(), account.RegisterParams{Username: name, Password: benchPassword}); err != nil {
					b.Error(err)
					return
				}
			}
		})
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "registrations/s")
	})
}

// BenchmarkLogin measures logins per second: lookup, argon2id verification
// and a new session row, from parallel clients over 64 accounts.
func BenchmarkLogin(b *testing.B) {
	benchEngines(b, func(b *testing.B, svc *account.Service) {
		const users = 64
		for i := range users {
			if _, err := svc.Register(b.Context(), account.RegisterParams{Username: fmt.Sprintf("user%04d", i), Password: benchPassword}); err != nil {
				b.Fatal(err)
			}
		}
		var n atomic.Int64
		b.ReportAllocs()
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				name := fmt.Sprintf("user%04d", n.Add(1)%users)
				if _, _, _, err := svc.Login(b.Context(), account.LoginParams{Username: name, Password: benchPassword, DeviceName: "bench"}); err != nil {
					b.Error(err)
					return
				}
			}
		})
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "logins/s")
	})
}

// BenchmarkAuthenticate measures the check every authenticated request pays:
// token hash lookup and account standing.
func BenchmarkAuthenticate(b *testing.B) {
	benchEngines(b, func(b *testing.B, svc *account.Service) {
		if _, err := svc.Register(b.Context(), account.RegisterParams{Username: "reader", Password: benchPassword}); err != nil {
			b.Fatal(err)
		}
		token, _, _, err := svc.Login(b.Context(), account.LoginParams{Username: "reader", Password: benchPassword})
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := svc.Authenticate(b.Context(), token); err != nil {
					b.Error(err)
					return
				}
			}
		})
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "auths/s")
	})
}
