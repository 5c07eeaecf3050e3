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
	a := startServer(t, dbURL, "--nats", natsURL)
	b := startServer(t, dbURL, "--nats", natsURL)

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
