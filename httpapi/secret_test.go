package httpapi_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"kurir"
	"kurir/ratelimit"
	"kurir/secret"
	"kurir/secret/franking"
	"kurir/secret/protocol"
	"kurir/sqldb"
	"kurir/sqldb/sqldbtest"
)

// The secret-chat API (docs/secret-chats.md, "Server API"). The devices in
// these tests are real: they make keys with secret/protocol, encrypt the
// payload the contract defines with the Double Ratchet, commit to it with
// secret/franking, and decrypt what they fetch.

type secretStatusJSON struct {
	Registered     bool       `json:"registered"`
	Identity       string     `json:"identity"`
	SignedPreKeyID int64      `json:"signed_prekey_id"`
	SignedPreKeyAt *time.Time `json:"signed_prekey_at"`
	OneTimePreKeys int        `json:"one_time_prekeys"`
	Replenish      bool       `json:"replenish"`
}

type secretSentJSON struct {
	ID       string `json:"id"`
	UserID   int64  `json:"user_id"`
	DeviceID int64  `json:"device_id"`
	AtUS     int64  `json:"at_us"`
	Tag      string `json:"tag"`
}

type secretEnvelopeJSON struct {
	ID           string `json:"id"`
	Sender       int64  `json:"sender"`
	SenderDevice int64  `json:"sender_device"`
	Body         string `json:"body"`
	Commitment   string `json:"commitment"`
	Tag          string `json:"tag"`
	AtUS         int64  `json:"at_us"`
}

type secretDevicesJSON struct {
	Devices []struct {
		DeviceID  int64     `json:"device_id"`
		Identity  string    `json:"identity"`
		UpdatedAt time.Time `json:"updated_at"`
	} `json:"devices"`
}

type secretBundlesJSON struct {
	Bundles []struct {
		DeviceID int64  `json:"device_id"`
		Bundle   string `json:"bundle"`
	} `json:"bundles"`
}

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

func unb64(t testing.TB, s string) []byte {
	t.Helper()
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		t.Fatalf("decode base64 %q: %v", s, err)
	}
	return b
}

// payload encodes the Double Ratchet plaintext of the contract: 0x01 ||
// kind 0x01 (text) || Kf || u32 expire_seconds || u64 sent_at (ms) || text.
func payload(kf franking.Key, text string, expire uint32, sentAt time.Time) []byte {
	b := []byte{1, 1}
	b = append(b, kf[:]...)
	b = binary.BigEndian.AppendUint32(b, expire)
	b = binary.BigEndian.AppendUint64(b, uint64(sentAt.UnixMilli()))
	return append(b, text...)
}

func parsePayload(b []byte) (franking.Key, string, error) {
	var kf franking.Key
	if len(b) < 46 || b[0] != 1 || b[1] != 1 || !utf8.Valid(b[46:]) {
		return kf, "", fmt.Errorf("malformed payload of %d bytes", len(b))
	}
	copy(kf[:], b[2:34])
	return kf, string(b[46:]), nil
}

// secretDevice is one device in a secret chat: its session on the server
// and its keys and sessions on the device.
type secretDevice struct {
	name   string
	token  string
	user   int64
	device int64

	identity *protocol.IdentityKey
	spk      *protocol.SignedPreKey
	opks     map[uint32]*protocol.OneTimePreKey
	nextOPK  uint32
	sessions map[int64]*protocol.Session // by the other device
	initial  map[int64][]byte            // the initial header to attach, until a reply decrypts
	received []secretReceived
}

// secretReceived is a message a device decrypted, with the franking report
// it could reveal.
type secretReceived struct {
	prekey bool // it came in a prekey envelope
	text   string
	report franking.Report
}

// secretUser registers name and logs in a device; secretLogin logs in
// another device of an existing user. Neither publishes keys.
func (h *harness) secretUser(t *testing.T, name string) *secretDevice {
	t.Helper()
	h.register(t, name)
	return h.secretLogin(t, name)
}

func (h *harness) secretLogin(t *testing.T, name string) *secretDevice {
	t.Helper()
	l := h.login(t, name, password, "secret device")
	id, err := protocol.NewIdentityKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return &secretDevice{name: name, token: l.Token, user: l.User.ID, device: l.Session.ID, identity: id, nextOPK: 1,
		opks: map[uint32]*protocol.OneTimePreKey{}, sessions: map[int64]*protocol.Session{}, initial: map[int64][]byte{}}
}

