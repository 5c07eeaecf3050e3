package httpapi

import (
	"bufio"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/coder/websocket"

	"kurir"
	"kurir/messaging"
	"kurir/realtime"
)

// liveProtocol is the WebSocket subprotocol of the live update stream.
// Browsers cannot set headers on a WebSocket, so they may send their token
// as a second subprotocol, liveTokenProtocol followed by the token.
const (
	liveProtocol      = "kurir.v1"
	liveTokenProtocol = "kurir.token."
)

// EncodeEvent renders a chat event as the API shows it; the realtime hub
// uses it so that live frames match the sync endpoints exactly.
func EncodeEvent(e messaging.Event) ([]byte, error) { return json.Marshal(newEventView(e)) }

type helloFrame struct {
	Type       string           `json:"type"`
	PTS        int64            `json:"pts"`
	LargeChats []largeChatState `json:"large_chats"`
}

type errorFrame struct {
	Type   string `json:"type"`
	Detail string `json:"detail"`
}

type resyncFrame struct {
	Type   string `json:"type"`
	Reason string `json:"reason"`
}

// Close codes the live stream uses besides the standard ones.
const (
	// closeResync: the server dropped events for this device; sync, then reconnect.
	closeResync websocket.StatusCode = 4000
)

// liveTimings are how the live stream keeps connections honest.
const (
	livePing      = 30 * time.Second // heartbeat interval
	liveWriteWait = 10 * time.Second // a frame not written by then means the device is gone
	liveMaxJunk   = 10               // malformed client frames tolerated before closing
)

// liveReadBuffer and liveWriteBuffer size a live connection's buffers. An
// idle connection holds both for as long as it is open, and net/http would
// give it 4 KiB of each. Devices send only small frames; most frames the
// server sends fit in 1 KiB, and a longer one takes a second write call.
const (
	liveReadBuffer  = 512
	liveWriteBuffer = 1 << 10
)

// handleLive upgrades the request to the live stream, sends the hello frame,
// and returns: the connection lives on without the request's goroutine, its
// buffers or its context (see liveConn).
func handleLive(hub *realtime.Hub, msg *messaging.Service) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		p := principal(ctx)
		c, err := websocket.Accept(smallBuffers{w}, r, &websocket.AcceptOptions{
			Subprotocols: []string{liveProtocol},
			// Compression would keep flate state for every connection, and
			// frames are small.
			CompressionMode: websocket.CompressionDisabled,
		})
		if err != nil {
			return // Accept has answered the client
		}
		c.SetReadLimit(4096)
		l := &liveConn{c: c, hub: hub}
		// Register before reading the state, so that no change committed in
		// between is missed: at worst the device sees it twice, and pts tells.
		l.sess = hub.RegisterAt(p.User.ID, p.SessionID, kurir.LocationFrom(ctx), l.wake)
		st, err := msg.State(ctx, p.User.ID)
		if err != nil {
			hub.Unregister(l.sess)
			logger(ctx).Error("live: read sync state", "err", err)
			c.Close(websocket.StatusInternalError, "could not read your sync state; reconnect")
			return
		}
		hello := helloFrame{Type: "hello", PTS: st.PTS, LargeChats: make([]largeChatState, 0, len(st.LargeChats))}
		chats := make([]messaging.ChatID, 0, len(st.LargeChats))
		for id, seq := range st.LargeChats {
			hello.LargeChats = append(hello.LargeChats, largeChatState{ChatID: int64(id), Seq: seq})
			chats = append(chats, id)
		}
		hub.Follow(l.sess, chats...)
		// The request's context no longer follows the connection, which is
		// hijacked, and the WebSocket library keeps the context of the last
		// frame written until the next: writing with the request's would
		// keep the request, its headers and its logger for as long as the
		// device stays connected.
		if err := writeFrame(context.Background(), c, hello); err != nil {
			hub.Unregister(l.sess)
			c.CloseNow()
			return
		}
		l.mu.Lock()
		l.heartbeat = time.AfterFunc(livePing, l.ping)
		l.mu.Unlock()
		go l.read()
		l.send() // what the hub queued since Register
	})
}

