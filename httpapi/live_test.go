package httpapi_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/coder/websocket"

	"kurir/sqldb"
	"kurir/sqldb/sqldbtest"
)

type liveFrame struct {
	Type       string `json:"type"`
	PTS        int64  `json:"pts"`
	Reason     string `json:"reason"`
	Detail     string `json:"detail"`
	LargeChats []struct {
		ChatID int64 `json:"chat_id"`
		Seq    int64 `json:"seq"`
	} `json:"large_chats"`
	Event struct {
		ChatID  int64        `json:"chat_id"`
		Seq     int64        `json:"seq"`
		Kind    string       `json:"kind"`
		Message *messageJSON `json:"message"`
	} `json:"event"`
}

// dialLive opens the live stream as a browser would: the token as a subprotocol.
func (h *harness) dialLive(t *testing.T, token string) *websocket.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	url := "ws" + strings.TrimPrefix(h.url, "http") + "/api/v1/live"
	c, resp, err := websocket.Dial(ctx, url, &websocket.DialOptions{Subprotocols: []string{"kurir.v1", "kurir.token." + token}})
	if err != nil {
		t.Fatalf("dial live: %v", err)
	}
	if resp.Header.Get("Sec-WebSocket-Protocol") != "kurir.v1" {
		t.Errorf("subprotocol = %q, want kurir.v1", resp.Header.Get("Sec-WebSocket-Protocol"))
	}
	t.Cleanup(func() { c.CloseNow() })
	return c
}

func readFrame(t *testing.T, c *websocket.Conn) liveFrame {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, data, err := c.Read(ctx)
	if err != nil {
		t.Fatalf("read live frame: %v", err)
	}
	var f liveFrame
	if err := json.Unmarshal(data, &f); err != nil {
		t.Fatalf("decode live frame %s: %v", data, err)
	}
	return f
}

func TestLiveDelivery(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		h := newHarness(t, db, options{})
		ana, ben := h.person(t, "anabel"), h.person(t, "benedikt")
		var c chatJSON
		h.do(t, "PUT", fmt.Sprintf("/api/v1/users/%d/chat", ben.id), ana.token, nil).want(t, "open chat", http.StatusOK, &c)
		var ch chatJSON
		h.do(t, "POST", "/api/v1/chats/channels", ana.token, map[string]any{"title": "Updates", "username": "anaupdates"}).want(t, "channel", http.StatusCreated, &ch)
		h.do(t, "POST", fmt.Sprintf("/api/v1/chats/%d/join", ch.ID), ben.token, nil).want(t, "subscribe", http.StatusOK, nil)

		live := h.dialLive(t, ben.token)
		hello := readFrame(t, live)
		if hello.Type != "hello" || len(hello.LargeChats) != 1 || hello.LargeChats[0].ChatID != ch.ID {
			t.Fatalf("hello = %+v, want the channel among large chats", hello)
		}

		// A change from before the connection (the subscription itself) may
		// still be on its way through the bus; hello already covers it, and
		// a device skips it by its seq, as next does.
		next := func() liveFrame {
			t.Helper()
			for {
				f := readFrame(t, live)
				if f.Type == "chat_event" && f.Event.ChatID == ch.ID && f.Event.Seq <= hello.LargeChats[0].Seq {
					continue
				}
				return f
			}
		}
		m := h.sendMsg(t, ana, c.ID, "live hello", "l-1")
		f := next()
		if f.Type != "update" || f.PTS != hello.PTS+1 || f.Event.Kind != "message" || f.Event.Message == nil || f.Event.Message.Text != "live hello" || f.Event.Seq != m.Seq {
			t.Errorf("frame = %+v, want update pts %d with the message", f, hello.PTS+1)
		}
		post := h.sendMsg(t, ana, ch.ID, "channel post", "l-2")
		f = next()
		if f.Type != "chat_event" || f.Event.ChatID != ch.ID || f.Event.Seq != post.Seq || f.Event.Message.Text != "channel post" {
			t.Errorf("frame = %+v, want the channel post as a chat_event", f)
		}

		// Junk from the device gets an error frame and the stream stays open.
		ctx := t.Context()
		live.Write(ctx, websocket.MessageText, []byte("{not json"))
		if f := next(); f.Type != "error" || f.Detail == "" {
			t.Errorf("after junk: %+v, want an error frame", f)
		}
		live.Write(ctx, websocket.MessageText, []byte(`{"type":"ping"}`))
		if f := next(); f.Type != "pong" {
			t.Errorf("after ping: %+v, want pong", f)
		}
		h.sendMsg(t, ana, c.ID, "still here", "l-3")
		if f := next(); f.Type != "update" || f.PTS != hello.PTS+2 {
			t.Errorf("after junk and ping: %+v, want the next update", f)
		}
	}, schema...)
}