// prekeys makes n one-time prekeys and returns them as the API takes them.
func (d *secretDevice) prekeys(t *testing.T, n int) []map[string]any {
	t.Helper()
	var out []map[string]any
	for range n {
		k, err := protocol.NewOneTimePreKey(d.nextOPK, rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		d.nextOPK++
		d.opks[k.ID] = k
		pub := k.Public()
		out = append(out, map[string]any{"id": k.ID, "key": b64(pub.Key[:])})
	}
	return out
}

// keysRequest is a PUT /keys body with a new signed prekey and n one-time prekeys.
func (d *secretDevice) keysRequest(t *testing.T, n int) map[string]any {
	t.Helper()
	id := uint32(1)
	if d.spk != nil {
		id = d.spk.ID + 1
	}
	spk, err := protocol.NewSignedPreKey(id, d.identity, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	d.spk = spk
	pub := d.identity.Public()
	sp := spk.Public()
	req := map[string]any{
		"identity":      b64(append(pub.DH[:], pub.Sign[:]...)),
		"signed_prekey": map[string]any{"id": sp.ID, "key": b64(sp.Key[:]), "signature": b64(spk.Signature[:])},
	}
	if n > 0 {
		req["one_time_prekeys"] = d.prekeys(t, n)
	}
	return req
}

// publish publishes the device's keys with n one-time prekeys.
func (d *secretDevice) publish(t *testing.T, h *harness, n int) secretStatusJSON {
	t.Helper()
	var st secretStatusJSON
	h.do(t, "PUT", "/api/v1/secret/keys", d.token, d.keysRequest(t, n)).want(t, d.name+" publishes keys", http.StatusOK, &st)
	return st
}

// seal encrypts text for the device to, claiming its bundle first if they
// have no session, and returns the envelope as the API takes it.
func (d *secretDevice) seal(t *testing.T, h *harness, to *secretDevice, text, clientID string) map[string]any {
	t.Helper()
	sess := d.sessions[to.device]
	if sess == nil {
		var bl secretBundlesJSON
		h.do(t, "POST", fmt.Sprintf("/api/v1/secret/users/%d/bundles", to.user), d.token, map[string]any{"devices": []int64{to.device}}).
			want(t, d.name+" claims "+to.name+"'s bundle", http.StatusOK, &bl)
		var b protocol.Bundle
		if len(bl.Bundles) != 1 || b.UnmarshalBinary(unb64(t, bl.Bundles[0].Bundle)) != nil {
			t.Fatalf("claimed %+v", bl)
		}
		s, ih, err := protocol.Initiate(d.identity, b, rand.Reader)
		if err != nil {
			t.Fatalf("initiate with %s: %v", to.name, err)
		}
		d.sessions[to.device] = s
		d.initial[to.device], _ = ih.MarshalBinary()
		sess = s
	}
	kf, err := franking.NewKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	c := franking.Commit(kf, []byte(text))
	m, err := sess.Encrypt(payload(kf, text, 0, time.Now()), c[:])
	if err != nil {
		t.Fatal(err)
	}
	enc, _ := m.MarshalBinary()
	body := append([]byte{2}, enc...)
	if ih := d.initial[to.device]; ih != nil {
		body = append(append([]byte{1}, ih...), enc...)
	}
	return map[string]any{"user_id": to.user, "device_id": to.device, "body": b64(body), "commitment": b64(c[:]), "client_id": clientID}
}

// send seals each text for to and sends them in one request.
func (d *secretDevice) send(t *testing.T, h *harness, to *secretDevice, texts ...string) []secretSentJSON {
	t.Helper()
	var envs []map[string]any
	for _, text := range texts {
		envs = append(envs, d.seal(t, h, to, text, rand.Text()))
	}
	var out struct {
		Envelopes []secretSentJSON `json:"envelopes"`
	}
	h.do(t, "POST", "/api/v1/secret/envelopes", d.token, map[string]any{"envelopes": envs}).
		want(t, d.name+" sends to "+to.name, http.StatusCreated, &out)
	return out.Envelopes
}

// fetch returns the device's pending envelopes.
func (d *secretDevice) fetch(t *testing.T, h *harness) []secretEnvelopeJSON {
	t.Helper()
	var out struct {
		Envelopes []secretEnvelopeJSON `json:"envelopes"`
	}
	h.do(t, "GET", "/api/v1/secret/envelopes", d.token, nil).want(t, d.name+" fetches", http.StatusOK, &out)
	return out.Envelopes
}

// receive fetches, decrypts and acknowledges what waits for the device,
// and returns the texts in order.
func (d *secretDevice) receive(t *testing.T, h *harness) []string {
	t.Helper()
	envs := d.fetch(t, h)
	var texts, ids []string
	for _, e := range envs {
		r := d.open(t, e)
		texts = append(texts, r.text)
		ids = append(ids, e.ID)
	}
	if len(ids) > 0 {
		h.do(t, "POST", "/api/v1/secret/envelopes/ack", d.token, map[string]any{"ids": ids}).want(t, d.name+" acknowledges", http.StatusNoContent, nil)
	}
	return texts
}

// open decrypts one envelope and checks its franking commitment, as a
// client must before showing it.
func (d *secretDevice) open(t *testing.T, e secretEnvelopeJSON) secretReceived {
	t.Helper()
	body := unb64(t, e.Body)
	var c franking.Commitment
	copy(c[:], unb64(t, e.Commitment))
	tag, err := franking.ParseTag(unb64(t, e.Tag))
	if err != nil {
		t.Fatal(err)
	}
	sess := d.sessions[e.SenderDevice]
	var msg []byte
	switch body[0] {
	case 1:
		n := 102
		if body[1+101] == 1 {
			n = 106
		}
		var ih protocol.InitialHeader
		if err := ih.UnmarshalBinary(body[1 : 1+n]); err != nil {
			t.Fatal(err)
		}
		if sess == nil {
			var opk *protocol.OneTimePreKey
			if ih.HasOneTimePreKey {
				opk = d.opks[ih.OneTimePreKeyID]
			}
			if sess, err = protocol.Respond(d.identity, d.spk, opk, ih, rand.Reader); err != nil {
				t.Fatalf("%s: respond: %v", d.name, err)
			}
			d.sessions[e.SenderDevice] = sess
			if opk != nil {
				delete(d.opks, opk.ID)
			}
		}
		msg = body[1+n:]
	case 2:
		msg = body[1:]
	}
	if sess == nil {
		t.Fatalf("%s: a session envelope from device %d without a session", d.name, e.SenderDevice)
	}
	var m protocol.Message
	if err := m.UnmarshalBinary(msg); err != nil {
		t.Fatal(err)
	}
	pt, err := sess.Decrypt(m, c[:])
	if err != nil {
		t.Fatalf("%s: decrypt envelope %s: %v", d.name, e.ID, err)
	}
	delete(d.initial, e.SenderDevice) // a reply decrypted: no more prekey envelopes
	kf, text, err := parsePayload(pt)
	if err != nil {
		t.Fatal(err)
	}
	if err := franking.Open(kf, []byte(text), c); err != nil {
		t.Fatalf("%s: the commitment does not open: %v", d.name, err)
	}
	r := secretReceived{prekey: body[0] == 1, text: text, report: franking.Report{Plaintext: []byte(text), Key: kf, Commitment: c, Tag: tag,
		Context: franking.Context{Sender: e.Sender, SenderDevice: e.SenderDevice, Recipient: d.user, RecipientDevice: d.device,
			At: time.UnixMicro(e.AtUS).UTC(), Envelope: e.ID}}}
	d.received = append(d.received, r)
	return r
}

// secretRows counts the rows secret-chat requests could change.
func secretRows(t testing.TB, db *sqldb.DB) [4]int {
	t.Helper()
	var n [4]int
	for i, table := range []string{"secret_devices", "secret_prekeys", "secret_envelopes", "mod_signals"} {
		if err := db.Read().QueryRowContext(context.Background(), "SELECT COUNT(*) FROM "+table).Scan(&n[i]); err != nil {
			t.Fatal(err)
		}
	}
	var claimed int
	db.Read().QueryRowContext(context.Background(), "SELECT COUNT(*) FROM secret_prekeys WHERE claimed_at IS NOT NULL").Scan(&claimed)
	n[1] = n[1]*1000 + claimed
	return n
}

// TestSecretChat is a conversation between two devices through the API,
// begun while the recipient is offline: prekey envelopes until a reply
// decrypts, session envelopes after.
func TestSecretChat(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		h := newHarness(t, db, options{})
		alice, bob := h.secretUser(t, "alice"), h.secretUser(t, "bobby")
		alice.publish(t, h, 25)
		if st := bob.publish(t, h, 25); !st.Registered || st.OneTimePreKeys != 25 || st.Replenish || st.SignedPreKeyID != 1 {
			t.Errorf("bob's status after publishing: %+v", st)
		}

		sent := alice.send(t, h, bob, "Hello Bob", "Are you there?", "")
		if len(sent) != 3 || sent[0].UserID != bob.user || sent[0].DeviceID != bob.device || len(unb64(t, sent[0].Tag)) != 33 {
			t.Fatalf("sent %+v", sent)
		}
		got := bob.receive(t, h)
		if strings.Join(got, "|") != "Hello Bob|Are you there?|" {
			t.Errorf("bob received %q", got)
		}
		for _, r := range bob.received {
			if !r.prekey {
				t.Errorf("%q came in a session envelope before any reply", r.text)
			}
			if r.report.Tag != mustTag(t, sent[0].Tag) && r.report.Context.Envelope == sent[0].ID {
				t.Errorf("the tag fetched differs from the tag the sender got")
			}
		}
		if len(bob.fetch(t, h)) != 0 {
			t.Errorf("acknowledged envelopes are still pending")
		}

		bob.send(t, h, alice, "Hi Alice, here.")
		if got := alice.receive(t, h); len(got) != 1 || got[0] != "Hi Alice, here." {
			t.Errorf("alice received %q", got)
		}
		alice.send(t, h, bob, "Great, a secret chat.")
		if got := bob.receive(t, h); len(got) != 1 || got[0] != "Great, a secret chat." || bob.received[3].prekey {
			t.Errorf("bob received %q (prekey envelope: %v); want a session envelope", got, bob.received[3].prekey)
		}
		if st := h.keyStatus(t, bob); st.OneTimePreKeys != 24 {
			t.Errorf("bob has %d one-time prekeys after one session, want 24", st.OneTimePreKeys)
		}
	}, schema...)
}

