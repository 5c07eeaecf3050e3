package protocol

import (
	"crypto/ed25519"
	"encoding/binary"
	"fmt"
)

// bundleVersion is the first byte of an encoded Bundle.
const bundleVersion = 1

// Encoded bundle sizes: without and with a one-time prekey.
const (
	bundleSizeNoOPK = 1 + 32 + 32 + 4 + 32 + 64 + 1
	bundleSizeOPK   = bundleSizeNoOPK + 4 + 32
)

// Bundle is what the server's key directory hands out for one device: its
// public identity, its signed prekey and signature, and at most one
// one-time prekey (nil when the device has run out).
type Bundle struct {
	Identity              PublicIdentity
	SignedPreKey          PreKey
	SignedPreKeySignature [64]byte
	OneTimePreKey         *PreKey
}

// NewBundle assembles the bundle a device publishes for one claim.
// opk may be nil.
func NewBundle(identity *IdentityKey, spk *SignedPreKey, opk *OneTimePreKey) Bundle {
	b := Bundle{Identity: identity.Public(), SignedPreKey: spk.Public(), SignedPreKeySignature: spk.Signature}
	if opk != nil {
		p := opk.Public()
		b.OneTimePreKey = &p
	}
	return b
}

// Verify checks the bundle before anyone encrypts to it: the signed
// prekey's signature verifies under the identity signing key, and no X25519
// key is a low-order point. It returns ErrBadSignature or ErrBadKey wrapped
// with the field at fault.
func (b *Bundle) Verify() error {
	msg := signedPreKeyMessage(b.Identity.DH, b.SignedPreKey)
	if !ed25519.Verify(ed25519.PublicKey(b.Identity.Sign[:]), msg, b.SignedPreKeySignature[:]) {
		return fmt.Errorf("protocol: bundle: signed prekey %d: %w", b.SignedPreKey.ID, ErrBadSignature)
	}
	if err := checkX25519(b.Identity.DH); err != nil {
		return fmt.Errorf("protocol: bundle: identity key: %w", err)
	}
	if err := checkX25519(b.SignedPreKey.Key); err != nil {
		return fmt.Errorf("protocol: bundle: signed prekey: %w", err)
	}
	if b.OneTimePreKey != nil {
		if err := checkX25519(b.OneTimePreKey.Key); err != nil {
			return fmt.Errorf("protocol: bundle: one-time prekey: %w", err)
		}
	}
	return nil
}

// MarshalBinary encodes the bundle (version 1):
//
//	0x01 || identity X25519 (32) || identity Ed25519 (32) ||
//	signed prekey ID (u32 BE) || signed prekey (32) || signature (64) ||
//	0x00                                  (no one-time prekey; 166 bytes)
//	0x01 || one-time prekey ID (u32 BE) || one-time prekey (32)   (202 bytes)
func (b Bundle) MarshalBinary() ([]byte, error) {
	out := make([]byte, 0, bundleSizeOPK)
	out = append(out, bundleVersion)
	out = append(out, b.Identity.DH[:]...)
	out = append(out, b.Identity.Sign[:]...)
	out = binary.BigEndian.AppendUint32(out, b.SignedPreKey.ID)
	out = append(out, b.SignedPreKey.Key[:]...)
	out = append(out, b.SignedPreKeySignature[:]...)
	if b.OneTimePreKey == nil {
		return append(out, 0), nil
	}
	out = append(out, 1)
	out = binary.BigEndian.AppendUint32(out, b.OneTimePreKey.ID)
	return append(out, b.OneTimePreKey.Key[:]...), nil
}

// UnmarshalBinary decodes a bundle written by MarshalBinary. It rejects any
// other length, version or flag with ErrMalformed and leaves b unchanged on
// error. It does not verify the signature: call Verify (Initiate does).
func (b *Bundle) UnmarshalBinary(data []byte) error {
	if len(data) != bundleSizeNoOPK && len(data) != bundleSizeOPK {
		return fmt.Errorf("protocol: bundle: %d bytes, want %d or %d: %w", len(data), bundleSizeNoOPK, bundleSizeOPK, ErrMalformed)
	}
	if data[0] != bundleVersion {
		return fmt.Errorf("protocol: bundle: version %d: %w", data[0], ErrMalformed)
	}
	var nb Bundle
	r := reader{b: data[1:]}
	r.copy(nb.Identity.DH[:])
	r.copy(nb.Identity.Sign[:])
	nb.SignedPreKey.ID = r.u32()
	r.copy(nb.SignedPreKey.Key[:])
	r.copy(nb.SignedPreKeySignature[:])
	switch flag := r.byte(); {
	case flag == 0 && len(data) == bundleSizeNoOPK:
	case flag == 1 && len(data) == bundleSizeOPK:
		opk := &PreKey{ID: r.u32()}
		r.copy(opk.Key[:])
		nb.OneTimePreKey = opk
	default:
		return fmt.Errorf("protocol: bundle: one-time prekey flag %d with %d bytes: %w", flag, len(data), ErrMalformed)
	}
	*b = nb
	return nil
}

// reader reads fixed-size fields from a buffer whose length the caller has
// already checked; it panics on overrun, which would be a bug in the caller.
type reader struct{ b []byte }

func (r *reader) copy(dst []byte) { r.b = r.b[copy(dst, r.b[:len(dst)]):] }
func (r *reader) byte() byte      { c := r.b[0]; r.b = r.b[1:]; return c }
func (r *reader) u32() uint32 {
	v := binary.BigEndian.Uint32(r.b[:4])
	r.b = r.b[4:]
	return v
}