// liveConn is one device's live stream once its hello is sent. It owns one
// goroutine for as long as the connection is open, the reader, since only a
// pending read answers the device's pings and notices that it left; the
// reader ends the session. While the device is idle that is all it has: a
// goroutine to write the hub's frames starts when the hub wakes the session
// and ends when its queue is empty, and the heartbeat is a timer, not a
// ticking goroutine. Every goroutine of it ends when the connection closes,
// which the device's leaving, a failed write or heartbeat, or the hub's
// cut-off brings about.
type liveConn struct {
	c    *websocket.Conn
	hub  *realtime.Hub
	sess *realtime.Session

	mu        sync.Mutex
	heartbeat *time.Timer // runs ping every livePing
	closed    bool        // reading has ended: no more heartbeats
}

// wake is the session's wake function: the hub has frames, or a cut-off, for
// a connection with no writer.
func (l *liveConn) wake() { go l.send() }

// send writes the frames the hub has queued until there are none left, then
// returns; the hub wakes it again when there are more. If the hub has cut the
// session off, send tells the device why and closes the connection. On a
// failed write it closes the connection and the reader ends the session.
func (l *liveConn) send() {
	ctx := context.Background() // the connection's life bounds this: see liveConn
	for {
		frames, reason := l.sess.Take()
		for _, f := range frames {
			if err := writeText(ctx, l.c, f); err != nil {
				l.c.CloseNow()
				return
			}
		}
		if reason != "" {
			writeFrame(ctx, l.c, resyncFrame{Type: "resync", Reason: reason})
			l.c.Close(closeResync, "resync")
			return
		}
		if len(frames) == 0 {
			return
		}
	}
}

// ping is the heartbeat: a device that does not answer a ping within
// liveWriteWait is gone, and its connection is closed.
func (l *liveConn) ping() {
	ctx, cancel := context.WithTimeout(context.Background(), liveWriteWait)
	err := l.c.Ping(ctx)
	cancel()
	if err != nil {
		l.c.CloseNow()
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.closed {
		l.heartbeat.Reset(livePing)
	}
}

// read reads what the device sends until the connection ends, then ends the
// session. The stream is server-to-device; the device may send
// {"type":"ping"} to check the line. Anything else is answered with an error
// frame, and a device that keeps sending junk is disconnected.
func (l *liveConn) read() {
	defer func() {
		l.mu.Lock()
		l.closed = true
		l.heartbeat.Stop()
		l.mu.Unlock()
		// Closed first, so that a writer that finds the session unregistered
		// has nothing left to tell the device.
		l.c.CloseNow()
		l.hub.Unregister(l.sess)
	}()
	// Reads wait for the device without a deadline: the heartbeat closes
	// the connection of a device that has gone.
	ctx := context.Background()
	junk := 0
	for {
		typ, data, err := l.c.Read(ctx)
		if err != nil {
			return // closed, gone, or a frame over the read limit (which closes it)
		}
		var f struct {
			Type string `json:"type"`
		}
		if typ == websocket.MessageText && json.Unmarshal(data, &f) == nil && f.Type == "ping" {
			writeFrame(ctx, l.c, map[string]string{"type": "pong"})
			continue
		}
		junk++
		if junk > liveMaxJunk {
			l.c.Close(websocket.StatusPolicyViolation, "too many malformed frames")
			return
		}
		writeFrame(ctx, l.c, errorFrame{Type: "error", Detail: `Unrecognised frame: the live stream accepts only {"type":"ping"} from devices.`})
	}
}

// writeText sends one text frame, giving up after liveWriteWait.
func writeText(ctx context.Context, c *websocket.Conn, frame []byte) error {
	ctx, cancel := context.WithTimeout(ctx, liveWriteWait)
	defer cancel()
	return c.Write(ctx, websocket.MessageText, frame)
}

// writeFrame sends v as a text frame, giving up after liveWriteWait.
func writeFrame(ctx context.Context, c *websocket.Conn, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return writeText(ctx, c, b)
}

// smallBuffers hands the WebSocket library a hijacked connection with
// buffers of liveReadBuffer and liveWriteBuffer bytes instead of net/http's,
// which are dropped.
type smallBuffers struct{ http.ResponseWriter }

// Hijack implements http.Hijacker.
func (w smallBuffers) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	conn, brw, err := http.NewResponseController(w.ResponseWriter).Hijack()
	if err != nil || brw.Reader.Buffered() > 0 {
		// The device sent frames before the handshake's answer, and
		// net/http's reader holds them: keep it (it is rare).
		return conn, brw, err
	}
	// net/http has flushed its writer before handing it over.
	return conn, bufio.NewReadWriter(bufio.NewReaderSize(conn, liveReadBuffer), bufio.NewWriterSize(conn, liveWriteBuffer)), nil
}
