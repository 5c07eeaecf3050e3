package client_test

import (
	"crypto/rand"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"kurir"
	"kurir/client"
	"kurir/secret/device"
	"kurir/secret/protocol"
	"kurir/sqldb/sqldbtest"
)

// secretDevice returns the secret chats of the device c is logged in as,
// with its state in a file of its own.
func secretDevice(t testing.TB, c *client.Client) (*client.SecretChats, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "secret", "device.state")
	return client.NewSecretChats(c, device.NewFileStore(path)), path
}

// login opens another session (device) of a user.
func (s *server) login(t testing.TB, username string) *client.Client {
	t.Helper()
	res, err := s.client(t).Login(t.Context(), client.LoginParams{Username: username, Password: password, DeviceName: "another"})
	if err != nil {
		t.Fatalf("log in %s: %v", username, err)
	}
	return s.client(t, client.WithToken(res.Token))
}

// waitNudge waits for a nudge of the kind on a live stream.
func waitNudge(t testing.TB, l *client.Live, kind string) {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case ev, ok := <-l.Events():
			if !ok {
				t.Fatalf("the live stream ended waiting for %q: %v", kind, l.Err())
			}
			if ev.Nudge == kind {
				return
			}
		case <-timeout:
			t.Fatalf("no %q nudge within 10s", kind)
		}
	}
}

func texts(ms []client.SecretMessage) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.Text
	}
	return out
}

// receive runs Receive, which must succeed and drop nothing, and checks
// the texts of the messages.
func receive(t testing.TB, sc *client.SecretChats, want ...string) []client.SecretMessage {
	t.Helper()
	got, err := sc.Receive(t.Context())
	if err != nil {
		t.Fatalf("receive: %v", err)
	}
	if len(got.Dropped) > 0 {
		t.Fatalf("receive dropped %+v", got.Dropped)
	}
	if !slices.Equal(texts(got.Messages), want) {
		t.Fatalf("received %q, want %q", texts(got.Messages), want)
	}
	return got.Messages
}

