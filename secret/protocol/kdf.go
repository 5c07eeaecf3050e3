package protocol

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdh"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha256"
	"fmt"
	"io"
)

// The HKDF info strings, ASCII, no terminator. They are part of the wire
// protocol: changing one is a new protocol version.
const (
	infoX3DH        = "kurir secret chat v1 X3DH"
	infoRatchet     = "kurir secret chat v1 ratchet"
	infoMessageKeys = "kurir secret chat v1 message keys"
	// signedPreKeyPrefix starts the message an identity signs to vouch for
	// its signed prekey.
	signedPreKeyPrefix = "kurir secret chat v1 signed prekey"
)

// zeroSalt is the HKDF salt used where the specification has none: 32 zero
// bytes (what RFC 5869 substitutes for an absent salt; WebCrypto needs it
// spelled out).
var zeroSalt = make([]byte, sha256.Size)

// hkdfSHA256 returns n bytes of HKDF-SHA256(salt, ikm, info).
func hkdfSHA256(salt, ikm []byte, info string, n int) []byte {
	out, err := hkdf.Key(sha256.New, ikm, salt, info, n)
	if err != nil {
		// Only possible for n > 255*32, which no caller asks for.
		panic("protocol: hkdf: " + err.Error())
	}
	return out
}

// kdfRK is the root-key KDF: HKDF-SHA256(salt = rk, ikm = dhOut, info =
// infoRatchet) → 64 bytes: new root key, then new chain key.
func kdfRK(rk [32]byte, dhOut []byte) (newRK, ck [32]byte) {
	out := hkdfSHA256(rk[:], dhOut, infoRatchet, 64)
	copy(newRK[:], out[:32])
	copy(ck[:], out[32:])
	return newRK, ck
}

// kdfCK is the chain-key KDF: message key = HMAC-SHA256(ck, 0x01), next
// chain key = HMAC-SHA256(ck, 0x02).
func kdfCK(ck [32]byte) (next, mk [32]byte) {
	m := hmac.New(sha256.New, ck[:])
	m.Write([]byte{0x01})
	m.Sum(mk[:0])
	m.Reset()
	m.Write([]byte{0x02})
	m.Sum(next[:0])
	return next, mk
}

// messageAEAD expands a message key into an AES-256-GCM instance and its
// 12-byte nonce: HKDF-SHA256(salt = 32 zero bytes, ikm = mk, info =
// infoMessageKeys) → 44 bytes, key = [0:32], nonce = [32:44]. Each message
// key encrypts exactly one message, so a derived nonce is never reused.
func messageAEAD(mk [32]byte) (cipher.AEAD, []byte) {
	out := hkdfSHA256(zeroSalt, mk[:], infoMessageKeys, 44)
	block, err := aes.NewCipher(out[:32])
	if err != nil {
		panic("protocol: aes: " + err.Error()) // 32-byte key is always valid
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		panic("protocol: gcm: " + err.Error())
	}
	return gcm, out[32:44]
}

// newX25519 reads 32 bytes from rand and uses them as an X25519 private key
// (RFC 7748 clamps them). Reading the bytes ourselves, rather than calling
// GenerateKey, keeps key generation reproducible from a deterministic reader
// for test vectors: since Go 1.26 GenerateKey ignores its reader.
func newX25519(rand io.Reader) (*ecdh.PrivateKey, error) {
	var b [32]byte
	if _, err := io.ReadFull(rand, b[:]); err != nil {
		return nil, fmt.Errorf("protocol: read randomness: %w", err)
	}
	return ecdh.X25519().NewPrivateKey(b[:])
}

// x25519 computes DH(priv, pub). It fails with ErrBadKey when pub is a
// low-order point (crypto/ecdh rejects the all-zero shared secret).
func x25519(priv *ecdh.PrivateKey, pub [32]byte) ([]byte, error) {
	p, err := ecdh.X25519().NewPublicKey(pub[:])
	if err != nil {
		return nil, ErrBadKey
	}
	out, err := priv.ECDH(p)
	if err != nil {
		return nil, ErrBadKey
	}
	return out, nil
}

// lowOrderProbe is a fixed X25519 scalar; clamping makes every scalar a
// multiple of the cofactor 8, so DH with it is all-zero exactly for the
// low-order points. It is a compiled constant, not a secret.
var lowOrderProbe, _ = ecdh.X25519().NewPrivateKey(make([]byte, 32))

// checkX25519 reports ErrBadKey if pub is a low-order point.
func checkX25519(pub [32]byte) error {
	_, err := x25519(lowOrderProbe, pub)
	return err
}

func pub32(k *ecdh.PrivateKey) (p [32]byte) {
	copy(p[:], k.PublicKey().Bytes())
	return p
}
