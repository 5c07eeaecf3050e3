package protocol

import (
	"crypto/ecdh"
	"encoding/binary"
	"fmt"
	"io"
	"math"
)

// Bounds on skipped message keys and message size.
const (
	// MaxSkip is the most message keys one received message may make the
	// session derive and store in one chain (the Double Ratchet's MAX_SKIP).
	MaxSkip = 1000
	// MaxSkippedKeys bounds the skipped-key store; the oldest keys are
	// evicted first, and their messages can then no longer be decrypted.
	MaxSkippedKeys = 2000
	// MaxPlaintextSize bounds one message. Attachments travel as blobs with
	// their own keys, not inside ratchet messages.
	MaxPlaintextSize = 1 << 20
)

// headerVersion is the first byte of an encoded Header and Message.
const headerVersion = 1

// HeaderSize is the length of an encoded Header.
const HeaderSize = 1 + 32 + 4 + 4

// Header is the cleartext ratchet header of a message: the sender's current
// ratchet public key, the length of its previous sending chain (PN) and the
// message's number in the current chain (N).
type Header struct {
	DH [32]byte
	PN uint32
	N  uint32
}

// MarshalBinary encodes the header: 0x01 || DH (32) || PN (u32 BE) || N (u32 BE).
func (h Header) MarshalBinary() ([]byte, error) { return h.appendTo(make([]byte, 0, HeaderSize)), nil }

func (h Header) appendTo(b []byte) []byte {
	b = append(b, headerVersion)
	b = append(b, h.DH[:]...)
	b = binary.BigEndian.AppendUint32(b, h.PN)
	return binary.BigEndian.AppendUint32(b, h.N)
}

// UnmarshalBinary decodes exactly HeaderSize bytes; h is unchanged on error.
func (h *Header) UnmarshalBinary(data []byte) error {
	if len(data) != HeaderSize || data[0] != headerVersion {
		return fmt.Errorf("protocol: header: %d bytes: %w", len(data), ErrMalformed)
	}
	r := reader{b: data[1:]}
	var nh Header
	r.copy(nh.DH[:])
	nh.PN = r.u32()
	nh.N = r.u32()
	*h = nh
	return nil
}

// tagSize is the AES-GCM tag length.
const tagSize = 16

// Message is one ratchet message: its header and the AES-256-GCM ciphertext
// (with the 16-byte tag appended).
type Message struct {
	Header     Header
	Ciphertext []byte
}

// MarshalBinary encodes the message as encoded header (41 bytes) ||
// ciphertext.
func (m Message) MarshalBinary() ([]byte, error) {
	return append(m.Header.appendTo(make([]byte, 0, HeaderSize+len(m.Ciphertext))), m.Ciphertext...), nil
}

// UnmarshalBinary decodes a message written by MarshalBinary. It rejects a
// bad header, a ciphertext shorter than the tag or longer than
// MaxPlaintextSize allows; m is unchanged on error. The ciphertext is copied.
func (m *Message) UnmarshalBinary(data []byte) error {
	if len(data) < HeaderSize+tagSize || len(data) > HeaderSize+MaxPlaintextSize+tagSize {
		return fmt.Errorf("protocol: message: %d bytes: %w", len(data), ErrMalformed)
	}
	var h Header
	if err := h.UnmarshalBinary(data[:HeaderSize]); err != nil {
		return fmt.Errorf("protocol: message: %w", err)
	}
	m.Header = h
	m.Ciphertext = append([]byte(nil), data[HeaderSize:]...)
	return nil
}

// Session is one side of a secret chat between two devices: the Double
// Ratchet state after the X3DH agreement. It is not safe for concurrent use;
// persist it with MarshalBinary after every Encrypt and successful Decrypt.
type Session struct {
	ad      [adSize]byte
	st      ratchetState
	skipped []skippedKey // oldest first
	rand    io.Reader
}

