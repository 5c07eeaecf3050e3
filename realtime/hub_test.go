package realtime_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"kurir"
	"kurir/bus"
	"kurir/httpapi"
	"kurir/messaging"
	"kurir/realtime"
)

// The hub is tested as `kurir serve` runs it: on a real in-process bus, fed
// the JSON of messaging.Notice exactly as messaging publishes it, rendering
// events with the API's own encoder. Nothing here sleeps: "gets nothing" is
// checked after a barrier notice has come through, which the bus orders
// after everything published before it.

// harness is a running hub on its own bus and metrics registry.
type harness struct {
	tb      testing.TB
	bus     *bus.Memory
	hub     *realtime.Hub
	reg     *prometheus.Registry
	encodes atomic.Int64 // calls of the event encoder
	barrier atomic.Int64 // seq of the last barrier notice
}

type options struct {
	cfg    realtime.Config
	queue  bus.QueueLimits       // the hub's bus subscription
	encode realtime.EventEncoder // default httpapi.EncodeEvent
	log    *slog.Logger          // default: warnings and errors to the test's output
}

// start runs a hub until the test ends; it returns once the hub's bus
// subscription is active, so that everything published afterwards reaches it.
func start(tb testing.TB, o options) *harness {
	tb.Helper()
	h := &harness{tb: tb, bus: bus.NewMemory(bus.MemoryOptions{Queue: o.queue}), reg: prometheus.NewRegistry()}
	encode := o.encode
	if encode == nil {
		encode = httpapi.EncodeEvent
	}
	log := o.log
	if log == nil {
		log = slog.New(slog.NewTextHandler(tb.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	h.hub = realtime.NewHub(log, func(e messaging.Event) ([]byte, error) {
		h.encodes.Add(1)
		return encode(e)
	}, h.reg, o.cfg)

	ready := &readyBus{Bus: h.bus, ready: make(chan struct{})}
	ran := make(chan error, 1)
	go func() { ran <- h.hub.Run(tb.Context(), ready) }()
	tb.Cleanup(func() {
		// tb.Context is cancelled before cleanups run.
		if err := <-ran; err != nil {
			tb.Errorf("Run returned %v, want nil once its context ends", err)
		}
		h.bus.Close()
	})
	select {
	case <-ready.ready:
	case err := <-ran:
		tb.Fatalf("Run returned before subscribing: %v", err)
	case <-time.After(5 * time.Second):
		tb.Fatal("Run did not subscribe to the bus within 5s")
	}
	return h
}

// readyBus is the harness's bus, reporting when the hub has subscribed.
type readyBus struct {
	bus.Bus
	ready chan struct{}
	once  sync.Once
}

// Subscribe reports ready once the hub has subscribed to chat events, its
// first subscription.
func (b *readyBus) Subscribe(pattern string, h bus.Handler, onDrop func(int)) (bus.Subscription, error) {
	sub, err := b.Bus.Subscribe(pattern, h, onDrop)
	if err == nil {
		b.once.Do(func() { close(b.ready) })
	}
	return sub, err
}

// publish announces n as messaging.Service does after a commit. It is safe
// to call from any goroutine.
func (h *harness) publish(n messaging.Notice) {
	data, err := json.Marshal(n)
	if err == nil {
		err = h.bus.Publish(context.Background(), messaging.Subject(n.Event.ChatID), data)
	}
	if err != nil {
		h.tb.Errorf("publish chat %d seq %d: %v", n.Event.ChatID, n.Event.Seq, err)
	}
}

// barrierUser and barrierChat are used by nothing but settle.
const (
	barrierUser kurir.UserID     = 1 << 40
	barrierChat messaging.ChatID = 1 << 40
)

// settle returns once the hub has handled everything published before it was
// called: it sends a notice to a session of its own and waits for it.
func (h *harness) settle() {
	h.tb.Helper()
	s := h.register(barrierUser)
	defer h.hub.Unregister(s.Session)
	seq := h.barrier.Add(1)
	h.publish(small(post(barrierChat, seq), to(barrierUser, seq)))
	if f := next(h.tb, s); f.seq != seq {
		h.tb.Fatalf("barrier frame seq = %d, want %d", f.seq, seq)
	}
}

// metric is the value of the gauge or counter name with the given label
// values, or 0 if it has not been set.
func (h *harness) metric(name string, labels ...string) float64 {
	h.tb.Helper()
	families, err := h.reg.Gather()
	if err != nil {
		h.tb.Fatalf("gather metrics: %v", err)
	}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			var values []string
			for _, l := range m.GetLabel() {
				values = append(values, l.GetValue())
			}
			if !slices.Equal(values, labels) {
				continue
			}
			if m.GetGauge() != nil {
				return m.GetGauge().GetValue()
			}
			return m.GetCounter().GetValue()
		}
	}
	return 0
}

func (h *harness) wantMetric(name string, want float64, labels ...string) {
	h.tb.Helper()
	if got := h.metric(name, labels...); got != want {
		h.tb.Errorf("%s%q = %v, want %v", name, labels, got, want)
	}
}

func at() time.Time { return time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC) }

