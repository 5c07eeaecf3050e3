package client_test

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"kurir/client"
	"kurir/secret/device"
	"kurir/sqldb/sqldbtest"
)

// memStore is a SecretStore in memory: the SDK's and the server's cost
// without the disk's.
type memStore struct {
	mu   sync.Mutex
	data []byte
}

func (m *memStore) Lock(context.Context) ([]byte, error) { m.mu.Lock(); return m.data, nil }
func (m *memStore) Save(data []byte) error               { m.data = data; return nil }
func (m *memStore) Unlock() error                        { m.mu.Unlock(); return nil }

// secretBenchUsers makes two users with secret chats set up, whose
// sessions are already established (one message each way).
func secretBenchUsers(b *testing.B, base string, store func(name string) client.SecretStore) (alice, bob *client.SecretChats, bobID int64) {
	b.Helper()
	ctx := b.Context()
	c := client.New(base)
	b.Cleanup(c.CloseIdleConnections)
	var ids [2]int64
	var chats [2]*client.SecretChats
	for i, name := range []string{"alice", "bob"} {
		name = "secret_" + name + strconv.Itoa(int(benchRun.Add(1)))
		if _, err := c.Register(ctx, client.RegisterParams{Username: name, Password: password}); err != nil {
			b.Fatal(err)
		}
		res, err := c.Login(ctx, client.LoginParams{Username: name, Password: password})
		if err != nil {
			b.Fatal(err)
		}
		ids[i] = res.User.ID
		chats[i] = client.NewSecretChats(c.WithToken(res.Token), store(name))
		if _, err := chats[i].Register(ctx); err != nil {
			b.Fatal(err)
		}
	}
	if _, err := chats[0].Send(ctx, ids[1], "hello", 0); err != nil {
		b.Fatal(err)
	}
	if _, err := chats[1].Receive(ctx); err != nil {
		b.Fatal(err)
	}
	if _, err := chats[1].Send(ctx, ids[0], "hi", 0); err != nil {
		b.Fatal(err)
	}
	if _, err := chats[0].Receive(ctx); err != nil {
		b.Fatal(err)
	}
	return chats[0], chats[1], ids[1]
}

var benchRun atomic.Int64

// secretStores are the stores the benchmarks run with: a file (written
// atomically and synced, as the CLI keeps it) and memory.
func secretStores(b *testing.B) map[string]func(name string) client.SecretStore {
	dir := b.TempDir()
	return map[string]func(string) client.SecretStore{
		"file":   func(name string) client.SecretStore { return device.NewFileStore(filepath.Join(dir, name)) },
		"memory": func(string) client.SecretStore { return &memStore{} },
	}
}

// BenchmarkSecretSend measures SecretChats.Send of one message to a user
// with one device and an established session, against a real server (in a
// child process, over SQLite): list the recipient's devices, encrypt, save
// the state, send the envelope.
//
//	go test -run '^$' -bench BenchmarkSecret -benchtime 2000x ./client/
func BenchmarkSecretSend(b *testing.B) {
	base := secretBenchServer(b)
	for _, store := range []string{"file", "memory"} {
		b.Run(store, func(b *testing.B) {
			alice, _, bobID := secretBenchUsers(b, base, secretStores(b)[store])
			const text = "The quick brown fox jumps over the lazy dog."
			b.ReportAllocs()
			for b.Loop() {
				if _, err := alice.Send(b.Context(), bobID, text, 0); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkSecretReceive measures SecretChats.Receive: fetch, decrypt,
// save, acknowledge, save. "1" receives one message per call, "100" a
// hundred (sent before the timer runs); the ns/msg metric is per message.
func BenchmarkSecretReceive(b *testing.B) {
	base := secretBenchServer(b)
	for _, store := range []string{"file", "memory"} {
		for _, batch := range []int{1, 100} {
			b.Run(store+"/"+strconv.Itoa(batch), func(b *testing.B) {
				alice, bob, bobID := secretBenchUsers(b, base, secretStores(b)[store])
				ctx := b.Context()
				b.ReportAllocs()
				var received int
				var elapsed time.Duration
				for i := 0; i < b.N; i++ {
					b.StopTimer()
					for range batch {
						if _, err := alice.Send(ctx, bobID, "The quick brown fox jumps over the lazy dog.", 0); err != nil {
							b.Fatal(err)
						}
					}
					start := time.Now()
					b.StartTimer()
					got, err := bob.Receive(ctx)
					if err != nil {
						b.Fatal(err)
					}
					b.StopTimer()
					elapsed += time.Since(start)
					received += len(got.Messages)
					b.StartTimer()
				}
				if received != b.N*batch {
					b.Fatalf("received %d messages, want %d", received, b.N*batch)
				}
				b.ReportMetric(float64(elapsed.Nanoseconds())/float64(received), "ns/msg")
			})
		}
	}
}

// secretBenchServer runs the API over SQLite (or PostgreSQL, when set) in
// a child process.
func secretBenchServer(b *testing.B) string {
	if os.Getenv(sqldbtest.PostgresEnv) != "" && os.Getenv("KURIR_BENCH_ENGINE") == "postgres" {
		return startServerProcess(b, sqldbtest.PostgresURL(b))
	}
	return startServerProcess(b, sqldbtest.SQLiteURL(b))
}
