package device

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"kurir/secret/franking"
	"kurir/secret/protocol"
)

func TestConversation(t *testing.T) {
	r := newRelay(t)
	alice, bob := newDev(t, 1, 10), newDev(t, 2, 20)
	opks := bob.st.OneTimePreKeys()

	// Alice writes first; until Bob replies, every envelope is a prekey
	// envelope carrying the same initial header.
	var first []Envelope
	for i := range 3 {
		first = append(first, r.send(alice, bob, fmt.Sprintf("hello %d", i)))
	}
	for _, e := range first {
		if e.Body[0] != bodyPreKey {
			t.Fatalf("envelope %s before any reply: type %d, want a prekey envelope", e.ID, e.Body[0])
		}
	}
	m := bob.receive(first[0], "hello 0")
	if !m.NewSession || m.IdentityChanged || m.From != alice.self {
		t.Errorf("first message: NewSession %v, IdentityChanged %v, From %v", m.NewSession, m.IdentityChanged, m.From)
	}
	if got := bob.st.OneTimePreKeys(); got != opks-1 {
		t.Errorf("Bob holds %d one-time prekeys after the first message, want %d (the used one deleted)", got, opks-1)
	}
	for i, e := range first[1:] {
		if m := bob.receive(e, fmt.Sprintf("hello %d", i+1)); m.NewSession {
			t.Errorf("message %d started another session", i+1)
		}
	}
	if n := len(bob.st.peers[alice.self].sessions); n != 1 {
		t.Errorf("Bob has %d sessions with Alice, want 1", n)
	}

	// Bob replies; once Alice has read it she sends session envelopes.
	reply := r.send(bob, alice, "hi Alice")
	if reply.Body[0] != bodySession {
		t.Errorf("Bob's reply: type %d, want a session envelope", reply.Body[0])
	}
	alice.receive(reply, "hi Alice")
	next := r.send(alice, bob, "how are you?")
	if next.Body[0] != bodySession {
		t.Errorf("Alice's message after a reply: type %d, want a session envelope", next.Body[0])
	}
	got := bob.receive(next, "how are you?")

	// Bob can prove what Alice sent.
	if err := r.stamper.Verify(got.Report(bob.self)); err != nil {
		t.Errorf("report of a real message: %v", err)
	}
	forged := got.Report(bob.self)
	forged.Plaintext = []byte("how are you, idiot?")
	if err := r.stamper.Verify(forged); !errors.Is(err, franking.ErrBadCommitment) {
		t.Errorf("report with altered text: %v, want ErrBadCommitment", err)
	}
	other := got.Report(bob.self)
	other.Context.Sender = 99
	if err := r.stamper.Verify(other); !errors.Is(err, franking.ErrBadTag) {
		t.Errorf("report naming another sender: %v, want ErrBadTag", err)
	}

	// Both safety numbers agree.
	aid, _ := bob.st.PeerIdentity(alice.self)
	bid, _ := alice.st.PeerIdentity(bob.self)
	if a, b := alice.st.SafetyNumber(bob.self.User, bid), bob.st.SafetyNumber(alice.self.User, aid); a != b || len(a) != 71 {
		t.Errorf("safety numbers %q and %q, want the same 60 digits in groups", a, b)
	}
}