// post is a new message in chat, the chat's change number seq.
func post(chat messaging.ChatID, seq int64) messaging.Event {
	return messaging.Event{
		ChatID: chat, Seq: seq, Kind: messaging.EventMessage, ActorID: 1, MessageSeq: seq, At: at(),
		Message: &messaging.Message{ChatID: chat, Seq: seq, SenderID: 1, Text: "Guten Morgen 👋", CreatedAt: at()},
	}
}

func to(u kurir.UserID, pts int64) messaging.Recipient { return messaging.Recipient{User: u, PTS: pts} }

// small is the notice of a change to a private chat or small group.
func small(ev messaging.Event, to ...messaging.Recipient) messaging.Notice {
	return messaging.Notice{Event: ev, To: to}
}

// large is the notice of a change to a large group or channel.
func large(ev messaging.Event) messaging.Notice { return messaging.Notice{Event: ev, Large: true} }

// frame is a decoded live frame.
type frame struct {
	raw   []byte
	keys  []string // its fields, sorted
	typ   string
	pts   int64
	event json.RawMessage
	seq   int64 // event.seq
}

func (f frame) String() string { return string(f.raw) }

func decodeFrame(tb testing.TB, raw []byte) frame {
	tb.Helper()
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil {
		tb.Fatalf("frame %s is not a JSON object: %v", raw, err)
	}
	f := frame{raw: raw, event: fields["event"]}
	for k := range fields {
		f.keys = append(f.keys, k)
	}
	slices.Sort(f.keys)
	var ev struct {
		Seq int64 `json:"seq"`
	}
	if err := errors.Join(json.Unmarshal(fields["type"], &f.typ), json.Unmarshal(fields["event"], &ev)); err != nil {
		tb.Fatalf("frame %s: %v", raw, err)
	}
	if p, ok := fields["pts"]; ok {
		if err := json.Unmarshal(p, &f.pts); err != nil {
			tb.Fatalf("frame %s: pts: %v", raw, err)
		}
	}
	f.seq = ev.Seq
	return f
}

// session is a session the test owns, as the live endpoint owns one: its
// wake function signals woken, and taken holds the frames taken from the hub
// that the test has not looked at yet.
type session struct {
	*realtime.Session
	woken chan struct{}
	taken [][]byte
}

// register registers a session for u, owned by the test.
func (h *harness) register(u kurir.UserID) *session {
	woken := make(chan struct{}, 1)
	s := &session{woken: woken}
	s.Session = h.hub.Register(u, func() {
		select {
		case woken <- struct{}{}:
		default:
		}
	})
	return s
}

// take moves the frames queued for s to s.taken, and returns how many it
// moved and why s was cut off, if it was.
func (s *session) take() (n int, reason string) {
	frames, reason := s.Take()
	s.taken = append(s.taken, frames...)
	return len(frames), reason
}

// wait waits up to 5s for the hub to wake s, after a take that found nothing.
func (s *session) wait(tb testing.TB, want string) {
	tb.Helper()
	select {
	case <-s.woken:
	case <-time.After(5 * time.Second):
		tb.Fatalf("session of user %d: no %s within 5s", s.User, want)
	}
}

// next is the session's next frame; it fails if none comes within 5s or the
// session is cut off.
func next(tb testing.TB, s *session) frame {
	tb.Helper()
	for len(s.taken) == 0 {
		n, reason := s.take()
		switch {
		case n > 0:
		case reason != "":
			tb.Fatalf("session of user %d was cut off (%q), want a frame", s.User, reason)
		default:
			s.wait(tb, "frame")
		}
	}
	raw := s.taken[0]
	s.taken = s.taken[1:]
	return decodeFrame(tb, raw)
}

