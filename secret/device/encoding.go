package device

import (
	"crypto/ecdh"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"io"
	"time"

	"kurir/secret/franking"
	"kurir/secret/protocol"
)

// stateVersion is the first byte of an encoded State.
const stateVersion = 1

// Session flags in the state encoding.
const (
	sessionPending = 1 << 0 // we started it and have not decrypted a reply
	sessionTheirs  = 1 << 1 // the peer started it
)

// Inbox message flags in the state encoding.
const (
	inboxNewSession      = 1 << 0
	inboxIdentityChanged = 1 << 1
)

// Minimum encoded sizes of the repeated entries, checked against the bytes
// left before anything is allocated for a count.
const (
	spkEntrySize     = 4 + 32 + 64 + 8 + 8
	opkEntrySize     = 4 + 32
	peerMinSize      = 8 + 8 + 64 + 1
	sessionMinSize   = 1 + 4
	usedEntrySize    = 32 + 4
	seenMinSize      = 2 + 1
	inboxMinSize     = 2 + 1 + 8 + 8 + 8 + franking.CommitmentSize + franking.TagSize + 1 + 4 + PayloadHeaderSize
	maxPeers         = 1 << 20
	maxSessionState  = 1 << 20
	maxInitialHeader = initialHeaderOPKSize
)

// MarshalBinary encodes the whole state (version 1), as
// docs/secret-chats.md ("Device state (version 1)") describes. The encoding
// is canonical: a decoded state encodes to the same bytes. It holds the
// device's private keys and session secrets: store it as such.
func (s *State) MarshalBinary() ([]byte, error) {
	b := make([]byte, 0, 1024)
	b = append(b, stateVersion)
	b = appendI64(b, s.self.User)
	b = appendI64(b, s.self.Device)
	b = append(b, s.identity.DH.Bytes()...)
	b = append(b, s.identity.Sign.Seed()...)
	b = binary.BigEndian.AppendUint32(b, s.nextSPK)
	b = binary.BigEndian.AppendUint32(b, s.nextOPK)
	b = append(b, byte(1+len(s.previous)))
	for _, k := range append([]signedPreKey{s.spk}, s.previous...) {
		b = binary.BigEndian.AppendUint32(b, k.key.ID)
		b = append(b, k.key.Key.Bytes()...)
		b = append(b, k.key.Signature[:]...)
		b = appendI64(b, k.created.UnixMilli())
		var retired int64
		if !k.retired.IsZero() {
			retired = k.retired.UnixMilli()
		}
		b = appendI64(b, retired)
	}
	b = binary.BigEndian.AppendUint32(b, uint32(len(s.opks)))
	for _, id := range s.oneTimePreKeyIDs() {
		b = binary.BigEndian.AppendUint32(b, id)
		b = append(b, s.opks[id].Key.Bytes()...)
	}
	peers := s.Peers()
	b = binary.BigEndian.AppendUint32(b, uint32(len(peers)))
	for _, p := range peers {
		ps := s.peers[p]
		b = appendI64(b, p.User)
		b = appendI64(b, p.Device)
		b = append(b, IdentityBytes(ps.identity)...)
		b = append(b, byte(len(ps.sessions)))
		for _, ss := range ps.sessions {
			var flags byte
			if ss.initial != nil {
				flags |= sessionPending
			}
			if ss.theirs {
				flags |= sessionTheirs
			}
			b = append(b, flags)
			if ss.initial != nil {
				b = append(b, byte(len(ss.initial)))
				b = append(b, ss.initial...)
			}
			if ss.theirs {
				b = append(b, ss.origin[:]...)
			}
			st, err := ss.s.MarshalBinary()
			if err != nil {
				return nil, err
			}
			b = binary.BigEndian.AppendUint32(b, uint32(len(st)))
			b = append(b, st...)
		}
	}
	b = binary.BigEndian.AppendUint32(b, uint32(len(s.used)))
	for _, u := range s.used {
		b = append(b, u.key[:]...)
		b = binary.BigEndian.AppendUint32(b, u.spk)
	}
	b = binary.BigEndian.AppendUint32(b, uint32(len(s.seen)))
	for _, id := range s.seen {
		b = binary.BigEndian.AppendUint16(b, uint16(len(id)))
		b = append(b, id...)
	}
	b = binary.BigEndian.AppendUint32(b, uint32(len(s.inbox)))
	for _, m := range s.inbox {
		b = binary.BigEndian.AppendUint16(b, uint16(len(m.Envelope)))
		b = append(b, m.Envelope...)
		b = appendI64(b, m.From.User)
		b = appendI64(b, m.From.Device)
		b = appendI64(b, m.At.UnixMicro())
		b = append(b, m.Commitment[:]...)
		b = append(b, m.Tag[:]...)
		var flags byte
		if m.NewSession {
			flags |= inboxNewSession
		}
		if m.IdentityChanged {
			flags |= inboxIdentityChanged
		}
		b = append(b, flags)
		pl, err := m.Payload.MarshalBinary()
		if err != nil {
			return nil, fmt.Errorf("device: encode state: inbox message %s: %w", m.Envelope, err)
		}
		b = binary.BigEndian.AppendUint32(b, uint32(len(pl)))
		b = append(b, pl...)
	}
	return b, nil
}

