package bus_test

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"kurir"
	"kurir/bus"
	"kurir/bus/bustest"
)

// memoryBackend is a bustest.Open for Memory: every node of a backend is the
// same *Memory, as every part of one process would share it.
func memoryBackend(t *testing.T, limits bus.QueueLimits) func() bus.Bus {
	m := bus.NewMemory(bus.MemoryOptions{Queue: limits})
	t.Cleanup(func() { m.Close() })
	return func() bus.Bus { return m }
}

func TestMemory(t *testing.T) {
	bustest.Run(t, memoryBackend)
}

// blocked subscribes to subject on m with a handler that blocks on its first
// message until release is closed, and returns a channel on which the
// handler's messages and onDrop's reports arrive, as "msg DATA" and "drop N".
func blocked(t *testing.T, m *bus.Memory, subject string) (events <-chan string, entered, release chan struct{}) {
	t.Helper()
	ch := make(chan string, 1000)
	entered, release = make(chan struct{}), make(chan struct{})
	var once sync.Once
	_, err := m.Subscribe(subject, func(msg bus.Msg) {
		once.Do(func() {
			close(entered)
			<-release
		})
		ch <- "msg " + string(msg.Data)
	}, func(n int) { ch <- "drop " + strconv.Itoa(n) })
	if err != nil {
		t.Fatal(err)
	}
	return ch, entered, release
}

func collect(t *testing.T, events <-chan string, n int) []string {
	t.Helper()
	var got []string
	for range n {
		select {
		case e := <-events:
			got = append(got, e)
		case <-time.After(10 * time.Second):
			t.Fatalf("timed out after %q", got)
		}
	}
	return got
}

// Memory delivers synchronously into the queues, so the drop count of a
// blocked subscriber is exact: the in-flight message and queue-1 more are
// kept, the rest dropped and reported before the kept ones are delivered.
func TestMemorySlowSubscriberDropsExactly(t *testing.T) {
	m := bus.NewMemory(bus.MemoryOptions{Queue: bus.QueueLimits{Msgs: 4}})
	defer m.Close()
	events, entered, release := blocked(t, m, "s")
	for i := range 10 {
		if err := m.Publish(context.Background(), "s", []byte(strconv.Itoa(i))); err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			<-entered
		}
	}
	close(release)
	got := collect(t, events, 5)
	want := []string{"msg 0", "drop 6", "msg 1", "msg 2", "msg 3"}
	if !slices.Equal(got, want) {
		t.Errorf("events = %q, want %q", got, want)
	}
}

func TestMemoryQueueBytes(t *testing.T) {
	m := bus.NewMemory(bus.MemoryOptions{Queue: bus.QueueLimits{Msgs: 100, Bytes: 10}})
	defer m.Close()
	events, entered, release := blocked(t, m, "s")
	publish := func(data string) {
		if err := m.Publish(context.Background(), "s", []byte(data)); err != nil {
			t.Fatal(err)
		}
	}
	publish("aaaa") // in flight: 4 bytes
	<-entered
	publish("bbbbbb") // 10 bytes: fits
	publish("c")      // 11 bytes: dropped
	close(release)
	got := collect(t, events, 3)
	if want := []string{"msg aaaa", "drop 1", "msg bbbbbb"}; !slices.Equal(got, want) {
		t.Errorf("events = %q, want %q", got, want)
	}
	// An empty queue takes a message larger than the byte limit.
	publish("dddddddddddddddddddd")
	if got, want := collect(t, events, 1), []string{"msg dddddddddddddddddddd"}; !slices.Equal(got, want) {
		t.Errorf("events = %q, want %q", got, want)
	}
}

func TestMemoryMaxData(t *testing.T) {
	m := bus.NewMemory(bus.MemoryOptions{MaxData: 10})
	defer m.Close()
	if err := m.Publish(context.Background(), "s", make([]byte, 10)); err != nil {
		t.Errorf("Publish of MaxData bytes: %v", err)
	}
	err := m.Publish(context.Background(), "s", make([]byte, 11))
	if kurir.ErrorCode(err) != kurir.EInvalid || kurir.ErrorReason(err) != "too_large" {
		t.Errorf("Publish of MaxData+1 bytes: %v, want EInvalid too_large", err)
	}
}

// Publish copies data once, whatever the number of subscriptions, and does
// not allocate at all when nobody listens.
func TestMemoryPublishAllocs(t *testing.T) {
	m := bus.NewMemory(bus.MemoryOptions{})
	defer m.Close()
	ctx := context.Background()
	data := make([]byte, 200)
	if n := testing.AllocsPerRun(1000, func() { m.Publish(ctx, "chat.1.msg", data) }); n != 0 {
		t.Errorf("Publish with no subscriptions: %v allocations, want 0", n)
	}
	for _, p := range []string{"chat.1.msg", "chat.1.msg", "chat.*.msg", "chat.>", "other.>"} {
		if _, err := m.Subscribe(p, func(bus.Msg) {}, nil); err != nil {
			t.Fatal(err)
		}
	}
	// Let the queues' rings grow first.
	for range 100 {
		m.Publish(ctx, "chat.1.msg", data)
	}
	if n := testing.AllocsPerRun(1000, func() { m.Publish(ctx, "chat.1.msg", data) }); n > 1 {
		t.Errorf("Publish to 4 subscriptions: %v allocations, want 1", n)
	}
}

