package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"kurir/sqldb/sqldbtest"
)

// TestTwoNodes runs two server nodes on one PostgreSQL database and one NATS,
// as an operator scales out: a message sent through one node reaches a device
// connected to the other, live.
func TestTwoNodes(t *testing.T) {
	natsURL := os.Getenv("KURIR_TEST_NATS_URL")
	if natsURL == "" {
		t.Skip("KURIR_TEST_NATS_URL is not set; to run this test, set it and KURIR_TEST_POSTGRES_URL, e.g. KURIR_TEST_NATS_URL=nats://127.0.0.1:4222")
	}
	dbURL := sqldbtest.PostgresURL(t)
	prefix := natsPrefix()
	a := startServer(t, dbURL, "--nats", natsURL, "--nats-prefix", prefix)
	b := startServer(t, dbURL, "--nats", natsURL, "--nats-prefix", prefix)

	for _, name := range []string{"nodeuser_a", "nodeuser_b"} {
		st := (&apiClient{t: t, base: a}).call("POST", "/api/v1/accounts", map[string]string{"username": name, "password": "a long and unusual passphrase"}, nil)
		if st != http.StatusCreated {
			t.Fatalf("register %s: %d", name, st)
		}
	}
	ua, _, _ := login(t, a, "nodeuser_a", "a long and unusual passphrase", "A")
	ub, _, _ := login(t, b, "nodeuser_b", "a long and unusual passphrase", "B")

	// B's device listens on node b.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(b, "http")+"/api/v1/live",
		&websocket.DialOptions{Subprotocols: []string{"kurir.v1", "kurir.token." + ub.Token}})
	if err != nil {
		t.Fatalf("dial node b: %v", err)
	}
	defer ws.CloseNow()
	if _, hello, err := ws.Read(ctx); err != nil || !strings.Contains(string(hello), `"hello"`) {
		t.Fatalf("hello: %s %v", hello, err)
	}

	// A sends through node a.
	ca := &apiClient{t: t, base: a, token: ua.Token}
	var me struct {
		ID int64 `json:"id"`
	}
	(&apiClient{t: t, base: b, token: ub.Token}).call("GET", "/api/v1/me", nil, &me)
	var chat struct {
		ID int64 `json:"id"`
	}
	if st := ca.call("PUT", fmt.Sprintf("/api/v1/users/%d/chat", me.ID), nil, &chat); st != http.StatusOK {
		t.Fatalf("open chat: %d", st)
	}
	if st := ca.call("POST", fmt.Sprintf("/api/v1/chats/%d/messages", chat.ID), map[string]string{"text": "across nodes", "idempotency_key": "x1"}, nil); st != http.StatusCreated {
		t.Fatalf("send: %d", st)
	}
	_, data, err := ws.Read(ctx)
	if err != nil {
		t.Fatalf("node b pushed nothing: %v", err)
	}
	var f struct {
		Type  string `json:"type"`
		Event struct {
			Message struct {
				Text string `json:"text"`
			} `json:"message"`
		} `json:"event"`
	}
	json.Unmarshal(data, &f)
	if f.Type != "update" || f.Event.Message.Text != "across nodes" {
		t.Errorf("node b pushed %s, want the message sent through node a", data)
	}
}

