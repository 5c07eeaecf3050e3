package protocol

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"fmt"
	"regexp"
	"testing"

	"kurir"
)

func TestConversationBothWays(t *testing.T) {
	for _, withOPK := range []bool{true, false} {
		t.Run(fmt.Sprintf("one-time prekey %v", withOPK), func(t *testing.T) {
			alice, bob := pair(t, withOPK)
			// Alternate bursts of different lengths so each side ratchets
			// many times and PN is exercised.
			for round := range 6 {
				from, to, name := alice, bob, "alice"
				if round%2 == 1 {
					from, to, name = bob, alice, "bob"
				}
				before := pub32(from.st.self)
				for i := range round + 1 {
					text := fmt.Sprintf("%s round %d message %d", name, round, i)
					if got := decrypt(t, to, encrypt(t, from, text)); got != text {
						t.Fatalf("got %q, want %q", got, text)
					}
				}
				if round > 0 && pub32(to.st.self) == before {
					t.Fatalf("round %d: receiver did not take a ratchet step", round)
				}
			}
		})
	}
}

func TestResponderCannotSendFirst(t *testing.T) {
	a, b := newDevice(t, "alice"), newDevice(t, "bob")
	_, h, err := Initiate(a.id, NewBundle(b.id, b.spk, b.opk), newDetRand("a"))
	if err != nil {
		t.Fatal(err)
	}
	bob, err := Respond(b.id, b.spk, b.opk, h, newDetRand("b"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bob.Encrypt([]byte("x"), nil); !errors.Is(err, ErrNoSendingChain) {
		t.Fatalf("got %v, want ErrNoSendingChain", err)
	}
}

func TestOutOfOrder(t *testing.T) {
	t.Run("within a chain", func(t *testing.T) {
		alice, bob := pair(t, true)
		var ms []Message
		for i := range 5 {
			ms = append(ms, encrypt(t, alice, fmt.Sprint("m", i)))
		}
		for _, i := range []int{3, 0, 4, 2, 1} {
			if got, want := decrypt(t, bob, ms[i]), fmt.Sprint("m", i); got != want {
				t.Fatalf("got %q, want %q", got, want)
			}
		}
		if len(bob.skipped) != 0 {
			t.Fatalf("%d skipped keys left, want 0", len(bob.skipped))
		}
	})
	t.Run("across chains", func(t *testing.T) {
		alice, bob := pair(t, true)
		b0 := encrypt(t, bob, "b0")
		b1 := encrypt(t, bob, "b1") // delayed past Bob's next ratchet step
		decrypt(t, alice, b0)
		a1 := encrypt(t, alice, "a1")
		decrypt(t, bob, a1)
		b2 := encrypt(t, bob, "b2") // new chain, PN = 2
		if b2.Header.PN != 2 || b2.Header.DH == b1.Header.DH {
			t.Fatalf("b2 header %+v: want PN 2 and a new ratchet key", b2.Header)
		}
		a2 := encrypt(t, alice, "a2") // sent before a reply; lost for a while
		if got := decrypt(t, alice, b2); got != "b2" {
			t.Fatalf("got %q", got)
		}
		if got := decrypt(t, alice, b1); got != "b1" {
			t.Fatalf("got %q", got)
		}
		if got := decrypt(t, bob, a2); got != "a2" {
			t.Fatalf("got %q", got)
		}
	})
}

func TestReplayRejected(t *testing.T) {
	alice, bob := pair(t, true)
	m0 := encrypt(t, alice, "m0")
	m1 := encrypt(t, alice, "m1")
	m2 := encrypt(t, alice, "m2")
	decrypt(t, bob, m0)
	decrypt(t, bob, m2) // stores m1's key
	decrypt(t, bob, m1) // uses and deletes it
	for _, m := range []Message{m0, m1, m2} {
		before := state(t, bob)
		if _, err := bob.Decrypt(m, []byte("ad")); !errors.Is(err, ErrReplay) {
			t.Fatalf("replay of message %d: got %v, want ErrReplay", m.Header.N, err)
		}
		unchanged(t, bob, before)
	}
}

func TestSkipBound(t *testing.T) {
	alice, bob := pair(t, true)
	for range MaxSkip + 1 {
		encrypt(t, alice, "lost")
	}
	far := encrypt(t, alice, "far") // MaxSkip+1 messages after the next expected one
	before := state(t, bob)
	_, err := bob.Decrypt(far, []byte("ad"))
	if !errors.Is(err, ErrTooManySkipped) || kurir.ErrorReason(err) != "secret_too_many_skipped" {
		t.Fatalf("got %v, want ErrTooManySkipped", err)
	}
	unchanged(t, bob, before)

	// Exactly MaxSkip ahead is still accepted.
	alice2, bob2 := pair(t, true)
	for range MaxSkip {
		encrypt(t, alice2, "lost")
	}
	if got := decrypt(t, bob2, encrypt(t, alice2, "edge")); got != "edge" {
		t.Fatalf("got %q", got)
	}
	if len(bob2.skipped) != MaxSkip {
		t.Fatalf("%d skipped keys, want %d", len(bob2.skipped), MaxSkip)
	}

	// A forged PN on a new ratchet key is bounded too.
	alice3, bob3 := pair(t, true)
	decrypt(t, alice3, encrypt(t, bob3, "first reply"))
	decrypt(t, bob3, encrypt(t, alice3, "so Bob ratchets"))
	m := encrypt(t, bob3, "new chain")
	m.Header.PN = 1 << 30
	before = state(t, alice3)
	if _, err := alice3.Decrypt(m, []byte("ad")); !errors.Is(err, ErrTooManySkipped) {
		t.Fatalf("forged PN: got %v, want ErrTooManySkipped", err)
	}
	unchanged(t, alice3, before)
}

func TestSkippedStoreEvictsOldest(t *testing.T) {
	alice, bob := pair(t, true)
	var firstLost Message
	// Three chains from Alice, each skipping MaxSkip-1 messages: 2997 keys
	// stored, 2000 kept.
	for chain := range 3 {
		for i := range MaxSkip - 1 {
			m := encrypt(t, alice, "lost")
			if chain == 0 && i == 0 {
				firstLost = m
			}
		}
		decrypt(t, bob, encrypt(t, alice, "arrives"))
		decrypt(t, alice, encrypt(t, bob, "reply"))
	}
	if len(bob.skipped) != MaxSkippedKeys {
		t.Fatalf("%d skipped keys, want %d", len(bob.skipped), MaxSkippedKeys)
	}
	if _, err := bob.Decrypt(firstLost, []byte("ad")); err == nil {
		t.Fatal("oldest skipped message decrypted after its key should have been evicted")
	}
}

func TestTamperedRejected(t *testing.T) {
	tests := []struct {
		name   string
		tamper func(m *Message, ad *[]byte)
	}{
		{"ciphertext bit", func(m *Message, _ *[]byte) { m.Ciphertext[0] ^= 1 }},
		{"tag bit", func(m *Message, _ *[]byte) { m.Ciphertext[len(m.Ciphertext)-1] ^= 0x80 }},
		{"truncated", func(m *Message, _ *[]byte) { m.Ciphertext = m.Ciphertext[:len(m.Ciphertext)-1] }},
		{"header N", func(m *Message, _ *[]byte) { m.Header.N++ }},
		{"header PN", func(m *Message, _ *[]byte) { m.Header.PN++ }},
		{"header DH", func(m *Message, _ *[]byte) { m.Header.DH[5] ^= 1 }},
		{"associated data", func(_ *Message, ad *[]byte) { *ad = []byte("other") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			alice, bob := pair(t, true)
			decrypt(t, alice, encrypt(t, bob, "so Alice has a receiving chain"))
			m := encrypt(t, alice, "secret")
			m.Ciphertext = bytes.Clone(m.Ciphertext)
			ad := []byte("ad")
			tt.tamper(&m, &ad)
			before := state(t, bob)
			if _, err := bob.Decrypt(m, ad); err == nil {
				t.Fatal("tampered message decrypted")
			}
			unchanged(t, bob, before)
		})
	}
}

func TestForwardSecrecy(t *testing.T) {
	alice, bob := pair(t, true)
	var past []Message
	for i := range 4 {
		m := encrypt(t, alice, fmt.Sprint("a", i))
		past = append(past, m)
		decrypt(t, bob, m)
		r := encrypt(t, bob, fmt.Sprint("b", i))
		past = append(past, r)
		decrypt(t, alice, r)
	}
	// Keys taken from both devices after message N...
	for _, s := range []*Session{alice, bob} {
		var stolen Session
		if err := stolen.UnmarshalBinary(state(t, s)); err != nil {
			t.Fatal(err)
		}
		// ...decrypt none of the messages before N, in either direction.
		for _, m := range past {
			probe := stolen
			if _, err := probe.Decrypt(m, []byte("ad")); err == nil {
				t.Fatalf("stolen state decrypted past message %+v", m.Header)
			}
		}
		// And no message key derivable from the state matches a past
		// message: try the chain keys directly.
		for _, m := range past {
			for _, ck := range [][32]byte{stolen.st.sendCK, stolen.st.recvCK, stolen.st.rootKey} {
				_, mk := kdfCK(ck)
				if _, err := (&Session{ad: stolen.ad}).open(mk, m, []byte("ad")); err == nil {
					t.Fatal("a chain key in the stolen state opens a past message")
				}
			}
		}
	}
}

func TestStateRoundTrip(t *testing.T) {
	alice, bob := pair(t, true)
	pending := encrypt(t, alice, "pending")
	encrypt(t, alice, "lost") // leaves a skipped key
	decrypt(t, bob, encrypt(t, alice, "arrives"))
	for _, s := range []**Session{&alice, &bob} {
		var restored Session
		b := state(t, *s)
		if err := restored.UnmarshalBinary(b); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(state(t, &restored), b) {
			t.Fatal("state does not round-trip")
		}
		*s = &restored
	}
	if got := decrypt(t, bob, pending); got != "pending" {
		t.Fatalf("got %q", got)
	}
	if got := decrypt(t, alice, encrypt(t, bob, "after restore")); got != "after restore" {
		t.Fatalf("got %q", got)
	}
}

func TestBundleVerify(t *testing.T) {
	b := newDevice(t, "bob")
	other := newDevice(t, "mallory")
	lowOrder := [32]byte{1} // u = 1 is a point of order 4
	tests := []struct {
		name   string
		mutate func(*Bundle)
		want   error
	}{
		{"valid", func(*Bundle) {}, nil},
		{"signature bit", func(b *Bundle) { b.SignedPreKeySignature[3] ^= 1 }, ErrBadSignature},
		{"prekey swapped", func(b *Bundle) { b.SignedPreKey.Key = pub32(other.spk.Key) }, ErrBadSignature},
		{"prekey ID changed", func(b *Bundle) { b.SignedPreKey.ID++ }, ErrBadSignature},
		{"identity DH swapped", func(b *Bundle) { b.Identity.DH = other.id.Public().DH }, ErrBadSignature},
		{"signing key swapped", func(b *Bundle) { b.Identity.Sign = other.id.Public().Sign }, ErrBadSignature},
		{"all-zero one-time prekey", func(b *Bundle) { b.OneTimePreKey.Key = [32]byte{} }, ErrBadKey},
		{"low-order one-time prekey", func(b *Bundle) { b.OneTimePreKey.Key = lowOrder }, ErrBadKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bundle := NewBundle(b.id, b.spk, b.opk)
			tt.mutate(&bundle)
			err := bundle.Verify()
			if !errors.Is(err, tt.want) && !(err == nil && tt.want == nil) {
				t.Fatalf("Verify: got %v, want %v", err, tt.want)
			}
			if tt.want != nil {
				_, _, err := Initiate(newDevice(t, "alice").id, bundle, newDetRand("x"))
				if !errors.Is(err, tt.want) {
					t.Fatalf("Initiate: got %v, want %v", err, tt.want)
				}
			}
		})
	}
}

func TestLowOrderSignedPreKeyRejected(t *testing.T) {
	// A signature over a low-order prekey is valid, so only the point check
	// catches it.
	b := newDevice(t, "bob")
	spk := PreKey{ID: 9}
	bundle := Bundle{Identity: b.id.Public(), SignedPreKey: spk}
	copy(bundle.SignedPreKeySignature[:], ed25519.Sign(b.id.Sign, signedPreKeyMessage(bundle.Identity.DH, spk)))
	if err := bundle.Verify(); !errors.Is(err, ErrBadKey) {
		t.Fatalf("got %v, want ErrBadKey", err)
	}
}

func TestBundleEncoding(t *testing.T) {
	b := newDevice(t, "bob")
	for _, opk := range []*OneTimePreKey{b.opk, nil} {
		bundle := NewBundle(b.id, b.spk, opk)
		enc, _ := bundle.MarshalBinary()
		var got Bundle
		if err := got.UnmarshalBinary(enc); err != nil {
			t.Fatal(err)
		}
		if err := got.Verify(); err != nil {
			t.Fatal(err)
		}
		again, _ := got.MarshalBinary()
		if !bytes.Equal(again, enc) {
			t.Fatal("bundle does not round-trip")
		}
	}
	good, _ := NewBundle(b.id, b.spk, b.opk).MarshalBinary()
	tests := []struct {
		name string
		data []byte
	}{
		{"empty", nil},
		{"truncated", good[:len(good)-1]},
		{"trailing byte", append(bytes.Clone(good), 0)},
		{"short identity", good[:40]},
		{"version 2", append([]byte{2}, good[1:]...)},
		{"flag says none but key follows", func() []byte { c := bytes.Clone(good); c[bundleSizeNoOPK-1] = 0; return c }()},
		{"flag 2", func() []byte { c := bytes.Clone(good); c[bundleSizeNoOPK-1] = 2; return c }()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got Bundle
			if err := got.UnmarshalBinary(tt.data); !errors.Is(err, ErrMalformed) || kurir.ErrorCode(err) != kurir.EInvalid {
				t.Fatalf("got %v, want ErrMalformed", err)
			}
		})
	}
}