// waitCut returns why s was cut off; it fails if that does not happen
// within 5s. Frames queued before the cut-off stay in s.taken.
func waitCut(tb testing.TB, s *session) string {
	tb.Helper()
	for {
		n, reason := s.take()
		if reason != "" {
			return reason
		}
		if n == 0 {
			s.wait(tb, "cut-off")
		}
	}
}

// encoded is ev as the API renders it.
func encoded(tb testing.TB, ev messaging.Event) []byte {
	tb.Helper()
	b, err := httpapi.EncodeEvent(ev)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

func wantUpdate(tb testing.TB, s *session, pts int64, ev messaging.Event) {
	tb.Helper()
	f := next(tb, s)
	if f.typ != "update" || f.pts != pts || !slices.Equal(f.keys, []string{"event", "pts", "type"}) || !bytes.Equal(f.event, encoded(tb, ev)) {
		tb.Errorf("user %d got frame\n%s\nwant\n{\"type\":\"update\",\"pts\":%d,\"event\":%s}", s.User, f, pts, encoded(tb, ev))
	}
}

func wantChatEvent(tb testing.TB, s *session, ev messaging.Event) {
	tb.Helper()
	f := next(tb, s)
	if f.typ != "chat_event" || !slices.Equal(f.keys, []string{"event", "type"}) || !bytes.Equal(f.event, encoded(tb, ev)) {
		tb.Errorf("user %d got frame\n%s\nwant\n{\"type\":\"chat_event\",\"event\":%s}", s.User, f, encoded(tb, ev))
	}
}

// wantNothing checks that the sessions have no frame queued and are not cut
// off. Call it after harness.settle.
func wantNothing(tb testing.TB, sessions ...*session) {
	tb.Helper()
	for _, s := range sessions {
		_, reason := s.take()
		if n := len(s.taken); n > 0 {
			tb.Errorf("user %d has %d frames queued, the first %s; want none", s.User, n, s.taken[0])
		}
		if reason != "" {
			tb.Errorf("user %d was cut off (%q); want it connected", s.User, reason)
		}
	}
}

func TestSmallChatNoticeReachesEachRecipientWithTheirPTS(t *testing.T) {
	h := start(t, options{})
	u1 := []*session{h.register(1), h.register(1)} // two devices
	u2 := []*session{h.register(2), h.register(2)}
	u3 := h.register(3)

	ev := post(10, 7)
	h.publish(small(ev, to(1, 5), to(2, 9)))
	for _, s := range u1 {
		wantUpdate(t, s, 5, ev)
	}
	for _, s := range u2 {
		wantUpdate(t, s, 9, ev)
	}
	h.settle()
	wantNothing(t, append(append(u1, u2...), u3)...)
	h.wantMetric("kurir_live_frames_total", 4+1) // and the barrier's
}

func TestLargeChatEventReachesOnlyFollowers(t *testing.T) {
	h := start(t, options{})
	fans := []*session{h.register(1), h.register(1), h.register(2)}
	for _, s := range fans {
		h.hub.Follow(s.Session, 100, 300)
	}
	elsewhere := h.register(3)
	h.hub.Follow(elsewhere.Session, 200)
	idle := h.register(4)

	ev := post(100, 41)
	h.publish(large(ev))
	for _, s := range fans {
		wantChatEvent(t, s, ev)
	}
	h.settle()
	wantNothing(t, append(fans, elsewhere, idle)...)
}

func TestLargeChatEventIsEncodedOnce(t *testing.T) {
	h := start(t, options{})
	var fans []*session
	for u := range kurir.UserID(500) {
		s := h.register(u + 1)
		h.hub.Follow(s.Session, 100)
		fans = append(fans, s)
	}
	before := h.encodes.Load()
	ev := post(100, 1)
	h.publish(large(ev))
	for _, s := range fans {
		wantChatEvent(t, s, ev)
	}
	if got := h.encodes.Load() - before; got != 1 {
		t.Errorf("a post to 500 followers was encoded %d times, want once", got)
	}
}

func TestLargeChatMembershipChangesWhoFollows(t *testing.T) {
	const chat, other messaging.ChatID = 100, 200
	const admin, u3, u4 kurir.UserID = 1, 3, 4
	tests := []struct {
		name      string
		following bool // u3's sessions follow chat before ev
		ev        messaging.Event
		wantLater bool // u3 receives the chat's next post
	}{
		{"join", false, messaging.Event{Kind: messaging.EventJoin, ActorID: u3, UserID: u3}, true},
		{"added by an admin", false, messaging.Event{Kind: messaging.EventJoin, ActorID: admin, UserID: u3}, true},
		{"create", false, messaging.Event{Kind: messaging.EventCreate, ActorID: u3}, true},
		{"leave", true, messaging.Event{Kind: messaging.EventLeave, ActorID: u3, UserID: u3}, false},
		{"removed by an admin", true, messaging.Event{Kind: messaging.EventRemove, ActorID: admin, UserID: u3}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := start(t, options{})
			adm := h.register(admin)
			h.hub.Follow(adm.Session, chat)
			mine := []*session{h.register(u3), h.register(u3)}
			for _, s := range mine {
				h.hub.Follow(s.Session, other)
				if tt.following {
					h.hub.Follow(s.Session, chat)
				}
			}
			bystander := h.register(u4)

			ev := tt.ev
			ev.ChatID, ev.Seq, ev.At = chat, 5, at()
			h.publish(large(ev))
			later := post(chat, 6)
			h.publish(large(later))
			elsewhere := post(other, 77)
			h.publish(large(elsewhere))

			// u3's devices see the membership change itself either way.
			for _, s := range mine {
				wantChatEvent(t, s, ev)
				if tt.wantLater {
					wantChatEvent(t, s, later)
				}
				wantChatEvent(t, s, elsewhere)
			}
			wantChatEvent(t, adm, ev)
			wantChatEvent(t, adm, later)
			h.settle()
			wantNothing(t, append(mine, adm, bystander)...)
		})
	}
}