// TestTwoNodesTakedown: a moderator takes a channel down through one node; a
// subscriber connected live to the other loses it at once (a takedown event
// pushed, reads refused there too), and gets it back when it is reversed.
func TestTwoNodesTakedown(t *testing.T) {
	natsURL := os.Getenv("KURIR_TEST_NATS_URL")
	if natsURL == "" {
		t.Skip("KURIR_TEST_NATS_URL is not set; to run this test, set it and KURIR_TEST_POSTGRES_URL, e.g. KURIR_TEST_NATS_URL=nats://127.0.0.1:4222")
	}
	dbURL := sqldbtest.PostgresURL(t)
	prefix := natsPrefix()
	a := startServer(t, dbURL, "--nats", natsURL, "--nats-prefix", prefix, "--staff-2fa", "optional")
	b := startServer(t, dbURL, "--nats", natsURL, "--nats-prefix", prefix, "--staff-2fa", "optional")

	const pass = "a long and unusual passphrase"
	for _, name := range []string{"owner_two", "reader_two", "mod_two"} {
		if st := (&apiClient{t: t, base: a}).call("POST", "/api/v1/accounts", map[string]string{"username": name, "password": pass}, nil); st != http.StatusCreated {
			t.Fatalf("register %s: %d", name, st)
		}
	}
	if _, errOut, err := kurirCmd(t, "", "admin", "user", "role", "--database", dbURL, "mod_two", "moderator"); err != nil {
		t.Fatalf("make mod_two a moderator: %v\n%s", err, errOut)
	}
	owner, _, _ := login(t, a, "owner_two", pass, "A")
	reader, _, _ := login(t, b, "reader_two", pass, "B")
	mod, _, _ := login(t, a, "mod_two", pass, "M")
	ca := &apiClient{t: t, base: a, token: owner.Token}
	cb := &apiClient{t: t, base: b, token: reader.Token}
	cm := &apiClient{t: t, base: a, token: mod.Token}

	var ch struct {
		ID int64 `json:"id"`
	}
	if st := ca.call("POST", "/api/v1/chats/channels", map[string]string{"title": "Two nodes", "username": "twonodesnews"}, &ch); st != http.StatusCreated {
		t.Fatalf("create channel: %d", st)
	}
	if st := cb.call("POST", fmt.Sprintf("/api/v1/chats/%d/join", ch.ID), nil, nil); st != http.StatusOK {
		t.Fatalf("subscribe through node b: %d", st)
	}
	messages := fmt.Sprintf("/api/v1/chats/%d/messages", ch.ID)
	if st := ca.call("POST", messages, map[string]string{"text": "a post", "idempotency_key": "p1"}, nil); st != http.StatusCreated {
		t.Fatalf("post: %d", st)
	}
	var rep struct {
		CaseID int64 `json:"case_id"`
	}
	if st := cb.call("POST", "/api/v1/reports", map[string]any{"subject": map[string]any{"kind": "chat", "chat_id": ch.ID}, "reason": "scam"}, &rep); st != http.StatusCreated {
		t.Fatalf("report through node b: %d", st)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(b, "http")+"/api/v1/live",
		&websocket.DialOptions{Subprotocols: []string{"kurir.v1", "kurir.token." + reader.Token}})
	if err != nil {
		t.Fatalf("dial node b: %v", err)
	}
	defer ws.CloseNow()
	// next returns the next change to the channel of the given kind pushed by
	// node b, skipping the hello and the post that may still be on its way.
	next := func(kind string) {
		t.Helper()
		for {
			_, data, err := ws.Read(ctx)
			if err != nil {
				t.Fatalf("node b pushed no %s: %v", kind, err)
			}
			var f struct {
				Type  string `json:"type"`
				Event struct {
					ChatID int64  `json:"chat_id"`
					Kind   string `json:"kind"`
				} `json:"event"`
			}
			json.Unmarshal(data, &f)
			if f.Type == "chat_event" && f.Event.ChatID == ch.ID && f.Event.Kind == kind {
				return
			}
		}
	}

	var act struct {
		ID int64 `json:"id"`
	}
	if st := cm.call("POST", fmt.Sprintf("/api/v1/moderation/cases/%d/actions", rep.CaseID), map[string]any{"kind": "takedown", "facts": "Fake giveaways."}, &act); st != http.StatusCreated {
		t.Fatalf("take down through node a: %d", st)
	}
	next("takedown")
	var p problem
	if st := cb.call("GET", messages, nil, &p); st != http.StatusForbidden || p.Reason != "chat_unavailable" {
		t.Errorf("read through node b after the takedown: %d %+v, want 403 chat_unavailable", st, p)
	}

	if st := cm.call("POST", fmt.Sprintf("/api/v1/moderation/actions/%d/reverse", act.ID), map[string]any{"reason": "Giveaway was real."}, nil); st != http.StatusNoContent {
		t.Fatalf("reverse through node a: %d", st)
	}
	next("reinstated")
	var page struct {
		Messages []struct {
			Text string `json:"text"`
		} `json:"messages"`
	}
	if st := cb.call("GET", messages, nil, &page); st != http.StatusOK || len(page.Messages) == 0 || page.Messages[len(page.Messages)-1].Text != "a post" {
		t.Errorf("read through node b after the reversal: %d %+v, want the post", st, page)
	}
}

// natsPrefix gives a test's nodes NATS subjects of their own, so that tests
// sharing one NATS server (as CI's do) never see each other's events: chat
// IDs repeat across their databases.
func natsPrefix() string { return fmt.Sprintf("kurirtest%d", time.Now().UnixNano()) }