// ratchetState is the part of the session Decrypt changes tentatively; it
// is small, so Decrypt works on a copy and commits it only on success.
type ratchetState struct {
	rootKey          [32]byte
	self             *ecdh.PrivateKey // our current ratchet key pair (DHs)
	remote           [32]byte         // their current ratchet public key (DHr); zero before the first message is received
	sendCK, recvCK   [32]byte
	hasSend, hasRecv bool
	ns, nr, pn       uint32
}

// skippedKey is a stored message key for a message not yet received,
// identified by the sender's ratchet key and the message number.
type skippedKey struct {
	dh [32]byte
	n  uint32
	mk [32]byte
}

func newInitiatorSession(sk [32]byte, ad [adSize]byte, remote [32]byte, rand io.Reader) (*Session, error) {
	self, err := newX25519(rand)
	if err != nil {
		return nil, err
	}
	dh, err := x25519(self, remote)
	if err != nil {
		return nil, fmt.Errorf("protocol: initiate: ratchet: %w", err)
	}
	s := &Session{ad: ad, rand: rand}
	s.st.self, s.st.remote = self, remote
	s.st.rootKey, s.st.sendCK = kdfRK(sk, dh)
	s.st.hasSend = true
	return s, nil
}

func newResponderSession(sk [32]byte, ad [adSize]byte, spk *ecdh.PrivateKey, rand io.Reader) *Session {
	s := &Session{ad: ad, rand: rand}
	s.st.rootKey, s.st.self = sk, spk
	return s
}

// SetRand sets the source of the session's future ratchet keys. A session
// from UnmarshalBinary uses crypto/rand until told otherwise.
func (s *Session) SetRand(rand io.Reader) { s.rand = rand }

// AssociatedData returns the session's 128-byte AD (both identities).
func (s *Session) AssociatedData() []byte { return append([]byte(nil), s.ad[:]...) }

// Encrypt encrypts plaintext as the next message of the sending chain. ad is
// extra associated data from the layer above (it may be nil); the recipient
// must pass the same bytes to Decrypt. The AES-GCM associated data is the
// session AD (128 bytes) || encoded header (41 bytes) || ad.
func (s *Session) Encrypt(plaintext, ad []byte) (Message, error) {
	if !s.st.hasSend {
		return Message{}, fmt.Errorf("protocol: encrypt: %w", ErrNoSendingChain)
	}
	if len(plaintext) > MaxPlaintextSize {
		return Message{}, fmt.Errorf("protocol: encrypt: %d bytes: %w", len(plaintext), ErrTooLarge)
	}
	if s.st.ns == math.MaxUint32 {
		return Message{}, fmt.Errorf("protocol: encrypt: %w", ErrExhausted)
	}
	next, mk := kdfCK(s.st.sendCK)
	h := Header{DH: pub32(s.st.self), PN: s.st.pn, N: s.st.ns}
	aead, nonce := messageAEAD(mk)
	ct := aead.Seal(make([]byte, 0, len(plaintext)+tagSize), nonce, plaintext, s.gcmAD(h, ad))
	s.st.sendCK = next
	s.st.ns++
	return Message{Header: h, Ciphertext: ct}, nil
}

func (s *Session) gcmAD(h Header, ad []byte) []byte {
	b := make([]byte, 0, adSize+HeaderSize+len(ad))
	b = append(b, s.ad[:]...)
	b = h.appendTo(b)
	return append(b, ad...)
}

