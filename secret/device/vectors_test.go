package device

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"kurir/secret/franking"
	"kurir/secret/protocol"
)

var update = flag.Bool("update", false, "rewrite testdata/payload-vectors.json from the code")

// detRand is the deterministic randomness of the vectors, as in the
// protocol's: SHA-256(label || u64 BE counter) for counter 0, 1, 2, ...
type detRand struct {
	label   string
	counter uint64
	buf     []byte
}

func (r *detRand) Read(p []byte) (int, error) {
	for len(r.buf) < len(p) {
		sum := sha256.Sum256(binary.BigEndian.AppendUint64([]byte(r.label), r.counter))
		r.buf = append(r.buf, sum[:]...)
		r.counter++
	}
	n := copy(p, r.buf)
	r.buf = r.buf[n:]
	return n, nil
}

type payloadVector struct {
	Name          string `json:"name"`
	Kind          byte   `json:"kind"`
	FrankingKey   string `json:"franking_key"`
	ExpireSeconds uint32 `json:"expire_seconds"`
	SentAtMillis  int64  `json:"sent_at_ms"`
	Text          string `json:"text"`
	Characters    int    `json:"characters"`
	Payload       string `json:"payload"`
	Commitment    string `json:"commitment"`
}

type invalidVector struct {
	Name  string `json:"name"`
	Bytes string `json:"bytes"`
}

type bodyVector struct {
	Name          string `json:"name"`
	InitialHeader string `json:"initial_header,omitempty"`
	Message       string `json:"message"`
	Body          string `json:"body"`
}

type payloadVectors struct {
	Format          string          `json:"format"`
	Note            string          `json:"note"`
	Payloads        []payloadVector `json:"payloads"`
	InvalidPayloads []invalidVector `json:"invalid_payloads"`
	Bodies          []bodyVector    `json:"envelope_bodies"`
	InvalidBodies   []invalidVector `json:"invalid_envelope_bodies"`
}

