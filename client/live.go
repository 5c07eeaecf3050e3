package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"
)

// LiveEvent is one change delivered by a Live stream.
type LiveEvent struct {
	// PTS numbers the event in the caller's update log (private chats and
	// small groups); it is 0 for events of large groups and channels, which
	// Event.Seq numbers within their chat.
	PTS   int64
	Event Event
	// Reset means the stream fell too far behind to replay what it missed:
	// reload the chat list and open chats, then carry on. Event is empty.
	Reset bool
	// Nudge, if not "", says something waits for this device alone:
	// NudgeSecret (call SecretChats.Receive) or NudgeSecretKeysLow (call
	// SecretChats.Register). Event is empty. Nudges sent while the stream
	// was reconnecting are lost, so it sends NudgeSecret once reconnected;
	// receive once after Client.Live returns, too.
	Nudge string
}

// The nudges a Live stream delivers (LiveEvent.Nudge).
const (
	// NudgeSecret: secret-chat envelopes wait for this device.
	NudgeSecret = "secret"
	// NudgeSecretKeysLow: the server is running out of this device's
	// one-time prekeys.
	NudgeSecretKeysLow = "secret_keys_low"
)

// Live is the live update stream of one device. It delivers every change to
// the caller's chats once, in order within the update log and within each
// large chat, and heals whatever the connection loses — a gap in the
// numbers, a resync from the server, a dropped connection — by fetching the
// missing changes with Updates and ChatUpdates before carrying on. Read
// Events until it is closed; Err then says why.
type Live struct {
	c      *Client
	events chan LiveEvent
	cancel context.CancelFunc
	done   chan struct{}

	mu  sync.Mutex
	err error

	// Owned by the run goroutine.
	pts   int64
	chats map[int64]int64 // large chat → last seq delivered
	self  int64           // the caller's user ID, once fetched
}

// Live connects the live update stream. The stream starts from the moment
// it connects: sync earlier changes with Updates (or Dialogs) first. It
// reconnects by itself until ctx ends or Close is called. The client must
// hold a token.
func (c *Client) Live(ctx context.Context) (*Live, error) {
	ctx, cancel := context.WithCancel(ctx)
	l := &Live{c: c, events: make(chan LiveEvent, 256), cancel: cancel, done: make(chan struct{}), chats: map[int64]int64{}}
	conn, hello, err := l.dial(ctx)
	if err != nil {
		cancel()
		return nil, err
	}
	l.pts = hello.PTS
	for _, lc := range hello.LargeChats {
		l.chats[lc.ChatID] = lc.Seq
	}
	go l.run(ctx, conn)
	return l, nil
}

// Events delivers the changes. It is closed when the stream ends.
func (l *Live) Events() <-chan LiveEvent { return l.events }

// Close stops the stream and waits for it to end.
func (l *Live) Close() error {
	l.cancel()
	<-l.done
	return nil
}

// Err says why the stream ended, once Events is closed: nil after Close or
// the end of the context given to Client.Live.
func (l *Live) Err() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.err
}

// PTS is the update-log position the stream has delivered up to.
func (l *Live) PTS() int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.pts
}

type liveFrame struct {
	Type       string      `json:"type"`
	PTS        int64       `json:"pts"`
	Reason     string      `json:"reason"`
	LargeChats []LargeChat `json:"large_chats"`
	Event      Event       `json:"event"`
}

func (l *Live) dial(ctx context.Context) (*websocket.Conn, liveFrame, error) {
	u := "ws" + strings.TrimPrefix(l.c.base, "http") + "/api/v1/live"
	h := http.Header{}
	h.Set("Authorization", "Bearer "+l.c.Token())
	dctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	conn, resp, err := websocket.Dial(dctx, u, &websocket.DialOptions{HTTPClient: l.c.hc, HTTPHeader: h, Subprotocols: []string{"kurir.v1"}})
	if err != nil {
		if resp != nil && resp.StatusCode >= 400 {
			// The server refused: an *Error, so that a logged-out token or a
			// suspended account ends the stream instead of redialling.
			req := resp.Request
			if req == nil {
				req, _ = http.NewRequest(http.MethodGet, u, nil)
			}
			var body []byte
			if resp.Body != nil {
				body, _ = io.ReadAll(io.LimitReader(resp.Body, maxProblem))
			}
			return nil, liveFrame{}, newError(req, resp, body)
		}
		if resp != nil && resp.StatusCode != http.StatusSwitchingProtocols {
			return nil, liveFrame{}, fmt.Errorf("connect live stream: HTTP %d: %w", resp.StatusCode, err)
		}
		return nil, liveFrame{}, fmt.Errorf("connect live stream: %w", err)
	}
	conn.SetReadLimit(1 << 20)
	var hello liveFrame
	if err := readFrame(dctx, conn, &hello); err != nil || hello.Type != "hello" {
		conn.CloseNow()
		return nil, liveFrame{}, fmt.Errorf("live stream: no hello from the server: %v", err)
	}
	return conn, hello, nil
}