func mustTag(t *testing.T, s string) franking.Tag {
	t.Helper()
	tag, err := franking.ParseTag(unb64(t, s))
	if err != nil {
		t.Fatal(err)
	}
	return tag
}

func (h *harness) keyStatus(t *testing.T, d *secretDevice) secretStatusJSON {
	t.Helper()
	var st secretStatusJSON
	h.do(t, "GET", "/api/v1/secret/keys", d.token, nil).want(t, d.name+"'s key status", http.StatusOK, &st)
	return st
}

// TestSecretChatStoresNoPlaintext holds a conversation and then searches the
// raw SQLite files for its words: none are there. A cloud-chat message sent
// beside it, and the ciphertext of an envelope still pending, are found, so
// the search does see what is stored.
func TestSecretChatStoresNoPlaintext(t *testing.T) {
	ctx := context.Background()
	url := sqldbtest.SQLiteURL(t)
	db, err := sqldb.Open(ctx, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Migrate(ctx, schema...); err != nil {
		t.Fatal(err)
	}
	closed := false
	t.Cleanup(func() {
		if !closed {
			db.Close()
		}
	})
	h := newHarness(t, db, options{})
	alice, bob := h.secretUser(t, "alice"), h.secretUser(t, "bobby")
	alice.publish(t, h, 5)
	bob.publish(t, h, 5)
	secrets := []string{"the xylophone plays at dawn", "meet me by the quagmire", "bring the zeppelin notebook", "the kumquat is not yet read"}
	rare := []string{"xylophone", "quagmire", "zeppelin", "kumquat"}
	alice.send(t, h, bob, secrets[0], secrets[1])
	bob.receive(t, h)
	bob.send(t, h, alice, secrets[2])
	alice.receive(t, h)
	alice.send(t, h, bob, secrets[3]) // left pending
	pending := bob.fetch(t, h)
	if len(pending) != 1 {
		t.Fatalf("%d pending, want 1", len(pending))
	}
	ciphertext := unb64(t, pending[0].Body)
	ciphertext = ciphertext[len(ciphertext)-40:]

	// A cloud chat's message is stored in the clear, and must be found.
	var c chatJSON
	h.do(t, "PUT", fmt.Sprintf("/api/v1/users/%d/chat", bob.user), alice.token, nil).want(t, "open chat", http.StatusOK, &c)
	const cloud = "cloud chat marker 91c2"
	h.do(t, "POST", fmt.Sprintf("/api/v1/chats/%d/messages", c.ID), alice.token, map[string]any{"text": cloud, "idempotency_key": "k1"}).
		want(t, "send a cloud message", http.StatusCreated, nil)

	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	closed = true
	dir := filepath.Dir(strings.TrimPrefix(url, "sqlite:"))
	files, err := filepath.Glob(filepath.Join(dir, "*"))
	if err != nil || len(files) == 0 {
		t.Fatalf("database files: %v, %v", files, err)
	}
	var raw []byte
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		raw = append(raw, b...)
	}
	for _, s := range append(secrets, rare...) {
		if bytes.Contains(raw, []byte(s)) {
			t.Errorf("the database files (%s) contain %q of the secret chat", strings.Join(files, ", "), s)
		}
	}
	if !bytes.Contains(raw, []byte(cloud)) {
		t.Errorf("the cloud message is not in the database files: the search sees nothing")
	}
	if !bytes.Contains(raw, ciphertext) {
		t.Errorf("the pending envelope's ciphertext is not in the database files: the search sees nothing")
	}
}