// testSecret holds secret chats between Alice (one device) and Bob (a
// laptop and a phone) through the real server, whose OpenAPI document
// checks every request: delivery to every device, messages sent while a
// device is offline, live nudges, safety numbers, verified and forged
// reports, replays, replenishing one-time prekeys, and two processes
// sharing one device's state.
func testSecret(t *testing.T, s *server) {
	ctx := t.Context()
	alice, aliceU := s.user(t, "salice")
	bobLaptop, bobU := s.user(t, "sbobby")
	bobPhone := s.login(t, "sbobby")
	mallory, _ := s.user(t, "smallory")
	moderator, _ := s.staff(t, "smona", kurir.RoleModerator)

	a, alicePath := secretDevice(t, alice)
	laptop, _ := secretDevice(t, bobLaptop)
	phone, phonePath := secretDevice(t, bobPhone)

	// Nobody can receive before setting up.
	if _, err := a.Send(ctx, bobU.ID, "anyone there?", 0); !errors.Is(err, client.ErrNoSecretDevices) {
		t.Fatalf("send to a user without secret chats: %v, want ErrNoSecretDevices", err)
	}
	for name, sc := range map[string]*client.SecretChats{"alice": a, "laptop": laptop, "phone": phone} {
		st := must(sc.Register(ctx))(t, "register "+name)
		if !st.Registered || st.OneTimePreKeys != 100 || st.Replenish || len(st.Identity) != 64 {
			t.Fatalf("register %s: %+v", name, st)
		}
	}
	// Registering again changes nothing.
	if st := must(a.Register(ctx))(t, "register again"); st.OneTimePreKeys != 100 {
		t.Fatalf("register again: %+v", st)
	}
	laptopID := must(laptop.Self(ctx))(t, "laptop").Device
	phoneID := must(phone.Self(ctx))(t, "phone").Device

	// Bob's phone is online; his laptop is not.
	phoneLive := must(bobPhone.Live(ctx))(t, "phone live")
	defer phoneLive.Close()
	sent := must(a.Send(ctx, bobU.ID, "Hello Bob, this is secret.", 0))(t, "send")
	var to []int64
	for _, e := range sent.Envelopes {
		to = append(to, e.DeviceID)
		if e.UserID != bobU.ID || e.ID == "" || len(e.Tag) != 33 || e.At().IsZero() {
			t.Errorf("sent envelope %+v", e)
		}
	}
	slices.Sort(to)
	if want := []int64{min(laptopID, phoneID), max(laptopID, phoneID)}; !slices.Equal(to, want) {
		t.Fatalf("sent to devices %v, want Bob's %v", to, want)
	}
	waitNudge(t, phoneLive, client.NudgeSecret)
	first := receive(t, phone, "Hello Bob, this is secret.")[0]
	if first.Sender != aliceU.ID || first.SenderDevice != must(a.Self(ctx))(t, "self").Device || !first.NewSession || first.Expire != 0 ||
		first.SentAt.IsZero() || !first.At.Equal(sent.Envelopes[0].At()) {
		t.Errorf("first message: %+v", first)
	}
	receive(t, phone) // acknowledged: gone

	// The phone answers with a timer; Alice writes on while the laptop is away.
	must(phone.Send(ctx, aliceU.ID, "Hi Alice! This one self-destructs.", 30*time.Second))(t, "phone replies")
	got := receive(t, a, "Hi Alice! This one self-destructs.")
	if got[0].Expire != 30*time.Second || got[0].SenderDevice != phoneID {
		t.Errorf("reply: %+v", got[0])
	}
	must(a.Send(ctx, bobU.ID, "Are you there?", 0))(t, "send")
	must(a.Send(ctx, bobU.ID, "Call me.", 0))(t, "send")
	receive(t, phone, "Are you there?", "Call me.")
	// The laptop comes back and gets everything, in order.
	receive(t, laptop, "Hello Bob, this is secret.", "Are you there?", "Call me.")
	must(laptop.Send(ctx, aliceU.ID, "Back at my desk.", 0))(t, "laptop replies")
	// Alice started that session, when she first wrote.
	if m := receive(t, a, "Back at my desk."); m[0].SenderDevice != laptopID || m[0].NewSession {
		t.Errorf("laptop's reply: %+v", m[0])
	}

	// Writing to oneself reaches one's other devices only.
	self := must(phone.Send(ctx, bobU.ID, "note to self", 0))(t, "note to self")
	if len(self.Envelopes) != 1 || self.Envelopes[0].DeviceID != laptopID {
		t.Errorf("note to self went to %+v, want the laptop only", self.Envelopes)
	}
	receive(t, laptop, "note to self")

	// Safety numbers agree on both ends, device by device.
	numbers := must(a.SafetyNumber(ctx, bobU.ID))(t, "Alice's safety numbers")
	fromPhone := must(phone.SafetyNumber(ctx, aliceU.ID))(t, "phone's safety number")
	fromLaptop := must(laptop.SafetyNumber(ctx, aliceU.ID))(t, "laptop's safety number")
	byDevice := map[int64]client.SecretSafetyNumber{}
	for _, n := range numbers {
		byDevice[n.DeviceID] = n
	}
	if len(numbers) != 2 || byDevice[phoneID].Number != fromPhone[0].Number || byDevice[laptopID].Number != fromLaptop[0].Number ||
		fromPhone[0].Number == fromLaptop[0].Number || !byDevice[phoneID].Session || len(fromPhone[0].Number) != 71 {
		t.Errorf("safety numbers: Alice sees %+v; the phone %+v, the laptop %+v", numbers, fromPhone, fromLaptop)
	}

	// The phone reports Alice's first message: the proof verifies, and the
	// moderators see the revealed text.
	rep := must(phone.Report(ctx, first, "harassment", "she keeps writing"))(t, "report")
	if rep.CaseID == 0 || rep.Subject.Kind != client.SubjectUser || rep.Subject.UserID != aliceU.ID {
		t.Fatalf("report: %+v", rep)
	}
	if e := rep.Evidence; e == nil || e.Kind != "secret_franking" || e.Text != "Hello Bob, this is secret." || e.SenderID != aliceU.ID ||
		!e.SentAt.Equal(first.Proof.Context.At) || e.EnvelopeID != first.Proof.Context.Envelope || rep.Comment != "she keeps writing" {
		t.Errorf("report: comment %q, evidence %+v; want the reporter's words and the verified message", rep.Comment, e)
	}
	c := must(moderator.Case(ctx, rep.CaseID))(t, "case")
	if !slices.ContainsFunc(c.Signals, func(sg client.Signal) bool {
		return sg.Evidence != nil && sg.Evidence.Text == "Hello Bob, this is secret." && sg.Comment == "she keeps writing"
	}) {
		t.Errorf("the case's signals do not show the revealed text as verified evidence: %+v", c.Signals)
	}
	// Forged reports are refused, and file nothing.
	altered := first
	altered.Proof.Plaintext = []byte("Send me your password.")
	_, err := phone.Report(ctx, altered, "scam", "")
	wantFranking(t, "a report with altered text", err)
	other := first
	other.Proof.Tag = got[0].Proof.Tag // the tag of another message
	_, err = phone.Report(ctx, other, "scam", "")
	wantFranking(t, "a report with another message's tag", err)
	framed := first
	framed.Proof.Context.Sender = must(mallory.Me(ctx))(t, "me").ID
	_, err = phone.Report(ctx, framed, "scam", "")
	wantFranking(t, "a report naming another sender", err)
	// The laptop cannot report what the phone received.
	if _, err := laptop.Report(ctx, first, "scam", ""); !client.IsCode(err, kurir.EForbidden) {
		t.Errorf("report by another device: %v, want forbidden", err)
	}

	// A replayed envelope (the relay sends the same body again under a
	// new ID) is dropped, not shown twice.
	must(a.Send(ctx, bobU.ID, "only once", 0))(t, "send")
	pending := must(bobPhone.FetchEnvelopes(ctx, 0))(t, "fetch")
	receive(t, phone, "only once")
	if len(pending) != 1 {
		t.Fatalf("fetched %d envelopes, want 1", len(pending))
	}
	must(alice.SendEnvelopes(ctx, []client.SecretOutgoing{{UserID: bobU.ID, DeviceID: phoneID, Body: pending[0].Body, Commitment: pending[0].Commitment}}))(t, "replay")
	rec := must(phone.Receive(ctx))(t, "receive the replay")
	if len(rec.Messages) != 0 || len(rec.Dropped) != 1 || !errors.Is(rec.Dropped[0].Err, protocol.ErrReplay) {
		t.Fatalf("replayed envelope: %+v, want it dropped as a replay", rec)
	}
	receive(t, laptop, "only once")

	// Bad input is refused before anything is sent.
	for _, bad := range []struct {
		text   string
		expire time.Duration
	}{{"", 0}, {strings.Repeat("x", client.MaxSecretText+1), 0}, {"x", 1500 * time.Millisecond}, {"\xff", 0}} {
		if _, err := a.Send(ctx, bobU.ID, bad.text, bad.expire); !client.IsCode(err, kurir.EInvalid) && kurir.ErrorCode(err) != kurir.EInvalid {
			t.Errorf("send %.10q with timer %v: %v, want invalid", bad.text, bad.expire, err)
		}
	}
	receive(t, phone)

	// Others claiming Alice's one-time prekeys run her stock down; she is
	// told live, and Register tops it up.
	aliceLive := must(alice.Live(ctx))(t, "alice live")
	defer aliceLive.Close()
	st := must(alice.SecretKeys(ctx))(t, "key status")
	for i := st.OneTimePreKeys; i >= 19; i-- {
		must(mallory.ClaimSecretBundles(ctx, aliceU.ID))(t, "claim")
	}
	waitNudge(t, aliceLive, client.NudgeSecretKeysLow)
	if st := must(alice.SecretKeys(ctx))(t, "key status"); !st.Replenish || st.OneTimePreKeys != 18 {
		t.Fatalf("after the claims: %+v, want 18 left and replenish", st)
	}
	if st := must(a.Register(ctx))(t, "replenish"); st.Replenish || st.OneTimePreKeys != 118 {
		t.Fatalf("after replenishing: %+v, want 118", st)
	}
	if n := s.calls("POST /api/v1/secret/keys/one-time"); n != 1 {
		t.Errorf("one-time prekeys were added %d times, want once", n)
	}

	// Two processes share Alice's state (a tail and a send): each locks
	// it, so neither undoes the other's ratchet steps.
	a2 := client.NewSecretChats(alice, device.NewFileStore(alicePath))
	var wg sync.WaitGroup
	for i := range 10 {
		sc := a
		if i%2 == 1 {
			sc = a2
		}
		wg.Go(func() {
			if _, err := sc.Send(ctx, bobU.ID, fmt.Sprintf("concurrent %d", i), 0); err != nil {
				t.Error(err)
			}
		})
		if i == 5 {
			receive(t, a2) // a receive in between
		}
	}
	wg.Wait()
	got2 := must(phone.Receive(ctx))(t, "receive concurrent sends")
	gotTexts := texts(got2.Messages)
	slices.Sort(gotTexts)
	if len(got2.Dropped) != 0 || len(gotTexts) != 10 || gotTexts[0] != "concurrent 0" || gotTexts[9] != "concurrent 9" {
		t.Fatalf("received %q, dropped %v; want the 10 concurrent messages", gotTexts, got2.Dropped)
	}

	// A restarted process carries on from the saved state.
	restarted := client.NewSecretChats(bobPhone, device.NewFileStore(phonePath))
	must(restarted.Send(ctx, aliceU.ID, "after a restart", 0))(t, "send after restart")
	receive(t, a, "after a restart")
	// The state of one session is not another session's to use.
	if _, err := client.NewSecretChats(bobLaptop, device.NewFileStore(phonePath)).Receive(ctx); !errors.Is(err, client.ErrWrongDevice) {
		t.Errorf("the laptop with the phone's state: %v, want ErrWrongDevice", err)
	}
}

