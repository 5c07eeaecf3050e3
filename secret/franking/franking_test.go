package franking_test

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"kurir"
	"kurir/secret/franking"
)

func secret(b byte) []byte { return bytes.Repeat([]byte{b}, franking.MinSecretSize) }

func newStamper(t testing.TB) *franking.Stamper {
	t.Helper()
	s, err := franking.NewStamper(secret(0x5a))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

var testCtx = franking.Context{
	Sender: 1001, SenderDevice: 1, Recipient: 2002, RecipientDevice: 3,
	At:       time.Date(2026, 3, 1, 12, 0, 0, 123456000, time.UTC),
	Envelope: "env-01JQ7",
}

// send plays sender and relay: it franks plaintext and stamps it in ctx, and
// returns the report the recipient could file.
func send(t testing.TB, s *franking.Stamper, plaintext string, ctx franking.Context) franking.Report {
	t.Helper()
	key, err := franking.NewKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	c := franking.Commit(key, []byte(plaintext))
	tag := s.Stamp(c, ctx)
	// The recipient checks the commitment before showing the message.
	if err := franking.Open(key, []byte(plaintext), c); err != nil {
		t.Fatalf("recipient Open: %v", err)
	}
	return franking.Report{Plaintext: []byte(plaintext), Key: key, Commitment: c, Tag: tag, Context: ctx}
}

func TestReportOfRealMessageVerifies(t *testing.T) {
	s := newStamper(t)
	r := send(t, s, "you will regret this", testCtx)
	if err := s.Verify(r); err != nil {
		t.Fatalf("Verify(real report) = %v, want nil", err)
	}
	// Sub-microsecond parts of the time are not part of the tag.
	r.Context.At = r.Context.At.Add(999 * time.Nanosecond)
	if err := s.Verify(r); err != nil {
		t.Fatalf("Verify(same microsecond) = %v, want nil", err)
	}
}

func TestVerifyRejectsAlteredReports(t *testing.T) {
	s := newStamper(t)
	other, err := franking.NewStamper(secret(0x77))
	if err != nil {
		t.Fatal(err)
	}
	real := send(t, s, "you will regret this", testCtx)
	another := send(t, s, "see you tomorrow", testCtx)
	otherKey, _ := franking.NewKey(rand.Reader)

	tests := []struct {
		name   string
		change func(r *franking.Report)
		want   error
	}{
		{"altered plaintext", func(r *franking.Report) { r.Plaintext = []byte("you will enjoy this") }, franking.ErrBadCommitment},
		{"plaintext with extra byte", func(r *franking.Report) { r.Plaintext = append(r.Plaintext, 0) }, franking.ErrBadCommitment},
		{"different franking key", func(r *franking.Report) { r.Key = otherKey }, franking.ErrBadCommitment},
		{"commitment from another key", func(r *franking.Report) { r.Commitment = franking.Commit(otherKey, r.Plaintext) }, franking.ErrBadCommitment},
		{"commitment and key of a forged message", func(r *franking.Report) {
			r.Plaintext = []byte("forged")
			r.Key = otherKey
			r.Commitment = franking.Commit(otherKey, r.Plaintext)
		}, franking.ErrBadTag},
		{"different sender", func(r *franking.Report) { r.Context.Sender++ }, franking.ErrBadTag},
		{"different sender device", func(r *franking.Report) { r.Context.SenderDevice++ }, franking.ErrBadTag},
		{"different recipient", func(r *franking.Report) { r.Context.Recipient++ }, franking.ErrBadTag},
		{"different recipient device", func(r *franking.Report) { r.Context.RecipientDevice++ }, franking.ErrBadTag},
		{"sender and recipient swapped", func(r *franking.Report) {
			r.Context.Sender, r.Context.Recipient = r.Context.Recipient, r.Context.Sender
		}, franking.ErrBadTag},
		{"different time", func(r *franking.Report) { r.Context.At = r.Context.At.Add(time.Microsecond) }, franking.ErrBadTag},
		{"different envelope", func(r *franking.Report) { r.Context.Envelope += "x" }, franking.ErrBadTag},
		{"tag from another message", func(r *franking.Report) { r.Tag = another.Tag }, franking.ErrBadTag},
		{"tag from another server", func(r *franking.Report) { r.Tag = other.Stamp(r.Commitment, r.Context) }, franking.ErrBadTag},
		{"one tag bit flipped", func(r *franking.Report) { r.Tag[franking.TagSize-1] ^= 1 }, franking.ErrBadTag},
		{"unknown key ID", func(r *franking.Report) { r.Tag[0] = 9 }, franking.ErrUnknownKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := real
			r.Plaintext = bytes.Clone(real.Plaintext)
			tt.change(&r)
			err := s.Verify(r)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Verify = %v, want %v", err, tt.want)
			}
			if code := kurir.ErrorCode(err); code != kurir.EInvalid {
				t.Errorf("ErrorCode = %q, want %q", code, kurir.EInvalid)
			}
			if msg := kurir.ErrorMessage(err); msg == "" {
				t.Error("error has no client message")
			}
		})
	}
	if err := s.Verify(real); err != nil {
		t.Fatalf("the untouched report no longer verifies: %v", err)
	}
}

