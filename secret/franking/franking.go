// Package franking makes abuse reports from secret chats verifiable: a
// recipient can prove to the server what a sender sent, although the server
// relayed only ciphertext, and nobody can forge such a proof.
//
// The scheme is Facebook Messenger's message franking as formalised by Grubbs,
// Lu and Ristenpart ("Message Franking via Committing Authenticated
// Encryption", CRYPTO 2017), built only on HMAC-SHA256 so that browsers can run
// it with WebCrypto:
//
//  1. The sender draws a fresh 32-byte franking key Kf for every message
//     ([NewKey]), puts Kf inside the end-to-end encrypted payload, and sends
//     the commitment c = [Commit](Kf, plaintext) in the clear next to the
//     ciphertext. HMAC with a fresh key is a commitment: binding because
//     SHA-256 is collision resistant, hiding because HMAC is a PRF.
//  2. The server, relaying the envelope, computes a tag t = [Stamper.Stamp](c,
//     context) with its own secret and delivers (c, t, timestamp) with the
//     ciphertext. The tag binds c to who sent it, to whom, when, and in which
//     envelope; the server stores nothing.
//  3. The recipient decrypts, then checks [Open](Kf, plaintext, c) and drops
//     the message if it fails, so they never see a message they could not
//     report. (The AEAD that protects the payload is not committing — an
//     AES-GCM ciphertext can decrypt to two plaintexts under two keys — which
//     is why the commitment is computed over the plaintext, never trusted
//     from the cipher.)
//  4. To report, the recipient reveals a [Report]: plaintext, Kf, c, t and the
//     context. [Stamper.Verify] checks that c opens to the plaintext and that
//     t is the server's tag for c in exactly that context.
//
// # Encodings
//
// All integers are big-endian. lp(x) is the 8-byte unsigned length of x
// followed by x (in JavaScript: DataView.setBigUint64(offset, BigInt(n))).
// i64(x) is x as an 8-byte two's-complement integer (DataView.setBigInt64).
// Labels are ASCII.
//
// Commitment (32 bytes):
//
//	c = HMAC-SHA256(key = Kf,
//	                msg = lp("kurir franking v1 commit") || lp(plaintext))
//
// The plaintext is exactly the bytes the recipient displays (the decrypted
// message body), not including Kf.
//
// Tag (33 bytes): one key-ID byte, then the MAC:
//
//	t = id || HMAC-SHA256(key = Ks[id],
//	                      msg = lp("kurir franking v1 tag") || id || c ||
//	                            i64(sender) || i64(senderDevice) ||
//	                            i64(recipient) || i64(recipientDevice) ||
//	                            i64(at in microseconds since the Unix epoch) ||
//	                            lp(UTF-8 bytes of the envelope ID))
//
// The key ID lets the server rotate its secret: a [Stamper] stamps with its
// current key and verifies with any key it still holds, so reports of older
// messages verify until the operator drops the key they were stamped with.
//
// A report travels as JSON (see [Report.MarshalJSON]); byte strings are
// standard base64 with padding (RFC 4648 section 4) and at_us is microseconds
// since the Unix epoch. testdata/vectors.json holds test vectors for the
// commitment, the tag and the report encoding.
package franking

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"kurir"
)

// KeySize is the size of a franking key in bytes.
const KeySize = 32

// CommitmentSize is the size of a commitment in bytes.
const CommitmentSize = sha256.Size

const commitLabel = "kurir franking v1 commit"

// Key is a franking key: fresh for every message, sent to the recipient only
// inside the end-to-end encrypted payload, and revealed to the server only in
// a report.
type Key [KeySize]byte

// Commitment is the sender's commitment to a plaintext, sent in the clear.
type Commitment [CommitmentSize]byte

// The causes of a rejected report or commitment. Errors returned by this
// package are *kurir.Error values whose chain contains one of these, so
// callers test with errors.Is.
var (
	// ErrBadCommitment: the commitment does not open to the plaintext under
	// the franking key.
	ErrBadCommitment = errors.New("franking commitment does not match the plaintext and key")
	// ErrBadTag: the tag is malformed or was not made by this server for this
	// commitment in this context.
	ErrBadTag = errors.New("franking tag is not the server's tag for this message")
	// ErrUnknownKey: the tag names a server key this server no longer holds
	// (or never held).
	ErrUnknownKey = errors.New("franking tag was made with a server key that is not held")
	// ErrMalformed: an encoded report could not be decoded.
	ErrMalformed = errors.New("malformed franking report")
)

// NewKey returns a fresh franking key read from rand, which should be
// crypto/rand.Reader outside tests.
func NewKey(rand io.Reader) (Key, error) {
	var k Key
	if _, err := io.ReadFull(rand, k[:]); err != nil {
		return Key{}, fmt.Errorf("franking: new key: %w", err)
	}
	return k, nil
}

// Commit returns the commitment to plaintext under key. It is deterministic:
// the same key and plaintext always give the same commitment.
func Commit(key Key, plaintext []byte) Commitment {
	mac := hmac.New(sha256.New, key[:])
	var hdr [8 + len(commitLabel) + 8]byte
	b := appendLP(hdr[:0], []byte(commitLabel))
	b = binary.BigEndian.AppendUint64(b, uint64(len(plaintext)))
	mac.Write(b)
	mac.Write(plaintext)
	var c Commitment
	mac.Sum(c[:0])
	return c
}

// Open reports whether c is the commitment to plaintext under key, comparing
// in constant time. It returns nil or an error wrapping [ErrBadCommitment].
// A recipient calls it after decrypting and discards the message on error.
func Open(key Key, plaintext []byte, c Commitment) error {
	want := Commit(key, plaintext)
	if !hmac.Equal(want[:], c[:]) {
		return &kurir.Error{
			Code:    kurir.EInvalid,
			Reason:  "franking_bad_commitment",
			Message: "the message does not match its franking commitment",
			Err:     ErrBadCommitment,
		}
	}
	return nil
}

// appendLP appends the 8-byte big-endian length of x and then x.
func appendLP(b, x []byte) []byte {
	b = binary.BigEndian.AppendUint64(b, uint64(len(x)))
	return append(b, x...)
}