func wantFranking(t *testing.T, what string, err error) {
	t.Helper()
	e := apiError(t, what, err)
	if e.Status != http.StatusUnprocessableEntity || e.Reason != "franking_invalid" {
		t.Errorf("%s: %v, want 422 franking_invalid", what, err)
	}
}

// flakyStore is a device.FileStore whose saves can be made to fail, as a
// full disk or a crash at that moment would.
type flakyStore struct {
	*device.FileStore
	fail atomic.Int32 // saves still to fail
}

func (f *flakyStore) Save(data []byte) error {
	if f.fail.Add(-1) >= 0 {
		return errors.New("disk full")
	}
	return f.FileStore.Save(data)
}

// TestSecretChatsFailures: whatever fails — a lost answer to a send, a
// failed acknowledgement, a state that could not be saved — no message is
// lost or shown twice.
func TestSecretChatsFailures(t *testing.T) {
	var failAck, loseSend atomic.Int32
	s := newServer(t, sqldbtest.SQLite(t, schema...), options{wrap: func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			switch {
			case r.URL.Path == "/api/v1/secret/envelopes/ack" && failAck.Add(-1) >= 0:
				http.Error(w, "the load balancer is having a bad day", http.StatusServiceUnavailable)
				return
			case r.URL.Path == "/api/v1/secret/envelopes" && r.Method == http.MethodPost && loseSend.Add(-1) >= 0:
				// The server stores the envelopes, but the answer is lost.
				next.ServeHTTP(httptest.NewRecorder(), r)
				http.Error(w, "bad gateway", http.StatusBadGateway)
				return
			}
			next.ServeHTTP(w, r)
		})
	}})
	ctx := t.Context()
	alice, _ := s.user(t, "alice")
	bob, bobU := s.user(t, "bobby")
	a, _ := secretDevice(t, alice)
	bobPath := filepath.Join(t.TempDir(), "bob.state")
	bobStore := &flakyStore{FileStore: device.NewFileStore(bobPath)}
	b := client.NewSecretChats(bob, bobStore)
	must(a.Register(ctx))(t, "register alice")
	must(b.Register(ctx))(t, "register bob")

	// A send whose answer is lost is retried with the same client IDs.
	loseSend.Store(1)
	sent := must(a.Send(ctx, bobU.ID, "sent once", 0))(t, "send")
	if n := s.calls("POST /api/v1/secret/envelopes"); n != 2 || len(sent.Envelopes) != 1 {
		t.Fatalf("%d requests, %d envelopes; want the retry to answer the first result", n, len(sent.Envelopes))
	}
	// Bob's acknowledgement fails: the message is saved, not lost...
	failAck.Store(1)
	if _, err := b.Receive(ctx); err == nil {
		t.Fatal("receive succeeded although the acknowledgement failed")
	}
	// ...and after a restart it comes once, from the saved inbox, although
	// the server delivers the envelope again.
	b = client.NewSecretChats(bob, bobStore)
	receive(t, b, "sent once")
	receive(t, b)

	// Bob cannot save what he decrypted: nothing is acknowledged, and
	// after a restart the same envelope decrypts from the saved state.
	must(a.Send(ctx, bobU.ID, "saved the second time", 0))(t, "send")
	bobStore.fail.Store(1)
	if _, err := b.Receive(ctx); err == nil {
		t.Fatal("receive succeeded although the state was not saved")
	}
	b = client.NewSecretChats(bob, &flakyStore{FileStore: device.NewFileStore(bobPath)})
	receive(t, b, "saved the second time")

	// Alice cannot save her state: nothing is sent.
	aStore := &flakyStore{FileStore: device.NewFileStore(filepath.Join(t.TempDir(), "alice.state"))}
	a = client.NewSecretChats(alice, aStore)
	must(a.Register(ctx))(t, "register alice anew") // a reinstall: a new identity
	aStore.fail.Store(1)
	if _, err := a.Send(ctx, bobU.ID, "never sent", 0); err == nil {
		t.Fatal("send succeeded although the state was not saved")
	}
	must(a.Send(ctx, bobU.ID, "sent", 0))(t, "send")
	if m := receive(t, b, "sent"); !m[0].IdentityChanged {
		t.Error("a message from Alice's reinstalled device does not say her identity changed")
	}
}

