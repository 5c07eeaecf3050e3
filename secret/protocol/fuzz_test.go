package protocol

import (
	"bytes"
	"testing"
)

// Each decoder either rejects its input or accepts exactly the encoding it
// would produce itself (the encodings are canonical).

func FuzzBundle(f *testing.F) {
	b := newDevice(f, "bob")
	for _, opk := range []*OneTimePreKey{b.opk, nil} {
		enc, _ := NewBundle(b.id, b.spk, opk).MarshalBinary()
		f.Add(enc)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var got Bundle
		if err := got.UnmarshalBinary(data); err != nil {
			return
		}
		_ = got.Verify()
		if enc, _ := got.MarshalBinary(); !bytes.Equal(enc, data) {
			t.Fatalf("accepted a non-canonical bundle")
		}
	})
}

func FuzzInitialHeader(f *testing.F) {
	a, b := newDevice(f, "alice"), newDevice(f, "bob")
	for _, opk := range []*OneTimePreKey{b.opk, nil} {
		_, h, err := Initiate(a.id, NewBundle(b.id, b.spk, opk), newDetRand("a"))
		if err != nil {
			f.Fatal(err)
		}
		enc, _ := h.MarshalBinary()
		f.Add(enc)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var h InitialHeader
		if err := h.UnmarshalBinary(data); err != nil {
			return
		}
		if enc, _ := h.MarshalBinary(); !bytes.Equal(enc, data) {
			t.Fatalf("accepted a non-canonical header")
		}
		_, _ = Respond(b.id, b.spk, b.opk, h, newDetRand("b"))
	})
}

func FuzzSessionState(f *testing.F) {
	alice, bob := pair(f, true)
	encrypt(f, alice, "lost")
	decrypt(f, bob, encrypt(f, alice, "arrives"))
	f.Add(state(f, alice))
	f.Add(state(f, bob))
	f.Fuzz(func(t *testing.T, data []byte) {
		var s Session
		if err := s.UnmarshalBinary(data); err != nil {
			return
		}
		if enc := state(t, &s); !bytes.Equal(enc, data) {
			t.Fatalf("accepted a non-canonical state")
		}
		_, _ = s.Encrypt([]byte("x"), nil)
	})
}

// FuzzDecrypt feeds arbitrary wire messages to a live session: no panic, and
// a rejected message leaves the session unchanged.
func FuzzDecrypt(f *testing.F) {
	alice, bob := pair(f, true)
	m := encrypt(f, alice, "seed")
	wire, _ := m.MarshalBinary()
	f.Add(wire, []byte("ad"))
	base := state(f, bob)
	f.Fuzz(func(t *testing.T, data, ad []byte) {
		var s Session
		if err := s.UnmarshalBinary(base); err != nil {
			t.Fatal(err)
		}
		s.SetRand(newDetRand("fuzz"))
		var msg Message
		if err := msg.UnmarshalBinary(data); err != nil {
			return
		}
		if enc, _ := msg.MarshalBinary(); !bytes.Equal(enc, data) {
			t.Fatalf("accepted a non-canonical message")
		}
		if _, err := s.Decrypt(msg, ad); err != nil {
			unchanged(t, &s, base)
		}
	})
}
