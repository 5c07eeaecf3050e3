package httpapi_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"kurir/sqldb"
	"kurir/sqldb/sqldbtest"
)

type chatJSON struct {
	ID          int64  `json:"id"`
	Kind        string `json:"kind"`
	Title       string `json:"title"`
	Username    string `json:"username"`
	MemberCount int64  `json:"member_count"`
	Large       bool   `json:"large"`
	Seq         int64  `json:"seq"`
	PeerID      int64  `json:"peer_id"`
	Role        string `json:"role"`
}

type messageJSON struct {
	ChatID   int64  `json:"chat_id"`
	Seq      int64  `json:"seq"`
	SenderID int64  `json:"sender_id"`
	Text     string `json:"text"`
	Deleted  bool   `json:"deleted"`
	Forward  *struct {
		ChatID int64 `json:"chat_id"`
		Seq    int64 `json:"seq"`
	} `json:"forward"`
}

type updatesJSON struct {
	Updates []struct {
		PTS   int64 `json:"pts"`
		Event struct {
			ChatID  int64        `json:"chat_id"`
			Seq     int64        `json:"seq"`
			Kind    string       `json:"kind"`
			Message *messageJSON `json:"message"`
		} `json:"event"`
	} `json:"updates"`
	PTS     int64 `json:"pts"`
	TooLong bool  `json:"too_long"`
}

// person is a registered, logged-in user of the harness.
type person struct {
	id    int64
	token string
}

func (h *harness) person(t *testing.T, name string) person {
	t.Helper()
	u := h.register(t, name)
	return person{id: u.ID, token: h.login(t, name, password, "test").Token}
}

// TestTwoUsersChat is the first thing a person does: open a private chat,
// write, read the other side's reply, edit, delete, and sync a second device.
func TestTwoUsersChat(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		h := newHarness(t, db, options{})
		ana, ben := h.person(t, "anabel"), h.person(t, "benedikt")

		var c chatJSON
		h.do(t, "PUT", fmt.Sprintf("/api/v1/users/%d/chat", ben.id), ana.token, nil).want(t, "open chat", http.StatusOK, &c)
		if c.Kind != "private" || c.PeerID != ben.id {
			t.Fatalf("private chat = %+v", c)
		}
		var c2 chatJSON
		h.do(t, "PUT", fmt.Sprintf("/api/v1/users/%d/chat", ana.id), ben.token, nil).want(t, "open chat back", http.StatusOK, &c2)
		if c2.ID != c.ID || c2.PeerID != ana.id {
			t.Errorf("the other side opened chat %+v, want the same chat %d", c2, c.ID)
		}

		hello := h.sendMsg(t, ana, c.ID, "Hello, Ben", "k-1")
		again := h.sendMsg(t, ana, c.ID, "Hello, Ben", "k-1") // a retry
		if again.Seq != hello.Seq {
			t.Errorf("retry created seq %d, want the original %d", again.Seq, hello.Seq)
		}
		reply := h.sendMsg(t, ben, c.ID, "Hi Ana!", "k-2")

		var page struct{ Messages []messageJSON }
		h.do(t, "GET", fmt.Sprintf("/api/v1/chats/%d/messages", c.ID), ana.token, nil).want(t, "history", http.StatusOK, &page)
		if len(page.Messages) != 2 || page.Messages[0].Seq != reply.Seq || page.Messages[1].Text != "Hello, Ben" {
			t.Fatalf("history = %+v, want the reply then the greeting", page.Messages)
		}

		var edited messageJSON
		h.do(t, "PATCH", fmt.Sprintf("/api/v1/chats/%d/messages/%d", c.ID, hello.Seq), ana.token, map[string]string{"text": "Hello, Benedikt"}).
			want(t, "edit", http.StatusOK, &edited)
		h.do(t, "PATCH", fmt.Sprintf("/api/v1/chats/%d/messages/%d", c.ID, hello.Seq), ben.token, map[string]string{"text": "forged"}).
			wantProblem(t, "edit another's message", problemWant{status: http.StatusForbidden, code: "forbidden"})
		h.do(t, "DELETE", fmt.Sprintf("/api/v1/chats/%d/messages/%d", c.ID, reply.Seq), ben.token, nil).want(t, "delete", http.StatusNoContent, nil)

		// Ben's second device, offline until now, syncs his update log.
		var d updatesJSON
		h.do(t, "GET", "/api/v1/updates?pts=0", ben.token, nil).want(t, "updates", http.StatusOK, &d)
		var kinds []string
		for _, u := range d.Updates {
			kinds = append(kinds, u.Event.Kind)
		}
		if got := strings.Join(kinds, ","); got != "message,message,edit,delete" {
			t.Errorf("Ben's updates = %s, want message,message,edit,delete", got)
		}
		if len(d.Updates) > 0 && d.Updates[0].Event.Message.Text != "Hello, Benedikt" {
			t.Errorf("synced greeting = %q, want the edited text", d.Updates[0].Event.Message.Text)
		}

		// Replying marked Ana's greeting read for Ben; her next message is unread
		// until he reads it, and the chat list says so.
		last := h.sendMsg(t, ana, c.ID, "Are you there?", "k-3")
		var dl struct {
			Dialogs []struct {
				Chat        chatJSON    `json:"chat"`
				Unread      int         `json:"unread"`
				LastMessage messageJSON `json:"last_message"`
			} `json:"dialogs"`
		}
		h.do(t, "GET", "/api/v1/dialogs", ben.token, nil).want(t, "dialogs", http.StatusOK, &dl)
		if len(dl.Dialogs) != 1 || dl.Dialogs[0].Unread != 1 || dl.Dialogs[0].LastMessage.Text != "Are you there?" {
			t.Fatalf("Ben's dialogs = %+v, want one chat with 1 unread", dl.Dialogs)
		}
		h.do(t, "PUT", fmt.Sprintf("/api/v1/chats/%d/read", c.ID), ben.token, map[string]int64{"seq": last.Seq}).want(t, "read", http.StatusNoContent, nil)
		h.do(t, "GET", "/api/v1/dialogs", ben.token, nil).want(t, "dialogs", http.StatusOK, &dl)
		if dl.Dialogs[0].Unread != 0 {
			t.Errorf("unread after reading = %d", dl.Dialogs[0].Unread)
		}

		// An outsider learns nothing: the same 404 as for a chat that does not exist.
		eve := h.person(t, "evelina")
		for _, path := range []string{fmt.Sprintf("/api/v1/chats/%d/messages", c.ID), "/api/v1/chats/999999/messages"} {
			h.do(t, "GET", path, eve.token, nil).wantProblem(t, "outsider reads "+path, problemWant{status: http.StatusNotFound, code: "not_found"})
			h.send(t, call{method: "POST", path: path, token: eve.token, body: map[string]any{"text": "hi", "idempotency_key": "x"}}).
				wantProblem(t, "outsider posts to "+path, problemWant{status: http.StatusNotFound, code: "not_found"})
		}
	}, schema...)
}