// The endpoint registers a session, reads the user's sync state, then
// Follows the large chats it lists. A leave or removal the hub handles in
// between must stick: the state that still lists the chat is stale.
func TestFollowAfterStaleStateDoesNotUndoALeave(t *testing.T) {
	const chat messaging.ChatID = 100
	const u3 kurir.UserID = 3
	tests := []struct {
		name      string
		between   []messaging.EventKind // handled after Register, before Follow
		wantLater bool                  // the session receives the chat's next post
	}{
		{"nothing", nil, true},
		{"leave", []messaging.EventKind{messaging.EventLeave}, false},
		{"removed", []messaging.EventKind{messaging.EventRemove}, false},
		{"leave, then join again", []messaging.EventKind{messaging.EventLeave, messaging.EventJoin}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := start(t, options{})
			s := h.register(u3)
			seq := int64(10)
			// The sync state is read here: u3 is a member of chat.
			for _, kind := range tt.between {
				seq++
				ev := messaging.Event{ChatID: chat, Seq: seq, Kind: kind, ActorID: u3, UserID: u3, At: at()}
				h.publish(large(ev))
				if kind == messaging.EventJoin {
					wantChatEvent(t, s, ev)
				}
			}
			h.settle()
			h.hub.Follow(s.Session, chat) // from the state read before the events
			later := post(chat, seq+1)
			h.publish(large(later))
			if tt.wantLater {
				wantChatEvent(t, s, later)
			}
			h.settle()
			wantNothing(t, s)
		})
	}
}

func TestLargeEventMakesRecipientsFollow(t *testing.T) {
	h := start(t, options{})
	u1 := []*session{h.register(1), h.register(1)}
	u2 := h.register(2)
	u3 := h.register(3)

	// The group passed the size threshold: from now on it is synced by seq.
	grew := messaging.Event{ChatID: 7, Seq: 40, Kind: messaging.EventLarge, At: at()}
	h.publish(small(grew, to(1, 12), to(2, 4)))
	ev := post(7, 41)
	h.publish(large(ev))

	for _, s := range u1 {
		wantUpdate(t, s, 12, grew)
		wantChatEvent(t, s, ev)
	}
	wantUpdate(t, u2, 4, grew)
	wantChatEvent(t, u2, ev)
	h.settle()
	wantNothing(t, append(u1, u2, u3)...)
}

