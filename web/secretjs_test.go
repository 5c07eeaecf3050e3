package web_test

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"kurir/secret/device"
	"kurir/secret/franking"
	"kurir/secret/protocol"
)

// The web client's secret-chat modules (static/secret-*.js) are tested in
// Node, which has the same WebCrypto as browsers: jstest/secret_vectors.mjs
// replays the Go test vectors, and jstest/secret_interop.mjs talks to this
// package's Go side with fresh random keys. (This file is not called
// secret_js_test.go because the _js suffix would make it a GOOS=js file,
// which no other build compiles.)

// node returns the path of the node binary, or skips the test.
func node(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not on PATH: the web client's secret-chat tests need Node.js 20.19 or later " +
			"(install it, then run go test ./web -run SecretJS, or node web/jstest/secret_vectors.mjs from the repository root)")
	}
	return p
}

// runNode runs a script of jstest and fails the test with its output if it
// exits non-zero.
func runNode(t *testing.T, args ...string) string {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), node(t), args...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("node %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// TestSecretJSVectors runs the JavaScript test suite of the secret-chat
// modules, which replays secret/protocol's and secret/franking's vectors,
// and has it compare its session states, step by step, with Go's.
func TestSecretJSVectors(t *testing.T) {
	node(t)
	states := filepath.Join(t.TempDir(), "go-states.json")
	writeJSON(t, states, vectorStates(t))
	t.Log(runNode(t, "jstest/secret_vectors.mjs", "--go-states", states))
}

// detRand is the deterministic randomness of the protocol's test vectors:
// SHA-256(label || u64 BE counter) for counter = 0, 1, ..., concatenated.
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

type vectorKey struct {
	Private string `json:"private"`
}

type vectorParty struct {
	IdentityDH      vectorKey `json:"identity_x25519"`
	IdentitySign    vectorKey `json:"identity_ed25519"`
	SignedPreKeyID  uint32    `json:"signed_prekey_id"`
	SignedPreKey    vectorKey `json:"signed_prekey"`
	OneTimePreKeyID uint32    `json:"one_time_prekey_id"`
	OneTimePreKey   vectorKey `json:"one_time_prekey"`
	SessionRand     string    `json:"session_rand_label"`
}

// goStates is what TestSecretJSVectors hands the JavaScript suite: each
// party's session state after the agreement and the acting party's after
// every step of the vector conversation.
type goStates struct {
	Initial struct {
		Alice string `json:"alice"`
		Bob   string `json:"bob"`
	} `json:"initial"`
	Steps []goStep `json:"steps"`
}

type goStep struct {
	Label string `json:"label"`
	State string `json:"state"`
}

// vectorStates replays the conversation of secret/protocol's vectors with
// the Go implementation and records the session states.
func vectorStates(t *testing.T) goStates {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "secret", "protocol", "testdata", "vectors.json"))
	if err != nil {
		t.Fatal(err)
	}
	var v struct {
		Alice        vectorParty `json:"alice"`
		Bob          vectorParty `json:"bob"`
		Conversation []struct {
			Action, Party, Label, Plaintext, AD, Message string
		} `json:"conversation"`
	}
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatal(err)
	}
	identity := func(p vectorParty) *protocol.IdentityKey {
		id, err := protocol.NewIdentityKey(bytes.NewReader(append(unhex(t, p.IdentityDH.Private), unhex(t, p.IdentitySign.Private)...)))
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	aliceID, bobID := identity(v.Alice), identity(v.Bob)
	spk, err := protocol.NewSignedPreKey(v.Bob.SignedPreKeyID, bobID, bytes.NewReader(unhex(t, v.Bob.SignedPreKey.Private)))
	if err != nil {
		t.Fatal(err)
	}
	opk, err := protocol.NewOneTimePreKey(v.Bob.OneTimePreKeyID, bytes.NewReader(unhex(t, v.Bob.OneTimePreKey.Private)))
	if err != nil {
		t.Fatal(err)
	}
	alice, h, err := protocol.Initiate(aliceID, protocol.NewBundle(bobID, spk, opk), &detRand{label: v.Alice.SessionRand})
	if err != nil {
		t.Fatal(err)
	}
	bob, err := protocol.Respond(bobID, spk, opk, h, &detRand{label: v.Bob.SessionRand})
	if err != nil {
		t.Fatal(err)
	}
	var out goStates
	out.Initial.Alice, out.Initial.Bob = hex.EncodeToString(marshal(t, alice)), hex.EncodeToString(marshal(t, bob))
	parties := map[string]*protocol.Session{"alice": alice, "bob": bob}
	for _, step := range v.Conversation {
		s := parties[step.Party]
		switch step.Action {
		case "encrypt":
			m, err := s.Encrypt(unhex(t, step.Plaintext), unhex(t, step.AD))
			if err != nil {
				t.Fatal(err)
			}
			if got, _ := m.MarshalBinary(); hex.EncodeToString(got) != step.Message {
				t.Fatalf("%s: Go no longer produces the vector's message (go test ./secret/protocol says more)", step.Label)
			}
		case "decrypt":
			var m protocol.Message
			if err := m.UnmarshalBinary(unhex(t, step.Message)); err != nil {
				t.Fatal(err)
			}
			if _, err := s.Decrypt(m, unhex(t, step.AD)); err != nil {
				t.Fatalf("%s: %v", step.Label, err)
			}
		}
		out.Steps = append(out.Steps, goStep{step.Label, hex.EncodeToString(marshal(t, s))})
	}
	return out
}