func TestPayloadTimerAndTime(t *testing.T) {
	r := newRelay(t)
	alice, bob := newDev(t, 1, 10), newDev(t, 2, 20)
	if _, err := alice.st.StartSession(bob.self, bob.bundle(true)); err != nil {
		t.Fatal(err)
	}
	sentAt := time.Date(2025, 3, 1, 9, 30, 0, 123_456_789, time.UTC)
	s, err := alice.st.Encrypt(bob.self, "this message will self-destruct", 30*time.Second, sentAt)
	if err != nil {
		t.Fatal(err)
	}
	m := bob.receive(r.envelope(alice, bob, s), "this message will self-destruct")
	if m.Expire != 30*time.Second || !m.SentAt.Equal(sentAt.Truncate(time.Millisecond)) {
		t.Errorf("Expire %v, SentAt %v; want 30s and %v", m.Expire, m.SentAt, sentAt.Truncate(time.Millisecond))
	}
	for _, tc := range []struct {
		name   string
		text   string
		expire time.Duration
		want   error
	}{
		{"sub-second timer", "x", 1500 * time.Millisecond, ErrBadPayload},
		{"negative timer", "x", -time.Second, ErrBadPayload},
		{"not UTF-8", "\xff", 0, ErrBadPayload},
		{"too long", string(bytes.Repeat([]byte("é"), MaxTextLength+1)), 0, ErrTextTooLong},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before, _ := alice.st.MarshalBinary()
			if _, err := alice.st.Encrypt(bob.self, tc.text, tc.expire, sentAt); !errors.Is(err, tc.want) {
				t.Fatalf("Encrypt: %v, want %v", err, tc.want)
			}
			if after, _ := alice.st.MarshalBinary(); !bytes.Equal(before, after) {
				t.Error("a refused message changed the state")
			}
		})
	}
	// 4096 characters of two bytes each is not too long.
	long := string(bytes.Repeat([]byte("é"), MaxTextLength))
	s, err = alice.st.Encrypt(bob.self, long, 0, sentAt)
	if err != nil {
		t.Fatal(err)
	}
	bob.receive(r.envelope(alice, bob, s), long)
}

// TestOfflineAndOutOfOrder: messages written while the other device is
// away arrive later, in any order, across ratchet steps.
func TestOfflineAndOutOfOrder(t *testing.T) {
	r := newRelay(t)
	alice, bob := newDev(t, 1, 10), newDev(t, 2, 20)
	// Bob is offline: Alice's messages wait at the relay.
	var queued []Envelope
	for i := range 5 {
		queued = append(queued, r.send(alice, bob, fmt.Sprintf("a%d", i)))
	}
	// Bob comes back; the relay delivers out of order.
	for _, i := range []int{3, 0, 4, 1, 2} {
		bob.receive(queued[i], fmt.Sprintf("a%d", i))
	}
	// A few rounds, each chain delivered backwards.
	for round := range 3 {
		var fromBob []Envelope
		for i := range 3 {
			fromBob = append(fromBob, r.send(bob, alice, fmt.Sprintf("b%d.%d", round, i)))
		}
		slices.Reverse(fromBob)
		for i, e := range fromBob {
			alice.receive(e, fmt.Sprintf("b%d.%d", round, 2-i))
		}
		var fromAlice []Envelope
		for i := range 3 {
			fromAlice = append(fromAlice, r.send(alice, bob, fmt.Sprintf("a%d.%d", round, i)))
		}
		bob.receive(fromAlice[2], fmt.Sprintf("a%d.2", round))
		bob.receive(fromAlice[0], fmt.Sprintf("a%d.0", round))
		bob.receive(fromAlice[1], fmt.Sprintf("a%d.1", round))
	}
}

