package device

import (
	"fmt"

	"kurir/secret/protocol"
)

// Envelope body types: the first byte of a Body's encoding.
const (
	bodyPreKey  = 0x01 // initial header, then a ratchet message
	bodySession = 0x02 // a ratchet message
)

// Sizes of an encoded initial header (protocol, version 1) without and
// with a one-time prekey, and the offset of its one-time prekey flag.
const (
	initialHeaderSize    = 102
	initialHeaderOPKSize = 106
	initialHeaderFlagAt  = 101
)

// Body is an envelope body, the opaque bytes the server relays: a ratchet
// message and, in a prekey envelope, the initial header the recipient
// needs to start the session.
type Body struct {
	// Initial is set in a prekey envelope, which the initiator of a session
	// sends until it has decrypted a reply; nil in a session envelope.
	Initial *protocol.InitialHeader
	Message protocol.Message
}

// MarshalBinary encodes the body:
//
//	0x01 || initial header (102 or 106 bytes) || ratchet message   (prekey envelope)
//	0x02 || ratchet message                                          (session envelope)
func (b Body) MarshalBinary() ([]byte, error) {
	msg, err := b.Message.MarshalBinary()
	if err != nil {
		return nil, err
	}
	if b.Initial == nil {
		return append([]byte{bodySession}, msg...), nil
	}
	h, err := b.Initial.MarshalBinary()
	if err != nil {
		return nil, err
	}
	out := make([]byte, 0, 1+len(h)+len(msg))
	out = append(out, bodyPreKey)
	out = append(out, h...)
	return append(out, msg...), nil
}

// UnmarshalBinary decodes a body written by MarshalBinary, rejecting an
// unknown type, a bad initial header or a bad ratchet message with an
// error wrapping protocol.ErrMalformed; b is unchanged on error.
func (b *Body) UnmarshalBinary(data []byte) error {
	if len(data) == 0 {
		return fmt.Errorf("device: envelope body: empty: %w", protocol.ErrMalformed)
	}
	var nb Body
	rest := data[1:]
	switch data[0] {
	case bodySession:
	case bodyPreKey:
		if len(rest) <= initialHeaderFlagAt {
			return fmt.Errorf("device: envelope body: %d bytes: %w", len(data), protocol.ErrMalformed)
		}
		n := initialHeaderSize
		if rest[initialHeaderFlagAt] == 1 {
			n = initialHeaderOPKSize
		}
		if len(rest) < n {
			return fmt.Errorf("device: envelope body: %d bytes: %w", len(data), protocol.ErrMalformed)
		}
		var h protocol.InitialHeader
		if err := h.UnmarshalBinary(rest[:n]); err != nil {
			return fmt.Errorf("device: envelope body: %w", err)
		}
		nb.Initial, rest = &h, rest[n:]
	default:
		return fmt.Errorf("device: envelope body: type %d: %w", data[0], protocol.ErrMalformed)
	}
	if err := nb.Message.UnmarshalBinary(rest); err != nil {
		return fmt.Errorf("device: envelope body: %w", err)
	}
	*b = nb
	return nil
}
