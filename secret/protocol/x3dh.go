package protocol

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
)

// initialHeaderVersion is the first byte of an encoded InitialHeader.
const initialHeaderVersion = 1

// Encoded initial header sizes: without and with a one-time prekey ID.
const (
	initialHeaderSizeNoOPK = 1 + 32 + 32 + 32 + 4 + 1
	initialHeaderSizeOPK   = initialHeaderSizeNoOPK + 4
)

// InitialHeader is what the initiator attaches to its messages until it has
// decrypted a reply, so the responder can run the agreement: the initiator's
// public identity, its ephemeral X25519 key and which prekeys it used.
type InitialHeader struct {
	Identity         PublicIdentity
	Ephemeral        [32]byte
	SignedPreKeyID   uint32
	HasOneTimePreKey bool
	OneTimePreKeyID  uint32
}

// MarshalBinary encodes the header (version 1):
//
//	0x01 || identity X25519 (32) || identity Ed25519 (32) || ephemeral (32) ||
//	signed prekey ID (u32 BE) || 0x00                        (102 bytes)
//	                          || 0x01 || one-time prekey ID  (106 bytes)
func (h InitialHeader) MarshalBinary() ([]byte, error) {
	out := make([]byte, 0, initialHeaderSizeOPK)
	out = append(out, initialHeaderVersion)
	out = append(out, h.Identity.DH[:]...)
	out = append(out, h.Identity.Sign[:]...)
	out = append(out, h.Ephemeral[:]...)
	out = binary.BigEndian.AppendUint32(out, h.SignedPreKeyID)
	if !h.HasOneTimePreKey {
		return append(out, 0), nil
	}
	out = append(out, 1)
	return binary.BigEndian.AppendUint32(out, h.OneTimePreKeyID), nil
}

// UnmarshalBinary decodes a header written by MarshalBinary, rejecting
// anything else with ErrMalformed; h is unchanged on error.
func (h *InitialHeader) UnmarshalBinary(data []byte) error {
	if len(data) != initialHeaderSizeNoOPK && len(data) != initialHeaderSizeOPK {
		return fmt.Errorf("protocol: initial header: %d bytes: %w", len(data), ErrMalformed)
	}
	if data[0] != initialHeaderVersion {
		return fmt.Errorf("protocol: initial header: version %d: %w", data[0], ErrMalformed)
	}
	var nh InitialHeader
	r := reader{b: data[1:]}
	r.copy(nh.Identity.DH[:])
	r.copy(nh.Identity.Sign[:])
	r.copy(nh.Ephemeral[:])
	nh.SignedPreKeyID = r.u32()
	switch flag := r.byte(); {
	case flag == 0 && len(data) == initialHeaderSizeNoOPK:
	case flag == 1 && len(data) == initialHeaderSizeOPK:
		nh.HasOneTimePreKey = true
		nh.OneTimePreKeyID = r.u32()
	default:
		return fmt.Errorf("protocol: initial header: one-time prekey flag %d with %d bytes: %w", flag, len(data), ErrMalformed)
	}
	*h = nh
	return nil
}

// associatedData is AD = initiator identity X25519 || initiator identity
// Ed25519 || responder identity X25519 || responder identity Ed25519
// (128 bytes). Every message of the session authenticates it.
func associatedData(initiator, responder PublicIdentity) [adSize]byte {
	var ad [adSize]byte
	copy(ad[0:], initiator.DH[:])
	copy(ad[32:], initiator.Sign[:])
	copy(ad[64:], responder.DH[:])
	copy(ad[96:], responder.Sign[:])
	return ad
}

const adSize = 128

// x3dhSecret is SK = HKDF-SHA256(salt = 32 zero bytes, ikm = 32 0xFF bytes ||
// DH1 || DH2 || DH3 [|| DH4], info = infoX3DH) → 32 bytes.
func x3dhSecret(dhs ...[]byte) [32]byte {
	ikm := bytes.Repeat([]byte{0xFF}, 32)
	for _, d := range dhs {
		ikm = append(ikm, d...)
	}
	var sk [32]byte
	copy(sk[:], hkdfSHA256(zeroSalt, ikm, infoX3DH, 32))
	return sk
}

