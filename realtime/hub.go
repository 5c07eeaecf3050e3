// Package realtime pushes committed changes to the devices connected to this
// node. A Hub keeps the node's live sessions, indexed by user and by the large
// chats they follow; it subscribes to the bus once and fans each change out
// to its local sessions, encoding the event once however many receive it.
//
// A session has a bounded queue of frames. A device that reads too slowly to
// keep up is cut off with a resync reason rather than growing memory without
// bound; so is every session when the bus reports lost events. Either way the
// device reconnects and heals the gap by sequence numbers, so nothing is lost.
//
// The wire protocol (JSON text frames) is:
//
//	{"type":"hello","pts":N,"large_chats":[{"chat_id":C,"seq":S},...]}   first frame
//	{"type":"update","pts":N,"event":{...}}   a change in a private chat or small group, numbered in the user's log
//	{"type":"chat_event","event":{...}}       a change in a large group or channel; event.seq is the chat's
//	{"type":"resync","reason":"..."}          events were lost: sync, then reconnect
//
// Lock order: Hub.mu, then nothing. Session.queue is a channel.
package realtime

import (
	"context"
	"encoding/json"
	"log/slog"
	"strconv"
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"kurir"
	"kurir/bus"
	"kurir/messaging"
)

// EventEncoder renders an event as the JSON the API uses for it, so that
// live frames and the sync endpoints show the same thing.
type EventEncoder func(messaging.Event) ([]byte, error)

// Hub is one node's registry of live sessions. It is safe for concurrent use.
type Hub struct {
	log    *slog.Logger
	encode EventEncoder
	queue  int

	mu    sync.RWMutex
	users map[kurir.UserID]map[*Session]struct{}
	chats map[messaging.ChatID]map[*Session]struct{}

	sessions prometheus.Gauge
	cutoffs  *prometheus.CounterVec
	frames   prometheus.Counter
}

// Config tunes a Hub.
type Config struct {
	// QueueFrames bounds each session's unsent frames (default 256); past
	// it the session is cut off with a resync reason.
	QueueFrames int
}

// NewHub returns a Hub. reg receives its metrics.
func NewHub(log *slog.Logger, encode EventEncoder, reg prometheus.Registerer, cfg Config) *Hub {
	if cfg.QueueFrames == 0 {
		cfg.QueueFrames = 256
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	h := &Hub{
		log: log, encode: encode, queue: cfg.QueueFrames,
		users: map[kurir.UserID]map[*Session]struct{}{},
		chats: map[messaging.ChatID]map[*Session]struct{}{},
		sessions: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "kurir_live_sessions", Help: "Live (WebSocket) sessions connected to this node.",
		}),
		cutoffs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kurir_live_cutoffs_total", Help: "Live sessions cut off and told to resync, by reason.",
		}, []string{"reason"}),
		frames: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "kurir_live_frames_total", Help: "Frames queued to live sessions.",
		}),
	}
	if reg != nil {
		reg.MustRegister(h.sessions, h.cutoffs, h.frames)
	}
	return h
}

// Session is one connected device. Its owner reads frames from Frames until
// Done is closed, and writes them to the device in order.
type Session struct {
	User  kurir.UserID
	queue chan []byte
	done  chan struct{}
	once  sync.Once
	// reason says why the session was cut off; set before done is closed.
	reason string
	// chats are the large chats this session follows (guarded by Hub.mu).
	chats map[messaging.ChatID]struct{}
	// left are the large chats the user left or was removed from since the
	// session registered (guarded by Hub.mu; nil until the first): a Follow
	// from sync state read before the leave must not resubscribe them.
	left map[messaging.ChatID]struct{}
}

// Frames is the session's queue of encoded frames, in the order to send them.
func (s *Session) Frames() <-chan []byte { return s.queue }

// Done is closed when the hub cuts the session off; Reason then says why.
func (s *Session) Done() <-chan struct{} { return s.done }

// Reason is why the session was cut off, once Done is closed.
func (s *Session) Reason() string {
	select {
	case <-s.done:
		return s.reason
	default:
		return ""
	}
}

func (s *Session) cut(reason string) bool {
	cut := false
	s.once.Do(func() {
		s.reason = reason
		close(s.done)
		cut = true
	})
	return cut
}

// push queues a frame without blocking; a full queue cuts the session off.
// The caller holds Hub.mu, for reading at least.
func (h *Hub) push(s *Session, frame []byte) {
	select {
	case <-s.done:
		return
	default:
	}
	select {
	case s.queue <- frame:
		h.frames.Inc()
	default:
		if s.cut("too slow: missed updates; sync and reconnect") {
			h.cutoffs.WithLabelValues("slow").Inc()
		}
	}
}

// Register adds a session for user. Call Follow with the user's large chats
// after reading their sync state, and Unregister when the connection ends.
// Frames for user's small chats are queued from the moment Register returns,
// so nothing committed after the state was read is missed.
func (h *Hub) Register(user kurir.UserID) *Session {
	s := &Session{User: user, queue: make(chan []byte, h.queue), done: make(chan struct{}), chats: map[messaging.ChatID]struct{}{}}
	h.mu.Lock()
	set := h.users[user]
	if set == nil {
		set = map[*Session]struct{}{}
		h.users[user] = set
	}
	set[s] = struct{}{}
	h.mu.Unlock()
	h.sessions.Inc()
	return s
}

