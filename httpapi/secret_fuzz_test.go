package httpapi

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"testing"
	"time"
	"unicode/utf8"

	"kurir"
	"kurir/secret"
	"kurir/secret/franking"
	"kurir/secret/protocol"
)

// The decoders of the secret-chat API's requests, fuzzed: whatever the
// body, they never panic; every refusal is an EInvalid error with a reason
// and a message for a person; and what they accept has the sizes the
// contract gives.

// wantInvalid fails t unless err is nil or a clear EInvalid refusal.
func wantInvalid(t *testing.T, body []byte, err error) bool {
	t.Helper()
	if err == nil {
		return false
	}
	var e *kurir.Error
	if !errors.As(err, &e) || e.Code != kurir.EInvalid || e.Reason == "" || e.Message == "" || !utf8.ValidString(e.Message) {
		t.Fatalf("decode %q: error %#v, want EInvalid with a reason and a UTF-8 message", body, err)
	}
	return true
}

// secretSeeds are good requests of each kind, made with real keys.
func secretSeeds(f *testing.F) (keys, send, report []byte) {
	id, _ := protocol.NewIdentityKey(rand.Reader)
	spk, _ := protocol.NewSignedPreKey(7, id, rand.Reader)
	opk, _ := protocol.NewOneTimePreKey(9, rand.Reader)
	pub, sp, op := id.Public(), spk.Public(), opk.Public()
	b64 := base64.StdEncoding.EncodeToString
	keys, _ = json.Marshal(map[string]any{
		"identity":         b64(append(pub.DH[:], pub.Sign[:]...)),
		"signed_prekey":    map[string]any{"id": sp.ID, "key": b64(sp.Key[:]), "signature": b64(spk.Signature[:])},
		"one_time_prekeys": []any{map[string]any{"id": op.ID, "key": b64(op.Key[:])}},
	})
	body := append([]byte{2, 1}, make([]byte, protocol.HeaderSize-1+16)...)
	kf, _ := franking.NewKey(rand.Reader)
	c := franking.Commit(kf, []byte("hi"))
	send, _ = json.Marshal(map[string]any{"envelopes": []any{map[string]any{
		"user_id": 2, "device_id": 3, "body": b64(body), "commitment": b64(c[:]), "client_id": "c1"}}})
	st, _ := franking.NewStamper(make([]byte, 32))
	r := franking.Report{Plaintext: []byte("hi"), Key: kf, Commitment: c,
		Context: franking.Context{Sender: 1, SenderDevice: 2, Recipient: 3, RecipientDevice: 4, At: time.UnixMicro(1e15), Envelope: "E"}}
	r.Tag = st.Stamp(c, r.Context)
	report, _ = json.Marshal(map[string]any{"report": r, "reason": "spam", "comment": "x"})
	for _, s := range RequestBodySeeds {
		f.Add([]byte(s))
	}
	return keys, send, report
}

func FuzzDecodeSecretKeys(f *testing.F) {
	keys, _, _ := secretSeeds(f)
	f.Add(keys)
	f.Add([]byte(`{"one_time_prekeys":[{"id":4294967296,"key":""}]}`))
	f.Add([]byte(`{"identity":"` + base64.StdEncoding.EncodeToString(make([]byte, 64)) + `"}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		req, err := decodeBytes[secretKeysRequest](body)
		if wantInvalid(t, body, err) {
			return
		}
		k, err := req.keys()
		if wantInvalid(t, body, err) {
			return
		}
		if int64(k.SignedPreKey.ID) != req.SignedPreKey.ID || len(k.OneTime) != len(req.OneTimePreKeys) || len(k.OneTime) > secret.MaxPreKeysPerCall {
			t.Fatalf("decoded %q into %+v", body, k)
		}
		ot, err := decodeBytes[secretOneTimeRequest](body)
		if wantInvalid(t, body, err) {
			return
		}
		_, err = decodePreKeys(ot.OneTimePreKeys)
		wantInvalid(t, body, err)
	})
}

func FuzzDecodeSecretSend(f *testing.F) {
	_, send, _ := secretSeeds(f)
	f.Add(send)
	f.Add([]byte(`{"envelopes":[{"user_id":1,"device_id":1,"body":"AQ==","commitment":"","client_id":""}]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		req, err := decodeBytes[secretSendRequest](body)
		if wantInvalid(t, body, err) {
			return
		}
		out, err := req.outgoing()
		if wantInvalid(t, body, err) {
			return
		}
		for i, o := range out {
			if len(o.Body) > secret.MaxBodySize || base64.StdEncoding.EncodeToString(o.Body) != req.Envelopes[i].Body ||
				base64.StdEncoding.EncodeToString(o.Commitment[:]) != req.Envelopes[i].Commitment {
				t.Fatalf("decoded %q into %+v", body, o)
			}
			// The service checks the framing next.
			wantInvalid(t, body, secret.CheckBody(o.Body))
		}
	})
}

func FuzzDecodeSecretReport(f *testing.F) {
	_, _, report := secretSeeds(f)
	f.Add(report)
	f.Add([]byte(`{"report":{"v":1},"reason":"spam"}`))
	f.Add([]byte(`{"report":null,"reason":"spam"}`))
	f.Add([]byte(`{"report":[],"reason":"spam"}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		req, err := decodeBytes[secretReportRequest](body)
		if wantInvalid(t, body, err) {
			return
		}
		r, err := req.report()
		if wantInvalid(t, body, err) {
			return
		}
		if len(r.Plaintext) > franking.MaxPlaintextSize || len(r.Context.Envelope) > franking.MaxEnvelopeSize {
			t.Fatalf("decoded %q into a report over the limits", body)
		}
	})
}

func FuzzDecodeSecretAckAndClaim(f *testing.F) {
	f.Add([]byte(`{"ids":["A","B"]}`))
	f.Add([]byte(`{"devices":[1,2]}`))
	f.Add([]byte(`{"devices":[1.5]}`))
	f.Add([]byte(`{"ids":[null]}`))
	for _, s := range RequestBodySeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		ack, err := decodeBytes[secretAckRequest](body)
		if !wantInvalid(t, body, err) && len(ack.IDs) > 0 && !json.Valid(body) {
			t.Fatalf("decoded IDs from %q, which is not JSON", body)
		}
		_, err = decodeBytes[secretClaimRequest](body)
		wantInvalid(t, body, err)
	})
}