// textMessage is a secret-chat text as the interop files carry it.
type textMessage struct {
	Text          string `json:"text"`
	ExpireSeconds uint32 `json:"expire_seconds"`
	SentAt        uint64 `json:"sent_at"`
}

// envelope is a relayed body and the franking commitment sent beside it.
type envelope struct {
	Body       string `json:"body"`
	Commitment string `json:"commitment"`
}

// sealText sends m as docs/secret-chats.md, "Payload and envelopes", has
// it, with the Go SDK's encodings: payload, commitment as the ratchet's
// associated data, envelope body (a prekey envelope when h is given).
func sealText(t *testing.T, s *protocol.Session, h *protocol.InitialHeader, m textMessage) envelope {
	t.Helper()
	key, err := franking.NewKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	p, err := device.Payload{Kind: device.KindText, FrankingKey: key, Expire: time.Duration(m.ExpireSeconds) * time.Second,
		SentAt: time.UnixMilli(int64(m.SentAt)), Text: m.Text}.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	c := franking.Commit(key, []byte(m.Text))
	msg, err := s.Encrypt(p, c[:])
	if err != nil {
		t.Fatal(err)
	}
	body, err := device.Body{Initial: h, Message: msg}.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	return envelope{Body: hex.EncodeToString(body), Commitment: hex.EncodeToString(c[:])}
}

// splitEnvelope decodes an envelope body.
func splitEnvelope(t *testing.T, e envelope) device.Body {
	t.Helper()
	var b device.Body
	if err := b.UnmarshalBinary(unhex(t, e.Body)); err != nil {
		t.Fatal(err)
	}
	return b
}

// openText decrypts envelope e with s and checks the payload and its
// franking commitment, as a receiving device must.
func openText(t *testing.T, s *protocol.Session, e envelope) textMessage {
	t.Helper()
	var c franking.Commitment
	copy(c[:], unhex(t, e.Commitment))
	pt, err := s.Decrypt(splitEnvelope(t, e).Message, c[:])
	if err != nil {
		t.Fatalf("decrypt: %v", err)
	}
	var p device.Payload
	if err := p.UnmarshalBinary(pt); err != nil {
		t.Fatal(err)
	}
	if err := franking.Open(p.FrankingKey, []byte(p.Text), c); err != nil {
		t.Fatalf("franking: %v", err)
	}
	return textMessage{Text: p.Text, ExpireSeconds: uint32(p.Expire / time.Second), SentAt: uint64(p.SentAt.UnixMilli())}
}

// party is a device with random keys, as a real device makes them.
type party struct {
	id  *protocol.IdentityKey
	spk *protocol.SignedPreKey
	opk *protocol.OneTimePreKey
}