// Follow makes the session receive the events of these large chats, except
// those the user has left since Register: the state that listed them is stale.
func (h *Hub) Follow(s *Session, chats ...messaging.ChatID) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, c := range chats {
		if _, gone := s.left[c]; !gone {
			h.followLocked(s, c)
		}
	}
}

func (h *Hub) followLocked(s *Session, c messaging.ChatID) {
	set := h.chats[c]
	if set == nil {
		set = map[*Session]struct{}{}
		h.chats[c] = set
	}
	set[s] = struct{}{}
	s.chats[c] = struct{}{}
}

func (h *Hub) unfollowLocked(s *Session, c messaging.ChatID) {
	if set := h.chats[c]; set != nil {
		delete(set, s)
		if len(set) == 0 {
			delete(h.chats, c)
		}
	}
	delete(s.chats, c)
}

// Unregister removes a session; it receives nothing more.
func (h *Hub) Unregister(s *Session) {
	h.mu.Lock()
	if set := h.users[s.User]; set != nil {
		if _, ok := set[s]; ok {
			h.sessions.Dec()
		}
		delete(set, s)
		if len(set) == 0 {
			delete(h.users, s.User)
		}
	}
	for c := range s.chats {
		h.unfollowLocked(s, c)
	}
	h.mu.Unlock()
	s.cut("closed")
}

// Run subscribes to every chat's changes on b and delivers them until ctx
// ends. Events the bus reports lost make every session resync.
func (h *Hub) Run(ctx context.Context, b bus.Bus) error {
	sub, err := b.Subscribe("chat.>", h.deliver, h.lost)
	if err != nil {
		return err
	}
	<-ctx.Done()
	return sub.Unsubscribe()
}

// lost cuts every session off: events they needed are gone.
func (h *Hub) lost(n int) {
	h.log.Warn("live events lost on the bus; sessions will resync", "lost", n)
	h.mu.RLock()
	defer h.mu.RUnlock()
	for _, set := range h.users {
		for s := range set {
			if s.cut("events were lost: sync and reconnect") {
				h.cutoffs.WithLabelValues("bus").Inc()
			}
		}
	}
}

// deliver fans one committed change out to the local sessions it concerns.
func (h *Hub) deliver(m bus.Msg) {
	var n messaging.Notice
	if err := json.Unmarshal(m.Data, &n); err != nil {
		h.log.Error("undecodable event on the bus", "subject", m.Subject, "err", err)
		return
	}
	event, err := h.encode(n.Event)
	if err != nil {
		h.log.Error("encode live event", "chat", n.Event.ChatID, "seq", n.Event.Seq, "err", err)
		return
	}
	ev := n.Event
	if n.Large {
		frame := make([]byte, 0, len(event)+32)
		frame = append(frame, `{"type":"chat_event","event":`...)
		frame = append(frame, event...)
		frame = append(frame, '}')
		membership := ev.Kind == messaging.EventJoin || ev.Kind == messaging.EventCreate ||
			ev.Kind == messaging.EventLeave || ev.Kind == messaging.EventRemove
		if !membership {
			// The common case, a post: only reads the index, so sessions can
			// come and go during a large fan-out.
			h.mu.RLock()
			for s := range h.chats[ev.ChatID] {
				h.push(s, frame)
			}
			h.mu.RUnlock()
			return
		}
		h.mu.Lock()
		// A member who just joined follows the chat from now on (the join is
		// their first event of it); one who left gets their leave, then no more.
		if ev.Kind == messaging.EventJoin || ev.Kind == messaging.EventCreate {
			who := ev.UserID
			if ev.Kind == messaging.EventCreate {
				who = ev.ActorID
			}
			for s := range h.users[who] {
				delete(s.left, ev.ChatID)
				h.followLocked(s, ev.ChatID)
			}
		}
		for s := range h.chats[ev.ChatID] {
			h.push(s, frame)
		}
		if ev.Kind == messaging.EventLeave || ev.Kind == messaging.EventRemove {
			for s := range h.users[ev.UserID] {
				h.unfollowLocked(s, ev.ChatID)
				if s.left == nil {
					s.left = map[messaging.ChatID]struct{}{}
				}
				s.left[ev.ChatID] = struct{}{}
			}
		}
		h.mu.Unlock()
		return
	}
	prefix := []byte(`{"type":"update","pts":`)
	if ev.Kind == messaging.EventLarge {
		h.mu.Lock() // recipients start following the chat
		defer h.mu.Unlock()
	} else {
		h.mu.RLock()
		defer h.mu.RUnlock()
	}
	for _, r := range n.To {
		sessions := h.users[r.User]
		if len(sessions) == 0 {
			continue
		}
		frame := make([]byte, 0, len(event)+48)
		frame = append(frame, prefix...)
		frame = strconv.AppendInt(frame, r.PTS, 10)
		frame = append(frame, `,"event":`...)
		frame = append(frame, event...)
		frame = append(frame, '}')
		for s := range sessions {
			if ev.Kind == messaging.EventLarge {
				h.followLocked(s, ev.ChatID)
			}
			h.push(s, frame)
		}
	}
}

// Sessions reports how many sessions are connected.
func (h *Hub) Sessions() int {
	h.mu.RLock()
	defer h.mu.RUnlock()
	n := 0
	for _, set := range h.users {
		n += len(set)
	}
	return n
}
