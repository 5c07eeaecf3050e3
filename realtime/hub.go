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
// An idle session costs the hub a few hundred bytes and no goroutine: its
// queue grows with the frames waiting in it and shrinks back once they are
// taken, and its owner does not wait on a channel but is woken by a callback
// when a frame arrives, so it needs a goroutine only while it has something
// to send. A node holds tens of thousands of idle sessions, so this is what
// sets its memory.
//
// The wire protocol (JSON text frames) is:
//
//	{"type":"hello","pts":N,"large_chats":[{"chat_id":C,"seq":S},...]}   first frame
//	{"type":"update","pts":N,"event":{...}}   a change in a private chat or small group, numbered in the user's log
//	{"type":"chat_event","event":{...}}       a change in a large group or channel; event.seq is the chat's
//	{"type":"resync","reason":"..."}          events were lost: sync, then reconnect
//	{"type":"..."}                            a nudge for one device (NotifyDevice), such as
//	                                          {"type":"secret"}: fetch what waits for it
//
// Lock order: Hub.mu, then Session.mu, then nothing. A session's wake
// callback runs with Hub.mu held (for reading at least) and must not block.
package realtime

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"slices"
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

// Territory withholds from each device what the law where it is forbids;
// *messaging.Service implements it.
type Territory interface {
	// LiveRestricted reports whether ev must be checked against each
	// device's location (rarely).
	LiveRestricted(ev messaging.Event) bool
	// LiveView returns ev as a device at loc may see it, and whether that
	// differs from ev.
	LiveView(loc kurir.Location, ev messaging.Event) (messaging.Event, bool)
}

// Hub is one node's registry of live sessions. It is safe for concurrent use.
type Hub struct {
	log       *slog.Logger
	encode    EventEncoder
	queue     int
	territory Territory

	mu    sync.RWMutex
	users map[kurir.UserID]map[*Session]struct{}
	chats map[messaging.ChatID]map[*Session]struct{}
	bus   bus.Bus // set by Run, for EndDevice

	sessions prometheus.Gauge
	cutoffs  *prometheus.CounterVec
	frames   prometheus.Counter
}

// Config tunes a Hub.
type Config struct {
	// QueueFrames bounds each session's unsent frames (default 256); past
	// it the session is cut off with a resync reason. The queue takes
	// memory only for the frames waiting in it.
	QueueFrames int
	// Territory, if set, filters events by where each device is (see
	// RegisterAt).
	Territory Territory
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
		log: log, encode: encode, queue: cfg.QueueFrames, territory: cfg.Territory,
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

// idleQueue is the most frames' room a session keeps in each of its two
// queue slices while it is idle: enough that a session receiving a frame
// now and then allocates nothing for it, little enough that tens of
// thousands of idle sessions hold next to nothing.
const idleQueue = 4

// Why sessions are cut off, as Take reports it.
const (
	reasonSlow   = "too slow: missed updates; sync and reconnect"
	reasonLost   = "events were lost: sync and reconnect"
	reasonClosed = "closed"
	// ReasonLoggedOut cuts off the devices of a session that was logged out.
	ReasonLoggedOut = "logged out"
)

// Session is one connected device. The hub queues frames for it; its owner
// takes them with Take, in order, and writes them to the device.
//
// The owner neither polls the session nor waits on it. When Take finds
// nothing, the session notes that its owner has stopped taking, and the next
// frame, or the session being cut off, calls the wake function given to
// Register, once. The owner then takes again until Take finds nothing. So
// there is at most one taker at a time, and an idle session needs no
// goroutine.
type Session struct {
	// User is the user the device is logged in as, and Device its session
	// (the account session's ID; 0 when not known).
	User   kurir.UserID
	Device int64
	// Location is where the device is, for territorial restrictions.
	Location kurir.Location
	wake     func()

	mu sync.Mutex
	// queue holds the frames not yet taken, oldest first.
	queue [][]byte
	// taken is what Take last returned, for the next frames once the owner
	// has written them.
	taken [][]byte
	// reason says why the session was cut off; "" while it is not.
	reason string
	// asleep is set when Take found nothing: the next push or cut calls wake.
	asleep bool

	// chats are the large chats this session follows (guarded by Hub.mu;
	// nil until the first).
	chats map[messaging.ChatID]struct{}
	// left are the large chats the user left or was removed from since the
	// session registered (guarded by Hub.mu; nil until the first): a Follow
	// from sync state read before the leave must not resubscribe them.
	left map[messaging.ChatID]struct{}
}

// Take returns the frames queued since the last call, oldest first, and why
// the session was cut off, or "" if it was not. The frames queued before a
// cut-off are still returned, with its reason; none are queued after it.
//
// When Take returns no frames and no reason, the session calls its wake
// function as soon as it has either; until then the owner need not call
// Take. Otherwise the owner calls Take again once it has written the frames.
//
// The slice returned is the session's, valid until the next call of Take.
// The session queues into one slice while its owner writes from the other,
// so that a busy session does not allocate; an idle one keeps them only
// while they are small.
func (s *Session) Take() (frames [][]byte, reason string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.taken) // written by now, and not to be kept alive by the session
	frames = s.queue
	if len(frames) == 0 {
		if cap(s.queue) > idleQueue {
			s.queue = nil
		}
		if cap(s.taken) > idleQueue {
			s.taken = nil
		}
		s.taken = s.taken[:0]
		s.asleep = s.reason == ""
		return nil, s.reason
	}
	s.queue, s.taken = s.taken[:0], frames
	return frames, s.reason
}

