package device

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// Each decoder either rejects its input or accepts exactly the encoding it
// would produce itself (the encodings are canonical), and never panics.

func FuzzPayload(f *testing.F) {
	for _, b := range vectorBytes(f, "payloads", "payload") {
		f.Add(b)
	}
	for _, b := range vectorBytes(f, "invalid_payloads", "bytes") {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var p Payload
		if err := p.UnmarshalBinary(data); err != nil {
			return
		}
		enc, err := p.MarshalBinary()
		if err != nil {
			t.Fatalf("a decoded payload does not encode: %v", err)
		}
		if !bytes.Equal(enc, data) {
			t.Fatalf("accepted a non-canonical payload")
		}
	})
}

func FuzzBody(f *testing.F) {
	for _, b := range vectorBytes(f, "envelope_bodies", "body") {
		f.Add(b)
	}
	for _, b := range vectorBytes(f, "invalid_envelope_bodies", "bytes") {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var b Body
		if err := b.UnmarshalBinary(data); err != nil {
			return
		}
		if enc, _ := b.MarshalBinary(); !bytes.Equal(enc, data) {
			t.Fatalf("accepted a non-canonical envelope body")
		}
	})
}

func FuzzState(f *testing.F) {
	r := newRelay(f)
	alice, bob := newDev(f, 1, 10), newDev(f, 2, 20)
	f.Add(mustMarshal(f, bob.st))
	r.send(alice, bob, "lost")
	m := bob.receive(r.send(alice, bob, "arrives"), "arrives")
	bob.st.Hold(m)
	alice.receive(r.send(bob, alice, "reply"), "reply")
	if err := bob.st.Rotate(t0.Add(time.Hour)); err != nil {
		f.Fatal(err)
	}
	f.Add(mustMarshal(f, alice.st))
	f.Add(mustMarshal(f, bob.st))
	f.Fuzz(func(t *testing.T, data []byte) {
		st, err := Load(data, rand.Reader)
		if err != nil {
			return
		}
		if enc := mustMarshal(t, st); !bytes.Equal(enc, data) {
			t.Fatalf("accepted a non-canonical state")
		}
		for _, p := range st.Peers() {
			_, _ = st.Encrypt(p, "x", 0, t0)
		}
	})
}

// FuzzDecrypt feeds arbitrary envelope bodies and commitments to a device
// with a live session: no panic, and a refused envelope leaves the state
// as it was.
func FuzzDecrypt(f *testing.F) {
	r := newRelay(f)
	alice, bob := newDev(f, 1, 10), newDev(f, 2, 20)
	first := r.send(alice, bob, "first")
	f.Add(first.Body, first.Commitment[:])
	bob.receive(r.send(alice, bob, "hello"), "hello")
	alice.receive(r.send(bob, alice, "hi"), "hi")
	next := r.send(alice, bob, "next")
	f.Add(next.Body, next.Commitment[:])
	base := mustMarshal(f, bob.st)
	f.Fuzz(func(t *testing.T, body, commitment []byte) {
		st, err := Load(base, rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		e := Envelope{ID: "fuzz", From: alice.self, Body: body, At: t0}
		copy(e.Commitment[:], commitment)
		if _, err := st.Decrypt(e); err == nil {
			return
		}
		if !st.Seen("fuzz") && !bytes.Equal(mustMarshal(t, st), base) {
			t.Fatal("a refused envelope changed the state")
		}
	})
}

func mustMarshal(t testing.TB, st *State) []byte {
	t.Helper()
	b, err := st.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// vectorBytes returns one hex field of each entry of a list in
// testdata/payload-vectors.json, as seeds.
func vectorBytes(t testing.TB, list, field string) [][]byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "payload-vectors.json"))
	if err != nil {
		t.Fatal(err)
	}
	var v map[string]json.RawMessage
	if err := json.Unmarshal(data, &v); err != nil {
		t.Fatal(err)
	}
	var entries []map[string]any
	if err := json.Unmarshal(v[list], &entries); err != nil {
		t.Fatal(err)
	}
	var out [][]byte
	for _, e := range entries {
		b, err := hex.DecodeString(e[field].(string))
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, b)
	}
	return out
}