func TestTruncatedTagIsRejected(t *testing.T) {
	s := newStamper(t)
	r := send(t, s, "hi", testCtx)
	if _, err := franking.ParseTag(r.Tag[:franking.TagSize-1]); !errors.Is(err, franking.ErrBadTag) {
		t.Errorf("ParseTag(truncated) = %v, want %v", err, franking.ErrBadTag)
	}
	if tag, err := franking.ParseTag(r.Tag[:]); err != nil || tag != r.Tag {
		t.Errorf("ParseTag(whole) = %x, %v; want %x, nil", tag, err, r.Tag)
	}
	enc, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(enc, &m); err != nil {
		t.Fatal(err)
	}
	m["tag"] = m["tag"].(string)[:40]
	enc, _ = json.Marshal(m)
	_, err = franking.DecodeReport(bytes.NewReader(enc))
	if !errors.Is(err, franking.ErrBadTag) || !errors.Is(err, franking.ErrMalformed) {
		t.Errorf("DecodeReport(truncated tag) = %v, want %v and %v", err, franking.ErrBadTag, franking.ErrMalformed)
	}
}

func TestKeyRotation(t *testing.T) {
	old, err := franking.NewStamperKeys(franking.ServerKey{ID: 1, Secret: secret(1)})
	if err != nil {
		t.Fatal(err)
	}
	before := send(t, old, "sent before rotation", testCtx)

	rotated, err := old.Rotate(franking.ServerKey{ID: 2, Secret: secret(2)})
	if err != nil {
		t.Fatal(err)
	}
	after := send(t, rotated, "sent after rotation", testCtx)
	if got := after.Tag.KeyID(); got != 2 {
		t.Errorf("new tag key ID = %d, want 2", got)
	}
	if got := fmt.Sprint(rotated.KeyIDs()); got != "[2 1]" {
		t.Errorf("KeyIDs = %s, want [2 1]", got)
	}
	for _, r := range []franking.Report{before, after} {
		if err := rotated.Verify(r); err != nil {
			t.Errorf("rotated.Verify(key %d) = %v, want nil", r.Tag.KeyID(), err)
		}
	}
	if err := old.Verify(after); !errors.Is(err, franking.ErrUnknownKey) {
		t.Errorf("old.Verify(new tag) = %v, want %v", err, franking.ErrUnknownKey)
	}

	dropped, err := rotated.Drop(1)
	if err != nil {
		t.Fatal(err)
	}
	if err := dropped.Verify(before); !errors.Is(err, franking.ErrUnknownKey) {
		t.Errorf("Verify after drop = %v, want %v", err, franking.ErrUnknownKey)
	}
	if err := dropped.Verify(after); err != nil {
		t.Errorf("Verify(current) after drop = %v, want nil", err)
	}
	// Dropping returned a new Stamper; the rotated one still holds key 1.
	if err := rotated.Verify(before); err != nil {
		t.Errorf("rotated.Verify after Drop on a copy = %v, want nil", err)
	}
	// A dropped ID may be reused for a new secret, and old tags stay dead.
	reused, err := dropped.Rotate(franking.ServerKey{ID: 1, Secret: secret(3)})
	if err != nil {
		t.Fatal(err)
	}
	if err := reused.Verify(before); !errors.Is(err, franking.ErrBadTag) {
		t.Errorf("Verify(tag of a dropped key whose ID was reused) = %v, want %v", err, franking.ErrBadTag)
	}

	if _, err := rotated.Rotate(franking.ServerKey{ID: 1, Secret: secret(4)}); err == nil {
		t.Error("Rotate to an ID still held: no error")
	}
	if _, err := rotated.Drop(2); err == nil {
		t.Error("Drop(current): no error")
	}
	if _, err := rotated.Drop(7); err == nil {
		t.Error("Drop(unknown): no error")
	}
}

