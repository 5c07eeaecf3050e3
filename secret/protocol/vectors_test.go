package protocol

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/vectors.json")

type vectorKey struct {
	Private string `json:"private"`
	Public  string `json:"public"`
}

type vectorX3DH struct {
	Name             string `json:"name"`
	Bundle           string `json:"bundle"`
	EphemeralPrivate string `json:"ephemeral_private"`
	DH1              string `json:"dh1"`
	DH2              string `json:"dh2"`
	DH3              string `json:"dh3"`
	DH4              string `json:"dh4,omitempty"`
	SK               string `json:"sk"`
	AD               string `json:"ad"`
	InitialHeader    string `json:"initial_header"`
	FirstRatchetKey  string `json:"initiator_first_ratchet_private"`
	RootKey          string `json:"initiator_root_key_after_first_step"`
	SendingChainKey  string `json:"initiator_first_sending_chain_key"`
}

type vectorStep struct {
	Action     string `json:"action"` // "encrypt" or "decrypt"
	Party      string `json:"party"`  // who acts
	Label      string `json:"label"`  // names the message
	Plaintext  string `json:"plaintext"`
	AD         string `json:"ad"`
	Message    string `json:"message"`               // the encoded Message
	MessageKey string `json:"message_key,omitempty"` // for encrypt steps
	AESKey     string `json:"aes_key,omitempty"`
	Nonce      string `json:"nonce,omitempty"`
}

type vectors struct {
	Protocol string `json:"protocol"`
	Note     string `json:"note"`
	Alice    struct {
		IdentityDH   vectorKey `json:"identity_x25519"`
		IdentitySign vectorKey `json:"identity_ed25519"` // private = 32-byte seed
		SessionRand  string    `json:"session_rand_label"`
	} `json:"alice"`
	Bob struct {
		IdentityDH      vectorKey `json:"identity_x25519"`
		IdentitySign    vectorKey `json:"identity_ed25519"`
		SignedPreKeyID  uint32    `json:"signed_prekey_id"`
		SignedPreKey    vectorKey `json:"signed_prekey"`
		SignedMessage   string    `json:"signed_prekey_signed_message"`
		Signature       string    `json:"signed_prekey_signature"`
		OneTimePreKeyID uint32    `json:"one_time_prekey_id"`
		OneTimePreKey   vectorKey `json:"one_time_prekey"`
		SessionRand     string    `json:"session_rand_label"`
	} `json:"bob"`
	KDF struct {
		ChainKey     string `json:"chain_key"`
		NextChainKey string `json:"next_chain_key"`
		MessageKey   string `json:"message_key"`
		AESKey       string `json:"aes_key"`
		Nonce        string `json:"nonce"`
		RootKey      string `json:"root_key"`
		DHOut        string `json:"dh_out"`
		NewRootKey   string `json:"kdf_rk_root_key"`
		NewChainKey  string `json:"kdf_rk_chain_key"`
	} `json:"kdf"`
	X3DH         []vectorX3DH `json:"x3dh"`
	Conversation []vectorStep `json:"conversation"`
	Safety       struct {
		AliceID string `json:"alice_id"`
		BobID   string `json:"bob_id"`
		Number  string `json:"number"`
	} `json:"safety_number"`
}

func hx(b []byte) string { return hex.EncodeToString(b) }

func keyOf(priv, pub []byte) vectorKey { return vectorKey{hx(priv), hx(pub)} }