// TestSecretKeysAPI publishes, replenishes and lists keys, and refuses bad
// uploads with a clear problem and no change.
func TestSecretKeysAPI(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		h := newHarness(t, db, options{})
		alice := h.secretUser(t, "alice")
		if st := h.keyStatus(t, alice); st.Registered || st.Identity != "" || st.SignedPreKeyAt != nil || !st.Replenish {
			t.Errorf("status before publishing: %+v", st)
		}
		h.do(t, "POST", "/api/v1/secret/keys/one-time", alice.token, map[string]any{"one_time_prekeys": alice.prekeys(t, 1)}).
			wantProblem(t, "prekeys before keys", problemWant{status: http.StatusConflict, code: "conflict", reason: "secret_not_registered"})

		good := alice.keysRequest(t, 10)
		var st secretStatusJSON
		h.do(t, "PUT", "/api/v1/secret/keys", alice.token, good).want(t, "publish", http.StatusOK, &st)
		pub := alice.identity.Public()
		if !st.Registered || st.Identity != b64(append(pub.DH[:], pub.Sign[:]...)) || st.OneTimePreKeys != 10 || !st.Replenish ||
			st.SignedPreKeyAt == nil || !st.SignedPreKeyAt.Equal(h.clock.Now()) {
			t.Errorf("status after publishing: %+v", st)
		}
		// The same upload again is a retry.
		h.do(t, "PUT", "/api/v1/secret/keys", alice.token, good).want(t, "publish again", http.StatusOK, &st)
		if st.OneTimePreKeys != 10 {
			t.Errorf("a repeated upload left %d one-time prekeys, want 10", st.OneTimePreKeys)
		}
		h.do(t, "POST", "/api/v1/secret/keys/one-time", alice.token, map[string]any{"one_time_prekeys": alice.prekeys(t, 15)}).
			want(t, "replenish", http.StatusOK, &st)
		if st.OneTimePreKeys != 25 || st.Replenish {
			t.Errorf("after replenishing: %+v", st)
		}

		edit := func(f func(m map[string]any)) map[string]any {
			b, _ := json.Marshal(good)
			var m map[string]any
			json.Unmarshal(b, &m)
			f(m)
			return m
		}
		spk := func(m map[string]any) map[string]any { return m["signed_prekey"].(map[string]any) }
		bad := []struct {
			name   string
			method string
			path   string
			body   any
			want   problemWant
		}{
			{"identity not base64", "PUT", "/api/v1/secret/keys", edit(func(m map[string]any) { m["identity"] = strings.Repeat("!", 88) }),
				problemWant{400, "invalid", "invalid_base64", "identity"}},
			{"identity too short", "PUT", "/api/v1/secret/keys", edit(func(m map[string]any) { m["identity"] = b64(make([]byte, 32)) }),
				problemWant{400, "invalid", "invalid_length", "identity"}},
			{"identity missing", "PUT", "/api/v1/secret/keys", edit(func(m map[string]any) { delete(m, "identity") }),
				problemWant{400, "invalid", "invalid_length", "identity"}},
			{"forged signature", "PUT", "/api/v1/secret/keys", edit(func(m map[string]any) {
				spk(m)["signature"] = b64(make([]byte, 64))
			}), problemWant{400, "invalid", "secret_bad_signature", "signed_prekey.signature"}},
			{"low-order signed prekey", "PUT", "/api/v1/secret/keys", edit(func(m map[string]any) {
				spk(m)["key"] = b64(make([]byte, 32))
			}), problemWant{400, "invalid", "secret_bad_key", "signed_prekey.key"}},
			{"signed prekey ID out of range", "PUT", "/api/v1/secret/keys", edit(func(m map[string]any) { spk(m)["id"] = 1 << 32 }),
				problemWant{400, "invalid", "invalid_id", "signed_prekey.id"}},
			{"unknown field", "PUT", "/api/v1/secret/keys", edit(func(m map[string]any) { m["private_key"] = "x" }),
				problemWant{400, "invalid", "unknown_field", "private_key"}},
			{"low-order one-time prekey", "POST", "/api/v1/secret/keys/one-time",
				map[string]any{"one_time_prekeys": []map[string]any{{"id": 500, "key": b64(append([]byte{1}, make([]byte, 31)...))}}},
				problemWant{400, "invalid", "secret_bad_key", "one_time_prekeys[0].key"}},
			{"an ID taken by another key", "POST", "/api/v1/secret/keys/one-time",
				map[string]any{"one_time_prekeys": []map[string]any{{"id": good["one_time_prekeys"].([]map[string]any)[0]["id"],
					"key": good["one_time_prekeys"].([]map[string]any)[1]["key"]}}},
				problemWant{409, "conflict", "secret_prekey_id_taken", "one_time_prekeys[0].id"}},
			{"101 one-time prekeys", "POST", "/api/v1/secret/keys/one-time", map[string]any{"one_time_prekeys": alice.prekeys(t, 101)},
				problemWant{400, "invalid", "too_many", "one_time_prekeys"}},
			{"a one-time prekey of 31 bytes", "POST", "/api/v1/secret/keys/one-time",
				map[string]any{"one_time_prekeys": []map[string]any{{"id": 900, "key": b64(make([]byte, 31))}}},
				problemWant{400, "invalid", "invalid_length", "one_time_prekeys[0].key"}},
			{"not JSON", "POST", "/api/v1/secret/keys/one-time", []byte("{"), problemWant{400, "invalid", "malformed_json", ""}},
		}
		before := secretRows(t, db)
		stBefore := h.keyStatus(t, alice)
		for _, c := range bad {
			h.send(t, call{method: c.method, path: c.path, token: alice.token, body: c.body, mode: checkResponse}).wantProblem(t, c.name, c.want)
		}
		if after := secretRows(t, db); after != before {
			t.Errorf("refused uploads changed rows from %v to %v", before, after)
		}
		if st := h.keyStatus(t, alice); !reflect.DeepEqual(st, stBefore) {
			t.Errorf("refused uploads changed the status from %+v to %+v", stBefore, st)
		}
		h.do(t, "GET", "/api/v1/secret/keys", "", nil).wantProblem(t, "no token", problemWant{status: 401, code: "unauthenticated", reason: "missing_token"})

		// A user's devices with keys, for safety numbers.
		alice2 := h.secretLogin(t, "alice")
		h.secretLogin(t, "alice") // no keys: not listed
		alice2.publish(t, h, 0)
		var list secretDevicesJSON
		h.do(t, "GET", fmt.Sprintf("/api/v1/secret/users/%d/devices", alice.user), alice.token, nil).want(t, "devices", http.StatusOK, &list)
		if len(list.Devices) != 2 || list.Devices[0].DeviceID != alice.device || list.Devices[1].DeviceID != alice2.device ||
			list.Devices[0].Identity != st.Identity {
			t.Errorf("alice's devices: %+v", list)
		}
		h.send(t, call{method: "GET", path: "/api/v1/secret/users/x/devices", token: alice.token, mode: checkResponse}).
			wantProblem(t, "bad user ID", problemWant{status: 400, code: "invalid", reason: "invalid_id", field: "user_id"})
	}, schema...)
}