func readFrame(ctx context.Context, conn *websocket.Conn, f *liveFrame) error {
	_, data, err := conn.Read(ctx)
	if err != nil {
		return err
	}
	*f = liveFrame{}
	return json.Unmarshal(data, f)
}

func (l *Live) fail(err error) {
	l.mu.Lock()
	l.err = err
	l.mu.Unlock()
}

// run reads frames, heals gaps, and reconnects until ctx ends.
func (l *Live) run(ctx context.Context, conn *websocket.Conn) {
	defer close(l.done)
	defer close(l.events)
	backoff := 100 * time.Millisecond
	for {
		err := l.read(ctx, conn)
		conn.CloseNow()
		if ctx.Err() != nil {
			return
		}
		var ce *Error
		if errors.As(err, &ce) && (ce.Status == http.StatusUnauthorized || ce.Status == http.StatusForbidden) {
			l.fail(err) // the token is gone or the account may not act
			return
		}
		// Reconnect, then fetch what was missed while away.
		for {
			select {
			case <-ctx.Done():
				return
			case <-time.After(backoff):
			}
			var hello liveFrame
			conn, hello, err = l.dial(ctx)
			if err == nil {
				err = l.catchUp(ctx, hello)
				if err == nil {
					// Nudges sent while away are lost: one stands for them.
					err = l.emit(ctx, LiveEvent{Nudge: NudgeSecret})
				}
				if err == nil {
					backoff = 100 * time.Millisecond
					break
				}
				conn.CloseNow()
			}
			var ce *Error
			if errors.As(err, &ce) && (ce.Status == http.StatusUnauthorized || ce.Status == http.StatusForbidden) {
				l.fail(err)
				return
			}
			backoff = min(2*backoff, 10*time.Second)
		}
	}
}

// gapWait is how long a stream waits for a change that arrived out of order
// to be followed by the ones before it, before fetching them. Changes
// committed together can be pushed in a different order than they were
// numbered; waiting a moment saves a round trip for every such swap.
const gapWait = 250 * time.Millisecond

// read handles frames until the connection fails or the server asks for a
// resync. Frames are read on their own goroutine, so that the wait for a
// missing change can time out without closing the connection.
func (l *Live) read(ctx context.Context, conn *websocket.Conn) error {
	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	frames := make(chan liveFrame, 64)
	errc := make(chan error, 1)
	go func() {
		for {
			var f liveFrame
			if err := readFrame(rctx, conn, &f); err != nil {
				errc <- err
				return
			}
			select {
			case frames <- f:
			case <-rctx.Done():
				return
			}
		}
	}()
	pendingLog := map[int64]Event{}            // pts → event, ahead of a gap
	pendingChat := map[int64]map[int64]Event{} // chat → seq → event, ahead of a gap
	var gap <-chan time.Time
	for {
		select {
		case err := <-errc:
			return err
		case <-gap:
			gap = nil
			if err := l.fillGaps(ctx, pendingLog, pendingChat); err != nil {
				return err
			}
		case f := <-frames:
			var err error
			switch f.Type {
			case "update":
				err = l.update(ctx, f.PTS, f.Event, pendingLog)
			case "chat_event":
				err = l.chatEvent(ctx, f.Event, pendingChat)
			case "resync":
				return fmt.Errorf("server asked to resync: %s", f.Reason)
			case NudgeSecret, NudgeSecretKeysLow:
				err = l.emit(ctx, LiveEvent{Nudge: f.Type})
			}
			if err != nil {
				return err
			}
			if len(pendingLog)+len(pendingChat) == 0 {
				gap = nil
			} else if gap == nil {
				gap = time.After(gapWait)
			}
		}
	}
}

// fillGaps fetches whatever the pending changes are still waiting for.
func (l *Live) fillGaps(ctx context.Context, pendingLog map[int64]Event, pendingChat map[int64]map[int64]Event) error {
	if len(pendingLog) > 0 {
		target := int64(0)
		for pts := range pendingLog {
			target = max(target, pts)
		}
		clear(pendingLog)
		if err := l.catchUpLog(ctx, target); err != nil {
			return err
		}
	}
	for chat, evs := range pendingChat {
		target := int64(0)
		for seq := range evs {
			target = max(target, seq)
		}
		delete(pendingChat, chat)
		last, ok := l.chats[chat]
		if !ok {
			continue // left meanwhile
		}
		if err := l.catchUpChat(ctx, chat, last, target); err != nil {
			return err
		}
	}
	return nil
}

