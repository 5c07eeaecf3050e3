package device

import (
	"crypto/rand"
	"errors"
	"fmt"
	"testing"
	"time"

	"kurir/secret/franking"
	"kurir/secret/protocol"
)

// t0 is when the tests' devices are made.
var t0 = time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)

// dev is one device in a test: its state and who it is.
type dev struct {
	t    testing.TB
	self Peer
	st   *State
}

func newDev(t testing.TB, user, device int64) *dev {
	t.Helper()
	st, err := New(rand.Reader, t0)
	if err != nil {
		t.Fatal(err)
	}
	st.SetSelf(Peer{user, device})
	if _, err := st.NewOneTimePreKeys(10); err != nil {
		t.Fatal(err)
	}
	return &dev{t: t, self: Peer{user, device}, st: st}
}

// bundle is what the server would hand out for d: its signed prekey and
// its lowest one-time prekey not handed out yet (none if withOPK is false).
func (d *dev) bundle(withOPK bool) protocol.Bundle {
	d.t.Helper()
	b := protocol.NewBundle(d.st.identity, d.st.spk.key, nil)
	if withOPK {
		ids := d.st.oneTimePreKeyIDs()
		if len(ids) == 0 {
			d.t.Fatal("no one-time prekeys left")
		}
		opk := d.st.opks[ids[0]].Public()
		b.OneTimePreKey = &opk
	}
	return b
}

// relay stands in for the server: it numbers envelopes and stamps their
// commitments as the real relay does.
type relay struct {
	t       testing.TB
	stamper *franking.Stamper
	n       int
	now     time.Time
}

func newRelay(t testing.TB) *relay {
	s, err := franking.NewStamper([]byte("a server secret of at least 32 bytes!"))
	if err != nil {
		t.Fatal(err)
	}
	return &relay{t: t, stamper: s, now: t0}
}

// envelope wraps a sealed message from one device to another.
func (r *relay) envelope(from, to *dev, s Sealed) Envelope {
	r.n++
	r.now = r.now.Add(time.Second)
	e := Envelope{ID: fmt.Sprintf("env-%d", r.n), From: from.self, Body: s.Body, Commitment: s.Commitment, At: r.now}
	e.Tag = r.stamper.Stamp(s.Commitment, franking.Context{
		Sender: from.self.User, SenderDevice: from.self.Device,
		Recipient: to.self.User, RecipientDevice: to.self.Device,
		At: e.At, Envelope: e.ID,
	})
	return e
}

// send encrypts text from one device to another, starting a session from
// the recipient's bundle if there is none, and returns the envelope.
func (r *relay) send(from, to *dev, text string) Envelope {
	r.t.Helper()
	if !from.st.HasSession(to.self) {
		if _, err := from.st.StartSession(to.self, to.bundle(true)); err != nil {
			r.t.Fatal(err)
		}
	}
	s, err := from.st.Encrypt(to.self, text, 0, r.now)
	if err != nil {
		r.t.Fatalf("encrypt %q: %v", text, err)
	}
	return r.envelope(from, to, s)
}

// receive decrypts e at d and checks the text.
func (d *dev) receive(e Envelope, want string) Message {
	d.t.Helper()
	m, err := d.st.Decrypt(e)
	if err != nil {
		d.t.Fatalf("%v: decrypt %s (want %q): %v", d.self, e.ID, want, err)
	}
	if m.Text != want {
		d.t.Fatalf("%v: decrypted %q, want %q", d.self, m.Text, want)
	}
	return m
}

// refuse checks that d rejects e with an error matching want.
func (d *dev) refuse(e Envelope, want error) {
	d.t.Helper()
	m, err := d.st.Decrypt(e)
	if !errors.Is(err, want) {
		d.t.Fatalf("%v: decrypt %s = %q, %v; want error %v", d.self, e.ID, m.Text, err, want)
	}
}

// refuseAny checks that d rejects e with an error matching one of want,
// and that its state is unchanged.
func (d *dev) refuseAny(e Envelope, want ...error) {
	d.t.Helper()
	before, _ := d.st.MarshalBinary()
	m, err := d.st.Decrypt(e)
	for _, w := range want {
		if errors.Is(err, w) {
			if after, _ := d.st.MarshalBinary(); string(after) != string(before) {
				d.t.Fatalf("%v: refusing %s changed the state", d.self, e.ID)
			}
			return
		}
	}
	d.t.Fatalf("%v: decrypt %s = %q, %v; want one of %v", d.self, e.ID, m.Text, err, want)
}

// reload round-trips d's state through its encoding, checking that the
// encoding is canonical.
func (d *dev) reload() {
	d.t.Helper()
	d.st = roundTrip(d.t, d.st)
}

func roundTrip(t testing.TB, st *State) *State {
	t.Helper()
	data, err := st.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	got, err := Load(data, rand.Reader)
	if err != nil {
		t.Fatalf("load state: %v", err)
	}
	again, err := got.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	if string(again) != string(data) {
		t.Fatal("the state does not re-encode to the same bytes")
	}
	return got
}

// snapshot returns an independent copy of d's state, as an attacker who
// took the device's storage at this moment would have it.
func (d *dev) snapshot() *dev {
	return &dev{t: d.t, self: d.self, st: roundTrip(d.t, d.st)}
}
