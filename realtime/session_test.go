package realtime

import (
	"context"
	"testing"
	"time"

	"kurir/bus"
	"kurir/messaging"
)

// A session that receives a frame now and then, as most do, must not
// allocate for it once it has had a few: fanning a post out to 15,000
// followers would otherwise allocate 15,000 times.
func TestSessionQueueDoesNotAllocateOnceWarm(t *testing.T) {
	h := NewHub(nil, nil, nil, Config{})
	s := h.Register(1, func() {})
	frame := []byte(`{"type":"chat_event"}`)
	cycle := func() {
		h.push(s, frame)
		if frames, _ := s.Take(); len(frames) != 1 {
			t.Fatalf("Take after one push returned %d frames, want 1", len(frames))
		}
		if frames, reason := s.Take(); len(frames) != 0 || reason != "" {
			t.Fatalf("Take of an empty queue = %d frames, reason %q; want nothing", len(frames), reason)
		}
	}
	if allocs := testing.AllocsPerRun(100, cycle); allocs != 0 {
		t.Errorf("a frame pushed to and taken from an idle session allocates %v times, want 0", allocs)
	}
	// A burst grows the queue; once it is drained the session lets the
	// memory go rather than keep room for 256 frames.
	for range 100 {
		h.push(s, frame)
	}
	s.Take()
	s.Take()
	if c := cap(s.queue) + cap(s.taken); c > 2*idleQueue {
		t.Errorf("an idle session after a burst of 100 frames keeps room for %d, want at most %d", c, 2*idleQueue)
	}
}

// TestEndDeviceReachesEveryNode: a logout announced on one node's hub cuts
// the device's live stream held by another node, and leaves its other
// devices alone.
func TestEndDeviceReachesEveryNode(t *testing.T) {
	b := bus.NewMemory(bus.MemoryOptions{})
	defer b.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	a := NewHub(nil, func(messaging.Event) ([]byte, error) { return []byte("{}"), nil }, nil, Config{})
	other := NewHub(nil, func(messaging.Event) ([]byte, error) { return []byte("{}"), nil }, nil, Config{})
	for _, h := range []*Hub{a, other} {
		go h.Run(ctx, b)
	}
	phone := other.RegisterDevice(7, 100, func() {})
	laptop := other.RegisterDevice(7, 200, func() {})
	// Run subscribes asynchronously: announce until the other node hears.
	deadline := time.Now().Add(5 * time.Second)
	for phone.Reason() == "" && time.Now().Before(deadline) {
		a.EndDevice(ctx, 7, 100, 0)
		time.Sleep(20 * time.Millisecond)
	}
	if phone.Reason() != ReasonLoggedOut {
		t.Errorf("the logged-out phone's session on the other node: reason %q, want %q", phone.Reason(), ReasonLoggedOut)
	}
	if laptop.Reason() != "" {
		t.Errorf("the laptop's session was cut too: %q", laptop.Reason())
	}
}