// TestSecretClaimAPI claims bundles, and nudges a device whose stock runs
// low over its live stream, and only that device.
func TestSecretClaimAPI(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		h := newHarness(t, db, options{claims: &ratelimit.Limit{Every: time.Hour, Burst: 7}})
		alice, bob := h.secretUser(t, "alice"), h.secretUser(t, "bobby")
		bob2 := h.secretLogin(t, "bobby")
		bob.publish(t, h, 20)
		bob2.publish(t, h, 30)
		live1, live2 := h.dialLive(t, bob.token), h.dialLive(t, bob2.token)
		readFrame(t, live1)
		readFrame(t, live2)

		var bl secretBundlesJSON
		h.send(t, call{method: "POST", path: fmt.Sprintf("/api/v1/secret/users/%d/bundles", bob.user), token: alice.token, mode: checkResponse}).
			want(t, "claim without a body", http.StatusOK, &bl)
		if len(bl.Bundles) != 2 || bl.Bundles[0].DeviceID != bob.device || bl.Bundles[1].DeviceID != bob2.device {
			t.Fatalf("claimed %+v", bl)
		}
		for _, b := range bl.Bundles {
			var pb protocol.Bundle
			if raw := unb64(t, b.Bundle); len(raw) != 202 || pb.UnmarshalBinary(raw) != nil || pb.Verify() != nil || pb.OneTimePreKey.ID != 1 {
				t.Errorf("bundle of device %d: %d bytes, %+v", b.DeviceID, len(raw), pb)
			}
		}
		// Bob's first device is down to 19: it alone is told.
		if f := readFrame(t, live1); f.Type != "secret_keys_low" {
			t.Errorf("bob's first device got %+v, want secret_keys_low", f)
		}
		alice.send(t, h, bob2, "hello") // claims again (bob2 now 28), then nudges bob2
		if f := readFrame(t, live2); f.Type != "secret" {
			t.Errorf("bob's second device got %+v first, want secret (it never ran low)", f)
		}

		h.do(t, "POST", fmt.Sprintf("/api/v1/secret/users/%d/bundles", bob.user), alice.token, map[string]any{}).want(t, "claim with {}", http.StatusOK, &bl)
		h.do(t, "POST", fmt.Sprintf("/api/v1/secret/users/%d/bundles", bob.user), alice.token, map[string]any{"devices": []int64{bob2.device}}).
			want(t, "claim one device", http.StatusOK, &bl)
		if len(bl.Bundles) != 1 || bl.Bundles[0].DeviceID != bob2.device {
			t.Errorf("claimed %+v, want bob's second device only", bl)
		}
		before := secretRows(t, db)
		for _, c := range []struct {
			name string
			path string
			body any
			want problemWant
		}{
			{"a device of someone else", fmt.Sprintf("/api/v1/secret/users/%d/bundles", bob.user), map[string]any{"devices": []int64{alice.device}},
				problemWant{404, "not_found", "secret_no_device", "devices[0]"}},
			{"a device twice", fmt.Sprintf("/api/v1/secret/users/%d/bundles", bob.user), map[string]any{"devices": []int64{bob.device, bob.device}},
				problemWant{400, "invalid", "duplicate_id", "devices[1]"}},
			{"devices not a list", fmt.Sprintf("/api/v1/secret/users/%d/bundles", bob.user), map[string]any{"devices": "all"},
				problemWant{400, "invalid", "wrong_type", "devices"}},
			{"bad user ID", "/api/v1/secret/users/0/bundles", map[string]any{}, problemWant{400, "invalid", "invalid_id", "user_id"}},
			{"over the rate limit", fmt.Sprintf("/api/v1/secret/users/%d/bundles", bob.user), map[string]any{},
				problemWant{429, "rate_limited", "too_many_claims", ""}},
		} {
			r := h.send(t, call{method: "POST", path: c.path, token: alice.token, body: c.body, mode: checkResponse})
			r.wantProblem(t, c.name, c.want)
			if c.want.status == 429 && r.header.Get("Retry-After") == "" {
				t.Errorf("429 without Retry-After")
			}
		}
		if after := secretRows(t, db); after != before {
			t.Errorf("refused claims changed rows from %v to %v", before, after)
		}
	}, schema...)
}