func (h *harness) sendMsg(t *testing.T, p person, chat int64, text, key string) messageJSON {
	t.Helper()
	var m messageJSON
	h.do(t, "POST", fmt.Sprintf("/api/v1/chats/%d/messages", chat), p.token,
		map[string]any{"text": text, "idempotency_key": key}).want(t, "send "+text, http.StatusCreated, &m)
	return m
}

// TestGroupAndChannel checks roles over the API: a group whose members may not
// post, and a channel where only admins post while subscribers read.
func TestGroupAndChannel(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		h := newHarness(t, db, options{})
		owner, mia, noa := h.person(t, "olivia"), h.person(t, "miabell"), h.person(t, "noahsen")

		var g chatJSON
		h.do(t, "POST", "/api/v1/chats/groups", owner.token, map[string]any{
			"title": "Book club", "members": []int64{mia.id}, "permissions": map[string]bool{"post": false, "add_users": false, "pin": false, "edit_info": false},
		}).want(t, "create group", http.StatusCreated, &g)
		if g.MemberCount != 2 || g.Role != "owner" {
			t.Errorf("group = %+v", g)
		}
		h.do(t, "POST", fmt.Sprintf("/api/v1/chats/%d/messages", g.ID), mia.token, map[string]any{"text": "hi", "idempotency_key": "m1"}).
			wantProblem(t, "member posts in admins-only group", problemWant{status: http.StatusForbidden, code: "forbidden"})
		h.do(t, "POST", fmt.Sprintf("/api/v1/chats/%d/members", g.ID), mia.token, map[string]any{"user_ids": []int64{noa.id}}).
			wantProblem(t, "member adds in closed group", problemWant{status: http.StatusForbidden, code: "forbidden"})
		h.do(t, "PUT", fmt.Sprintf("/api/v1/chats/%d/members/%d/role", g.ID, mia.id), owner.token, map[string]string{"role": "admin"}).
			want(t, "promote", http.StatusNoContent, nil)
		h.sendMsg(t, mia, g.ID, "now I can", "m2")

		var ch chatJSON
		h.do(t, "POST", "/api/v1/chats/channels", owner.token, map[string]any{"title": "Daily news", "username": "dailynews"}).
			want(t, "create channel", http.StatusCreated, &ch)
		var found chatJSON
		h.do(t, "GET", "/api/v1/public-chats/DailyNews", noa.token, nil).want(t, "find channel", http.StatusOK, &found)
		h.do(t, "POST", fmt.Sprintf("/api/v1/chats/%d/join", found.ID), noa.token, nil).want(t, "subscribe", http.StatusOK, &found)
		if !found.Large || found.Role != "member" {
			t.Errorf("subscribed channel = %+v", found)
		}
		h.do(t, "POST", fmt.Sprintf("/api/v1/chats/%d/messages", ch.ID), noa.token, map[string]any{"text": "spam", "idempotency_key": "n1"}).
			wantProblem(t, "subscriber posts", problemWant{status: http.StatusForbidden, code: "forbidden"})
		post := h.sendMsg(t, owner, ch.ID, "Morning edition", "o1")
		var cu struct {
			Events []struct {
				Seq     int64        `json:"seq"`
				Kind    string       `json:"kind"`
				Message *messageJSON `json:"message"`
			} `json:"events"`
			Seq int64 `json:"seq"`
		}
		h.do(t, "GET", fmt.Sprintf("/api/v1/chats/%d/updates?seq=%d", ch.ID, post.Seq-1), noa.token, nil).want(t, "channel updates", http.StatusOK, &cu)
		if len(cu.Events) != 1 || cu.Events[0].Message == nil || cu.Events[0].Message.Text != "Morning edition" || cu.Seq != post.Seq {
			t.Errorf("channel updates = %+v", cu)
		}
		// A confusable look-alike of the channel's name is refused.
		h.do(t, "POST", "/api/v1/chats/channels", mia.token, map[string]any{"title": "Fake", "username": "dai1ynews"}).
			wantProblem(t, "look-alike channel name", problemWant{status: http.StatusConflict, code: "conflict", reason: "username_taken", field: "username"})
	}, schema...)
}

