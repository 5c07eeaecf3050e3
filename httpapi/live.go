package httpapi

import (
	"context"
	"encoding/json"
	"net/http"
	"time"

	"github.com/coder/websocket"

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

func handleLive(hub *realtime.Hub, msg *messaging.Service) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := principal(r.Context())
		c, err := websocket.Accept(w, r, &websocket.AcceptOptions{Subprotocols: []string{liveProtocol}})
		if err != nil {
			return // Accept has answered the client
		}
		defer c.CloseNow()
		c.SetReadLimit(4096)
		// Register before reading the state, so that no change committed in
		// between is missed: at worst the device sees it twice, and pts tells.
		sess := hub.Register(p.User.ID)
		defer hub.Unregister(sess)
		ctx, cancel := context.WithCancel(r.Context())
		defer cancel()

		st, err := msg.State(ctx, p.User.ID)
		if err != nil {
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
		hub.Follow(sess, chats...)
		if err := writeFrame(ctx, c, hello); err != nil {
			return
		}

		go readLive(ctx, cancel, c)
		ping := time.NewTicker(livePing)
		defer ping.Stop()
		for {
			select {
			case frame := <-sess.Frames():
				wctx, wcancel := context.WithTimeout(ctx, liveWriteWait)
				err := c.Write(wctx, websocket.MessageText, frame)
				wcancel()
				if err != nil {
					return
				}
			case <-sess.Done():
				writeFrame(ctx, c, resyncFrame{Type: "resync", Reason: sess.Reason()})
				c.Close(closeResync, "resync")
				return
			case <-ping.C:
				pctx, pcancel := context.WithTimeout(ctx, liveWriteWait)
				err := c.Ping(pctx)
				pcancel()
				if err != nil {
					return
				}
			case <-ctx.Done():
				return
			}
		}
	})
}

func writeFrame(ctx context.Context, c *websocket.Conn, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	wctx, cancel := context.WithTimeout(ctx, liveWriteWait)
	defer cancel()
	return c.Write(wctx, websocket.MessageText, b)
}

// readLive reads what the device sends. The stream is server-to-device; the
// device may send {"type":"ping"} to check the line. Anything else is
// answered with an error frame, and a device that keeps sending junk is
// disconnected. It cancels the connection when reading ends.
func readLive(ctx context.Context, cancel context.CancelFunc, c *websocket.Conn) {
	defer cancel()
	junk := 0
	for {
		typ, data, err := c.Read(ctx)
		if err != nil {
			return // closed, gone, or a frame over the read limit (which closes it)
		}
		var f struct {
			Type string `json:"type"`
		}
		if typ == websocket.MessageText && json.Unmarshal(data, &f) == nil && f.Type == "ping" {
			writeFrame(ctx, c, map[string]string{"type": "pong"})
			continue
		}
		junk++
		if junk > liveMaxJunk {
			c.Close(websocket.StatusPolicyViolation, "too many malformed frames")
			return
		}
		writeFrame(ctx, c, errorFrame{Type: "error", Detail: `Unrecognised frame: the live stream accepts only {"type":"ping"} from devices.`})
	}
}
