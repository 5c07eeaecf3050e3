package protocol

import (
	"crypto/ecdh"
	"crypto/ed25519"
	"encoding/binary"
	"fmt"
	"io"
)

// IdentityKey is a device's long-term identity: an X25519 key for the X3DH
// agreement and a separate Ed25519 key that signs prekeys (WebCrypto has no
// XEdDSA, so one key cannot do both). It never leaves the device.
type IdentityKey struct {
	DH   *ecdh.PrivateKey   // X25519
	Sign ed25519.PrivateKey // Ed25519
}

// PublicIdentity is the public half of an IdentityKey: the raw 32-byte
// X25519 public key and the raw 32-byte Ed25519 public key.
type PublicIdentity struct {
	DH   [32]byte
	Sign [32]byte
}

// NewIdentityKey reads 64 bytes from rand: the X25519 private key (32
// bytes), then the Ed25519 seed (32 bytes).
func NewIdentityKey(rand io.Reader) (*IdentityKey, error) {
	dh, err := newX25519(rand)
	if err != nil {
		return nil, err
	}
	seed := make([]byte, ed25519.SeedSize)
	if _, err := io.ReadFull(rand, seed); err != nil {
		return nil, fmt.Errorf("protocol: read randomness: %w", err)
	}
	return &IdentityKey{DH: dh, Sign: ed25519.NewKeyFromSeed(seed)}, nil
}

// Public returns the identity's public keys.
func (k *IdentityKey) Public() PublicIdentity {
	var p PublicIdentity
	copy(p.DH[:], k.DH.PublicKey().Bytes())
	copy(p.Sign[:], k.Sign.Public().(ed25519.PublicKey))
	return p
}

// PreKey is the public form of a prekey: its ID and raw X25519 public key.
type PreKey struct {
	ID  uint32
	Key [32]byte
}

// SignedPreKey is a medium-term X25519 prekey with its ID and the identity's
// Ed25519 signature over signedPreKeyMessage.
type SignedPreKey struct {
	ID        uint32
	Key       *ecdh.PrivateKey
	Signature [64]byte
}

// NewSignedPreKey reads a 32-byte X25519 private key from rand and signs it
// with identity's signing key.
func NewSignedPreKey(id uint32, identity *IdentityKey, rand io.Reader) (*SignedPreKey, error) {
	key, err := newX25519(rand)
	if err != nil {
		return nil, err
	}
	spk := &SignedPreKey{ID: id, Key: key}
	msg := signedPreKeyMessage(identity.Public().DH, spk.Public())
	copy(spk.Signature[:], ed25519.Sign(identity.Sign, msg))
	return spk, nil
}

// Public returns the signed prekey's ID and public key.
func (k *SignedPreKey) Public() PreKey { return PreKey{ID: k.ID, Key: pub32(k.Key)} }

// OneTimePreKey is a single-use X25519 prekey. The responder deletes it as
// soon as the first message of the session it was used for decrypts.
type OneTimePreKey struct {
	ID  uint32
	Key *ecdh.PrivateKey
}

// NewOneTimePreKey reads a 32-byte X25519 private key from rand.
func NewOneTimePreKey(id uint32, rand io.Reader) (*OneTimePreKey, error) {
	key, err := newX25519(rand)
	if err != nil {
		return nil, err
	}
	return &OneTimePreKey{ID: id, Key: key}, nil
}

// Public returns the one-time prekey's ID and public key.
func (k *OneTimePreKey) Public() PreKey { return PreKey{ID: k.ID, Key: pub32(k.Key)} }

// signedPreKeyMessage is what the identity signing key signs:
// ASCII signedPreKeyPrefix || identity X25519 public (32) || prekey ID
// (uint32 big-endian) || prekey X25519 public (32). Binding the identity's
// X25519 key makes the Ed25519 key vouch for it too.
func signedPreKeyMessage(identityDH [32]byte, spk PreKey) []byte {
	b := make([]byte, 0, len(signedPreKeyPrefix)+32+4+32)
	b = append(b, signedPreKeyPrefix...)
	b = append(b, identityDH[:]...)
	b = binary.BigEndian.AppendUint32(b, spk.ID)
	return append(b, spk.Key[:]...)
}