func TestNoticesArriveInPublishedOrder(t *testing.T) {
	const n = 1000
	h := start(t, options{cfg: realtime.Config{QueueFrames: n}})
	s := h.register(1)
	h.hub.Follow(s.Session, 2)

	// Alternate a private chat and a channel: order holds across chats too.
	var wg sync.WaitGroup
	defer wg.Wait()
	wg.Go(func() {
		for i := range int64(n) {
			if i%2 == 0 {
				h.publish(small(post(1, i+1), to(1, i+1)))
			} else {
				h.publish(large(post(2, i+1)))
			}
		}
	})
	for i := range int64(n) {
		f := next(t, s)
		wantType, wantPTS := "chat_event", int64(0)
		if i%2 == 0 {
			wantType, wantPTS = "update", i+1
		}
		if f.typ != wantType || f.seq != i+1 || f.pts != wantPTS {
			t.Fatalf("frame %d = %s, want a %s of seq %d", i, f, wantType, i+1)
		}
	}
}

// The live endpoint has a goroutine for a session only while it has frames
// to send. So the hub wakes a session's owner once when frames come after
// the owner found the queue empty, never while the owner is still taking,
// and never after Unregister.
func TestSessionWakesItsOwnerOnlyWhenItStoppedTaking(t *testing.T) {
	h := start(t, options{})
	var wakes atomic.Int64
	s := h.hub.Register(1, func() { wakes.Add(1) })
	send := func(pts int64) { h.publish(small(post(5, pts), to(1, pts))) }
	wantWakes := func(when string, want int64) {
		t.Helper()
		if got := wakes.Load(); got != want {
			t.Errorf("%s: woken %d times, want %d", when, got, want)
		}
	}
	wantTake := func(when string, pts ...int64) {
		t.Helper()
		frames, reason := s.Take()
		var got []int64
		for _, raw := range frames {
			got = append(got, decodeFrame(t, raw).pts)
		}
		if !slices.Equal(got, pts) || reason != "" {
			t.Errorf("%s: Take = frames of pts %v, reason %q; want pts %v and no reason", when, got, reason, pts)
		}
	}

	send(1)
	h.settle()
	wantWakes("a frame before the owner first took", 0)
	wantTake("first take", 1)
	send(2)
	h.settle()
	wantWakes("a frame while the owner is taking", 0)
	wantTake("second take", 2)
	wantTake("take of an empty queue")
	send(3)
	send(4)
	h.settle()
	wantWakes("two frames after the owner found the queue empty", 1)
	wantTake("take after the wake", 3, 4)
	wantTake("take of an empty queue")
	h.hub.Unregister(s)
	send(5)
	h.settle()
	wantWakes("a frame after Unregister", 1)
}

func TestSlowSessionIsCutOffAlone(t *testing.T) {
	const queue = 4
	h := start(t, options{cfg: realtime.Config{QueueFrames: queue}})
	slow := h.register(1) // never reads
	fast := h.register(2)

	for i := range int64(10) {
		h.publish(small(post(5, i+1), to(1, i+1), to(2, i+1)))
		// The hub queues for recipients in order, so once fast has its
		// frame, slow's fate for this notice is settled.
		wantUpdate(t, fast, i+1, post(5, i+1))
		switch {
		case i+1 <= queue && slow.Reason() != "":
			t.Fatalf("slow session cut off (%q) with %d frames due, want it kept until more than %d", slow.Reason(), i+1, queue)
		case i+1 > queue && slow.Reason() == "":
			t.Fatalf("slow session still connected with %d frames due, want it cut off past %d", i+1, queue)
		}
	}
	// What was queued before the cut is intact, for the device to take
	// before its resync, and Take says why.
	frames, r := slow.Take()
	if !strings.Contains(r, "slow") || !strings.Contains(r, "sync") {
		t.Errorf("slow session's reason = %q, want it to say it was too slow and must sync", r)
	}
	if len(frames) != queue {
		t.Errorf("slow session has %d frames queued, want the %d from before the cut-off", len(frames), queue)
	}
	for i, raw := range frames {
		if f := decodeFrame(t, raw); f.pts != int64(i+1) {
			t.Errorf("slow session's queued frame %d = %s, want pts %d", i, f, i+1)
		}
	}
	h.wantMetric("kurir_live_cutoffs_total", 1, "slow")
	h.wantMetric("kurir_live_cutoffs_total", 0, "bus")
}