func TestReplay(t *testing.T) {
	for _, withOPK := range []bool{true, false} {
		t.Run(fmt.Sprintf("one-time prekey %v", withOPK), func(t *testing.T) {
			r := newRelay(t)
			alice, bob := newDev(t, 1, 10), newDev(t, 2, 20)
			if _, err := alice.st.StartSession(bob.self, bob.bundle(withOPK)); err != nil {
				t.Fatal(err)
			}
			first := r.send(alice, bob, "first")
			bob.receive(first, "first")

			// The same envelope again (its acknowledgement was lost): not shown twice.
			bob.refuse(first, ErrDuplicate)
			// The same body under a new envelope ID (a replaying server):
			// the session it started is not started again.
			again := r.envelope(alice, bob, Sealed{Body: first.Body, Commitment: first.Commitment})
			bob.refuse(again, protocol.ErrReplay)
			if n := len(bob.st.peers[alice.self].sessions); n != 1 {
				t.Errorf("Bob has %d sessions after a replayed prekey envelope, want 1", n)
			}

			// A session envelope replayed.
			bob.receive(r.send(alice, bob, "second"), "second")
			reply := r.send(bob, alice, "reply")
			alice.receive(reply, "reply")
			third := r.send(alice, bob, "third")
			bob.receive(third, "third")
			bob.refuse(r.envelope(alice, bob, Sealed{Body: third.Body, Commitment: third.Commitment}), protocol.ErrReplay)
			alice.refuse(r.envelope(bob, alice, Sealed{Body: reply.Body, Commitment: reply.Commitment}), protocol.ErrReplay)

			// Even once Bob no longer has the session it started (Alice's
			// device was reinstalled since, with a new identity), replaying
			// Alice's first envelope starts nothing.
			reinstalled := newDev(t, alice.self.User, alice.self.Device)
			bob.receive(r.send(reinstalled, bob, "reinstalled"), "reinstalled")
			if n := len(bob.st.peers[alice.self].sessions); n != 1 {
				t.Fatalf("Bob has %d sessions with the reinstalled device, want 1", n)
			}
			bob.refuse(r.envelope(alice, bob, Sealed{Body: first.Body, Commitment: first.Commitment}), protocol.ErrReplay)
		})
	}
}

func TestStatePersistedMidConversation(t *testing.T) {
	r := newRelay(t)
	alice, bob := newDev(t, 1, 10), newDev(t, 2, 20)
	held := r.send(alice, bob, "sent before the restart, delivered after")
	bob.receive(r.send(alice, bob, "one"), "one")
	skipped := r.send(bob, alice, "skipped for now")
	alice.receive(r.send(bob, alice, "two"), "two")
	m := bob.receive(r.send(alice, bob, "three"), "three")
	bob.st.Hold(m)

	alice.reload()
	bob.reload()

	bob.receive(held, "sent before the restart, delivered after")
	alice.receive(skipped, "skipped for now")
	// Its key was used: replayed, it no longer decrypts (the ratchet takes
	// a message of a finished chain whose key is gone for a new chain).
	bob.refuseAny(r.envelope(alice, bob, Sealed{Body: held.Body, Commitment: held.Commitment}), protocol.ErrReplay, protocol.ErrDecrypt)
	alice.receive(r.send(bob, alice, "four"), "four")
	bob.receive(r.send(alice, bob, "five"), "five")
	in := bob.st.TakeInbox()
	if len(in) != 1 || in[0].Text != "three" || in[0].Envelope != m.Envelope || in[0].Tag != m.Tag || !in[0].At.Equal(m.At) {
		t.Fatalf("inbox after reloading: %+v, want the held message", in)
	}
	if err := r.stamper.Verify(in[0].Report(bob.self)); err != nil {
		t.Errorf("report of a message held across a reload: %v", err)
	}
	if bob.st.Self() != bob.self {
		t.Errorf("Self after reload = %v, want %v", bob.st.Self(), bob.self)
	}
}

// TestForwardSecrecy: a copy of a device's state taken after message N
// does not decrypt messages up to N, although they are replayed to it
// under new envelope IDs.
func TestForwardSecrecy(t *testing.T) {
	r := newRelay(t)
	alice, bob := newDev(t, 1, 10), newDev(t, 2, 20)
	text := func(i int) string { return fmt.Sprintf("message number %d of the past", i) }
	var past []Envelope
	for i := range 6 {
		from, to := alice, bob
		if i%2 == 1 {
			from, to = bob, alice
		}
		e := r.send(from, to, text(i))
		to.receive(e, text(i))
		if to == bob {
			past = append(past, e)
		}
	}
	stolen := bob.snapshot()
	data := mustMarshal(t, stolen.st)
	for i := range 6 {
		if bytes.Contains(data, []byte(text(i))) {
			t.Fatalf("the state holds the text of message %d", i)
		}
	}
	for _, e := range past {
		replay := r.envelope(alice, bob, Sealed{Body: e.Body, Commitment: e.Commitment})
		if m, err := stolen.st.Decrypt(replay); err == nil {
			t.Fatalf("a state taken later decrypted an earlier message: %q", m.Text)
		}
	}
	// The stolen state still decrypts what comes next (until the DH
	// ratchet heals the session), as the real device does.
	next := r.send(alice, bob, "next")
	stolen.receive(next, "next")
	bob.receive(next, "next")
}