// generateVectors builds the test vectors from the fixed keys of newDevice
// and the deterministic randomness of detRand.
func generateVectors(t *testing.T) []byte {
	a, b := newDevice(t, "alice"), newDevice(t, "bob")
	var v vectors
	v.Protocol = "kurir secret chat protocol, version 1"
	v.Note = "All byte strings are hex. Randomness: private keys drawn from a session's reader are the stream " +
		"SHA-256(label || u64 BE counter) for counter = 0, 1, ... (32 bytes per key, in the order the protocol reads them); " +
		"replay the conversation steps in order. See docs/secret-chats.md."
	v.Alice.IdentityDH = keyOf(a.id.DH.Bytes(), a.id.DH.PublicKey().Bytes())
	v.Alice.IdentitySign = keyOf(a.id.Sign.Seed(), a.id.Sign.Public().(ed25519.PublicKey))
	v.Alice.SessionRand = "alice session"
	v.Bob.IdentityDH = keyOf(b.id.DH.Bytes(), b.id.DH.PublicKey().Bytes())
	v.Bob.IdentitySign = keyOf(b.id.Sign.Seed(), b.id.Sign.Public().(ed25519.PublicKey))
	v.Bob.SignedPreKeyID = b.spk.ID
	v.Bob.SignedPreKey = keyOf(b.spk.Key.Bytes(), b.spk.Key.PublicKey().Bytes())
	v.Bob.SignedMessage = hx(signedPreKeyMessage(b.id.Public().DH, b.spk.Public()))
	v.Bob.Signature = hx(b.spk.Signature[:])
	v.Bob.OneTimePreKeyID = b.opk.ID
	v.Bob.OneTimePreKey = keyOf(b.opk.Key.Bytes(), b.opk.Key.PublicKey().Bytes())
	v.Bob.SessionRand = "bob session"

	ck := [32]byte{0: 0x01, 31: 0x20}
	next, mk := kdfCK(ck)
	v.KDF.ChainKey, v.KDF.NextChainKey, v.KDF.MessageKey = hx(ck[:]), hx(next[:]), hx(mk[:])
	okm := hkdfSHA256(zeroSalt, mk[:], infoMessageKeys, 44)
	v.KDF.AESKey, v.KDF.Nonce = hx(okm[:32]), hx(okm[32:])
	rk := [32]byte{0: 0xAA, 31: 0x55}
	dhOut, _ := x25519(a.spk.Key, pub32(b.spk.Key))
	nrk, nck := kdfRK(rk, dhOut)
	v.KDF.RootKey, v.KDF.DHOut, v.KDF.NewRootKey, v.KDF.NewChainKey = hx(rk[:]), hx(dhOut), hx(nrk[:]), hx(nck[:])

	var alice, bob *Session
	var header InitialHeader
	for _, withOPK := range []bool{true, false} {
		opk := b.opk
		name := "with one-time prekey"
		if !withOPK {
			opk, name = nil, "without one-time prekey"
		}
		bundle := NewBundle(b.id, b.spk, opk)
		r := newDetRand("alice session")
		s, h, err := Initiate(a.id, bundle, r)
		if err != nil {
			t.Fatal(err)
		}
		// Recompute the agreement from the same randomness to expose it.
		r2 := newDetRand("alice session")
		ek, _ := newX25519(r2)
		first, _ := newX25519(r2)
		dh1, _ := x25519(a.id.DH, pub32(b.spk.Key))
		dh2, _ := x25519(ek, b.id.Public().DH)
		dh3, _ := x25519(ek, pub32(b.spk.Key))
		x := vectorX3DH{Name: name, EphemeralPrivate: hx(ek.Bytes()), DH1: hx(dh1), DH2: hx(dh2), DH3: hx(dh3)}
		dhs := [][]byte{dh1, dh2, dh3}
		if withOPK {
			dh4, _ := x25519(ek, pub32(b.opk.Key))
			x.DH4 = hx(dh4)
			dhs = append(dhs, dh4)
		}
		sk := x3dhSecret(dhs...)
		x.SK, x.AD = hx(sk[:]), hx(s.ad[:])
		enc, _ := bundle.MarshalBinary()
		x.Bundle = hx(enc)
		enc, _ = h.MarshalBinary()
		x.InitialHeader = hx(enc)
		x.FirstRatchetKey = hx(first.Bytes())
		x.RootKey, x.SendingChainKey = hx(s.st.rootKey[:]), hx(s.st.sendCK[:])
		v.X3DH = append(v.X3DH, x)
		if withOPK {
			alice, header = s, h
		}
	}
	bob, err := Respond(b.id, b.spk, b.opk, header, newDetRand("bob session"))
	if err != nil {
		t.Fatal(err)
	}

	parties := map[string]*Session{"alice": alice, "bob": bob}
	sent := map[string]Message{}
	enc := func(party, label, text string) {
		s := parties[party]
		_, mk := kdfCK(s.st.sendCK)
		okm := hkdfSHA256(zeroSalt, mk[:], infoMessageKeys, 44)
		ad := []byte("kurir vectors " + label)
		m, err := s.Encrypt([]byte(text), ad)
		if err != nil {
			t.Fatal(err)
		}
		sent[label] = m
		wire, _ := m.MarshalBinary()
		v.Conversation = append(v.Conversation, vectorStep{Action: "encrypt", Party: party, Label: label,
			Plaintext: hx([]byte(text)), AD: hx(ad), Message: hx(wire), MessageKey: hx(mk[:]), AESKey: hx(okm[:32]), Nonce: hx(okm[32:])})
	}
	dec := func(party, label string) {
		m := sent[label]
		ad := []byte("kurir vectors " + label)
		pt, err := parties[party].Decrypt(m, ad)
		if err != nil {
			t.Fatalf("vectors: %s decrypting %s: %v", party, label, err)
		}
		wire, _ := m.MarshalBinary()
		v.Conversation = append(v.Conversation, vectorStep{Action: "decrypt", Party: party, Label: label, Plaintext: hx(pt), AD: hx(ad), Message: hx(wire)})
	}
	enc("alice", "a0", "Hello Bob")
	enc("alice", "a1", "second, arrives first")
	dec("bob", "a1") // out of order within a chain
	dec("bob", "a0")
	enc("bob", "b0", "Hi Alice")
	enc("bob", "b1", "delayed across a ratchet step")
	dec("alice", "b0")
	enc("alice", "a2", "new chain")
	dec("bob", "a2")
	enc("bob", "b2", "after Bob's second step")
	dec("alice", "b2") // stores b1's key from the previous chain
	dec("alice", "b1") // out of order across chains
	enc("alice", "a3", "")
	dec("bob", "a3")

	v.Safety.AliceID, v.Safety.BobID = "alice@kurir.example", "bob@kurir.example"
	v.Safety.Number = SafetyNumber(v.Safety.AliceID, a.id.Public(), v.Safety.BobID, b.id.Public())

	out, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return append(out, '\n')
}

