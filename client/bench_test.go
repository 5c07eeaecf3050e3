package client_test

import (
	"os"
	"runtime"
	"strconv"
	"sync/atomic"
	"testing"

	"kurir/client"
	"kurir/sqldb/sqldbtest"
)

// BenchmarkSend measures Client.Send against a real server on loopback, run
// in a child process so that allocs/op are the client's own. "serial" is one
// goroutine sending; "parallel" is 16 goroutines per CPU, each sending to
// its own group as its own user, sharing one Client's connection pool, as
// the load generator does. The sqlite and postgres servers store every
// message durably; the canned server answers at once without storing
// anything, which leaves the cost of the client and loopback HTTP.
//
//	go test -run '^$' -bench BenchmarkSend -benchtime 5000x ./client/
func BenchmarkSend(b *testing.B) {
	engines := []struct {
		name string
		url  func(testing.TB) string
	}{
		{"canned", func(testing.TB) string { return canned }},
		{"sqlite", sqldbtest.SQLiteURL},
	}
	if os.Getenv(sqldbtest.PostgresEnv) != "" {
		engines = append(engines, struct {
			name string
			url  func(testing.TB) string
		}{"postgres", sqldbtest.PostgresURL})
	}
	for _, e := range engines {
		b.Run(e.name, func(b *testing.B) {
			base := startServerProcess(b, e.url(b))
			c := client.New(base)
			b.Cleanup(c.CloseIdleConnections)
			const text = "The quick brown fox jumps over the lazy dog."

			var users0 atomic.Int64 // numbers the users, whom every run of a sub-benchmark makes anew
			b.Run("serial", func(b *testing.B) {
				u, chat := benchUser(b, c, e.name, "s"+strconv.Itoa(int(users0.Add(1))))
				b.ReportAllocs()
				for b.Loop() {
					if _, err := u.Send(b.Context(), chat, client.SendParams{Text: text}); err != nil {
						b.Fatal(err)
					}
				}
			})

			b.Run("parallel", func(b *testing.B) {
				const perCPU = 16
				n := perCPU * runtime.GOMAXPROCS(0)
				users := make([]*client.Client, n)
				chats := make([]int64, n)
				for i := range n {
					users[i], chats[i] = benchUser(b, c, e.name, "p"+strconv.Itoa(int(users0.Add(1))))
				}
				var next atomic.Int64 // hands each goroutine its own user
				b.ReportAllocs()
				b.SetParallelism(perCPU)
				b.ResetTimer()
				b.RunParallel(func(pb *testing.PB) {
					i := int(next.Add(1)-1) % n
					u, chat := users[i], chats[i]
					for pb.Next() {
						if _, err := u.Send(b.Context(), chat, client.SendParams{Text: text}); err != nil {
							b.Error(err)
							return
						}
					}
				})
			})
		})
	}
}

// benchUser registers a user named after name and gives them a group; on
// the canned server, which has neither, it returns a client with a made-up
// token.
func benchUser(b *testing.B, c *client.Client, engine, name string) (*client.Client, int64) {
	b.Helper()
	if engine == "canned" {
		return c.WithToken("canned-" + name), 1
	}
	ctx := b.Context()
	name = "bench_" + name
	if _, err := c.Register(ctx, client.RegisterParams{Username: name, Password: password}); err != nil {
		b.Fatal(err)
	}
	res, err := c.Login(ctx, client.LoginParams{Username: name, Password: password})
	if err != nil {
		b.Fatal(err)
	}
	u := c.WithToken(res.Token)
	g, err := u.CreateGroup(ctx, client.NewChat{Title: "Bench"})
	if err != nil {
		b.Fatal(err)
	}
	return u, g.ID
}