func TestSignedPreKeyRotation(t *testing.T) {
	r := newRelay(t)
	alice, bob, carol := newDev(t, 1, 10), newDev(t, 2, 20), newDev(t, 3, 30)
	// Alice claims Bob's bundle; Bob rotates before her message arrives.
	if _, err := alice.st.StartSession(bob.self, bob.bundle(true)); err != nil {
		t.Fatal(err)
	}
	inFlight := r.send(alice, bob, "sent with the old signed prekey")
	now := t0.Add(SignedPreKeyRotation)
	if !bob.st.RotationDue(now) || bob.st.RotationDue(now.Add(-time.Minute)) {
		t.Fatal("RotationDue is wrong around the rotation time")
	}
	oldID := bob.st.spk.key.ID
	if err := bob.st.Rotate(now); err != nil {
		t.Fatal(err)
	}
	if bob.st.spk.key.ID == oldID || bob.st.RotationDue(now) {
		t.Fatal("Rotate made no new current signed prekey")
	}
	bob.reload()
	// Within the grace the old one still starts sessions...
	bob.st.Expire(now.Add(SignedPreKeyGrace - time.Minute))
	bob.receive(inFlight, "sent with the old signed prekey")
	// ...and the new one starts new sessions.
	bob.receive(r.send(carol, bob, "new signed prekey"), "new signed prekey")

	// After the grace an initial message naming the old one is refused.
	if _, err := carol.st.StartSession(bob.self, protocol.NewBundle(bob.st.identity, bob.st.previous[0].key, nil)); err != nil {
		t.Fatal(err)
	}
	s, err := carol.st.Encrypt(bob.self, "too late", 0, now)
	if err != nil {
		t.Fatal(err)
	}
	bob.st.Expire(now.Add(SignedPreKeyGrace))
	if len(bob.st.previous) != 0 {
		t.Fatalf("%d previous signed prekeys after the grace, want 0", len(bob.st.previous))
	}
	bob.refuse(r.envelope(carol, bob, s), protocol.ErrPreKeyMismatch)
}

func TestOneTimePreKeys(t *testing.T) {
	st, err := New(rand.Reader, t0)
	if err != nil {
		t.Fatal(err)
	}
	keys, err := st.Publish(100)
	if err != nil {
		t.Fatal(err)
	}
	if len(keys.OneTimePreKeys) != 100 || keys.OneTimePreKeys[0].ID != 1 || keys.OneTimePreKeys[99].ID != 100 {
		t.Fatalf("Publish(100): %d keys from %d", len(keys.OneTimePreKeys), keys.OneTimePreKeys[0].ID)
	}
	b := protocol.Bundle{Identity: keys.Identity, SignedPreKey: keys.SignedPreKey, SignedPreKeySignature: keys.SignedPreKeySignature, OneTimePreKey: &keys.OneTimePreKeys[0]}
	if err := b.Verify(); err != nil {
		t.Fatalf("a bundle of the published keys does not verify: %v", err)
	}
	for range MaxOneTimePreKeys / 100 {
		if _, err := st.NewOneTimePreKeys(100); err != nil {
			t.Fatal(err)
		}
	}
	ids := st.oneTimePreKeyIDs()
	if len(ids) != MaxOneTimePreKeys || ids[0] != 101 {
		t.Fatalf("after %d keys: holds %d from ID %d, want %d from 101 (the oldest dropped)", MaxOneTimePreKeys+100, len(ids), ids[0], MaxOneTimePreKeys)
	}
	if _, err := st.NewOneTimePreKeys(-1); err == nil {
		t.Error("NewOneTimePreKeys(-1) did not fail")
	}
}