func appendI64(b []byte, v int64) []byte { return binary.BigEndian.AppendUint64(b, uint64(v)) }

// UnmarshalBinary restores a state written by MarshalBinary. It rejects
// anything else — another version, a truncated or damaged encoding, keys
// that are not valid, a signed prekey whose signature does not verify,
// entries out of their canonical order, bounds exceeded — with an error
// wrapping ErrBadState, and s is then unchanged. The restored state and
// its sessions draw keys from crypto/rand (see SetRand).
func (s *State) UnmarshalBinary(data []byte) error {
	ns, err := decodeState(data)
	if err != nil {
		return err
	}
	*s = *ns
	return nil
}

// Load decodes a state (UnmarshalBinary) that draws keys from rand.
func Load(data []byte, rand io.Reader) (*State, error) {
	s, err := decodeState(data)
	if err != nil {
		return nil, err
	}
	s.SetRand(rand)
	return s, nil
}

func decodeState(data []byte) (*State, error) {
	r := &stateReader{b: data}
	bad := func(format string, args ...any) error {
		return fmt.Errorf("device: decode state: %s: %w", fmt.Sprintf(format, args...), ErrBadState)
	}
	if v := r.u8(); r.err == nil && v != stateVersion {
		return nil, bad("version %d", v)
	}
	s := emptyState(rand.Reader)
	s.self = Peer{User: r.i64(), Device: r.i64()}
	dh, err := ecdh.X25519().NewPrivateKey(r.bytes(32))
	if r.err != nil {
		return nil, bad("truncated")
	}
	if err != nil {
		return nil, bad("identity key")
	}
	s.identity = &protocol.IdentityKey{DH: dh, Sign: ed25519.NewKeyFromSeed(r.bytes(32))}
	s.nextSPK, s.nextOPK = r.u32(), r.u32()
	nspk := int(r.u8())
	if r.err != nil || nspk < 1 || nspk > 1+MaxPreviousSignedPreKeys || r.left() < nspk*spkEntrySize {
		return nil, bad("%d signed prekeys", nspk)
	}
	for i := range nspk {
		k := &protocol.SignedPreKey{ID: r.u32()}
		priv, err := ecdh.X25519().NewPrivateKey(r.bytes(32))
		if err != nil {
			return nil, bad("signed prekey")
		}
		k.Key = priv
		copy(k.Signature[:], r.bytes(64))
		created, retired := r.i64(), r.i64()
		if (i == 0) != (retired == 0) {
			return nil, bad("signed prekey %d retired at %d", k.ID, retired)
		}
		if err := verifySignedPreKey(s.identity, k); err != nil {
			return nil, bad("signed prekey %d: signature does not verify", k.ID)
		}
		sk := signedPreKey{key: k, created: time.UnixMilli(created).UTC()}
		if i == 0 {
			s.spk = sk
			continue
		}
		sk.retired = time.UnixMilli(retired).UTC()
		if s.signedPreKey(k.ID) != nil {
			return nil, bad("signed prekey %d twice", k.ID)
		}
		s.previous = append(s.previous, sk)
	}
	nopk := r.count(opkEntrySize, MaxOneTimePreKeys)
	var lastOPK uint32
	for i := range nopk {
		id := r.u32()
		priv, err := ecdh.X25519().NewPrivateKey(r.bytes(32))
		if err != nil || (i > 0 && id <= lastOPK) || id == 0 {
			return nil, bad("one-time prekey %d", id)
		}
		lastOPK = id
		s.opks[id] = &protocol.OneTimePreKey{ID: id, Key: priv}
	}
	npeers := r.count(peerMinSize, maxPeers)
	var last Peer
	for i := range npeers {
		p := Peer{User: r.i64(), Device: r.i64()}
		if i > 0 && p.compare(last) <= 0 {
			return nil, bad("peers out of order at %v", p)
		}
		last = p
		id, _ := ParseIdentity(r.bytes(64))
		ps := &peerState{identity: id}
		nsess := int(r.u8())
		if r.err != nil || nsess < 1 || nsess > MaxSessionsPerPeer || r.left() < nsess*sessionMinSize {
			return nil, bad("%d sessions with %v", nsess, p)
		}
		for range nsess {
			ss := &session{}
			flags := r.u8()
			if flags&^(sessionPending|sessionTheirs) != 0 || flags == sessionPending|sessionTheirs {
				return nil, bad("session flags %#x", flags)
			}
			if flags&sessionPending != 0 {
				n := int(r.u8())
				var h protocol.InitialHeader
				if n > maxInitialHeader || h.UnmarshalBinary(r.bytes(n)) != nil {
					return nil, bad("initial header of a session with %v", p)
				}
				ss.initial, _ = h.MarshalBinary()
			}
			if flags&sessionTheirs != 0 {
				ss.theirs = true
				copy(ss.origin[:], r.bytes(32))
			}
			n := r.u32()
			if n > maxSessionState || int(n) > r.left() {
				return nil, bad("session state of %d bytes", n)
			}
			ss.s = new(protocol.Session)
			if err := ss.s.UnmarshalBinary(r.bytes(int(n))); err != nil {
				return nil, bad("session with %v: %v", p, err)
			}
			ps.sessions = append(ps.sessions, ss)
		}
		s.peers[p] = ps
	}
	nused := r.count(usedEntrySize, MaxUsedEphemerals)
	for range nused {
		var u usedEphemeral
		copy(u.key[:], r.bytes(32))
		u.spk = r.u32()
		if _, dup := s.usedSet[u.key]; dup || (r.err == nil && s.signedPreKey(u.spk) == nil) {
			return nil, bad("used ephemeral key")
		}
		s.used = append(s.used, u)
		s.usedSet[u.key] = struct{}{}
	}
	nseen := r.count(seenMinSize, MaxSeen)
	for range nseen {
		n := int(r.u16())
		if n == 0 || n > MaxEnvelopeID {
			return nil, bad("envelope ID of %d bytes", n)
		}
		id := string(r.bytes(n))
		if _, dup := s.seenSet[id]; dup && r.err == nil {
			return nil, bad("envelope ID %q twice", id)
		}
		s.seen = append(s.seen, id)
		s.seenSet[id] = struct{}{}
	}
	ninbox := r.count(inboxMinSize, MaxInbox)
	for range ninbox {
		var m Message
		n := int(r.u16())
		if n == 0 || n > MaxEnvelopeID {
			return nil, bad("envelope ID of %d bytes", n)
		}
		m.Envelope = string(r.bytes(n))
		m.From = Peer{User: r.i64(), Device: r.i64()}
		m.At = time.UnixMicro(r.i64()).UTC()
		copy(m.Commitment[:], r.bytes(franking.CommitmentSize))
		copy(m.Tag[:], r.bytes(franking.TagSize))
		flags := r.u8()
		if flags&^(inboxNewSession|inboxIdentityChanged) != 0 {
			return nil, bad("inbox flags %#x", flags)
		}
		m.NewSession, m.IdentityChanged = flags&inboxNewSession != 0, flags&inboxIdentityChanged != 0
		pn := r.u32()
		if int64(pn) > int64(r.left()) {
			return nil, bad("inbox payload of %d bytes", pn)
		}
		if err := m.Payload.UnmarshalBinary(r.bytes(int(pn))); err != nil && r.err == nil {
			return nil, bad("inbox message %q: %v", m.Envelope, err)
		}
		s.inbox = append(s.inbox, m)
	}
	if r.err != nil {
		return nil, bad("truncated")
	}
	if r.left() != 0 {
		return nil, bad("%d bytes after the end", r.left())
	}
	return s, nil
}