// gatedEncoder holds up the first event of chat until release is closed, so
// that the hub's bus queue backs up.
type gatedEncoder struct {
	chat             messaging.ChatID
	entered, release chan struct{}
	once             sync.Once
}

func (g *gatedEncoder) encode(ev messaging.Event) ([]byte, error) {
	if ev.ChatID == g.chat {
		g.once.Do(func() {
			close(g.entered)
			<-g.release
		})
	}
	return httpapi.EncodeEvent(ev)
}

func TestBusLossCutsEverySession(t *testing.T) {
	g := &gatedEncoder{chat: 666, entered: make(chan struct{}), release: make(chan struct{})}
	// A bus queue of one message: while the hub handles one, the next is lost.
	h := start(t, options{queue: bus.QueueLimits{Msgs: 1}, encode: g.encode})
	sessions := []*session{h.register(1), h.register(1), h.register(2), h.register(3)}
	h.hub.Follow(sessions[2].Session, 100)

	h.publish(small(post(666, 1), to(1, 1)))
	select {
	case <-g.entered:
	case <-time.After(5 * time.Second):
		t.Fatal("hub did not take the first notice within 5s")
	}
	h.publish(large(post(100, 1))) // lost: the bus's queue is full
	close(g.release)

	for i, s := range sessions {
		if r := waitCut(t, s); !strings.Contains(r, "lost") || !strings.Contains(r, "sync") {
			t.Errorf("session %d's reason = %q, want it to say events were lost and it must sync", i, r)
		}
	}
	h.wantMetric("kurir_live_cutoffs_total", float64(len(sessions)), "bus")
	h.wantMetric("kurir_live_cutoffs_total", 0, "slow")

	// The device reconnects, and the hub serves it as before.
	again := h.register(2)
	ev := post(5, 2)
	h.publish(small(ev, to(2, 2)))
	wantUpdate(t, again, 2, ev)
}

func TestUnregisteredSessionGetsNothingMore(t *testing.T) {
	h := start(t, options{})
	gone, stays := h.register(1), h.register(1)
	h.hub.Follow(gone.Session, 100)
	h.hub.Follow(stays.Session, 100)
	if n := h.hub.Sessions(); n != 2 {
		t.Fatalf("Sessions() = %d, want 2", n)
	}
	h.wantMetric("kurir_live_sessions", 2)

	h.hub.Unregister(gone.Session)
	if n := h.hub.Sessions(); n != 1 {
		t.Errorf("after Unregister, Sessions() = %d, want 1", n)
	}
	h.wantMetric("kurir_live_sessions", 1)

	priv, chan1 := post(5, 1), post(100, 1)
	h.publish(small(priv, to(1, 1)))
	h.publish(large(chan1))
	wantUpdate(t, stays, 1, priv)
	wantChatEvent(t, stays, chan1)
	h.settle()
	if frames, reason := gone.Take(); len(frames) > 0 || reason != "closed" {
		t.Errorf("unregistered session has %d frames and reason %q, want none and \"closed\"", len(frames), reason)
	}

	h.hub.Unregister(gone.Session) // twice is harmless
	if n := h.hub.Sessions(); n != 1 {
		t.Errorf("after a second Unregister, Sessions() = %d, want 1", n)
	}
	h.wantMetric("kurir_live_sessions", 1)
	h.hub.Unregister(stays.Session)
	if n := h.hub.Sessions(); n != 0 {
		t.Errorf("after the last Unregister, Sessions() = %d, want 0", n)
	}
	h.wantMetric("kurir_live_sessions", 0)
	h.wantMetric("kurir_live_cutoffs_total", 0, "slow") // closing is not a cutoff
}