func TestLiveRefusesWithoutToken(t *testing.T) {
	db := sqldbtest.SQLite(t, schema...)
	h := newHarness(t, db, options{})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	url := "ws" + strings.TrimPrefix(h.url, "http") + "/api/v1/live"
	for _, protos := range [][]string{{"kurir.v1"}, {"kurir.v1", "kurir.token.kurir_nope"}} {
		_, resp, err := websocket.Dial(ctx, url, &websocket.DialOptions{Subprotocols: protos})
		if err == nil || resp == nil || resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("dial with %v: err %v, status %v; want 401", protos, err, resp)
		}
	}
}

func TestLiveClosesOnTooMuchJunk(t *testing.T) {
	db := sqldbtest.SQLite(t, schema...)
	h := newHarness(t, db, options{})
	ana := h.person(t, "anabel")
	live := h.dialLive(t, ana.token)
	if f := readFrame(t, live); f.Type != "hello" {
		t.Fatalf("first frame = %+v, want hello", f)
	}
	ctx := t.Context()
	// Ten malformed frames are answered; the eleventh closes the stream.
	for i := range 11 {
		if err := live.Write(ctx, websocket.MessageBinary, []byte{byte(i)}); err != nil {
			t.Fatalf("write junk frame %d: %v", i+1, err)
		}
	}
	for i := range 10 {
		if f := readFrame(t, live); f.Type != "error" || f.Detail == "" {
			t.Fatalf("answer to junk frame %d = %+v, want an error frame", i+1, f)
		}
	}
	rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	_, data, err := live.Read(rctx)
	var ce websocket.CloseError
	if !errors.As(err, &ce) || ce.Code != websocket.StatusPolicyViolation || !strings.Contains(ce.Reason, "malformed") {
		t.Errorf("after the eleventh junk frame: frame %q, err %v; want the stream closed with status %d, saying why", data, err, websocket.StatusPolicyViolation)
	}
}

// TestLiveIdleSessionCost pins what an idle live session costs the server:
// one goroutine, and a few KiB of heap, with nothing kept of the request that
// opened it (headers, context, logger) nor net/http's 4 KiB buffers. The
// budget of under 30 KB of server memory per session (docs/BENCHMARKS.md,
// "Server memory per idle live session") rests on these; the devices here
// are raw TCP connections, so that the heap measured is the server's.
func TestLiveIdleSessionCost(t *testing.T) {
	const (
		sessions = 200
		// Measured at 4.5 to 5.2 KiB: the WebSocket connection and its buffers,
		// the hub's session, the heartbeat timer and the goroutine's record.
		heapBudget = 8 << 10
	)
	db := sqldbtest.SQLite(t, schema...)
	h := newHarness(t, db, options{})
	ana := h.person(t, "anabel")
	dialLiveRaw(t, h.url, ana.token) // the first session pays for pools and caches

	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	goroutines := runtime.NumGoroutine()
	conns := make([]net.Conn, sessions)
	for i := range conns {
		conns[i] = dialLiveRaw(t, h.url, ana.token)
	}
	// Each handler returns just after the hello it sent: wait for that. A
	// little slack is for the server's own comings and goings.
	const slack = 2
	added := func() int { return runtime.NumGoroutine() - goroutines }
	for deadline := time.Now().Add(5 * time.Second); added() > sessions+slack && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	heap := (float64(after.HeapAlloc) - float64(before.HeapAlloc)) / sessions
	t.Logf("%d idle live sessions: %d goroutines more, %.0f bytes of heap each", sessions, added(), heap)
	if g := added(); g > sessions+slack {
		t.Errorf("%d idle live sessions added %d goroutines, want one each (at most %d)", sessions, g, sessions+slack)
	}
	if heap > heapBudget {
		t.Errorf("heap per idle live session = %.0f bytes, want at most %d", heap, heapBudget)
	}
	runtime.KeepAlive(conns)
}