// TestSecretEnvelopesAPI sends, retries, fetches and acknowledges, and
// refuses bad envelopes with a clear problem and nothing stored.
func TestSecretEnvelopesAPI(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		h := newHarness(t, db, options{})
		alice, bob := h.secretUser(t, "alice"), h.secretUser(t, "bobby")
		alice.publish(t, h, 5)
		bob.publish(t, h, 5)
		env := alice.seal(t, h, bob, "once only", "client-1")
		var first, again struct {
			Envelopes []secretSentJSON `json:"envelopes"`
		}
		h.do(t, "POST", "/api/v1/secret/envelopes", alice.token, map[string]any{"envelopes": []any{env}}).want(t, "send", http.StatusCreated, &first)
		h.do(t, "POST", "/api/v1/secret/envelopes", alice.token, map[string]any{"envelopes": []any{env}}).want(t, "retry", http.StatusCreated, &again)
		if len(again.Envelopes) != 1 || again.Envelopes[0] != first.Envelopes[0] {
			t.Errorf("retry answered %+v, want the first result %+v", again.Envelopes, first.Envelopes)
		}
		if envs := bob.fetch(t, h); len(envs) != 1 {
			t.Fatalf("a retried send stored %d envelopes", len(envs))
		}

		reuse := alice.seal(t, h, bob, "another message", "client-1")
		valid := alice.seal(t, h, bob, "valid", "client-2")
		// with is valid with some fields changed: name, value, name, value...
		with := func(kv ...any) map[string]any {
			m := map[string]any{}
			for key, val := range valid {
				m[key] = val
			}
			for i := 0; i < len(kv); i += 2 {
				m[kv[i].(string)] = kv[i+1]
			}
			return m
		}
		body := unb64(t, valid["body"].(string))
		before := secretRows(t, db)
		for _, c := range []struct {
			name string
			envs []any
			want problemWant
		}{
			{"client_id reused", []any{reuse}, problemWant{409, "conflict", "secret_client_id_reused", "envelopes[0].client_id"}},
			{"body not base64", []any{with("body", "not base64!")}, problemWant{400, "invalid", "invalid_base64", "envelopes[0].body"}},
			{"truncated body", []any{with("body", b64(body[:60]))}, problemWant{400, "invalid", "secret_malformed_envelope", "envelopes[0].body"}},
			{"unknown body kind", []any{with("body", b64(append([]byte{7}, body[1:]...)))}, problemWant{400, "invalid", "secret_malformed_envelope", "envelopes[0].body"}},
			{"body over 64 KiB", []any{with("body", b64(append(body, make([]byte, secret.MaxBodySize)...)))}, problemWant{400, "invalid", "too_large", "envelopes[0].body"}},
			{"commitment of 31 bytes", []any{with("commitment", b64(make([]byte, 31)))}, problemWant{400, "invalid", "invalid_length", "envelopes[0].commitment"}},
			{"no client_id", []any{with("client_id", "")}, problemWant{400, "invalid", "required", "envelopes[0].client_id"}},
			{"client_id over 64 bytes", []any{with("client_id", strings.Repeat("é", 33))}, problemWant{400, "invalid", "too_long", "envelopes[0].client_id"}},
			{"a device without keys", []any{valid, with("device_id", 999999, "client_id", "client-3")}, problemWant{404, "not_found", "secret_no_device", "envelopes[1].device_id"}},
			{"a device of another user", []any{with("user_id", alice.user)}, problemWant{404, "not_found", "secret_no_device", "envelopes[0].device_id"}},
			{"to oneself", []any{with("user_id", alice.user, "device_id", alice.device)}, problemWant{400, "invalid", "secret_own_device", "envelopes[0].device_id"}},
			{"none", []any{}, problemWant{400, "invalid", "required", "envelopes"}},
			{"21", func() []any {
				var l []any
				for i := range 21 {
					l = append(l, with("client_id", fmt.Sprint("c", i)))
				}
				return l
			}(), problemWant{400, "invalid", "too_many", "envelopes"}},
		} {
			h.send(t, call{method: "POST", path: "/api/v1/secret/envelopes", token: alice.token, body: map[string]any{"envelopes": c.envs}, mode: checkResponse}).
				wantProblem(t, c.name, c.want)
		}
		if after := secretRows(t, db); after != before {
			t.Errorf("refused sends changed rows from %v to %v", before, after)
		}

		for _, c := range []struct {
			name, method, path string
			body               any
			want               problemWant
		}{
			{"limit not a number", "GET", "/api/v1/secret/envelopes?limit=x", nil, problemWant{400, "invalid", "invalid_number", "limit"}},
			{"ack not a list", "POST", "/api/v1/secret/envelopes/ack", map[string]any{"ids": "all"}, problemWant{400, "invalid", "wrong_type", "ids"}},
			{"ack an empty ID", "POST", "/api/v1/secret/envelopes/ack", map[string]any{"ids": []string{""}}, problemWant{400, "invalid", "invalid_id", "ids[0]"}},
		} {
			h.send(t, call{method: c.method, path: c.path, token: bob.token, body: c.body, mode: checkResponse}).wantProblem(t, c.name, c.want)
		}

		// Another device cannot acknowledge bob's envelopes; unknown IDs are ignored.
		h.do(t, "POST", "/api/v1/secret/envelopes/ack", alice.token, map[string]any{"ids": []string{first.Envelopes[0].ID}}).want(t, "alice acks bob's", 204, nil)
		h.do(t, "POST", "/api/v1/secret/envelopes/ack", bob.token, map[string]any{"ids": []string{"NOSUCHENVELOPE"}}).want(t, "ack unknown", 204, nil)
		if envs := bob.fetch(t, h); len(envs) != 1 {
			t.Errorf("bob has %d envelopes, want 1 still", len(envs))
		}
		var limited struct {
			Envelopes []secretEnvelopeJSON `json:"envelopes"`
		}
		alice.send(t, h, bob, "two", "three")
		h.do(t, "GET", "/api/v1/secret/envelopes?limit=2", bob.token, nil).want(t, "limit 2", http.StatusOK, &limited)
		if len(limited.Envelopes) != 2 || limited.Envelopes[0].ID != first.Envelopes[0].ID {
			t.Errorf("limit 2 gave %d, oldest %v", len(limited.Envelopes), limited.Envelopes)
		}
		if got := bob.receive(t, h); strings.Join(got, "|") != "once only|two|three" {
			t.Errorf("bob received %q", got)
		}
	}, schema...)
}

