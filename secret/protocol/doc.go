// Package protocol implements the kurir secret chat protocol, version 1:
// an X3DH-style key agreement and a Double Ratchet (after Signal's published
// specifications) on X25519, Ed25519, HKDF-SHA256, HMAC-SHA256 and
// AES-256-GCM, the primitives both Go's standard library and browser
// WebCrypto provide. The byte-exact specification is docs/secret-chats.md;
// testdata/vectors.json holds the test vectors another implementation must
// reproduce.
//
// The package does no I/O and holds no global state. A Session is one
// device's half of a conversation with one other device; it is not safe for
// concurrent use.
package protocol