// verifySignedPreKey checks a stored signed prekey's signature, as a
// bundle's is checked, so that a damaged file is noticed on loading.
func verifySignedPreKey(id *protocol.IdentityKey, k *protocol.SignedPreKey) error {
	b := protocol.NewBundle(id, k, nil)
	return b.Verify()
}

// stateReader reads fields until the first overrun, after which every read
// returns zeros and err is set.
type stateReader struct {
	b   []byte
	err error
}

func (r *stateReader) left() int { return len(r.b) }

func (r *stateReader) bytes(n int) []byte {
	if r.err != nil || n < 0 || n > len(r.b) {
		r.err = io.ErrUnexpectedEOF
		return make([]byte, max(n, 0))
	}
	out := r.b[:n:n]
	r.b = r.b[n:]
	return out
}

func (r *stateReader) u8() byte    { return r.bytes(1)[0] }
func (r *stateReader) u16() uint16 { return binary.BigEndian.Uint16(r.bytes(2)) }
func (r *stateReader) u32() uint32 { return binary.BigEndian.Uint32(r.bytes(4)) }
func (r *stateReader) i64() int64  { return int64(binary.BigEndian.Uint64(r.bytes(8))) }

// count reads a u32 count of entries of at least min bytes each, at most
// limit; a count the remaining bytes cannot hold is an overrun, so that no
// count makes the decoder allocate more than the input justifies.
func (r *stateReader) count(min, limit int) int {
	n := r.u32()
	if r.err != nil || n > uint32(limit) || int(n)*min > len(r.b) {
		r.err = io.ErrUnexpectedEOF
		return 0
	}
	return int(n)
}