func TestVectors(t *testing.T) {
	path := filepath.Join("testdata", "vectors.json")
	got := generateVectors(t)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -run TestVectors -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("generated vectors differ from %s: the protocol's bytes changed (if intended, that is a new protocol version; rewrite with -update)", path)
	}
}

// TestVectorsByDocument opens every encrypted message in the vectors with
// raw AES-256-GCM as docs/secret-chats.md describes it (key and nonce from
// the vector, associated data = AD || header || extra ad), independently of
// Session, so the file and the document agree.
func TestVectorsByDocument(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("testdata", "vectors.json"))
	if err != nil {
		t.Fatal(err)
	}
	var v vectors
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatal(err)
	}
	unhex := func(s string) []byte {
		b, err := hex.DecodeString(s)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	ad := unhex(v.X3DH[0].AD)
	n := 0
	for _, s := range v.Conversation {
		if s.Action != "encrypt" {
			continue
		}
		wire := unhex(s.Message)
		block, _ := aes.NewCipher(unhex(s.AESKey))
		gcm, _ := cipher.NewGCM(block)
		aad := append(append(bytes.Clone(ad), wire[:HeaderSize]...), unhex(s.AD)...)
		pt, err := gcm.Open(nil, unhex(s.Nonce), wire[HeaderSize:], aad)
		if err != nil {
			t.Fatalf("%s: %v", s.Label, err)
		}
		if !bytes.Equal(pt, unhex(s.Plaintext)) {
			t.Fatalf("%s: got %q", s.Label, pt)
		}
		n++
	}
	if n != 7 {
		t.Fatalf("opened %d messages, want 7", n)
	}
}
