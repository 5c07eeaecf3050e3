package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
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

		m := h.sendMsg(t, ana, c.ID, "live hello", "l-1")
		f := readFrame(t, live)
		if f.Type != "update" || f.PTS != hello.PTS+1 || f.Event.Kind != "message" || f.Event.Message == nil || f.Event.Message.Text != "live hello" || f.Event.Seq != m.Seq {
			t.Errorf("frame = %+v, want update pts %d with the message", f, hello.PTS+1)
		}
		post := h.sendMsg(t, ana, ch.ID, "channel post", "l-2")
		f = readFrame(t, live)
		if f.Type != "chat_event" || f.Event.ChatID != ch.ID || f.Event.Seq != post.Seq || f.Event.Message.Text != "channel post" {
			t.Errorf("frame = %+v, want the channel post as a chat_event", f)
		}

		// Junk from the device gets an error frame and the stream stays open.
		ctx := t.Context()
		live.Write(ctx, websocket.MessageText, []byte("{not json"))
		if f := readFrame(t, live); f.Type != "error" || f.Detail == "" {
			t.Errorf("after junk: %+v, want an error frame", f)
		}
		live.Write(ctx, websocket.MessageText, []byte(`{"type":"ping"}`))
		if f := readFrame(t, live); f.Type != "pong" {
			t.Errorf("after ping: %+v, want pong", f)
		}
		h.sendMsg(t, ana, c.ID, "still here", "l-3")
		if f := readFrame(t, live); f.Type != "update" || f.PTS != hello.PTS+2 {
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