func TestNewStamperValidates(t *testing.T) {
	if _, err := franking.NewStamper(make([]byte, franking.MinSecretSize-1)); err == nil {
		t.Error("NewStamper(31-byte secret): no error")
	}
	if _, err := franking.NewStamperKeys(franking.ServerKey{ID: 3, Secret: secret(1)}, franking.ServerKey{ID: 3, Secret: secret(2)}); err == nil {
		t.Error("NewStamperKeys with a duplicate ID: no error")
	}
	if _, err := franking.NewStamperKeys(franking.ServerKey{ID: 3, Secret: secret(1)}, franking.ServerKey{ID: 4, Secret: []byte("short")}); err == nil {
		t.Error("NewStamperKeys with a short previous secret: no error")
	}
	// The secret is copied: changing the caller's slice changes nothing.
	sec := secret(9)
	s, err := franking.NewStamper(sec)
	if err != nil {
		t.Fatal(err)
	}
	r := send(t, s, "hi", testCtx)
	sec[0] ^= 0xff
	if err := s.Verify(r); err != nil {
		t.Errorf("Verify after caller changed its secret slice = %v", err)
	}
}

func TestCommit(t *testing.T) {
	k1, _ := franking.NewKey(rand.Reader)
	k2, _ := franking.NewKey(rand.Reader)
	if k1 == k2 {
		t.Fatal("two fresh keys are equal")
	}
	p := []byte("hello")
	if a, b := franking.Commit(k1, p), franking.Commit(k1, bytes.Clone(p)); a != b {
		t.Errorf("Commit not deterministic: %x != %x", a, b)
	}
	if a, b := franking.Commit(k1, p), franking.Commit(k2, p); a == b {
		t.Errorf("Commit under two keys is equal: %x", a)
	}
	if a, b := franking.Commit(k1, nil), franking.Commit(k1, []byte{0}); a == b {
		t.Error("Commit of empty and of one zero byte are equal")
	}
	if err := franking.Open(k1, p, franking.Commit(k1, p)); err != nil {
		t.Errorf("Open(own commitment) = %v", err)
	}
	if err := franking.Open(k2, p, franking.Commit(k1, p)); !errors.Is(err, franking.ErrBadCommitment) {
		t.Errorf("Open(other key) = %v, want %v", err, franking.ErrBadCommitment)
	}
}

func TestNewKeyReportsShortRandom(t *testing.T) {
	if _, err := franking.NewKey(strings.NewReader("too short")); err == nil {
		t.Error("NewKey from a short reader: no error")
	}
}

func TestStampDoesNotAllocate(t *testing.T) {
	s := newStamper(t)
	var c franking.Commitment
	allocs := testing.AllocsPerRun(1000, func() { _ = s.Stamp(c, testCtx) })
	// Under -race sync.Pool drops a quarter of Puts, so a few MAC states are
	// rebuilt; without pooling every call would build one (7 allocations).
	limit := 0.0
	if raceEnabled {
		limit = 3.5
	}
	if allocs > limit {
		t.Errorf("Stamp allocates %v times per call, want at most %v", allocs, limit)
	}
}