// Queue coalesces the losses reported while its handler is busy.
func TestQueueLost(t *testing.T) {
	events := make(chan string, 10)
	entered, release := make(chan struct{}), make(chan struct{})
	q, err := bus.NewQueue(func(m bus.Msg) {
		if string(m.Data) == "first" {
			close(entered)
			<-release
		}
		events <- "msg " + string(m.Data)
	}, func(n int) { events <- "drop " + strconv.Itoa(n) }, bus.QueueLimits{})
	if err != nil {
		t.Fatal(err)
	}
	defer q.Stop()
	q.Push(bus.Msg{Data: []byte("first")})
	<-entered
	q.Lost(3)
	q.Lost(bus.LostUnknown)
	q.Lost(2)
	q.Push(bus.Msg{Data: []byte("second")})
	close(release)
	got := collect(t, events, 4)
	if want := []string{"msg first", "drop 5", "drop -1", "msg second"}; !slices.Equal(got, want) {
		t.Errorf("events = %q, want %q", got, want)
	}
}

func TestQueueStop(t *testing.T) {
	var mu sync.Mutex
	calls := 0
	q, err := bus.NewQueue(func(bus.Msg) { mu.Lock(); calls++; mu.Unlock() }, nil, bus.QueueLimits{})
	if err != nil {
		t.Fatal(err)
	}
	for range 1000 {
		q.Push(bus.Msg{})
	}
	q.Stop()
	mu.Lock()
	n := calls
	mu.Unlock()
	if q.Push(bus.Msg{}) {
		t.Error("Push after Stop = true, want false")
	}
	q.Lost(1)
	q.Stop() // idempotent
	mu.Lock()
	defer mu.Unlock()
	if calls != n {
		t.Errorf("handler called %d times after Stop returned", calls-n)
	}
}

func TestQueueLimitsInvalid(t *testing.T) {
	if _, err := bus.NewQueue(func(bus.Msg) {}, nil, bus.QueueLimits{Msgs: -1}); kurir.ErrorCode(err) != kurir.EInvalid {
		t.Errorf("NewQueue with negative limits: %v, want EInvalid", err)
	}
}

func ExampleMemory() {
	b := bus.NewMemory(bus.MemoryOptions{})
	defer b.Close()
	done := make(chan struct{})
	b.Subscribe("chat.*.msg", func(m bus.Msg) {
		fmt.Printf("%s: %s\n", m.Subject, m.Data)
		close(done)
	}, func(n int) {
		fmt.Println("lost", n, "events; resync")
	})
	b.Publish(context.Background(), "chat.7.typing", []byte("ignored"))
	b.Publish(context.Background(), "chat.7.msg", []byte("seq=42"))
	<-done
	// Output: chat.7.msg: seq=42
}

func BenchmarkMemoryPublish(b *testing.B) {
	m := bus.NewMemory(bus.MemoryOptions{})
	defer m.Close()
	bustest.BenchPublish(b, m, m)
}

func BenchmarkMemoryLatency(b *testing.B) {
	m := bus.NewMemory(bus.MemoryOptions{})
	defer m.Close()
	bustest.BenchLatency(b, m, m)
}

// BenchmarkMemoryPublishManySubscriptions measures how Publish scales with
// subscriptions that do not match: 10,000 literal patterns cost one map
// lookup, 10,000 wildcard patterns one test each. Nothing is delivered.
func BenchmarkMemoryPublishManySubscriptions(b *testing.B) {
	for _, tt := range []struct{ name, format string }{
		{"literal", "chat.%d.msg"},
		{"wildcard", "chat.%d.*"},
	} {
		b.Run(tt.name, func(b *testing.B) {
			m := bus.NewMemory(bus.MemoryOptions{})
			defer m.Close()
			for i := range 10000 {
				if _, err := m.Subscribe(fmt.Sprintf(tt.format, i), func(bus.Msg) {}, nil); err != nil {
					b.Fatal(err)
				}
			}
			data := make([]byte, bustest.EventSize)
			ctx := context.Background()
			b.ReportAllocs()
			b.SetBytes(bustest.EventSize)
			for b.Loop() {
				m.Publish(ctx, "chat.none.msg", data)
			}
		})
	}
}

// BenchmarkMemoryPublishParallel measures Publish from every CPU at once to
// subjects with one subscription each, whose handlers keep up.
func BenchmarkMemoryPublishParallel(b *testing.B) {
	m := bus.NewMemory(bus.MemoryOptions{})
	defer m.Close()
	if _, err := m.Subscribe("chat.*.msg", func(bus.Msg) {}, nil); err != nil {
		b.Fatal(err)
	}
	data := make([]byte, bustest.EventSize)
	ctx := context.Background()
	b.ReportAllocs()
	b.SetBytes(bustest.EventSize)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			m.Publish(ctx, "chat.1.msg", data)
		}
	})
}