// makeVectors builds the vectors from the code, deterministically.
func makeVectors(t *testing.T) payloadVectors {
	v := payloadVectors{
		Format: "kurir secret chat payload and envelope body, version 1",
		Note: "Byte strings are hex. A payload decodes to the fields given (sent_at_ms is milliseconds since the Unix epoch; " +
			"characters counts Unicode code points, which is what the 4096 limit counts, not UTF-16 units); commitment is " +
			"franking.Commit(franking_key, UTF-8 text). Each invalid payload and invalid envelope body must be rejected. " +
			"An envelope body is 0x01 || initial_header || message or 0x02 || message. See docs/secret-chats.md.",
	}
	rnd := &detRand{label: "payload vectors"}
	sentAt := time.Date(2025, 3, 1, 9, 0, 0, 123_000_000, time.UTC)
	for _, p := range []struct {
		name   string
		text   string
		expire time.Duration
	}{
		{"text without a timer", "Hello, Bob!", 0},
		{"text with a 30 second timer", "This message will self-destruct.", 30 * time.Second},
		{"empty text", "", 0},
		{"longest timer", "x", MaxExpire},
		{"non-ASCII text", "Grüße, Ζεύς, 你好, مرحبا\nnew line", 3600 * time.Second},
		{"4096 characters of 4 bytes and 2 UTF-16 units each (accepted)", strings.Repeat("😀", MaxTextLength), 0},
	} {
		kf, err := franking.NewKey(rnd)
		if err != nil {
			t.Fatal(err)
		}
		pl := Payload{Kind: KindText, FrankingKey: kf, Expire: p.expire, SentAt: sentAt, Text: p.text}
		b, err := pl.MarshalBinary()
		if err != nil {
			t.Fatalf("%s: %v", p.name, err)
		}
		c := franking.Commit(kf, []byte(p.text))
		v.Payloads = append(v.Payloads, payloadVector{
			Name: p.name, Kind: KindText, FrankingKey: hex.EncodeToString(kf[:]), ExpireSeconds: uint32(p.expire / time.Second),
			SentAtMillis: sentAt.UnixMilli(), Text: p.text, Characters: len([]rune(p.text)), Payload: hex.EncodeToString(b), Commitment: hex.EncodeToString(c[:]),
		})
	}
	good, _ := hex.DecodeString(v.Payloads[0].Payload)
	with := func(i int, c byte) []byte { b := bytes.Clone(good); b[i] = c; return b }
	header := good[:PayloadHeaderSize]
	for _, p := range []struct {
		name string
		b    []byte
	}{
		{"empty", nil},
		{"45 bytes (one short of the header)", good[:PayloadHeaderSize-1]},
		{"version 2", with(0, 2)},
		{"version 0", with(0, 0)},
		{"kind 2", with(1, 2)},
		{"kind 0", with(1, 0)},
		{"sent_at of 2^63 ms or more", append(append(bytes.Clone(good[:38]), 0x80, 0, 0, 0, 0, 0, 0, 0), good[46:]...)},
		{"text not UTF-8: a lone continuation byte", append(bytes.Clone(header), 'a', 0x80)},
		{"text not UTF-8: an overlong NUL (C0 80)", append(bytes.Clone(header), 0xC0, 0x80)},
		{"text not UTF-8: a UTF-16 surrogate (ED A0 80)", append(bytes.Clone(header), 0xED, 0xA0, 0x80)},
		{"text not UTF-8: cut inside a character", append(bytes.Clone(header), 0xF0, 0x9F, 0x98)},
		{"4097 characters", append(bytes.Clone(header), strings.Repeat("a", MaxTextLength+1)...)},
	} {
		v.InvalidPayloads = append(v.InvalidPayloads, invalidVector{p.name, hex.EncodeToString(p.b)})
	}

	// Envelope bodies from a real exchange with fixed keys.
	alice, err := protocol.NewIdentityKey(&detRand{label: "alice keys"})
	if err != nil {
		t.Fatal(err)
	}
	br := &detRand{label: "bob keys"}
	bob, _ := protocol.NewIdentityKey(br)
	spk, _ := protocol.NewSignedPreKey(7, bob, br)
	opk, _ := protocol.NewOneTimePreKey(42, br)
	for _, c := range []struct {
		name string
		opk  *protocol.OneTimePreKey
	}{{"prekey envelope with a one-time prekey", opk}, {"prekey envelope without a one-time prekey", nil}} {
		sess, h, err := protocol.Initiate(alice, protocol.NewBundle(bob, spk, c.opk), &detRand{label: "alice session " + c.name})
		if err != nil {
			t.Fatal(err)
		}
		kf, _ := franking.NewKey(rnd)
		pt, _ := Payload{Kind: KindText, FrankingKey: kf, SentAt: sentAt, Text: "Hello, Bob!"}.MarshalBinary()
		com := franking.Commit(kf, []byte("Hello, Bob!"))
		m, err := sess.Encrypt(pt, com[:])
		if err != nil {
			t.Fatal(err)
		}
		hb, _ := h.MarshalBinary()
		mb, _ := m.MarshalBinary()
		body, _ := Body{Initial: &h, Message: m}.MarshalBinary()
		v.Bodies = append(v.Bodies, bodyVector{Name: c.name, InitialHeader: hex.EncodeToString(hb), Message: hex.EncodeToString(mb), Body: hex.EncodeToString(body)})
		if c.opk != nil {
			// Bob's reply, a session envelope.
			bs, err := protocol.Respond(bob, spk, opk, h, &detRand{label: "bob session"})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := bs.Decrypt(m, com[:]); err != nil {
				t.Fatal(err)
			}
			kf, _ := franking.NewKey(rnd)
			pt, _ := Payload{Kind: KindText, FrankingKey: kf, SentAt: sentAt, Text: "Hi Alice"}.MarshalBinary()
			com := franking.Commit(kf, []byte("Hi Alice"))
			rm, _ := bs.Encrypt(pt, com[:])
			rmb, _ := rm.MarshalBinary()
			rbody, _ := Body{Message: rm}.MarshalBinary()
			v.Bodies = append(v.Bodies, bodyVector{Name: "session envelope", Message: hex.EncodeToString(rmb), Body: hex.EncodeToString(rbody)})
		}
	}
	pre, _ := hex.DecodeString(v.Bodies[0].Body)
	sess, _ := hex.DecodeString(v.Bodies[2].Body)
	for _, b := range []struct {
		name string
		b    []byte
	}{
		{"empty", nil},
		{"type 0", append([]byte{0}, sess[1:]...)},
		{"type 3", append([]byte{3}, sess[1:]...)},
		{"session envelope shorter than a header and a tag (56 bytes)", sess[:1+protocol.HeaderSize+15]},
		{"prekey envelope cut inside the initial header", pre[:50]},
		{"prekey envelope with the one-time prekey flag 2", func() []byte { b := bytes.Clone(pre); b[1+101] = 2; return b }()},
		{"prekey envelope with no ratchet message", pre[:1+106]},
		{"prekey envelope with initial header version 2", func() []byte { b := bytes.Clone(pre); b[1] = 2; return b }()},
		{"session envelope with ratchet header version 2", func() []byte { b := bytes.Clone(sess); b[1] = 2; return b }()},
	} {
		v.InvalidBodies = append(v.InvalidBodies, invalidVector{b.name, hex.EncodeToString(b.b)})
	}
	return v
}