func newParty(t *testing.T) party {
	t.Helper()
	id, err := protocol.NewIdentityKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	spk, err := protocol.NewSignedPreKey(7, id, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	opk, err := protocol.NewOneTimePreKey(42, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return party{id, spk, opk}
}

// texts are the messages each side sends: empty, non-ASCII, right-to-left
// marks and the longest text.
var texts = []textMessage{
	{Text: "Hello from the other side", ExpireSeconds: 0, SentAt: 1_772_366_400_123},
	{Text: "", ExpireSeconds: 30, SentAt: 1},
	{Text: "привет 👋 \u202eRTL\u202c <b>&amp;</b> \ufeff", ExpireSeconds: 86_400, SentAt: 1 << 52},
	{Text: strings.Repeat("я", 4096), ExpireSeconds: 1<<32 - 1, SentAt: uint64(time.Now().UnixMilli())},
}

// TestSecretJSInterop has Go and the web client's JavaScript hold secret
// chats with fresh random keys, each side in turn starting the session, with
// messages delivered out of order, and exchange session states.
func TestSecretJSInterop(t *testing.T) {
	node(t)
	t.Run("Go initiates, JavaScript responds and replies", func(t *testing.T) {
		alice, bob := newParty(t), newParty(t)
		bundleBytes, _ := protocol.NewBundle(bob.id, bob.spk, bob.opk).MarshalBinary()
		var bundle protocol.Bundle
		if err := bundle.UnmarshalBinary(bundleBytes); err != nil {
			t.Fatal(err)
		}
		session, h, err := protocol.Initiate(alice.id, bundle, rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		var sent []envelope
		for _, m := range texts {
			sent = append(sent, sealText(t, session, &h, m))
		}
		order := []int{0, 2, 1, 3} // delivered out of order
		var delivered []envelope
		var want []textMessage
		for _, i := range order {
			delivered = append(delivered, sent[i])
			want = append(want, texts[i])
		}
		replies := []textMessage{{Text: "reply one", SentAt: 10}, {Text: "reply two ✓", ExpireSeconds: 5, SentAt: 11}, {Text: "reply three", SentAt: 12}}
		var out struct {
			Received []textMessage `json:"received"`
			Replies  []envelope    `json:"replies"`
			State    string        `json:"state"`
		}
		interop(t, "respond", map[string]any{
			"bob": map[string]any{
				"identity_x25519": hex.EncodeToString(bob.id.DH.Bytes()), "identity_ed25519": hex.EncodeToString(bob.id.Sign.Seed()),
				"signed_prekey_id": bob.spk.ID, "signed_prekey": hex.EncodeToString(bob.spk.Key.Bytes()),
				"one_time_prekey_id": bob.opk.ID, "one_time_prekey": hex.EncodeToString(bob.opk.Key.Bytes()),
			},
			"envelopes": delivered,
			"replies":   replies,
		}, &out)
		sameTexts(t, "JavaScript received", out.Received, want)

		var got []textMessage
		for _, i := range []int{1, 0, 2} {
			if splitEnvelope(t, out.Replies[i]).Initial != nil {
				t.Fatal("the responder sent a prekey envelope")
			}
			got = append(got, openText(t, session, out.Replies[i]))
		}
		sameTexts(t, "Go received", got, []textMessage{replies[1], replies[0], replies[2]})

		// JavaScript's session state is Go's: it decodes, re-encodes to the
		// same bytes, and the session goes on in Go.
		var jsBob protocol.Session
		state := unhex(t, out.State)
		if err := jsBob.UnmarshalBinary(state); err != nil {
			t.Fatalf("JavaScript's state: %v", err)
		}
		if !bytes.Equal(marshal(t, &jsBob), state) {
			t.Fatal("JavaScript's state does not re-encode to the same bytes in Go")
		}
		more := textMessage{Text: "Go carries on from JavaScript's state", SentAt: 13}
		e := sealText(t, &jsBob, nil, more)
		sameTexts(t, "after the state moved", []textMessage{openText(t, session, e)}, []textMessage{more})
	})

	t.Run("JavaScript initiates, Go responds, JavaScript reads the replies", func(t *testing.T) {
		bob := newParty(t)
		bundleBytes, _ := protocol.NewBundle(bob.id, bob.spk, bob.opk).MarshalBinary()
		var out struct {
			Identity  string     `json:"identity"`
			Envelopes []envelope `json:"envelopes"`
			State     string     `json:"state"`
		}
		interop(t, "initiate", map[string]any{"bundle": hex.EncodeToString(bundleBytes), "messages": texts}, &out)

		var session *protocol.Session
		var got, want []textMessage
		for _, i := range []int{1, 0, 3, 2} {
			e := out.Envelopes[i]
			h := splitEnvelope(t, e).Initial
			if h == nil {
				t.Fatal("the initiator sent a session envelope before any reply")
			}
			if session == nil {
				id := append(h.Identity.DH[:], h.Identity.Sign[:]...)
				if hex.EncodeToString(id) != out.Identity {
					t.Fatalf("initial header identity %x, want %s", id, out.Identity)
				}
				if !h.HasOneTimePreKey || h.OneTimePreKeyID != bob.opk.ID || h.SignedPreKeyID != bob.spk.ID {
					t.Fatalf("initial header names prekeys %d and %d (%v)", h.SignedPreKeyID, h.OneTimePreKeyID, h.HasOneTimePreKey)
				}
				var err error
				if session, err = protocol.Respond(bob.id, bob.spk, bob.opk, *h, rand.Reader); err != nil {
					t.Fatal(err)
				}
			}
			got = append(got, openText(t, session, e))
			want = append(want, texts[i])
		}
		sameTexts(t, "Go received", got, want)

		replies := []textMessage{{Text: "first reply", SentAt: 20}, {Text: "", SentAt: 21}, {Text: "третий", ExpireSeconds: 60, SentAt: 22}}
		var sent []envelope
		for _, m := range replies {
			sent = append(sent, sealText(t, session, nil, m))
		}
		var back struct {
			Received []textMessage `json:"received"`
			State    string        `json:"state"`
		}
		interop(t, "receive", map[string]any{"state": out.State, "envelopes": []envelope{sent[2], sent[0], sent[1]}}, &back)
		sameTexts(t, "JavaScript received", back.Received, []textMessage{replies[2], replies[0], replies[1]})
		var restored protocol.Session
		if err := restored.UnmarshalBinary(unhex(t, back.State)); err != nil || !bytes.Equal(marshal(t, &restored), unhex(t, back.State)) {
			t.Fatalf("JavaScript's state after receiving does not round-trip in Go (%v)", err)
		}
	})

	t.Run("report JSON", func(t *testing.T) {
		stamper, err := franking.NewStamper(bytes.Repeat([]byte{7}, 32))
		if err != nil {
			t.Fatal(err)
		}
		envelopes := []string{"", "0194f2a3-7b1c-7def-8000-abcdef012345", `<script>alert("x")</script> & more`,
			"line\u2028para\u2029", "\x00\x01\x1f\x7f\b\f\n\r\t", `back\slash "quoted"`, "ünï 👋 конверт/✉"}
		ids := [][4]int64{{1, 2, 3, 4}, {-1 << 63, 1<<63 - 1, 0, -1}, {9_007_199_254_740_993, 1, 1 << 40, 5}}
		var in []map[string]any
		var want []string
		for i, env := range envelopes {
			key, _ := franking.NewKey(rand.Reader)
			pt := []byte(strings.Repeat("report <&> ", i))
			c := franking.Commit(key, pt)
			id := ids[i%len(ids)]
			ctx := franking.Context{Sender: id[0], SenderDevice: id[1], Recipient: id[2], RecipientDevice: id[3],
				At: time.UnixMicro(int64(i)*1_000_000_007 - 5), Envelope: env}
			r := franking.Report{Plaintext: pt, Key: key, Commitment: c, Tag: stamper.Stamp(c, ctx), Context: ctx}
			b, err := json.Marshal(r)
			if err != nil {
				t.Fatal(err)
			}
			want = append(want, string(b))
			in = append(in, map[string]any{
				"plaintext": hex.EncodeToString(pt), "franking_key": hex.EncodeToString(key[:]),
				"commitment": hex.EncodeToString(c[:]), "tag": hex.EncodeToString(r.Tag[:]),
				"sender": jsonInt(id[0]), "sender_device": jsonInt(id[1]), "recipient": jsonInt(id[2]),
				"recipient_device": jsonInt(id[3]), "at_us": jsonInt(ctx.At.UnixMicro()), "envelope": env,
			})
		}
		var out struct {
			JSON []string `json:"json"`
		}
		interop(t, "reports", map[string]any{"reports": in}, &out)
		for i := range want {
			if out.JSON[i] != want[i] {
				t.Errorf("report %d:\ngot  %s\nwant %s", i, out.JSON[i], want[i])
			}
		}
	})
}

// interop runs one command of jstest/secret_interop.mjs on in and decodes
// its answer into out.
func interop(t *testing.T, command string, in, out any) {
	t.Helper()
	dir := t.TempDir()
	inPath, outPath := filepath.Join(dir, command+"-in.json"), filepath.Join(dir, command+"-out.json")
	writeJSON(t, inPath, in)
	runNode(t, "jstest/secret_interop.mjs", command, inPath, outPath)
	b, err := os.ReadFile(outPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, out); err != nil {
		t.Fatalf("%s: %v\n%s", command, err, b)
	}
}

func sameTexts(t *testing.T, what string, got, want []textMessage) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s %d messages, want %d", what, len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("%s, message %d:\ngot  %+v\nwant %+v", what, i, short(got[i]), short(want[i]))
		}
	}
}

// short keeps a failure message readable when a text is 4096 characters.
func short(m textMessage) textMessage {
	if r := []rune(m.Text); len(r) > 40 {
		m.Text = string(r[:40]) + "…"
	}
	return m
}

// jsonInt writes an int64 as a string: JavaScript reads JSON numbers as
// doubles, exact only up to 2^53.
func jsonInt(v int64) string { return strconv.FormatInt(v, 10) }

func writeJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

func marshal(t *testing.T, s *protocol.Session) []byte {
	t.Helper()
	b, err := s.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func unhex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
