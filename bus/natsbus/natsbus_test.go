package natsbus_test

import (
	"context"
	"crypto/rand"
	"io"
	"log/slog"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"kurir/bus"
	"kurir/bus/bustest"
	"kurir/bus/natsbus"
)

// URLEnv points the tests at an external NATS server as well.
const URLEnv = "KURIR_TEST_NATS_URL"

// startServer starts an in-process NATS server with JetStream, as a kurir
// deployment runs it, on 127.0.0.1:port (0 for a random port), storing in
// dir. It is shut down when the test ends.
func startServer(t testing.TB, port int, dir string) *server.Server {
	t.Helper()
	if port == 0 {
		port = server.RANDOM_PORT
	}
	s, err := server.NewServer(&server.Options{
		Host:      "127.0.0.1",
		Port:      port,
		JetStream: true,
		StoreDir:  dir,
		NoLog:     true,
		NoSigs:    true,
	})
	if err != nil {
		t.Fatal(err)
	}
	s.Start()
	if !s.ReadyForConnections(10 * time.Second) {
		s.Shutdown()
		t.Fatal("embedded NATS server did not start")
	}
	t.Cleanup(func() {
		s.Shutdown()
		s.WaitForShutdown()
	})
	return s
}

// prefix returns a subject prefix no other test uses, so that tests can
// share a server.
func prefix() string {
	return "kurirtest." + rand.Text()[:12]
}

// logger logs to the test's output until the test ends, and then discards,
// since nats.go may report a connection event from its own goroutine late.
func logger(t testing.TB) *slog.Logger {
	w := &untilEnd{w: t.Output()}
	t.Cleanup(func() {
		w.mu.Lock()
		w.w = nil
		w.mu.Unlock()
	})
	level := slog.LevelDebug
	if _, ok := t.(*testing.B); ok {
		level = slog.LevelWarn // keep benchmark output readable
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: level}))
}

type untilEnd struct {
	mu sync.Mutex
	w  io.Writer // nil once the test has ended
}

func (u *untilEnd) Write(p []byte) (int, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.w == nil {
		return len(p), nil
	}
	return u.w.Write(p)
}

