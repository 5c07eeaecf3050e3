package franking

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite testdata/vectors.json from the code")

// vector is one test vector. Inputs are fixed; the *_input fields are the
// exact bytes fed to HMAC, so another implementation can find where it
// differs.
type vector struct {
	Name            string          `json:"name"`
	FrankingKey     string          `json:"franking_key_hex"`
	Plaintext       string          `json:"plaintext_hex"`
	CommitInput     string          `json:"commit_input_hex"`
	Commitment      string          `json:"commitment_hex"`
	ServerKeyID     byte            `json:"server_key_id"`
	ServerSecret    string          `json:"server_secret_hex"`
	Sender          int64           `json:"sender"`
	SenderDevice    int64           `json:"sender_device"`
	Recipient       int64           `json:"recipient"`
	RecipientDevice int64           `json:"recipient_device"`
	AtMicros        int64           `json:"at_us"`
	Envelope        string          `json:"envelope"`
	TagInput        string          `json:"tag_input_hex"`
	Tag             string          `json:"tag_hex"`
	Report          json.RawMessage `json:"report"`
}

func fixedBytes(n int, start byte) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = start + byte(i)
	}
	return b
}

// makeVectors computes the vectors from fixed inputs with this package.
func makeVectors(t *testing.T) []vector {
	type in struct {
		name      string
		keyStart  byte
		plaintext []byte
		id        byte
		secret    []byte
		ctx       Context
	}
	ins := []in{
		{"ascii", 0x00, []byte("hello, kurir"), 0, fixedBytes(32, 0x80),
			Context{Sender: 1, SenderDevice: 2, Recipient: 3, RecipientDevice: 4, At: time.UnixMicro(1_772_366_400_123_456), Envelope: "env-1"}},
		{"empty plaintext and envelope", 0x20, nil, 7, fixedBytes(48, 0x10),
			Context{Sender: 9_007_199_254_740_991, SenderDevice: 0, Recipient: 42, RecipientDevice: 1, At: time.UnixMicro(0)}},
		{"utf-8, negative IDs and time before 1970", 0x40, []byte("привет 👋\x00\xff"), 255, fixedBytes(32, 0xc0),
			Context{Sender: -1, SenderDevice: -2, Recipient: 1 << 40, RecipientDevice: 5, At: time.UnixMicro(-1), Envelope: "конверт/✉"}},
	}
	var vs []vector
	for _, x := range ins {
		var key Key
		copy(key[:], fixedBytes(KeySize, x.keyStart))
		s, err := NewStamperKeys(ServerKey{ID: x.id, Secret: x.secret})
		if err != nil {
			t.Fatal(err)
		}
		c := Commit(key, x.plaintext)
		tag := s.Stamp(c, x.ctx)
		var commitInput []byte
		commitInput = appendLP(commitInput, []byte(commitLabel))
		commitInput = appendLP(commitInput, x.plaintext)
		report, err := json.Marshal(Report{Plaintext: x.plaintext, Key: key, Commitment: c, Tag: tag, Context: x.ctx})
		if err != nil {
			t.Fatal(err)
		}
		vs = append(vs, vector{
			Name: x.name, FrankingKey: hex.EncodeToString(key[:]), Plaintext: hex.EncodeToString(x.plaintext),
			CommitInput: hex.EncodeToString(commitInput), Commitment: hex.EncodeToString(c[:]),
			ServerKeyID: x.id, ServerSecret: hex.EncodeToString(x.secret),
			Sender: x.ctx.Sender, SenderDevice: x.ctx.SenderDevice, Recipient: x.ctx.Recipient,
			RecipientDevice: x.ctx.RecipientDevice, AtMicros: x.ctx.At.UnixMicro(), Envelope: x.ctx.Envelope,
			TagInput: hex.EncodeToString(appendTagInput(nil, x.id, c, x.ctx)), Tag: hex.EncodeToString(tag[:]),
			Report: report,
		})
	}
	return vs
}

// TestVectors checks the code against testdata/vectors.json, the contract
// with other implementations; go test -run TestVectors -update rewrites it.
func TestVectors(t *testing.T) {
	path := filepath.Join("testdata", "vectors.json")
	got, err := json.MarshalIndent(makeVectors(t), "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
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
		t.Fatalf("%s is out of date with the code: the encoding changed, which breaks other clients (rerun with -update only if that is intended)", path)
	}
	// The stored vectors also verify as reports, read back from JSON.
	var vs []vector
	if err := json.Unmarshal(want, &vs); err != nil {
		t.Fatal(err)
	}
	for _, v := range vs {
		secret, _ := hex.DecodeString(v.ServerSecret)
		s, err := NewStamperKeys(ServerKey{ID: v.ServerKeyID, Secret: secret})
		if err != nil {
			t.Fatal(err)
		}
		r, err := DecodeReport(bytes.NewReader(v.Report))
		if err != nil {
			t.Fatalf("%s: DecodeReport = %v", v.Name, err)
		}
		if err := s.Verify(r); err != nil {
			t.Errorf("%s: Verify = %v", v.Name, err)
		}
		if hex.EncodeToString(r.Tag[:]) != v.Tag {
			t.Errorf("%s: report tag %x, want %s", v.Name, r.Tag, v.Tag)
		}
	}
}