// TestIdentityChange: a device reinstalled under the same session ID has
// a new identity; both sides notice.
func TestIdentityChange(t *testing.T) {
	r := newRelay(t)
	alice, bob := newDev(t, 1, 10), newDev(t, 2, 20)
	bob.receive(r.send(alice, bob, "before"), "before")
	alice.receive(r.send(bob, alice, "reply"), "reply")

	bob2 := newDev(t, 2, 20)
	changed, err := alice.st.StartSession(bob2.self, bob2.bundle(true))
	if err != nil || !changed {
		t.Fatalf("StartSession with a new identity: changed %v, %v; want true", changed, err)
	}
	bob2.receive(r.send(alice, bob2, "after"), "after")

	alice2 := newDev(t, 1, 10)
	m := bob.receive(r.send(alice2, bob, "new me"), "new me")
	if !m.IdentityChanged || !m.NewSession {
		t.Errorf("message from a reinstalled device: IdentityChanged %v, NewSession %v; want both", m.IdentityChanged, m.NewSession)
	}
}

// TestKeyChangeIsNeverSilent: a prekey envelope under a new identity whose
// message is dropped (it does not open its franking commitment) starts no
// session, so the identity change is announced with the first message
// that is shown, not lost with the dropped one.
func TestKeyChangeIsNeverSilent(t *testing.T) {
	r := newRelay(t)
	alice, bob := newDev(t, 1, 10), newDev(t, 2, 20)
	bob.receive(r.send(alice, bob, "before"), "before")

	alice2 := newDev(t, 1, 10) // reinstalled: a new identity
	if _, err := alice2.st.StartSession(bob.self, bob.bundle(true)); err != nil {
		t.Fatal(err)
	}
	ss := alice2.st.peers[bob.self].sessions[0]
	kf, _ := franking.NewKey(rand.Reader)
	pt, _ := Payload{Kind: KindText, FrankingKey: kf, SentAt: t0, Text: "abuse"}.MarshalBinary()
	c := franking.Commit(kf, []byte("something harmless"))
	msg, err := ss.s.Encrypt(pt, c[:])
	if err != nil {
		t.Fatal(err)
	}
	body, _ := Body{Initial: decodeHeader(t, ss.initial), Message: msg}.MarshalBinary()
	bob.refuse(r.envelope(alice2, bob, Sealed{Body: body, Commitment: c}), franking.ErrBadCommitment)
	if got := bob.st.peers[alice.self].identity; got != alice.st.identity.Public() {
		t.Fatal("a dropped prekey envelope installed its sender's new identity")
	}
	m := bob.receive(r.send(alice2, bob, "new me"), "new me")
	if !m.IdentityChanged || !m.NewSession {
		t.Errorf("the first message shown from the new identity: IdentityChanged %v, NewSession %v; want both", m.IdentityChanged, m.NewSession)
	}
}

// TestSimultaneousStart: both devices start a session at once; messages
// on either decrypt, and they settle on one.
func TestSimultaneousStart(t *testing.T) {
	r := newRelay(t)
	alice, bob := newDev(t, 1, 10), newDev(t, 2, 20)
	fromAlice := r.send(alice, bob, "hi from Alice")
	fromBob := r.send(bob, alice, "hi from Bob")
	bob.receive(fromAlice, "hi from Alice")
	alice.receive(fromBob, "hi from Bob")
	for i := range 4 {
		bob.receive(r.send(alice, bob, fmt.Sprintf("a%d", i)), fmt.Sprintf("a%d", i))
		alice.receive(r.send(bob, alice, fmt.Sprintf("b%d", i)), fmt.Sprintf("b%d", i))
	}
	a := r.send(alice, bob, "settled?")
	b := r.send(bob, alice, "settled!")
	if a.Body[0] != bodySession || b.Body[0] != bodySession {
		t.Errorf("after replies both ways: envelope types %d and %d, want session envelopes", a.Body[0], b.Body[0])
	}
	bob.receive(a, "settled?")
	alice.receive(b, "settled!")
}