// Initiate starts a session with the device that published their bundle. It
// verifies the bundle, reads an ephemeral key (32 bytes) and the first
// ratchet key (32 bytes) from rand, and returns the session and the header to
// attach to every message until a reply has been decrypted. rand is kept by
// the session for later ratchet keys.
func Initiate(our *IdentityKey, their Bundle, rand io.Reader) (*Session, InitialHeader, error) {
	if err := their.Verify(); err != nil {
		return nil, InitialHeader{}, err
	}
	ek, err := newX25519(rand)
	if err != nil {
		return nil, InitialHeader{}, err
	}
	dh1, err := x25519(our.DH, their.SignedPreKey.Key)
	if err != nil {
		return nil, InitialHeader{}, fmt.Errorf("protocol: initiate: DH1: %w", err)
	}
	dh2, err := x25519(ek, their.Identity.DH)
	if err != nil {
		return nil, InitialHeader{}, fmt.Errorf("protocol: initiate: DH2: %w", err)
	}
	dh3, err := x25519(ek, their.SignedPreKey.Key)
	if err != nil {
		return nil, InitialHeader{}, fmt.Errorf("protocol: initiate: DH3: %w", err)
	}
	dhs := [][]byte{dh1, dh2, dh3}
	h := InitialHeader{Identity: our.Public(), Ephemeral: pub32(ek), SignedPreKeyID: their.SignedPreKey.ID}
	if opk := their.OneTimePreKey; opk != nil {
		dh4, err := x25519(ek, opk.Key)
		if err != nil {
			return nil, InitialHeader{}, fmt.Errorf("protocol: initiate: DH4: %w", err)
		}
		dhs = append(dhs, dh4)
		h.HasOneTimePreKey, h.OneTimePreKeyID = true, opk.ID
	}
	sk := x3dhSecret(dhs...)
	s, err := newInitiatorSession(sk, associatedData(h.Identity, their.Identity), their.SignedPreKey.Key, rand)
	if err != nil {
		return nil, InitialHeader{}, err
	}
	return s, h, nil
}

// Respond completes the agreement on the responder's side from the
// initiator's header. opk is the one-time prekey the header names, or nil if
// it names none; a mismatch with spk or opk is ErrPreKeyMismatch. The
// responder should delete opk only after the first message decrypts with the
// returned session. rand is kept by the session for later ratchet keys.
func Respond(our *IdentityKey, spk *SignedPreKey, opk *OneTimePreKey, h InitialHeader, rand io.Reader) (*Session, error) {
	if h.SignedPreKeyID != spk.ID {
		return nil, fmt.Errorf("protocol: respond: signed prekey %d, have %d: %w", h.SignedPreKeyID, spk.ID, ErrPreKeyMismatch)
	}
	switch {
	case h.HasOneTimePreKey && opk == nil:
		return nil, fmt.Errorf("protocol: respond: one-time prekey %d not held: %w", h.OneTimePreKeyID, ErrPreKeyMismatch)
	case !h.HasOneTimePreKey && opk != nil:
		return nil, fmt.Errorf("protocol: respond: header names no one-time prekey: %w", ErrPreKeyMismatch)
	case h.HasOneTimePreKey && h.OneTimePreKeyID != opk.ID:
		return nil, fmt.Errorf("protocol: respond: one-time prekey %d, have %d: %w", h.OneTimePreKeyID, opk.ID, ErrPreKeyMismatch)
	}
	dh1, err := x25519(spk.Key, h.Identity.DH)
	if err != nil {
		return nil, fmt.Errorf("protocol: respond: initiator identity: %w", err)
	}
	dh2, err := x25519(our.DH, h.Ephemeral)
	if err != nil {
		return nil, fmt.Errorf("protocol: respond: ephemeral: %w", err)
	}
	dh3, err := x25519(spk.Key, h.Ephemeral)
	if err != nil {
		return nil, fmt.Errorf("protocol: respond: ephemeral: %w", err)
	}
	dhs := [][]byte{dh1, dh2, dh3}
	if opk != nil {
		dh4, err := x25519(opk.Key, h.Ephemeral)
		if err != nil {
			return nil, fmt.Errorf("protocol: respond: ephemeral: %w", err)
		}
		dhs = append(dhs, dh4)
	}
	sk := x3dhSecret(dhs...)
	return newResponderSession(sk, associatedData(h.Identity, our.Public()), spk.Key, rand), nil
}
