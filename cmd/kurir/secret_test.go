package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"kurir/secret/franking"
	"kurir/secret/protocol"
	"kurir/sqldb/sqldbtest"
)

// TestSecretChatAcrossNodes runs two nodes on one PostgreSQL database and
// one NATS: an envelope sent through one node nudges its recipient's live
// stream on the other, is fetched through either, and its franking tag,
// stamped by one node, verifies on the other, since the nodes share the
// franking secret through the database.
func TestSecretChatAcrossNodes(t *testing.T) {
	natsURL := os.Getenv("KURIR_TEST_NATS_URL")
	if natsURL == "" {
		t.Skip("KURIR_TEST_NATS_URL is not set; to run this test, set it and KURIR_TEST_POSTGRES_URL, e.g. KURIR_TEST_NATS_URL=nats://127.0.0.1:4222")
	}
	dbURL := sqldbtest.PostgresURL(t)
	prefix := natsPrefix()
	a := startServer(t, dbURL, "--nats", natsURL, "--nats-prefix", prefix)
	b := startServer(t, dbURL, "--nats", natsURL, "--nats-prefix", prefix)
	const pw = "a long and unusual passphrase"
	for _, name := range []string{"secret_a", "secret_b"} {
		if st := (&apiClient{t: t, base: a}).call("POST", "/api/v1/accounts", map[string]string{"username": name, "password": pw}, nil); st != http.StatusCreated {
			t.Fatalf("register %s: %d", name, st)
		}
	}
	la, _, _ := login(t, a, "secret_a", pw, "A")
	lb, _, _ := login(t, b, "secret_b", pw, "B")
	ca, cb := &apiClient{t: t, base: a, token: la.Token}, &apiClient{t: t, base: b, token: lb.Token}
	var me struct {
		ID int64 `json:"id"`
	}
	cb.call("GET", "/api/v1/me", nil, &me)
	b64 := base64.StdEncoding.EncodeToString

	// B publishes its keys through node b and listens there.
	id, _ := protocol.NewIdentityKey(rand.Reader)
	spk, _ := protocol.NewSignedPreKey(1, id, rand.Reader)
	opk, _ := protocol.NewOneTimePreKey(1, rand.Reader)
	pub, sp, op := id.Public(), spk.Public(), opk.Public()
	if st := cb.call("PUT", "/api/v1/secret/keys", map[string]any{
		"identity":         b64(append(pub.DH[:], pub.Sign[:]...)),
		"signed_prekey":    map[string]any{"id": sp.ID, "key": b64(sp.Key[:]), "signature": b64(spk.Signature[:])},
		"one_time_prekeys": []any{map[string]any{"id": op.ID, "key": b64(op.Key[:])}},
	}, nil); st != http.StatusOK {
		t.Fatalf("publish keys: %d", st)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(b, "http")+"/api/v1/live",
		&websocket.DialOptions{Subprotocols: []string{"kurir.v1", "kurir.token." + lb.Token}})
	if err != nil {
		t.Fatalf("dial node b: %v", err)
	}
	defer ws.CloseNow()
	if _, hello, err := ws.Read(ctx); err != nil || !strings.Contains(string(hello), `"hello"`) {
		t.Fatalf("hello: %s %v", hello, err)
	}

	// A claims B's bundle and sends through node a.
	var bl struct {
		Bundles []struct {
			Bundle string `json:"bundle"`
		} `json:"bundles"`
	}
	if st := ca.call("POST", fmt.Sprintf("/api/v1/secret/users/%d/bundles", me.ID), map[string]any{}, &bl); st != http.StatusOK || len(bl.Bundles) != 1 {
		t.Fatalf("claim: %d %+v", st, bl)
	}
	raw, _ := base64.StdEncoding.DecodeString(bl.Bundles[0].Bundle)
	var bundle protocol.Bundle
	if err := bundle.UnmarshalBinary(raw); err != nil {
		t.Fatal(err)
	}
	ida, _ := protocol.NewIdentityKey(rand.Reader)
	sess, ih, err := protocol.Initiate(ida, bundle, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	const text = "across nodes, end to end"
	kf, _ := franking.NewKey(rand.Reader)
	c := franking.Commit(kf, []byte(text))
	m, _ := sess.Encrypt([]byte(text), c[:])
	hdr, _ := ih.MarshalBinary()
	msg, _ := m.MarshalBinary()
	body := append(append([]byte{1}, hdr...), msg...)
	if st := ca.call("POST", "/api/v1/secret/envelopes", map[string]any{"envelopes": []any{map[string]any{
		"user_id": me.ID, "device_id": lb.Session.ID, "body": b64(body), "commitment": b64(c[:]), "client_id": "x1"}}}, nil); st != http.StatusCreated {
		t.Fatalf("send: %d", st)
	}
	// B's only one-time prekey went to A: B is told to upload more, then
	// that an envelope waits.
	for _, want := range []string{`{"type":"secret_keys_low"}`, `{"type":"secret"}`} {
		if _, data, err := ws.Read(ctx); err != nil || string(data) != want {
			t.Fatalf("node b pushed %s, %v; want %s", data, err, want)
		}
	}

	// B fetches through node a and reports through node b.
	cba := &apiClient{t: t, base: a, token: lb.Token}
	var got struct {
		Envelopes []struct {
			ID           string `json:"id"`
			Sender       int64  `json:"sender"`
			SenderDevice int64  `json:"sender_device"`
			Body         string `json:"body"`
			Tag          string `json:"tag"`
			AtUS         int64  `json:"at_us"`
		} `json:"envelopes"`
	}
	if st := cba.call("GET", "/api/v1/secret/envelopes", nil, &got); st != http.StatusOK || len(got.Envelopes) != 1 || got.Envelopes[0].Body != b64(body) {
		t.Fatalf("fetch: %d %+v", st, got)
	}
	e := got.Envelopes[0]
	tagBytes, _ := base64.StdEncoding.DecodeString(e.Tag)
	tag, err := franking.ParseTag(tagBytes)
	if err != nil {
		t.Fatal(err)
	}
	report := franking.Report{Plaintext: []byte(text), Key: kf, Commitment: c, Tag: tag, Context: franking.Context{
		Sender: e.Sender, SenderDevice: e.SenderDevice, Recipient: me.ID, RecipientDevice: lb.Session.ID,
		At: time.UnixMicro(e.AtUS), Envelope: e.ID}}
	var p problem
	if st := cb.call("POST", "/api/v1/secret/reports", map[string]any{"report": report, "reason": "spam"}, &p); st != http.StatusCreated {
		t.Errorf("a report of an envelope stamped by node a, filed through node b: %d %+v", st, p)
	}
}

// TestSecretEnvelopeTTLFlag refuses a TTL too short to be meant.
func TestSecretEnvelopeTTLFlag(t *testing.T) {
	var out, errOut strings.Builder
	err := run(t.Context(), []string{"kurir", "serve", "--secret-envelope-ttl", "1s", "--data-dir", t.TempDir()}, noEnv, nil, &out, &errOut)
	if err == nil || !strings.Contains(err.Error(), "--secret-envelope-ttl") {
		t.Errorf("err = %v, want a refusal naming --secret-envelope-ttl", err)
	}
}