func TestBadInput(t *testing.T) {
	r := newRelay(t)
	alice, bob, carol := newDev(t, 1, 10), newDev(t, 2, 20), newDev(t, 3, 30)
	first := r.send(alice, bob, "hello")
	bob.receive(first, "hello")
	alice.receive(r.send(bob, alice, "hi"), "hi")
	good := r.send(alice, bob, "good")
	withBody := func(body []byte) Envelope { e := good; e.ID += "x"; e.Body = body; return e }

	cases := []struct {
		name string
		to   *dev
		env  Envelope
		want error
	}{
		{"empty body", bob, withBody(nil), protocol.ErrMalformed},
		{"unknown type", bob, withBody(append([]byte{9}, good.Body[1:]...)), protocol.ErrMalformed},
		{"truncated", bob, withBody(good.Body[:30]), protocol.ErrMalformed},
		{"truncated prekey envelope", bob, withBody([]byte{bodyPreKey, 1, 2, 3}), protocol.ErrMalformed},
		{"tag cut off", bob, withBody(good.Body[:len(good.Body)-1]), protocol.ErrDecrypt},
		{"flipped bit", bob, withBody(flip(good.Body, len(good.Body)-3)), protocol.ErrDecrypt},
		{"another commitment", bob, func() Envelope { e := good; e.ID += "c"; e.Commitment[0] ^= 1; return e }(), protocol.ErrDecrypt},
		{"claims another sender", bob, func() Envelope { e := good; e.ID += "s"; e.From = carol.self; return e }(), ErrNoSession},
		{"wrong device", carol, good, ErrNoSession},
		{"prekey envelope claims another sender", bob, func() Envelope { e := first; e.ID += "s"; e.From = carol.self; return e }(), protocol.ErrReplay},
		{"empty envelope ID", bob, func() Envelope { e := good; e.ID = ""; return e }(), protocol.ErrMalformed},
		{"envelope ID too long", bob, func() Envelope { e := good; e.ID = string(make([]byte, MaxEnvelopeID+1)); return e }(), protocol.ErrMalformed},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before, _ := tc.to.st.MarshalBinary()
			tc.to.refuse(tc.env, tc.want)
			if after, _ := tc.to.st.MarshalBinary(); !bytes.Equal(before, after) {
				t.Error("a refused envelope changed the state")
			}
		})
	}
	// The good envelope still decrypts after all that.
	bob.receive(good, "good")

	// A prekey envelope for another device: Carol's prekeys have the same
	// IDs as Bob's, but the message does not authenticate with them, and
	// Carol keeps her one-time prekey.
	dave := newDev(t, 4, 40)
	toBob := r.send(dave, bob, "for Bob")
	carol.refuseAny(toBob, protocol.ErrDecrypt)
	bob.receive(toBob, "for Bob")
	// A bundle whose signature does not verify is refused before use.
	b := carol.bundle(true)
	b.SignedPreKeySignature[0] ^= 1
	if _, err := dave.st.StartSession(carol.self, b); !errors.Is(err, protocol.ErrBadSignature) {
		t.Errorf("StartSession with a forged bundle: %v, want ErrBadSignature", err)
	}
	// Encrypting without a session.
	if _, err := dave.st.Encrypt(carol.self, "x", 0, t0); !errors.Is(err, ErrNoSession) {
		t.Errorf("Encrypt without a session: %v, want ErrNoSession", err)
	}
}