func TestStamperConcurrentUse(t *testing.T) {
	s := newStamper(t)
	r := send(t, s, "shared", testCtx)
	done := make(chan error)
	for i := range 8 {
		go func() {
			ctx := testCtx
			ctx.Envelope = fmt.Sprint("env-", i)
			for range 200 {
				rr := r
				rr.Context = ctx
				rr.Tag = s.Stamp(r.Commitment, ctx)
				if err := s.Verify(rr); err != nil {
					done <- err
					return
				}
			}
			done <- nil
		}()
	}
	for range 8 {
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
}

func TestReportJSONRoundTrip(t *testing.T) {
	s := newStamper(t)
	r := send(t, s, "round trip \x00\xff", testCtx)
	enc, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	got, err := franking.DecodeReport(bytes.NewReader(enc))
	if err != nil {
		t.Fatalf("DecodeReport(%s) = %v", enc, err)
	}
	if err := s.Verify(got); err != nil {
		t.Fatalf("Verify(decoded) = %v", err)
	}
	if !got.Context.At.Equal(r.Context.At.Truncate(time.Microsecond)) {
		t.Errorf("At = %v, want %v", got.Context.At, r.Context.At)
	}
	// Report works inside a larger request via json.Unmarshal.
	var req struct {
		Reason string          `json:"reason"`
		Report franking.Report `json:"report"`
	}
	if err := json.Unmarshal([]byte(`{"reason":"harassment","report":`+string(enc)+`}`), &req); err != nil {
		t.Fatal(err)
	}
	if err := s.Verify(req.Report); err != nil {
		t.Fatalf("Verify(embedded) = %v", err)
	}
}

func TestDecodeReportRejectsMalformed(t *testing.T) {
	s := newStamper(t)
	enc, err := json.Marshal(send(t, s, "hello", testCtx))
	if err != nil {
		t.Fatal(err)
	}
	edit := func(f func(m map[string]any)) string {
		var m map[string]any
		if err := json.Unmarshal(enc, &m); err != nil {
			t.Fatal(err)
		}
		f(m)
		b, _ := json.Marshal(m)
		return string(b)
	}
	tests := []struct{ name, in, field string }{
		{"empty", "", ""},
		{"not JSON", "franking", ""},
		{"array", "[]", ""},
		{"trailing data", string(enc) + " {}", ""},
		{"unknown field", edit(func(m map[string]any) { m["admin"] = true }), ""},
		{"missing tag", edit(func(m map[string]any) { delete(m, "tag") }), "tag"},
		{"missing sender", edit(func(m map[string]any) { delete(m, "sender") }), "sender"},
		{"missing envelope", edit(func(m map[string]any) { delete(m, "envelope") }), "envelope"},
		{"version 2", edit(func(m map[string]any) { m["v"] = 2 }), "v"},
		{"key not base64", edit(func(m map[string]any) { m["franking_key"] = strings.Repeat("!", 44) }), "franking_key"},
		{"short key", edit(func(m map[string]any) { m["franking_key"] = "AAAA" }), "franking_key"},
		{"key with wrong padding", edit(func(m map[string]any) { m["franking_key"] = strings.Repeat("A", 42) + "==" }), "franking_key"},
		{"long commitment", edit(func(m map[string]any) { m["commitment"] = m["commitment"].(string) + "AAAA" }), "commitment"},
		{"plaintext not base64", edit(func(m map[string]any) { m["plaintext"] = "a b" }), "plaintext"},
		{"sender is a string", edit(func(m map[string]any) { m["sender"] = "1001" }), ""},
		{"time is fractional", edit(func(m map[string]any) { m["at_us"] = 1.5 }), ""},
		{"long envelope", edit(func(m map[string]any) { m["envelope"] = strings.Repeat("e", franking.MaxEnvelopeSize+1) }), "envelope"},
		{"too large", strings.Repeat(" ", franking.MaxReportSize+1), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := franking.DecodeReport(strings.NewReader(tt.in))
			if !errors.Is(err, franking.ErrMalformed) {
				t.Fatalf("DecodeReport = %v, want %v", err, franking.ErrMalformed)
			}
			var ke *kurir.Error
			if !errors.As(err, &ke) || ke.Code != kurir.EInvalid || ke.Field != tt.field {
				t.Fatalf("error = %#v, want EInvalid on field %q", err, tt.field)
			}
		})
	}
	var r franking.Report
	r.Plaintext = []byte("keep")
	if err := json.Unmarshal([]byte(`{"v":1}`), &r); err == nil || string(r.Plaintext) != "keep" {
		t.Errorf("failed UnmarshalJSON: err %v, plaintext %q; want an error and no change", err, r.Plaintext)
	}
}

func ExampleStamper_Verify() {
	// Sender: a fresh key per message, sent inside the encrypted payload.
	key, _ := franking.NewKey(rand.Reader)
	msg := []byte("buy my crypto course")
	c := franking.Commit(key, msg)

	// Server: stamps the commitment while relaying the envelope.
	server, _ := franking.NewStamper(bytes.Repeat([]byte{7}, 32))
	ctx := franking.Context{Sender: 1, SenderDevice: 1, Recipient: 2, RecipientDevice: 1,
		At: time.UnixMicro(1_772_000_000_000_000), Envelope: "e1"}
	tag := server.Stamp(c, ctx)

	// Recipient: checks the commitment before showing the message, and may
	// later report it.
	fmt.Println("opens:", franking.Open(key, msg, c) == nil)
	report := franking.Report{Plaintext: msg, Key: key, Commitment: c, Tag: tag, Context: ctx}
	fmt.Println("report:", server.Verify(report))
	report.Plaintext = []byte("something else")
	fmt.Println("forged:", errors.Is(server.Verify(report), franking.ErrBadCommitment))
	// Output:
	// opens: true
	// report: <nil>
	// forged: true
}

func BenchmarkFrankStampVerify1KiB(b *testing.B) {
	s := newStamper(b)
	key, _ := franking.NewKey(rand.Reader)
	msg := bytes.Repeat([]byte("k"), 1024)
	b.SetBytes(int64(len(msg)))
	b.ReportAllocs()
	for b.Loop() {
		c := franking.Commit(key, msg)
		tag := s.Stamp(c, testCtx)
		if err := s.Verify(franking.Report{Plaintext: msg, Key: key, Commitment: c, Tag: tag, Context: testCtx}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkStamp(b *testing.B) {
	s := newStamper(b)
	var c franking.Commitment
	b.ReportAllocs()
	for b.Loop() {
		_ = s.Stamp(c, testCtx)
	}
}