// Reason is why the session was cut off, or "" if it has not been.
func (s *Session) Reason() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.reason
}

// cut marks the session cut off for reason, unless it already is, and
// reports whether it was now. With wake it wakes an owner that is not
// taking, to pass the reason on.
func (s *Session) cut(reason string, wake bool) bool {
	s.mu.Lock()
	if s.reason != "" {
		s.mu.Unlock()
		return false
	}
	s.reason = reason
	wake = wake && s.asleep
	s.asleep = false
	s.mu.Unlock()
	if wake {
		s.wake()
	}
	return true
}

// push queues a frame without blocking; a full queue cuts the session off.
// The caller holds Hub.mu, for reading at least.
func (h *Hub) push(s *Session, frame []byte) { h.enqueue(s, frame, false) }

// enqueue is push; with once, a frame equal to one still waiting in the
// queue is not queued again.
func (h *Hub) enqueue(s *Session, frame []byte, once bool) {
	s.mu.Lock()
	if s.reason != "" || once && slices.ContainsFunc(s.queue, func(f []byte) bool { return bytes.Equal(f, frame) }) {
		s.mu.Unlock()
		return
	}
	slow := len(s.queue) >= h.queue
	if slow {
		s.reason = reasonSlow
	} else {
		s.queue = append(s.queue, frame)
	}
	wake := s.asleep
	s.asleep = false
	s.mu.Unlock()
	if slow {
		h.cutoffs.WithLabelValues("slow").Inc()
	} else {
		h.frames.Inc()
	}
	if wake {
		s.wake()
	}
}

// Register adds a session for user. Call Follow with the user's large chats
// after reading their sync state, and Unregister when the connection ends.
// Frames for user's small chats are queued from the moment Register returns,
// so nothing committed after the state was read is missed.
//
// wake is called when frames arrive for an owner that has stopped taking
// them (see Session); it is called from the hub's delivery, with the hub's
// lock held, so it must return at once and not call the Hub. The session
// starts awake: the owner calls Take when it is ready to send frames, and
// keeps calling it until it finds nothing.
func (h *Hub) Register(user kurir.UserID, wake func()) *Session {
	return h.RegisterDevice(user, 0, wake)
}

// RegisterDevice is Register for a device whose account session is known,
// so that LogOut can cut it off.
func (h *Hub) RegisterDevice(user kurir.UserID, device int64, wake func()) *Session {
	return h.RegisterAt(user, device, kurir.Location{}, wake)
}