// TestSendBadInput: every refusal is a clear problem, and nothing is written.
func TestSendBadInput(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		h := newHarness(t, db, options{})
		ana, ben := h.person(t, "anabel"), h.person(t, "benedikt")
		var c chatJSON
		h.do(t, "PUT", fmt.Sprintf("/api/v1/users/%d/chat", ben.id), ana.token, nil).want(t, "open chat", http.StatusOK, &c)
		path := fmt.Sprintf("/api/v1/chats/%d/messages", c.ID)
		tests := []struct {
			name string
			path string
			body any
			want problemWant
		}{
			{"no idempotency key", path, map[string]any{"text": "hi"}, problemWant{status: 400, code: "invalid", reason: "invalid_idempotency_key", field: "idempotency_key"}},
			{"empty text", path, map[string]any{"text": "  ", "idempotency_key": "a"}, problemWant{status: 400, code: "invalid", reason: "empty", field: "text"}},
			{"text too long", path, map[string]any{"text": strings.Repeat("ж", 4097), "idempotency_key": "b"}, problemWant{status: 400, code: "invalid", reason: "too_long", field: "text"}},
			{"invalid UTF-8", path, []byte("{\"text\":\"\xff\",\"idempotency_key\":\"c\"}"), problemWant{status: 400, code: "invalid", reason: "invalid_utf8"}},
			{"reply to nothing", path, map[string]any{"text": "x", "reply_to": 77, "idempotency_key": "d"}, problemWant{status: 400, code: "invalid", reason: "no_such_message", field: "reply_to"}},
			{"unknown chat", "/api/v1/chats/424242/messages", map[string]any{"text": "x", "idempotency_key": "e"}, problemWant{status: 404, code: "not_found"}},
			{"chat id not a number", "/api/v1/chats/abc/messages", map[string]any{"text": "x", "idempotency_key": "f"}, problemWant{status: 400, code: "invalid", reason: "invalid_id", field: "id"}},
			{"unknown field", path, map[string]any{"text": "x", "idempotency_key": "g", "silent": true}, problemWant{status: 400, code: "invalid", reason: "unknown_field", field: "silent"}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				h.send(t, call{method: "POST", path: tt.path, token: ana.token, body: tt.body, mode: checkResponse}).wantProblem(t, tt.name, tt.want)
			})
		}
		var got chatJSON
		h.do(t, "GET", fmt.Sprintf("/api/v1/chats/%d", c.ID), ana.token, nil).want(t, "chat", http.StatusOK, &got)
		if got.Seq != 0 {
			t.Errorf("chat seq = %d after only refused sends, want 0", got.Seq)
		}
	}, schema...)
}

func TestSearchAPI(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		h := newHarness(t, db, options{})
		ana := h.person(t, "anabel")
		var ch chatJSON
		h.do(t, "POST", "/api/v1/chats/channels", ana.token, map[string]any{"title": "Harbour Weather", "username": "harbourwx"}).want(t, "channel", http.StatusCreated, &ch)
		h.sendMsg(t, ana, ch.ID, "Storm warning for the harbour tonight", "s1")
		var chats struct{ Chats []chatJSON }
		h.do(t, "GET", "/api/v1/search/chats?q=weather", ana.token, nil).want(t, "search chats", http.StatusOK, &chats)
		if len(chats.Chats) != 1 || chats.Chats[0].ID != ch.ID {
			t.Errorf("search chats = %+v", chats.Chats)
		}
		var msgs struct{ Messages []messageJSON }
		h.do(t, "GET", fmt.Sprintf("/api/v1/search/messages?q=STORM+harbour&chat_id=%d", ch.ID), ana.token, nil).want(t, "search messages", http.StatusOK, &msgs)
		if len(msgs.Messages) != 1 {
			t.Errorf("search messages = %+v", msgs.Messages)
		}
		h.send(t, call{method: "GET", path: "/api/v1/search/messages?q=", token: ana.token, mode: checkResponse}).
			wantProblem(t, "empty query", problemWant{status: 400, code: "invalid", reason: "empty", field: "q"})
	}, schema...)
}