func (l *Live) emit(ctx context.Context, e LiveEvent) error {
	select {
	case l.events <- e:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// update applies an event of the update log. One that comes early waits in
// pending for those before it; the ones it was waiting behind then follow.
func (l *Live) update(ctx context.Context, pts int64, ev Event, pending map[int64]Event) error {
	switch {
	case pts <= l.pts:
		return nil // seen already
	case pts > l.pts+1:
		pending[pts] = ev
		return nil
	}
	if err := l.apply(ctx, pts, ev); err != nil {
		return err
	}
	for {
		next, ok := pending[l.pts+1]
		if !ok {
			break
		}
		delete(pending, l.pts+1)
		if err := l.apply(ctx, l.pts+1, next); err != nil {
			return err
		}
	}
	for p := range pending {
		if p <= l.pts {
			delete(pending, p)
		}
	}
	return nil
}

func (l *Live) apply(ctx context.Context, pts int64, ev Event) error {
	if ev.Kind == EventLarge {
		l.chats[ev.ChatID] = ev.Seq
	}
	if err := l.emit(ctx, LiveEvent{PTS: pts, Event: ev}); err != nil {
		return err
	}
	l.mu.Lock()
	l.pts = pts
	l.mu.Unlock()
	return nil
}

// catchUpLog fetches the update log until it has reached at least target.
func (l *Live) catchUpLog(ctx context.Context, target int64) error {
	for l.pts < target {
		page, err := l.c.Updates(ctx, l.pts, 1000)
		if err != nil {
			return err
		}
		if page.TooLong {
			l.mu.Lock()
			l.pts = page.PTS
			l.mu.Unlock()
			return l.emit(ctx, LiveEvent{Reset: true})
		}
		for _, u := range page.Updates {
			if u.PTS == l.pts+1 {
				if err := l.apply(ctx, u.PTS, u.Event); err != nil {
					return err
				}
			}
		}
		if len(page.Updates) == 0 {
			break // the server has nothing newer yet
		}
	}
	return nil
}

// chatEvent applies an event of a large chat; like update, an early one
// waits in pending for those before it.
func (l *Live) chatEvent(ctx context.Context, ev Event, pending map[int64]map[int64]Event) error {
	last, ok := l.chats[ev.ChatID]
	if !ok {
		// A chat the device just joined or created: its stream starts here.
		last = ev.Seq - 1
		l.chats[ev.ChatID] = last
	}
	switch {
	case ev.Seq <= last:
		return nil
	case ev.Seq > last+1:
		if pending[ev.ChatID] == nil {
			pending[ev.ChatID] = map[int64]Event{}
		}
		pending[ev.ChatID][ev.Seq] = ev
		return nil
	}
	if err := l.applyChat(ctx, ev); err != nil {
		return err
	}
	for p := pending[ev.ChatID]; len(p) > 0; {
		seq, ok := l.chats[ev.ChatID]
		if !ok {
			break // the device left the chat
		}
		next, ok := p[seq+1]
		if !ok {
			break
		}
		delete(p, seq+1)
		if err := l.applyChat(ctx, next); err != nil {
			return err
		}
	}
	if len(pending[ev.ChatID]) == 0 {
		delete(pending, ev.ChatID)
	}
	return nil
}

func (l *Live) applyChat(ctx context.Context, ev Event) error {
	l.chats[ev.ChatID] = ev.Seq
	if (ev.Kind == EventLeave || ev.Kind == EventRemove) && ev.UserID == l.selfID(ctx) {
		delete(l.chats, ev.ChatID)
	}
	return l.emit(ctx, LiveEvent{Event: ev})
}

// selfID is the caller's user ID, fetched once.
func (l *Live) selfID(ctx context.Context) int64 {
	if l.self == 0 {
		if me, err := l.c.Me(ctx); err == nil {
			l.self = me.ID
		}
	}
	return l.self
}

func (l *Live) catchUpChat(ctx context.Context, chat, from, target int64) error {
	for from < target {
		page, err := l.c.ChatUpdates(ctx, chat, from, 1000)
		if err != nil {
			return err
		}
		if page.TooLong {
			l.chats[chat] = page.Seq
			return l.emit(ctx, LiveEvent{Reset: true})
		}
		for _, ev := range page.Events {
			if ev.Seq == from+1 {
				if err := l.emit(ctx, LiveEvent{Event: ev}); err != nil {
					return err
				}
				from = ev.Seq
			}
		}
		l.chats[chat] = from
		if len(page.Events) == 0 {
			break
		}
	}
	return nil
}

// catchUp brings the stream level with a fresh hello after a reconnect.
func (l *Live) catchUp(ctx context.Context, hello liveFrame) error {
	if err := l.catchUpLog(ctx, hello.PTS); err != nil {
		return err
	}
	for _, lc := range hello.LargeChats {
		last, ok := l.chats[lc.ChatID]
		if !ok {
			l.chats[lc.ChatID] = lc.Seq // joined while away: start from now
			continue
		}
		if err := l.catchUpChat(ctx, lc.ChatID, last, lc.Seq); err != nil {
			return err
		}
	}
	return nil
}