// TestUnreportableMessageDropped: a sender who commits to other text than
// it encrypts (so that the message could not be reported) has the message
// dropped, and the session carries on.
func TestUnreportableMessageDropped(t *testing.T) {
	r := newRelay(t)
	alice, bob := newDev(t, 1, 10), newDev(t, 2, 20)
	bob.receive(r.send(alice, bob, "hello"), "hello")

	ss := alice.st.peers[bob.self].sessions[0]
	kf, _ := franking.NewKey(rand.Reader)
	pt, _ := Payload{Kind: KindText, FrankingKey: kf, SentAt: t0, Text: "abuse"}.MarshalBinary()
	c := franking.Commit(kf, []byte("something harmless"))
	msg, err := ss.s.Encrypt(pt, c[:])
	if err != nil {
		t.Fatal(err)
	}
	body, _ := Body{Initial: decodeHeader(t, ss.initial), Message: msg}.MarshalBinary()
	bad := r.envelope(alice, bob, Sealed{Body: body, Commitment: c})
	bob.refuse(bad, franking.ErrBadCommitment)
	bob.refuse(bad, ErrDuplicate)
	// An authenticated payload that does not decode is dropped likewise.
	msg, _ = ss.s.Encrypt([]byte{7, 7, 7}, c[:])
	body, _ = Body{Initial: decodeHeader(t, ss.initial), Message: msg}.MarshalBinary()
	bob.refuse(r.envelope(alice, bob, Sealed{Body: body, Commitment: c}), ErrBadPayload)
	bob.receive(r.send(alice, bob, "still talking"), "still talking")
}

func decodeHeader(t *testing.T, b []byte) *protocol.InitialHeader {
	t.Helper()
	if b == nil {
		return nil
	}
	var h protocol.InitialHeader
	if err := h.UnmarshalBinary(b); err != nil {
		t.Fatal(err)
	}
	return &h
}

func flip(b []byte, i int) []byte {
	c := bytes.Clone(b)
	c[i] ^= 0x40
	return c
}

func TestSeenIsBounded(t *testing.T) {
	st, err := New(rand.Reader, t0)
	if err != nil {
		t.Fatal(err)
	}
	for i := range MaxSeen + 10 {
		st.remember(fmt.Sprintf("e%d", i))
	}
	if len(st.seen) != MaxSeen || len(st.seenSet) != MaxSeen || st.Seen("e9") || !st.Seen("e10") || !st.Seen(fmt.Sprintf("e%d", MaxSeen+9)) {
		t.Fatalf("seen: %d IDs; e9 %v, e10 %v", len(st.seen), st.Seen("e9"), st.Seen("e10"))
	}
	roundTrip(t, st)
}

func TestStateDecodeRejects(t *testing.T) {
	r := newRelay(t)
	alice, bob := newDev(t, 1, 10), newDev(t, 2, 20)
	m := bob.receive(r.send(alice, bob, "hello"), "hello")
	bob.st.Hold(m)
	if err := bob.st.Rotate(t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	data, err := bob.st.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	var st State
	for n := range len(data) {
		if err := st.UnmarshalBinary(data[:n]); !errors.Is(err, ErrBadState) {
			t.Fatalf("truncated to %d of %d bytes: %v, want ErrBadState", n, len(data), err)
		}
	}
	if err := st.UnmarshalBinary(append(bytes.Clone(data), 0)); !errors.Is(err, ErrBadState) {
		t.Errorf("trailing byte: %v", err)
	}
	v2 := bytes.Clone(data)
	v2[0] = 2
	if err := st.UnmarshalBinary(v2); !errors.Is(err, ErrBadState) {
		t.Errorf("version 2: %v", err)
	}
	// A damaged signature (byte 1+16+64+8+1+4+32 is the current signed prekey's).
	sig := bytes.Clone(data)
	sig[1+16+64+8+1+4+32] ^= 1
	if err := st.UnmarshalBinary(sig); !errors.Is(err, ErrBadState) {
		t.Errorf("damaged signed prekey signature: %v", err)
	}
	if err := st.UnmarshalBinary(data); err != nil {
		t.Fatalf("the intact state: %v", err)
	}
}
