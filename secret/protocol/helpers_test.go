package protocol

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"testing"
)

// detRand is the deterministic randomness of the test vectors: the
// concatenation of SHA-256(label || counter as u64 BE) for counter = 0, 1, ...
type detRand struct {
	label   string
	counter uint64
	buf     []byte
}

func newDetRand(label string) *detRand { return &detRand{label: label} }

func (r *detRand) Read(p []byte) (int, error) {
	for len(r.buf) < len(p) {
		b := binary.BigEndian.AppendUint64([]byte(r.label), r.counter)
		sum := sha256.Sum256(b)
		r.buf = append(r.buf, sum[:]...)
		r.counter++
	}
	n := copy(p, r.buf)
	r.buf = r.buf[n:]
	return n, nil
}

// device is one side's long-term keys.
type device struct {
	id  *IdentityKey
	spk *SignedPreKey
	opk *OneTimePreKey
}

func newDevice(t testing.TB, label string) device {
	t.Helper()
	r := newDetRand(label)
	id, err := NewIdentityKey(r)
	if err != nil {
		t.Fatal(err)
	}
	spk, err := NewSignedPreKey(1, id, r)
	if err != nil {
		t.Fatal(err)
	}
	opk, err := NewOneTimePreKey(100, r)
	if err != nil {
		t.Fatal(err)
	}
	return device{id, spk, opk}
}

// pair runs the agreement and Alice's first message ("hello") so both
// sessions are ready to talk both ways.
func pair(t testing.TB, withOPK bool) (alice, bob *Session) {
	t.Helper()
	a, b := newDevice(t, "alice"), newDevice(t, "bob")
	opk := b.opk
	if !withOPK {
		opk = nil
	}
	alice, h, err := Initiate(a.id, NewBundle(b.id, b.spk, opk), newDetRand("alice session"))
	if err != nil {
		t.Fatal(err)
	}
	bob, err = Respond(b.id, b.spk, opk, h, newDetRand("bob session"))
	if err != nil {
		t.Fatal(err)
	}
	m := encrypt(t, alice, "hello")
	if got := decrypt(t, bob, m); got != "hello" {
		t.Fatalf("first message: got %q, want %q", got, "hello")
	}
	return alice, bob
}

func encrypt(t testing.TB, s *Session, text string) Message {
	t.Helper()
	m, err := s.Encrypt([]byte(text), []byte("ad"))
	if err != nil {
		t.Fatalf("encrypt %q: %v", text, err)
	}
	return m
}

func decrypt(t testing.TB, s *Session, m Message) string {
	t.Helper()
	pt, err := s.Decrypt(m, []byte("ad"))
	if err != nil {
		t.Fatalf("decrypt message %d: %v", m.Header.N, err)
	}
	return string(pt)
}

func state(t testing.TB, s *Session) []byte {
	t.Helper()
	b, err := s.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// unchanged fails the test if s no longer serialises to before.
func unchanged(t testing.TB, s *Session, before []byte) {
	t.Helper()
	if !bytes.Equal(state(t, s), before) {
		t.Fatal("session state changed after a failed decrypt")
	}
}