func TestRespondPreKeyMismatch(t *testing.T) {
	a, b := newDevice(t, "alice"), newDevice(t, "bob")
	_, h, err := Initiate(a.id, NewBundle(b.id, b.spk, b.opk), newDetRand("a"))
	if err != nil {
		t.Fatal(err)
	}
	otherOPK, _ := NewOneTimePreKey(101, newDetRand("o"))
	otherSPK, _ := NewSignedPreKey(2, b.id, newDetRand("s"))
	tests := []struct {
		name string
		spk  *SignedPreKey
		opk  *OneTimePreKey
	}{
		{"one-time prekey already used", b.spk, nil},
		{"other one-time prekey", b.spk, otherOPK},
		{"rotated signed prekey", otherSPK, b.opk},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := Respond(b.id, tt.spk, tt.opk, h, newDetRand("b")); !errors.Is(err, ErrPreKeyMismatch) {
				t.Fatalf("got %v, want ErrPreKeyMismatch", err)
			}
		})
	}
	h.Ephemeral = [32]byte{}
	if _, err := Respond(b.id, b.spk, b.opk, h, newDetRand("b")); !errors.Is(err, ErrBadKey) {
		t.Fatalf("zero ephemeral: got %v, want ErrBadKey", err)
	}
}

func TestWrongDeviceCannotDecrypt(t *testing.T) {
	a, b, c := newDevice(t, "alice"), newDevice(t, "bob"), newDevice(t, "bob's other device")
	alice, h, err := Initiate(a.id, NewBundle(b.id, b.spk, nil), newDetRand("a"))
	if err != nil {
		t.Fatal(err)
	}
	m := encrypt(t, alice, "for bob's phone only")
	// Bob's other device has the same IDs but different keys.
	other, err := Respond(c.id, c.spk, nil, h, newDetRand("c"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := other.Decrypt(m, []byte("ad")); !errors.Is(err, ErrDecrypt) {
		t.Fatalf("got %v, want ErrDecrypt", err)
	}
}

func TestSafetyNumber(t *testing.T) {
	a, b, m := newDevice(t, "alice"), newDevice(t, "bob"), newDevice(t, "mallory")
	ab := SafetyNumber("alice", a.id.Public(), "bob", b.id.Public())
	ba := SafetyNumber("bob", b.id.Public(), "alice", a.id.Public())
	if ab != ba {
		t.Fatalf("not symmetric: %q vs %q", ab, ba)
	}
	if !regexp.MustCompile(`^\d{5}( \d{5}){11}$`).MatchString(ab) {
		t.Fatalf("format: %q", ab)
	}
	if mitm := SafetyNumber("alice", a.id.Public(), "bob", m.id.Public()); mitm == ab {
		t.Fatal("a different key gives the same safety number")
	}
	if renamed := SafetyNumber("alice", a.id.Public(), "bob2", b.id.Public()); renamed == ab {
		t.Fatal("a different identifier gives the same safety number")
	}
}

func TestMessageEncoding(t *testing.T) {
	alice, _ := pair(t, true)
	m := encrypt(t, alice, "x")
	enc, _ := m.MarshalBinary()
	var got Message
	if err := got.UnmarshalBinary(enc); err != nil {
		t.Fatal(err)
	}
	if got.Header != m.Header || !bytes.Equal(got.Ciphertext, m.Ciphertext) {
		t.Fatal("message does not round-trip")
	}
	for _, bad := range [][]byte{nil, enc[:HeaderSize], enc[:HeaderSize+tagSize-1], append([]byte{2}, enc[1:]...)} {
		if err := got.UnmarshalBinary(bad); !errors.Is(err, ErrMalformed) {
			t.Fatalf("%d bytes: got %v, want ErrMalformed", len(bad), err)
		}
	}
}
