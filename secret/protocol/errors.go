package protocol

import "kurir"

// The errors the protocol returns. Each is a *kurir.Error with a stable
// Reason; callers match them with errors.Is and the HTTP layer maps the Code.
// They are wrapped with the operation that failed, so err.Error() says where.
var (
	// ErrMalformed: an encoding (bundle, header, message, state) has the
	// wrong length, an unknown version or flag, or trailing bytes.
	ErrMalformed = &kurir.Error{Code: kurir.EInvalid, Reason: "secret_malformed", Message: "malformed secret chat data"}
	// ErrBadSignature: a signed prekey's signature does not verify under the
	// identity signing key.
	ErrBadSignature = &kurir.Error{Code: kurir.EInvalid, Reason: "secret_bad_signature", Message: "signed prekey signature does not verify"}
	// ErrBadKey: a public key is not usable: a low-order X25519 point (the
	// shared secret would be all zeros) or an invalid Ed25519 key.
	ErrBadKey = &kurir.Error{Code: kurir.EInvalid, Reason: "secret_bad_key", Message: "unusable public key"}
	// ErrPreKeyMismatch: an initial header names a prekey the responder
	// does not hold (already used, rotated, or never issued).
	ErrPreKeyMismatch = &kurir.Error{Code: kurir.EConflict, Reason: "secret_prekey_mismatch", Message: "initial message names a prekey this device does not hold"}
	// ErrNoSendingChain: the responder tried to send before receiving the
	// initiator's first message.
	ErrNoSendingChain = &kurir.Error{Code: kurir.EConflict, Reason: "secret_no_sending_chain", Message: "cannot send before the first message from the other side has been received"}
	// ErrTooManySkipped: a message claims to be more than MaxSkip messages
	// ahead in its chain.
	ErrTooManySkipped = &kurir.Error{Code: kurir.EInvalid, Reason: "secret_too_many_skipped", Message: "message is too far ahead of its chain (more than MaxSkip messages skipped)"}
	// ErrReplay: the message's key was already used (or discarded); a
	// replayed or very old message.
	ErrReplay = &kurir.Error{Code: kurir.EConflict, Reason: "secret_replay", Message: "message was already decrypted or its key was discarded"}
	// ErrDecrypt: authentication failed: wrong key, tampered ciphertext,
	// header or associated data.
	ErrDecrypt = &kurir.Error{Code: kurir.EInvalid, Reason: "secret_decrypt_failed", Message: "message failed authentication"}
	// ErrTooLarge: a plaintext is larger than MaxPlaintextSize.
	ErrTooLarge = &kurir.Error{Code: kurir.EInvalid, Reason: "secret_too_large", Message: "message is too large"}
	// ErrExhausted: a chain's message counter would overflow; start a new
	// session.
	ErrExhausted = &kurir.Error{Code: kurir.EConflict, Reason: "secret_counter_exhausted", Message: "session message counter exhausted"}
)