// TestSecretExpiry: envelopes unacknowledged for the TTL are gone.
func TestSecretExpiry(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		h := newHarness(t, db, options{})
		alice, bob := h.secretUser(t, "alice"), h.secretUser(t, "bobby")
		bob.publish(t, h, 5)
		alice.send(t, h, bob, "you will never read this")
		h.clock.Advance(secret.DefaultEnvelopeTTL - time.Second)
		if len(bob.fetch(t, h)) != 1 {
			t.Fatalf("the envelope is gone before its TTL")
		}
		h.clock.Advance(time.Second)
		if envs := bob.fetch(t, h); len(envs) != 0 {
			t.Errorf("%d envelopes past their TTL are served", len(envs))
		}
		if n, err := h.secret.Expire(context.Background()); err != nil || n != 1 {
			t.Errorf("expire: %d, %v", n, err)
		}
	}, schema...)
}

// TestSecretLogoutDropsKeys: a device that logs out, is logged out from
// another device, or by a password change, is gone from the directory with
// its prekeys and pending envelopes.
func TestSecretLogoutDropsKeys(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		h := newHarness(t, db, options{})
		alice, bob := h.secretUser(t, "alice"), h.secretUser(t, "bobby")
		bob2, bob3, bob4 := h.secretLogin(t, "bobby"), h.secretLogin(t, "bobby"), h.secretLogin(t, "bobby")
		for _, d := range []*secretDevice{bob, bob2, bob4} {
			d.publish(t, h, 5)
			alice.send(t, h, d, "before the logout")
		}
		devices := func() []int64 {
			t.Helper()
			var list secretDevicesJSON
			h.do(t, "GET", fmt.Sprintf("/api/v1/secret/users/%d/devices", bob.user), alice.token, nil).want(t, "devices", http.StatusOK, &list)
			var ids []int64
			for _, d := range list.Devices {
				ids = append(ids, d.DeviceID)
			}
			return ids
		}
		stored := func(d *secretDevice) int {
			t.Helper()
			var n, m int
			db.Read().QueryRowContext(context.Background(), `SELECT COUNT(*) FROM secret_envelopes WHERE recipient_device = $1`, d.device).Scan(&n)
			db.Read().QueryRowContext(context.Background(), `SELECT COUNT(*) FROM secret_prekeys WHERE device_id = $1`, d.device).Scan(&m)
			return n + m
		}

		h.do(t, "DELETE", "/api/v1/sessions/current", bob.token, nil).want(t, "logout", http.StatusNoContent, nil)
		if ids := devices(); fmt.Sprint(ids) != fmt.Sprint([]int64{bob2.device, bob4.device}) || stored(bob) != 0 {
			t.Errorf("after logging out: devices %v, %d rows of the device left", ids, stored(bob))
		}
		h.do(t, "DELETE", fmt.Sprintf("/api/v1/sessions/%d", bob4.device), bob3.token, nil).want(t, "revoke", http.StatusNoContent, nil)
		if ids := devices(); fmt.Sprint(ids) != fmt.Sprint([]int64{bob2.device}) || stored(bob4) != 0 {
			t.Errorf("after revoking: devices %v, %d rows of the device left", ids, stored(bob4))
		}
		h.do(t, "POST", "/api/v1/me/password", bob3.token, map[string]any{"current_password": password, "new_password": "dry-badger-compass-7"}).
			want(t, "change password", http.StatusNoContent, nil)
		if ids := devices(); len(ids) != 0 || stored(bob2) != 0 {
			t.Errorf("after a password change: devices %v, %d rows of the device left", ids, stored(bob2))
		}

		h.send(t, call{method: "POST", path: fmt.Sprintf("/api/v1/secret/users/%d/bundles", bob.user), token: alice.token,
			body: map[string]any{"devices": []int64{bob2.device}}}).
			wantProblem(t, "claim a logged-out device", problemWant{404, "not_found", "secret_no_device", "devices[0]"})
		env := alice.seal(t, h, bob2, "after the logout", "late")
		h.do(t, "POST", "/api/v1/secret/envelopes", alice.token, map[string]any{"envelopes": []any{env}}).
			wantProblem(t, "send to a logged-out device", problemWant{404, "not_found", "secret_no_device", "envelopes[0].device_id"})
		h.do(t, "GET", "/api/v1/secret/envelopes", bob2.token, nil).
			wantProblem(t, "fetch after logout", problemWant{status: 401, code: "unauthenticated", reason: "invalid_token"})
	}, schema...)
}

