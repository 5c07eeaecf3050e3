package protocol

import (
	"bytes"
	"testing"
)

// BenchmarkEncryptDecrypt measures one 1 KiB message each way (Alice to
// Bob, Bob to Alice), so every iteration includes two DH ratchet steps.
func BenchmarkEncryptDecrypt(b *testing.B) {
	alice, bob := pair(b, true)
	pt := bytes.Repeat([]byte{'k'}, 1024)
	b.SetBytes(2 * int64(len(pt)))
	b.ReportAllocs()
	for b.Loop() {
		for _, p := range [][2]*Session{{alice, bob}, {bob, alice}} {
			m, err := p[0].Encrypt(pt, nil)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := p[1].Decrypt(m, nil); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkEncryptDecryptSameChain measures one 1 KiB message in an
// established chain (no DH ratchet step): the symmetric cost alone.
func BenchmarkEncryptDecryptSameChain(b *testing.B) {
	alice, bob := pair(b, true)
	pt := bytes.Repeat([]byte{'k'}, 1024)
	b.SetBytes(int64(len(pt)))
	b.ReportAllocs()
	for b.Loop() {
		m, err := alice.Encrypt(pt, nil)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := bob.Decrypt(m, nil); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkX3DH measures Initiate (with bundle verification) and Respond
// with a one-time prekey.
func BenchmarkX3DH(b *testing.B) {
	a, d := newDevice(b, "alice"), newDevice(b, "bob")
	bundle := NewBundle(d.id, d.spk, d.opk)
	r := newDetRand("bench")
	b.ReportAllocs()
	for b.Loop() {
		_, h, err := Initiate(a.id, bundle, r)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := Respond(d.id, d.spk, d.opk, h, r); err != nil {
			b.Fatal(err)
		}
	}
}
