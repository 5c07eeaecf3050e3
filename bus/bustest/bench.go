package bustest

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"kurir/bus"
)

// EventSize is the size of the event the benchmarks publish: about what a
// new-message notification carries.
const EventSize = 200

// BenchPublish benchmarks Publish of an EventSize-byte event from pub to one
// subscription on sub, which may be pub itself. The clock runs until the
// subscriber has received or been told it dropped every message, so ns/op is
// sustained end-to-end throughput; the drops/op metric is the share dropped,
// and allocations are those of the whole process, publisher and subscriber.
func BenchPublish(b *testing.B, pub, sub bus.Bus) {
	var got, dropped atomic.Int64
	var unknown atomic.Bool
	s, err := sub.Subscribe("bench.publish", func(bus.Msg) { got.Add(1) }, func(n int) {
		if n < 0 {
			unknown.Store(true)
		} else {
			dropped.Add(int64(n))
		}
	})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Unsubscribe()
	data := make([]byte, EventSize)
	ctx := context.Background()
	b.SetBytes(EventSize)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if err := pub.Publish(ctx, "bench.publish", data); err != nil {
			b.Fatal(err)
		}
	}
	deadline := time.Now().Add(timeout)
	for got.Load()+dropped.Load() < int64(b.N) {
		if unknown.Load() {
			b.Fatalf("the subscriber lost an unknown number of messages (a reconnection?) after %d received and %d dropped of %d", got.Load(), dropped.Load(), b.N)
		}
		if time.Now().After(deadline) {
			b.Fatalf("timed out: %d received and %d dropped of %d", got.Load(), dropped.Load(), b.N)
		}
		time.Sleep(20 * time.Microsecond)
	}
	b.StopTimer()
	b.ReportMetric(float64(dropped.Load())/float64(b.N), "drops/op")
}

// BenchLatency benchmarks the time from Publish on pub until the handler of
// a subscription on sub, which may be pub itself, has the EventSize-byte
// event, one event at a time.
func BenchLatency(b *testing.B, pub, sub bus.Bus) {
	received := make(chan struct{}, 1)
	lost := make(chan int, 1)
	s, err := sub.Subscribe("bench.latency", func(bus.Msg) { received <- struct{}{} }, func(n int) {
		select {
		case lost <- n:
		default:
		}
	})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Unsubscribe()
	data := make([]byte, EventSize)
	ctx := context.Background()
	deadline := time.NewTimer(time.Minute)
	defer deadline.Stop()
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if err := pub.Publish(ctx, "bench.latency", data); err != nil {
			b.Fatal(err)
		}
		select {
		case <-received:
		case n := <-lost:
			b.Fatalf("onDrop(%d)", n)
		case <-deadline.C:
			b.Fatal("timed out")
		}
	}
}