// TestVectors checks testdata/payload-vectors.json, which other
// implementations (the web client) must pass, against the code; go test
// -run TestVectors -update rewrites it.
func TestVectors(t *testing.T) {
	v := makeVectors(t)
	got, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	path := filepath.Join("testdata", "payload-vectors.json")
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%s is out of date with the code: the encoding changed, which breaks the web client (rerun with -update only if that is intended)", path)
	}

	// Decode the file as another implementation would.
	var file payloadVectors
	if err := json.Unmarshal(want, &file); err != nil {
		t.Fatal(err)
	}
	for _, pv := range file.Payloads {
		var p Payload
		if err := p.UnmarshalBinary(unhex(t, pv.Payload)); err != nil {
			t.Errorf("%s: %v", pv.Name, err)
			continue
		}
		c := franking.Commit(p.FrankingKey, []byte(p.Text))
		if p.Text != pv.Text || hex.EncodeToString(p.FrankingKey[:]) != pv.FrankingKey || p.Expire != time.Duration(pv.ExpireSeconds)*time.Second ||
			p.SentAt.UnixMilli() != pv.SentAtMillis || hex.EncodeToString(c[:]) != pv.Commitment {
			t.Errorf("%s: decoded %+v", pv.Name, p)
		}
	}
	for _, iv := range file.InvalidPayloads {
		var p Payload
		if err := p.UnmarshalBinary(unhex(t, iv.Bytes)); !errors.Is(err, ErrBadPayload) {
			t.Errorf("invalid payload %q: %v, want ErrBadPayload", iv.Name, err)
		}
	}
	for _, bv := range file.Bodies {
		var b Body
		if err := b.UnmarshalBinary(unhex(t, bv.Body)); err != nil {
			t.Errorf("%s: %v", bv.Name, err)
			continue
		}
		mb, _ := b.Message.MarshalBinary()
		var hb []byte
		if b.Initial != nil {
			hb, _ = b.Initial.MarshalBinary()
		}
		if hex.EncodeToString(mb) != bv.Message || hex.EncodeToString(hb) != bv.InitialHeader {
			t.Errorf("%s: decoded into other parts", bv.Name)
		}
	}
	for _, iv := range file.InvalidBodies {
		var b Body
		if err := b.UnmarshalBinary(unhex(t, iv.Bytes)); !errors.Is(err, protocol.ErrMalformed) {
			t.Errorf("invalid body %q: %v, want ErrMalformed", iv.Name, err)
		}
	}
}

func unhex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