// Decrypt authenticates and decrypts m with the extra associated data ad
// the sender passed to Encrypt. Messages may arrive out of order: keys for
// skipped messages are stored (at most MaxSkip per chain, MaxSkippedKeys in
// all) and each is deleted once used, so a replayed message fails with
// ErrReplay. On any error the session is unchanged.
func (s *Session) Decrypt(m Message, ad []byte) ([]byte, error) {
	h := m.Header
	if len(m.Ciphertext) < tagSize || len(m.Ciphertext) > MaxPlaintextSize+tagSize {
		return nil, fmt.Errorf("protocol: decrypt: ciphertext of %d bytes: %w", len(m.Ciphertext), ErrMalformed)
	}
	if h.N == math.MaxUint32 {
		return nil, fmt.Errorf("protocol: decrypt: %w", ErrExhausted)
	}
	for i, k := range s.skipped {
		if k.n == h.N && k.dh == h.DH {
			pt, err := s.open(k.mk, m, ad)
			if err != nil {
				return nil, err
			}
			s.skipped = append(s.skipped[:i], s.skipped[i+1:]...)
			return pt, nil
		}
	}

	st := s.st // tentative; committed only if the message authenticates
	var found []skippedKey
	var err error
	if !st.hasRecv || h.DH != st.remote {
		if found, err = skipKeys(&st, h.PN, found); err != nil {
			return nil, err
		}
		if err := s.ratchetStep(&st, h.DH); err != nil {
			return nil, err
		}
	} else if h.N < st.nr {
		return nil, fmt.Errorf("protocol: decrypt: message %d: %w", h.N, ErrReplay)
	}
	if found, err = skipKeys(&st, h.N, found); err != nil {
		return nil, err
	}
	next, mk := kdfCK(st.recvCK)
	st.recvCK = next
	st.nr++
	pt, err := s.open(mk, m, ad)
	if err != nil {
		return nil, err
	}
	s.st = st
	s.skipped = append(s.skipped, found...)
	if over := len(s.skipped) - MaxSkippedKeys; over > 0 {
		s.skipped = append(s.skipped[:0], s.skipped[over:]...)
	}
	return pt, nil
}

func (s *Session) open(mk [32]byte, m Message, ad []byte) ([]byte, error) {
	aead, nonce := messageAEAD(mk)
	pt, err := aead.Open(nil, nonce, m.Ciphertext, s.gcmAD(m.Header, ad))
	if err != nil {
		return nil, fmt.Errorf("protocol: decrypt: message %d: %w", m.Header.N, ErrDecrypt)
	}
	return pt, nil
}

// skipKeys derives and appends to found the receiving chain's message keys
// up to (not including) message until, refusing to derive more than MaxSkip.
func skipKeys(st *ratchetState, until uint32, found []skippedKey) ([]skippedKey, error) {
	if !st.hasRecv {
		return found, nil
	}
	if uint64(st.nr)+MaxSkip < uint64(until) {
		return nil, fmt.Errorf("protocol: decrypt: message %d, next expected %d: %w", until, st.nr, ErrTooManySkipped)
	}
	for st.nr < until {
		var mk [32]byte
		st.recvCK, mk = kdfCK(st.recvCK)
		found = append(found, skippedKey{dh: st.remote, n: st.nr, mk: mk})
		st.nr++
	}
	return found, nil
}

// ratchetStep is the Double Ratchet's DH ratchet on receiving a new ratchet
// key: a receiving chain from DH(our key, their new key), then a new key pair
// of ours (32 bytes from rand) and a sending chain from DH(new key, theirs).
func (s *Session) ratchetStep(st *ratchetState, remote [32]byte) error {
	dh, err := x25519(st.self, remote)
	if err != nil {
		return fmt.Errorf("protocol: decrypt: ratchet key: %w", err)
	}
	self, err := newX25519(s.rand)
	if err != nil {
		return err
	}
	dh2, err := x25519(self, remote)
	if err != nil {
		return fmt.Errorf("protocol: decrypt: ratchet key: %w", err)
	}
	st.pn, st.ns, st.nr = st.ns, 0, 0
	st.remote = remote
	st.rootKey, st.recvCK = kdfRK(st.rootKey, dh)
	st.hasRecv = true
	st.self = self
	st.rootKey, st.sendCK = kdfRK(st.rootKey, dh2)
	st.hasSend = true
	return nil
}