// RegisterAt is RegisterDevice for a device at loc: events withheld there
// reach it as the device may see them.
func (h *Hub) RegisterAt(user kurir.UserID, device int64, loc kurir.Location, wake func()) *Session {
	s := &Session{User: user, Device: device, Location: loc, wake: wake}
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
	if s.chats == nil {
		s.chats = map[messaging.ChatID]struct{}{}
	}
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

// LogOut cuts off user's live sessions of the device (account session) that
// was logged out, or of every device but keep when device is 0 (a password
// change logs out the others). Their owners tell the devices why and close
// the connections; a device that reconnects is refused. It acts on this
// node's sessions only.
func (h *Hub) LogOut(user kurir.UserID, device, keep int64) {
	h.mu.RLock()
	var cut []*Session
	for s := range h.users[user] {
		if (device != 0 && s.Device == device) || (device == 0 && s.Device != keep) {
			cut = append(cut, s)
		}
	}
	h.mu.RUnlock()
	for _, s := range cut {
		if s.cut(ReasonLoggedOut, true) {
			h.cutoffs.WithLabelValues("logged_out").Inc()
		}
	}
}

// Unregister removes a session; it receives nothing more, and its wake
// function is not called again.
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
	s.cut(reasonClosed, false)
}

// Run subscribes to every chat's changes on b and delivers them until ctx
// ends. Events the bus reports lost make every session resync.
func (h *Hub) Run(ctx context.Context, b bus.Bus) error {
	sub, err := b.Subscribe("chat.>", h.deliver, h.lost)
	if err != nil {
		return err
	}
	logouts, err := b.Subscribe(logoutSubject, h.deviceLoggedOut, func(int) {})
	if err != nil {
		sub.Unsubscribe()
		return err
	}
	// A lost nudge costs a device a fetch it does on connecting anyway:
	// no resync.
	nudges, err := b.Subscribe(nudgeSubject, h.deviceNudged, func(int) {})
	if err != nil {
		sub.Unsubscribe()
		logouts.Unsubscribe()
		return err
	}
	h.mu.Lock()
	h.bus = b
	h.mu.Unlock()
	<-ctx.Done()
	h.mu.Lock()
	h.bus = nil
	h.mu.Unlock()
	return errors.Join(sub.Unsubscribe(), logouts.Unsubscribe(), nudges.Unsubscribe())
}

// logoutSubject carries logouts to every node, whose hubs cut off the
// devices' live streams.
const logoutSubject = "device.logout"

type logoutMsg struct {
	User   kurir.UserID `json:"user"`
	Device int64        `json:"device"`
	Keep   int64        `json:"keep,omitempty"`
}

// EndDevice cuts off a logged-out device's live streams on every node (see
// LogOut for device and keep): it announces the logout on the bus the hub
// runs on, or acts on this node alone when there is none or the announcement
// fails.
func (h *Hub) EndDevice(ctx context.Context, user kurir.UserID, device, keep int64) {
	h.mu.RLock()
	b := h.bus
	h.mu.RUnlock()
	if b != nil {
		data, _ := json.Marshal(logoutMsg{User: user, Device: device, Keep: keep})
		err := b.Publish(context.WithoutCancel(ctx), logoutSubject, data)
		if err == nil {
			return
		}
		h.log.Warn("announce a logout to other nodes", "user", user, "err", err)
	}
	h.LogOut(user, device, keep)
}

func (h *Hub) deviceLoggedOut(m bus.Msg) {
	var l logoutMsg
	if err := json.Unmarshal(m.Data, &l); err != nil {
		h.log.Error("undecodable logout on the bus", "err", err)
		return
	}
	h.LogOut(l.User, l.Device, l.Keep)
}

// nudgeSubject carries nudges for one device to every node, whose hubs
// pass them to the device's live sessions.
const nudgeSubject = "device.nudge"

type nudgeMsg struct {
	User   kurir.UserID `json:"user"`
	Device int64        `json:"device"`
	Type   string       `json:"type"`
}

// NotifyDevice sends the frame {"type":typ} to the live sessions of user's
// device (account session) on every node: a nudge that something waits
// for that device alone, such as secret-chat envelopes, which it then
// fetches. It announces the nudge on the bus the hub runs on, or acts on
// this node alone when there is none or the announcement fails. A nudge
// may be lost, like any live frame, so a device also fetches on connecting.
func (h *Hub) NotifyDevice(ctx context.Context, user kurir.UserID, device int64, typ string) {
	h.mu.RLock()
	b := h.bus
	h.mu.RUnlock()
	if b != nil {
		data, _ := json.Marshal(nudgeMsg{User: user, Device: device, Type: typ})
		err := b.Publish(context.WithoutCancel(ctx), nudgeSubject, data)
		if err == nil {
			return
		}
		h.log.Warn("announce a device nudge to other nodes", "user", user, "err", err)
	}
	h.nudge(user, device, typ)
}