// TestSecretReportAPI: a forged report is refused and files nothing; a
// genuine one files a report about the sender.
func TestSecretReportAPI(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		h := newHarness(t, db, options{})
		alice, bob := h.secretUser(t, "alice"), h.secretUser(t, "bobby")
		bob2 := h.secretLogin(t, "bobby")
		alice.publish(t, h, 5)
		bob.publish(t, h, 5)
		bob2.publish(t, h, 5)
		alice.send(t, h, bob, "send me the money or your photos go public", "just saying hi")
		alice.send(t, h, bob2, "hi other device")
		bob.receive(t, h)
		bob2.receive(t, h)
		genuine := bob.received[0].report

		forge := func(f func(r *franking.Report)) franking.Report {
			r := genuine
			r.Plaintext = bytes.Clone(r.Plaintext)
			f(&r)
			return r
		}
		before := secretRows(t, db)
		for _, c := range []struct {
			name string
			by   *secretDevice
			body any
			want problemWant
		}{
			{"altered text", bob, map[string]any{"report": forge(func(r *franking.Report) { r.Plaintext = []byte("send me the money") }), "reason": "scam"},
				problemWant{422, "invalid", "franking_invalid", "report"}},
			{"the tag of another message", bob, map[string]any{"report": forge(func(r *franking.Report) { r.Tag = bob.received[1].report.Tag }), "reason": "scam"},
				problemWant{422, "invalid", "franking_invalid", "report"}},
			{"another sender", bob, map[string]any{"report": forge(func(r *franking.Report) { r.Context.Sender = bob.user }), "reason": "scam"},
				problemWant{422, "invalid", "franking_invalid", "report"}},
			{"by another device", bob2, map[string]any{"report": genuine, "reason": "scam"},
				problemWant{403, "forbidden", "secret_not_recipient", "report"}},
			{"another device's genuine report", bob, map[string]any{"report": bob2.received[0].report, "reason": "scam"},
				problemWant{403, "forbidden", "secret_not_recipient", "report"}},
			{"a report without its tag", bob, map[string]any{"report": func() map[string]any {
				b, _ := json.Marshal(genuine)
				var m map[string]any
				json.Unmarshal(b, &m)
				delete(m, "tag")
				return m
			}(), "reason": "scam"}, problemWant{400, "invalid", "franking_malformed_report", "report.tag"}},
			{"an unknown reason", bob, map[string]any{"report": genuine, "reason": "annoying"}, problemWant{400, "invalid", "unknown_reason", "reason"}},
			{"a report that is not an object", bob, map[string]any{"report": "trust me", "reason": "scam"},
				problemWant{400, "invalid", "franking_malformed_report", "report"}},
		} {
			h.send(t, call{method: "POST", path: "/api/v1/secret/reports", token: c.by.token, body: c.body, mode: checkResponse}).wantProblem(t, c.name, c.want)
		}
		if after := secretRows(t, db); after != before {
			t.Errorf("refused reports changed rows from %v to %v", before, after)
		}

		type filed struct {
			ID       int64         `json:"id"`
			CaseID   int64         `json:"case_id"`
			Subject  subjectJSON   `json:"subject"`
			Reason   string        `json:"reason"`
			Comment  string        `json:"comment"`
			Evidence *evidenceJSON `json:"evidence"`
		}
		var rep filed
		h.do(t, "POST", "/api/v1/secret/reports", bob.token, map[string]any{"report": genuine, "reason": "scam", "comment": "Blackmail."}).
			want(t, "genuine report", http.StatusCreated, &rep)
		// The verified facts and the text are the evidence; the comment is
		// bob's words alone.
		c := genuine.Context
		want := evidenceJSON{Kind: "secret_franking", Text: "send me the money or your photos go public", SenderID: alice.user, SenderDevice: alice.device,
			RecipientID: bob.user, RecipientDevice: bob.device, SentAt: c.At, EnvelopeID: c.Envelope}
		if rep.Subject != (subjectJSON{Kind: "user", UserID: alice.user}) || rep.Reason != "scam" || rep.CaseID == 0 ||
			rep.Comment != "Blackmail." || !want.equal(rep.Evidence) {
			t.Errorf("filed %+v with evidence %+v, want the comment \"Blackmail.\" and evidence %+v", rep, rep.Evidence, want)
		}
		var mine struct {
			Reports []filed `json:"reports"`
		}
		h.do(t, "GET", "/api/v1/reports", bob.token, nil).want(t, "bob's reports", http.StatusOK, &mine)
		if len(mine.Reports) != 1 || mine.Reports[0].ID != rep.ID || !want.equal(mine.Reports[0].Evidence) {
			t.Errorf("bob's reports: %+v", mine)
		}
		// The moderators read it in the case, apart from the comment.
		mod := h.staff(t, "magdalena", kurir.RoleModerator)
		var cs caseSignalsJSON
		h.do(t, "GET", fmt.Sprintf("/api/v1/moderation/cases/%d", rep.CaseID), mod.token, nil).want(t, "the case", http.StatusOK, &cs)
		if len(cs.Signals) != 1 || cs.Signals[0].Comment != "Blackmail." || !want.equal(cs.Signals[0].Evidence) {
			t.Errorf("the case's signals: %+v, want bob's with evidence %+v", cs.Signals, want)
		}
	}, schema...)
}