// junkBody is a framed session-envelope body of n bytes of ciphertext: the
// server relays it, and no device can open it.
func junkBody(n int) []byte {
	b := make([]byte, 1+protocol.HeaderSize+n)
	rand.Read(b)
	b[0], b[1] = 0x02, 0x01 // a session envelope; ratchet header version 1
	return b
}

// TestSecretReceiveAfterLargeEnvelopes: a page of envelopes that the
// server cut short because of their size is not the end of what waits. A
// sender who puts large envelopes in front of a real message must not keep
// it from Receive until the next nudge.
func TestSecretReceiveAfterLargeEnvelopes(t *testing.T) {
	s := newServer(t, sqldbtest.SQLite(t, schema...), options{unchecked: true}) // the checker is slow on 8 MiB of base64
	ctx := t.Context()
	alice, _ := s.user(t, "alice")
	bob, bobU := s.user(t, "bobby")
	a, _ := secretDevice(t, alice)
	b, _ := secretDevice(t, bob)
	must(a.Register(ctx))(t, "register alice")
	must(b.Register(ctx))(t, "register bob")
	bobDevice := must(b.Self(ctx))(t, "bob").Device

	// 140 envelopes of the largest body the server relays (64 KiB): more
	// than one fetch's 8 MiB.
	const large = 140
	for i := range large / 20 {
		var junk []client.SecretOutgoing
		for j := range 20 {
			junk = append(junk, client.SecretOutgoing{UserID: bobU.ID, DeviceID: bobDevice, ClientID: fmt.Sprint("junk-", i, "-", j),
				Body: junkBody(64<<10 - 1 - protocol.HeaderSize), Commitment: make([]byte, 32)})
		}
		must(alice.SendEnvelopes(ctx, junk))(t, "send large envelopes")
	}
	must(a.Send(ctx, bobU.ID, "the real message", 0))(t, "send")

	got := must(b.Receive(ctx))(t, "receive")
	if !slices.Equal(texts(got.Messages), []string{"the real message"}) || len(got.Dropped) != large {
		t.Fatalf("received %q and dropped %d; want the real message and the %d large envelopes dropped", texts(got.Messages), len(got.Dropped), large)
	}
	if left := must(bob.FetchEnvelopes(ctx, 0))(t, "fetch"); len(left) != 0 {
		t.Errorf("%d envelopes left on the server after Receive", len(left))
	}
}

