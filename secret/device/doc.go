// Package device is one device's side of kurir's secret chats: its keys,
// its sessions with other devices, and the formats the Go SDK and the web
// client share above the protocol (the payload inside the ciphertext and
// the envelope body the server relays). It does no I/O except in
// FileStore, and holds no global state.
//
// A State is everything a device must keep to take part: its identity key,
// its current signed prekey and the previous ones it still accepts (so
// initial messages in flight when it rotated still decrypt), the private
// halves of its one-time prekeys until each is used, a Double Ratchet
// session per peer device, the IDs of envelopes already processed (so a
// redelivered envelope is never shown twice), and an inbox of decrypted
// messages not yet handed to the application. The whole state marshals to
// bytes (see MarshalBinary; the format is in docs/secret-chats.md); those
// bytes hold private keys. FileStore keeps them in a file, replaced
// atomically and readable by its owner only.
//
// The encodings are byte-exact contracts with the web client:
// testdata/payload-vectors.json holds test vectors for the payload and the
// envelope body, and docs/secret-chats.md describes them.
//
// A State is not safe for concurrent use; its owner serialises calls and
// persists the state after every call that changes it, before anything it
// produced leaves the device (an encrypted envelope, an acknowledgement).
package device
