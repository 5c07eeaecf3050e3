package franking_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"kurir/secret/franking"
)

// FuzzDecodeReport: any input either decodes to a report that re-encodes to
// the same report, or fails with ErrMalformed; it never panics.
func FuzzDecodeReport(f *testing.F) {
	if b, err := os.ReadFile(filepath.Join("testdata", "vectors.json")); err == nil {
		var vs []struct{ Report json.RawMessage }
		if json.Unmarshal(b, &vs) == nil {
			for _, v := range vs {
				f.Add([]byte(v.Report))
			}
		}
	}
	f.Add([]byte(`{}`))
	f.Add([]byte(`{"v":1,"plaintext":"","franking_key":"","commitment":"","tag":"","sender":0,"sender_device":0,"recipient":0,"recipient_device":0,"at_us":0,"envelope":""}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := franking.DecodeReport(bytes.NewReader(data))
		if err != nil {
			if !errors.Is(err, franking.ErrMalformed) {
				t.Fatalf("error %v does not wrap ErrMalformed", err)
			}
			return
		}
		enc, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		r2, err := franking.DecodeReport(bytes.NewReader(enc))
		if err != nil {
			t.Fatalf("re-decode of %s: %v", enc, err)
		}
		if !bytes.Equal(r.Plaintext, r2.Plaintext) || r.Key != r2.Key || r.Commitment != r2.Commitment ||
			r.Tag != r2.Tag || r.Context != r2.Context {
			t.Fatalf("round trip changed the report:\n%+v\n%+v", r, r2)
		}
	})
}

// FuzzFranking: a genuine report verifies, and changing any one of its
// plaintext, envelope or time makes it fail with the right error.
func FuzzFranking(f *testing.F) {
	f.Add([]byte("hello"), []byte{1}, "env", int64(0), int64(1), uint8(0))
	f.Add([]byte{}, make([]byte, 32), "", int64(-1), int64(1<<62), uint8(3))
	s, err := franking.NewStamper(bytes.Repeat([]byte{0x42}, 32))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, plaintext, keySeed []byte, envelope string, sender, at int64, flip uint8) {
		var key franking.Key
		copy(key[:], keySeed)
		c := franking.Commit(key, plaintext)
		ctx := franking.Context{Sender: sender, Recipient: sender + 1, At: time.UnixMicro(at), Envelope: envelope}
		r := franking.Report{Plaintext: plaintext, Key: key, Commitment: c, Tag: s.Stamp(c, ctx), Context: ctx}
		if err := s.Verify(r); err != nil {
			t.Fatalf("genuine report: %v", err)
		}
		bad := r
		bad.Plaintext = append(bytes.Clone(plaintext), flip)
		if err := s.Verify(bad); !errors.Is(err, franking.ErrBadCommitment) {
			t.Fatalf("extended plaintext: %v", err)
		}
		bad = r
		bad.Context.Envelope += string(rune('a' + flip%26))
		if err := s.Verify(bad); !errors.Is(err, franking.ErrBadTag) {
			t.Fatalf("changed envelope: %v", err)
		}
		bad = r
		bad.Context.At = bad.Context.At.Add(time.Duration(int64(flip)+1) * time.Microsecond)
		if err := s.Verify(bad); !errors.Is(err, franking.ErrBadTag) {
			t.Fatalf("changed time: %v", err)
		}
	})
}
