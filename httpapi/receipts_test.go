package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/coder/websocket"

	"kurir/sqldb"
	"kurir/sqldb/sqldbtest"
)

// readFrameJSON is a live frame with what a read mark carries.
type readFrameJSON struct {
	Type  string `json:"type"`
	PTS   int64  `json:"pts"`
	Event struct {
		ChatID     int64  `json:"chat_id"`
		Seq        int64  `json:"seq"`
		Kind       string `json:"kind"`
		UserID     int64  `json:"user_id"`
		MessageSeq int64  `json:"message_seq"`
	} `json:"event"`
}

// nextRead returns the next read mark on a live stream, skipping the
// messages that came before it.
func nextRead(t *testing.T, c *websocket.Conn) readFrameJSON {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for {
		_, data, err := c.Read(ctx)
		if err != nil {
			t.Fatalf("waiting for a read mark: %v", err)
		}
		var f readFrameJSON
		if err := json.Unmarshal(data, &f); err != nil {
			t.Fatalf("decode %s: %v", data, err)
		}
		if f.Event.Kind == "read" {
			return f
		}
	}
}

// TestReadReceipts: when Ben reads Ana's messages in their private chat, Ana
// sees it (the chat, the chat list and live), and so does Ben's other
// device, which clears its unread count; a refused mark changes nothing.
func TestReadReceipts(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		h := newHarness(t, db, options{})
		ana, ben := h.person(t, "anabel"), h.person(t, "benedikt")
		phone := h.login(t, "benedikt", password, "phone").Token
		var c chatJSON
		h.do(t, "PUT", fmt.Sprintf("/api/v1/users/%d/chat", ben.id), ana.token, nil).want(t, "open chat", http.StatusOK, &c)
		first := h.sendMsg(t, ana, c.ID, "are you coming?", "r-1")
		second := h.sendMsg(t, ana, c.ID, "the bus leaves at 8", "r-2")

		type receiptChat struct {
			ID          int64 `json:"id"`
			ReadSeq     int64 `json:"read_seq"`
			PeerReadSeq int64 `json:"peer_read_seq"`
		}
		peerRead := func(who string, token string) (chat, listed int64) {
			t.Helper()
			var got receiptChat
			h.do(t, "GET", fmt.Sprintf("/api/v1/chats/%d", c.ID), token, nil).want(t, "chat as "+who, http.StatusOK, &got)
			var dl struct {
				Dialogs []struct {
					Chat   receiptChat `json:"chat"`
					Unread int         `json:"unread"`
				} `json:"dialogs"`
			}
			h.do(t, "GET", "/api/v1/dialogs", token, nil).want(t, "dialogs as "+who, http.StatusOK, &dl)
			if len(dl.Dialogs) != 1 {
				t.Fatalf("%s's chat list has %d chats, want 1", who, len(dl.Dialogs))
			}
			return got.PeerReadSeq, dl.Dialogs[0].Chat.PeerReadSeq
		}
		if a, b := peerRead("ana", ana.token); a != 0 || b != 0 {
			t.Errorf("before Ben read anything Ana sees him at %d (chat), %d (list)", a, b)
		}

		anaLive, phoneLive := h.dialLive(t, ana.token), h.dialLive(t, phone)
		anaHello, phoneHello := readFrame(t, anaLive), readFrame(t, phoneLive)

		h.do(t, "PUT", fmt.Sprintf("/api/v1/chats/%d/read", c.ID), ben.token, map[string]int64{"seq": first.Seq}).want(t, "read", http.StatusNoContent, nil)
		for who, l := range map[string]struct {
			c     *websocket.Conn
			hello int64
		}{"Ana": {anaLive, anaHello.PTS}, "Ben's phone": {phoneLive, phoneHello.PTS}} {
			f := nextRead(t, l.c)
			if f.Type != "update" || f.PTS != l.hello+1 || f.Event.ChatID != c.ID || f.Event.Seq != 0 || f.Event.UserID != ben.id || f.Event.MessageSeq != first.Seq {
				t.Errorf("%s got %+v, want update pts %d: Ben read chat %d to %d", who, f, l.hello+1, c.ID, first.Seq)
			}
		}
		if a, b := peerRead("ana", ana.token); a != first.Seq || b != first.Seq {
			t.Errorf("Ana sees Ben read to %d (chat), %d (list), want %d", a, b, first.Seq)
		}

		// A device that was offline finds the mark in the update log.
		var d struct {
			Updates []readFrameJSON `json:"updates"`
		}
		h.do(t, "GET", fmt.Sprintf("/api/v1/updates?pts=%d", phoneHello.PTS), phone, nil).want(t, "updates", http.StatusOK, &d)
		if len(d.Updates) != 1 || d.Updates[0].Event.Kind != "read" || d.Updates[0].Event.MessageSeq != first.Seq {
			t.Errorf("Ben's log after %d = %+v, want his read mark", phoneHello.PTS, d.Updates)
		}

		// Marks beyond the end are refused and change nothing.
		h.send(t, call{method: "PUT", path: fmt.Sprintf("/api/v1/chats/%d/read", c.ID), token: ben.token, body: map[string]int64{"seq": second.Seq + 5}, mode: checkProblem}).
			wantProblem(t, "read beyond the end", problemWant{status: http.StatusBadRequest, code: "invalid", reason: "beyond_end", field: "seq"})
		if a, _ := peerRead("ana", ana.token); a != first.Seq {
			t.Errorf("a refused mark moved Ana's view of Ben to %d", a)
		}
	}, schema...)
}