func TestConcurrentSessionsWhileNoticesFlow(t *testing.T) {
	const (
		observer  kurir.UserID = 1
		watched                = messaging.ChatID(1) // a channel the observer follows
		users                  = 16
		notices                = 1000
		churners               = 8
		lifetimes              = 100 // sessions each churner opens and closes
	)
	h := start(t, options{cfg: realtime.Config{QueueFrames: 2 * notices}})
	obs := h.register(observer)
	h.hub.Follow(obs.Session, watched)

	var wg sync.WaitGroup
	var want []int64 // seqs the observer should get, in order
	wg.Go(func() {
		r := rand.New(rand.NewPCG(1, 1))
		for i := range int64(notices) {
			seq := i + 1
			chat := messaging.ChatID(1 + r.IntN(4))
			switch r.IntN(4) {
			case 0: // a private chat between two users
				a, b := kurir.UserID(1+r.IntN(users)), kurir.UserID(1+r.IntN(users))
				if a == observer || b == observer {
					want = append(want, seq)
				}
				h.publish(small(post(10+chat, seq), to(a, seq), to(b, seq)))
			case 1: // someone (never the observer) joins or leaves a channel
				kind := messaging.EventJoin
				if r.IntN(2) == 0 {
					kind = messaging.EventLeave
				}
				u := kurir.UserID(2 + r.IntN(users-1))
				if chat == watched {
					want = append(want, seq)
				}
				h.publish(large(messaging.Event{ChatID: chat, Seq: seq, Kind: kind, ActorID: u, UserID: u, At: at()}))
			default: // a channel post
				if chat == watched {
					want = append(want, seq)
				}
				h.publish(large(post(chat, seq)))
			}
		}
	})
	for c := range churners {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(2, uint64(c)))
			for range lifetimes {
				s := h.register(kurir.UserID(2 + r.IntN(users-1)))
				h.hub.Follow(s.Session, messaging.ChatID(1+r.IntN(4)), messaging.ChatID(1+r.IntN(4)))
				for range r.IntN(3) {
					s.Take()
				}
				h.hub.Unregister(s.Session)
				_ = h.hub.Sessions()
			}
		})
	}
	wg.Wait()
	h.settle()

	var got []int64
	obs.take()
	for _, raw := range obs.taken {
		got = append(got, decodeFrame(t, raw).seq)
	}
	obs.taken = nil
	if !slices.Equal(got, want) {
		t.Errorf("observer got %d frames, want %d; got seqs %v, want %v", len(got), len(want), got, want)
	}
	wantNothing(t, obs)
	if n := h.hub.Sessions(); n != 1 {
		t.Errorf("Sessions() = %d after every churned session closed, want 1 (the observer)", n)
	}
	h.wantMetric("kurir_live_sessions", 1)
}

// syncBuffer is a log destination safe for the hub's goroutine to write.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func TestBadBusDataIsLoggedAndSkipped(t *testing.T) {
	const unrenderable messaging.ChatID = 13
	var logs syncBuffer
	h := start(t, options{
		log: slog.New(slog.NewTextHandler(&logs, nil)),
		encode: func(ev messaging.Event) ([]byte, error) {
			if ev.ChatID == unrenderable {
				return nil, errors.New("cannot render this event")
			}
			return httpapi.EncodeEvent(ev)
		},
	})
	s := h.register(1)
	h.hub.Follow(s.Session, unrenderable)
	unrenderableNotice, err := json.Marshal(small(post(unrenderable, 1), to(1, 1)))
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name    string
		subject string
		data    string
		wantLog string
	}{
		{"not JSON", "chat.1", `{"event":`, "undecodable event on the bus"},
		{"wrong types", "chat.1", `{"event":{"ChatID":"one"},"to":[{"user":1,"pts":1}]}`, "undecodable event on the bus"},
		{"not an object", "chat.1", `[1,2,3]`, "undecodable event on the bus"},
		{"encoder fails", "chat.13", string(unrenderableNotice), "encode live event"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := h.bus.Publish(t.Context(), tt.subject, []byte(tt.data)); err != nil {
				t.Fatal(err)
			}
			// The hub goes on: the next notice is the next frame.
			ev := post(2, int64(i+1))
			h.publish(small(ev, to(1, int64(i+1))))
			wantUpdate(t, s, int64(i+1), ev)
			if !strings.Contains(logs.String(), tt.wantLog) {
				t.Errorf("log = %q, want it to mention %q", logs.String(), tt.wantLog)
			}
		})
	}
	wantNothing(t, s)
}

func TestRunFailsOnAClosedBus(t *testing.T) {
	b := bus.NewMemory(bus.MemoryOptions{})
	b.Close()
	hub := realtime.NewHub(nil, httpapi.EncodeEvent, nil, realtime.Config{})
	err := hub.Run(t.Context(), b)
	if !errors.Is(err, bus.ErrClosed) {
		t.Errorf("Run on a closed bus = %v, want %v", err, bus.ErrClosed)
	}
}