func (h *Hub) deviceNudged(m bus.Msg) {
	var n nudgeMsg
	if err := json.Unmarshal(m.Data, &n); err != nil {
		h.log.Error("undecodable device nudge on the bus", "err", err)
		return
	}
	h.nudge(n.User, n.Device, n.Type)
}

// nudge queues {"type":typ} for the device's sessions on this node,
// unless the same nudge still waits in a session's queue: a nudge only says
// "fetch", so the one waiting covers this one too. So nudges, which anyone
// can cause (every secret-chat envelope sent to the device is one), never
// fill a session's queue and cut it off as too slow.
func (h *Hub) nudge(user kurir.UserID, device int64, typ string) {
	frame, err := json.Marshal(struct {
		Type string `json:"type"`
	}{typ})
	if err != nil {
		return
	}
	h.mu.RLock()
	defer h.mu.RUnlock()
	for s := range h.users[user] {
		if s.Device == device {
			h.enqueue(s, frame, true)
		}
	}
}

// lost cuts every session off: events they needed are gone.
func (h *Hub) lost(n int) {
	h.log.Warn("live events lost on the bus; sessions will resync", "lost", n)
	h.mu.RLock()
	defer h.mu.RUnlock()
	for _, set := range h.users {
		for s := range set {
			if s.cut(reasonLost, true) {
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
	views := h.views(ev, event)
	if n.Large {
		frame := make([]byte, 0, len(event)+32)
		frame = append(frame, `{"type":"chat_event","event":`...)
		frame = append(frame, event...)
		frame = append(frame, '}')
		if views != nil {
			// A message withheld in some places: frames differ by place.
			// (Membership events carry no message, so are never here.)
			h.mu.RLock()
			for s := range h.chats[ev.ChatID] {
				if e, changed := views.of(s); changed {
					h.push(s, slices.Concat([]byte(`{"type":"chat_event","event":`), e, []byte("}")))
				} else {
					h.push(s, frame)
				}
			}
			h.mu.RUnlock()
			return
		}
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
		update := func(event []byte) []byte {
			frame := make([]byte, 0, len(event)+48)
			frame = append(frame, prefix...)
			frame = strconv.AppendInt(frame, r.PTS, 10)
			frame = append(frame, `,"event":`...)
			frame = append(frame, event...)
			return append(frame, '}')
		}
		frame := update(event)
		for s := range sessions {
			if ev.Kind == messaging.EventLarge {
				h.followLocked(s, ev.ChatID)
			}
			if views != nil {
				if e, changed := views.of(s); changed {
					h.push(s, update(e))
					continue
				}
			}
			h.push(s, frame)
		}
	}
}

// eventViews are the encodings of one event as devices in different places
// may see it, each made once.
type eventViews struct {
	h       *Hub
	ev      messaging.Event
	event   []byte // as seen where nothing is withheld
	mu      sync.Mutex
	byPlace map[kurir.Location][]byte
}

// views returns nil for an event that every device sees the same (nearly
// all of them), and otherwise what works out each device's view.
func (h *Hub) views(ev messaging.Event, event []byte) *eventViews {
	if h.territory == nil || !h.territory.LiveRestricted(ev) {
		return nil
	}
	return &eventViews{h: h, ev: ev, event: event, byPlace: map[kurir.Location][]byte{}}
}

// of returns the event as s may see it, and whether that differs from the
// shared encoding.
func (v *eventViews) of(s *Session) ([]byte, bool) {
	if s.Location == (kurir.Location{}) {
		return v.event, false
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if e, ok := v.byPlace[s.Location]; ok {
		return e, e != nil
	}
	var e []byte // nil: as everywhere
	if view, changed := v.h.territory.LiveView(s.Location, v.ev); changed {
		enc, err := v.h.encode(view)
		if err != nil {
			// Never fall back to what must not be shown.
			v.h.log.Error("encode a withheld live event", "chat", v.ev.ChatID, "seq", v.ev.Seq, "err", err)
			enc = []byte(`{}`)
		}
		e = enc
	}
	v.byPlace[s.Location] = e
	if e == nil {
		return v.event, false
	}
	return e, true
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
