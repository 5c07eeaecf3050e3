package device

import "kurir"

// The errors the package returns, each a *kurir.Error with a stable Reason;
// callers match them with errors.Is. Errors of the protocol
// (protocol.ErrReplay, protocol.ErrDecrypt, protocol.ErrPreKeyMismatch,
// protocol.ErrMalformed, ...) and of franking pass through wrapped.
var (
	// ErrBadPayload: a payload is not a version 1 text payload: too short,
	// another version or kind, text that is not UTF-8 or too long, a timer
	// or time out of range.
	ErrBadPayload = &kurir.Error{Code: kurir.EInvalid, Reason: "secret_bad_payload", Message: "malformed secret chat payload"}
	// ErrBadState: persisted state bytes cannot be decoded: damaged,
	// truncated, or written by a newer version.
	ErrBadState = &kurir.Error{Code: kurir.EInvalid, Reason: "secret_bad_state", Message: "secret chat state cannot be read"}
	// ErrNoSession: there is no session with the peer device, and the
	// envelope or the call needs one.
	ErrNoSession = &kurir.Error{Code: kurir.EConflict, Reason: "secret_no_session", Message: "no secret chat session with this device"}
	// ErrDuplicate: an envelope with this ID was already processed; its
	// message (if it had one) was already delivered.
	ErrDuplicate = &kurir.Error{Code: kurir.EConflict, Reason: "secret_duplicate", Message: "envelope already processed"}
	// ErrTextTooLong: a text has more than MaxTextLength characters.
	ErrTextTooLong = &kurir.Error{Code: kurir.EInvalid, Reason: "secret_text_too_long", Message: "secret chat message is too long"}
)