// TestSecretReceiveKeepsInboxBound: Receive never holds more messages than
// the state's inbox keeps, so that none it acknowledged is dropped from a
// full inbox. Here the inbox already holds messages a Receive saved but
// never handed over (it failed, or the process ended, in between), and
// more wait on the server: every one of them must come out.
func TestSecretReceiveKeepsInboxBound(t *testing.T) {
	s := newServer(t, sqldbtest.SQLite(t, schema...), options{})
	ctx := t.Context()
	alice, _ := s.user(t, "alice")
	bob, bobU := s.user(t, "bobby")
	a, _ := secretDevice(t, alice)
	b, bobPath := secretDevice(t, bob)
	must(a.Register(ctx))(t, "register alice")
	must(b.Register(ctx))(t, "register bob")

	const waiting = 20
	held := device.MaxInbox - waiting/2
	store := device.NewFileStore(bobPath)
	data := must(store.Lock(ctx))(t, "lock bob's state")
	st := must(device.Load(data, rand.Reader))(t, "load bob's state")
	for i := range held {
		st.Hold(device.Message{Envelope: fmt.Sprintf("held-%d", i), From: device.Peer{User: 1, Device: 1},
			At: time.Unix(1, 0).UTC(), Payload: device.Payload{Kind: device.KindText, SentAt: time.Unix(1, 0).UTC(), Text: "held"}})
	}
	ok(t, "save bob's state", store.Save(must(st.MarshalBinary())(t, "encode bob's state")))
	ok(t, "unlock bob's state", store.Unlock())

	var want []string
	for i := range waiting {
		want = append(want, fmt.Sprint("waiting ", i))
		must(a.Send(ctx, bobU.ID, want[i], 0))(t, "send")
	}
	var all []string
	for range 20 {
		got := must(b.Receive(ctx))(t, "receive")
		if len(got.Messages) == 0 && !got.More {
			break
		}
		all = append(all, texts(got.Messages)...)
	}
	if n := len(all); n != held+waiting {
		t.Fatalf("received %d messages in all, want the %d held and the %d waiting", n, held, waiting)
	}
	if got := all[held:]; !slices.Equal(got, want) {
		t.Errorf("the waiting messages came as %q, want %q", got, want)
	}
}