// dialLiveRaw opens the live stream over a bare TCP connection, reads the
// handshake's answer and the hello frame, and returns the connection, which
// holds nothing else. It is closed when the test ends.
func dialLiveRaw(t *testing.T, base, token string) net.Conn {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatalf("dial live: %v", err)
	}
	t.Cleanup(func() { conn.Close() })
	conn.SetDeadline(time.Now().Add(5 * time.Second))
	fmt.Fprintf(conn, "GET /api/v1/live HTTP/1.1\r\nHost: kurir\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
		"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Protocol: kurir.v1\r\n"+
		"Authorization: Bearer %s\r\n\r\n", token)
	// One byte at a time, so that nothing past the hello is read.
	br := bufio.NewReaderSize(iotest.OneByteReader(conn), 16)
	resp, err := http.ReadResponse(br, nil)
	if err != nil || resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("live handshake: %v, %v; want 101 Switching Protocols", resp, err)
	}
	// A server's text frame: 0x81, then the length (7 bits, or 126 and 16 bits).
	var head [4]byte
	if _, err := io.ReadFull(br, head[:2]); err != nil || head[0] != 0x81 {
		t.Fatalf("first frame header % x, %v; want a text frame", head[:2], err)
	}
	n := int(head[1])
	if n == 126 {
		if _, err := io.ReadFull(br, head[2:4]); err != nil {
			t.Fatalf("first frame length: %v", err)
		}
		n = int(binary.BigEndian.Uint16(head[2:4]))
	}
	hello := make([]byte, n)
	if _, err := io.ReadFull(br, hello); err != nil || !bytes.Contains(hello, []byte(`"type":"hello"`)) {
		t.Fatalf("first frame %q, %v; want hello", hello, err)
	}
	conn.SetDeadline(time.Time{})
	return conn
}

// TestLiveEndsOnLogout: logging a device out ends its live stream at once
// (with a resync frame saying why), and the other device's stream stays.
func TestLiveEndsOnLogout(t *testing.T) {
	db := sqldbtest.SQLite(t, schema...)
	h := newHarness(t, db, options{})
	h.register(t, "leaving")
	phone := h.login(t, "leaving", password, "phone").Token
	laptop := h.login(t, "leaving", password, "laptop").Token
	onPhone, onLaptop := h.dialLive(t, phone), h.dialLive(t, laptop)
	readFrame(t, onPhone)
	readFrame(t, onLaptop)
	h.do(t, "DELETE", "/api/v1/sessions/current", phone, nil).want(t, "log out the phone", http.StatusNoContent, nil)
	if f := readFrame(t, onPhone); f.Type != "resync" || f.Reason != "logged out" {
		t.Errorf("phone's stream after its logout: %+v, want a resync frame saying logged out", f)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, _, err := onPhone.Read(ctx); websocket.CloseStatus(err) == -1 {
		t.Errorf("phone's stream still open after logout: %v", err)
	}
	short, cancel2 := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel2()
	if _, _, err := onLaptop.Read(short); websocket.CloseStatus(err) != -1 {
		t.Errorf("laptop's stream closed by the phone's logout: %v", err)
	}
}
