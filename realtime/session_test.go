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

// TestNotifyDeviceReachesEveryNode: a nudge sent on one node's hub reaches
// the device's live sessions on another node, as the frame {"type":...},
// and no other device of the same user.
func TestNotifyDeviceReachesEveryNode(t *testing.T) {
	b := bus.NewMemory(bus.MemoryOptions{})
	defer b.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	enc := func(messaging.Event) ([]byte, error) { return []byte("{}"), nil }
	a, other := NewHub(nil, enc, nil, Config{}), NewHub(nil, enc, nil, Config{})
	for _, h := range []*Hub{a, other} {
		go h.Run(ctx, b)
	}
	phone := other.RegisterDevice(7, 100, func() {})
	phone2 := other.RegisterDevice(7, 100, func() {}) // the same device twice
	laptop := other.RegisterDevice(7, 200, func() {})
	stranger := other.RegisterDevice(8, 100, func() {})
	// Run subscribes asynchronously: nudge until the other node hears.
	var got [][]byte
	deadline := time.Now().Add(5 * time.Second)
	for len(got) == 0 && time.Now().Before(deadline) {
		a.NotifyDevice(ctx, 7, 100, "secret")
		time.Sleep(20 * time.Millisecond)
		got, _ = phone.Take()
	}
	if len(got) == 0 || string(got[0]) != `{"type":"secret"}` {
		t.Fatalf("the phone's session on the other node got %q, want {\"type\":\"secret\"}", got)
	}
	if f, _ := phone2.Take(); len(f) == 0 || string(f[0]) != `{"type":"secret"}` {
		t.Errorf("the device's second session got %q", f)
	}
	for name, s := range map[string]*Session{"another device": laptop, "another user's device": stranger} {
		if f, reason := s.Take(); len(f) != 0 || reason != "" {
			t.Errorf("%s got %q (%q)", name, f, reason)
		}
	}
}

// TestNotifyDeviceWithoutBus: a hub that runs on no bus nudges its own
// sessions.
func TestNotifyDeviceWithoutBus(t *testing.T) {
	h := NewHub(nil, nil, nil, Config{})
	s := h.RegisterDevice(1, 5, func() {})
	h.NotifyDevice(context.Background(), 1, 5, "secret_keys_low")
	if f, _ := s.Take(); len(f) != 1 || string(f[0]) != `{"type":"secret_keys_low"}` {
		t.Errorf("got %q, want the nudge", f)
	}
}

// TestNudgesDoNotFillTheQueue: a device that has not yet taken a nudge is
// not sent the same nudge again, so a sender who sends it many envelopes
// cannot fill its session's queue and have it cut off as too slow; once the
// nudge is taken, the next one comes.
func TestNudgesDoNotFillTheQueue(t *testing.T) {
	h := NewHub(nil, nil, nil, Config{QueueFrames: 8})
	s := h.RegisterDevice(1, 5, func() {})
	for range 100 {
		h.NotifyDevice(context.Background(), 1, 5, "secret")
		h.NotifyDevice(context.Background(), 1, 5, "secret_keys_low")
	}
	f, reason := s.Take()
	if reason != "" || len(f) != 2 || string(f[0]) != `{"type":"secret"}` || string(f[1]) != `{"type":"secret_keys_low"}` {
		t.Fatalf("after 200 nudges the session got %q (cut off: %q), want each nudge once", f, reason)
	}
	h.NotifyDevice(context.Background(), 1, 5, "secret")
	if f, _ := s.Take(); len(f) != 1 || string(f[0]) != `{"type":"secret"}` {
		t.Errorf("a nudge after the first was taken: got %q, want it", f)
	}
}