func open(t testing.TB, url string, opts natsbus.Options) *natsbus.Bus {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	b, err := natsbus.Open(ctx, url, logger(t), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

// backend is a bustest.Open on the NATS server at url: each backend is a
// fresh prefix, each node a connection.
func backend(url string) bustest.Open {
	return func(t *testing.T, limits bus.QueueLimits) func() bus.Bus {
		p := prefix()
		return func() bus.Bus { return open(t, url, natsbus.Options{Prefix: p, Queue: limits}) }
	}
}

func TestEmbedded(t *testing.T) {
	s := startServer(t, 0, t.TempDir())
	bustest.Run(t, backend(s.ClientURL()))
}

func TestExternal(t *testing.T) {
	url := os.Getenv(URLEnv)
	if url == "" {
		t.Skip(URLEnv + " is not set; to run the bus suite on an external NATS server too, set it, e.g. " + URLEnv + "=nats://127.0.0.1:4222")
	}
	bustest.Run(t, backend(url))
}

// After the server restarts, every subscription is told that it may have
// lost messages, and delivery resumes.
func TestReconnect(t *testing.T) {
	dir := t.TempDir()
	s := startServer(t, 0, dir)
	port := s.Addr().(*net.TCPAddr).Port
	opts := natsbus.Options{
		Prefix: prefix(),
		NATS:   []nats.Option{nats.ReconnectWait(10 * time.Millisecond), nats.ReconnectJitter(0, 0)},
	}
	sub, pub := open(t, s.ClientURL(), opts), open(t, s.ClientURL(), opts)
	msgs, drops := make(chan string, 100), make(chan int, 100)
	if _, err := sub.Subscribe("re.x", func(m bus.Msg) { msgs <- string(m.Data) }, func(n int) { drops <- n }); err != nil {
		t.Fatal(err)
	}
	publish := func(data string) {
		t.Helper()
		if err := pub.Publish(context.Background(), "re.x", []byte(data)); err != nil {
			t.Fatalf("Publish: %v", err)
		}
	}
	publish("before")
	if got := <-msgs; got != "before" {
		t.Fatalf("received %q, want %q", got, "before")
	}

	s.Shutdown()
	s.WaitForShutdown()
	startServer(t, port, dir)
	// Close the buses before that server stops, rather than have them
	// reconnect until the end.
	t.Cleanup(func() {
		sub.Close()
		pub.Close()
	})

	select {
	case n := <-drops:
		if n != bus.LostUnknown {
			t.Errorf("onDrop(%d) after reconnection, want onDrop(bus.LostUnknown)", n)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("onDrop not called after the server restarted")
	}
	// Publish until one arrives: the publisher reconnects on its own time.
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(20 * time.Second)
	for done := false; !done; {
		select {
		case <-tick.C:
			publish("after")
		case got := <-msgs:
			if got != "after" {
				t.Errorf("received %q, want %q", got, "after")
			}
			done = true
		case <-deadline:
			t.Fatal("no delivery after the server restarted")
		}
	}
}

// Buses with different prefixes on one server do not see each other's events.
func TestPrefixIsolates(t *testing.T) {
	s := startServer(t, 0, t.TempDir())
	p := prefix()
	a := open(t, s.ClientURL(), natsbus.Options{Prefix: p})
	a2 := open(t, s.ClientURL(), natsbus.Options{Prefix: p})
	other := open(t, s.ClientURL(), natsbus.Options{Prefix: prefix()})
	got := make(chan string, 10)
	if _, err := a.Subscribe(">", func(m bus.Msg) { got <- m.Subject + " " + string(m.Data) }, nil); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := other.Publish(ctx, "x", []byte("other deployment")); err != nil {
		t.Fatal(err)
	}
	if err := other.Close(); err != nil { // flushes
		t.Fatal(err)
	}
	if err := a2.Publish(ctx, "x", []byte("same deployment")); err != nil {
		t.Fatal(err)
	}
	if m := <-got; m != "x same deployment" {
		t.Errorf("received %q, want %q", m, "x same deployment")
	}
}

func TestOpenFails(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	// Nothing listens on port 1.
	_, err := natsbus.Open(ctx, "nats://kurir:secret@127.0.0.1:1", nil, natsbus.Options{})
	if err == nil {
		t.Fatal("Open of an unreachable server succeeded")
	}
	if strings.Contains(err.Error(), "secret") {
		t.Errorf("error %q shows the password", err)
	}
	s := startServer(t, 0, t.TempDir())
	if _, err := natsbus.Open(ctx, s.ClientURL(), nil, natsbus.Options{Prefix: "a..b"}); err == nil {
		t.Error("Open with an invalid prefix succeeded")
	}
	if _, err := natsbus.Open(ctx, s.ClientURL(), nil, natsbus.Options{Queue: bus.QueueLimits{Msgs: -1}}); err == nil {
		t.Error("Open with negative queue limits succeeded")
	}
	cancelled, cancel2 := context.WithCancel(ctx)
	cancel2()
	if _, err := natsbus.Open(cancelled, s.ClientURL(), nil, natsbus.Options{}); err == nil {
		t.Error("Open with a cancelled context succeeded")
	}
}

func BenchmarkPublish(b *testing.B) {
	s := startServer(b, 0, b.TempDir())
	opts := natsbus.Options{Prefix: prefix()}
	bustest.BenchPublish(b, open(b, s.ClientURL(), opts), open(b, s.ClientURL(), opts))
}

func BenchmarkLatency(b *testing.B) {
	s := startServer(b, 0, b.TempDir())
	opts := natsbus.Options{Prefix: prefix()}
	bustest.BenchLatency(b, open(b, s.ClientURL(), opts), open(b, s.ClientURL(), opts))
}
