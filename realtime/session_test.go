package realtime

import "testing"

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
