package device

import (
	"encoding/binary"
	"fmt"
	"math"
	"time"
	"unicode/utf8"

	"kurir/secret/franking"
)

// Payload format (version 1), the Double Ratchet plaintext; see
// docs/secret-chats.md, "Payload and envelopes (version 1)".
const (
	payloadVersion = 1
	// KindText is the kind of a text message, the only kind of version 1.
	KindText = 1
	// PayloadHeaderSize is the size of a payload with an empty text:
	// version, kind, franking key, timer and time.
	PayloadHeaderSize = 1 + 1 + franking.KeySize + 4 + 8
	// MaxTextLength is the most characters (Unicode code points, not bytes
	// and not UTF-16 units) a text may have.
	MaxTextLength = 4096
	// MaxExpire is the longest self-destruct timer a payload can carry.
	MaxExpire = math.MaxUint32 * time.Second
)

// Payload is what a secret chat message carries inside the encryption: its
// text, the fresh franking key the sender committed to it with, the
// self-destruct timer and the sender's clock when it was sent.
type Payload struct {
	// Kind is KindText.
	Kind byte
	// FrankingKey is the key of the commitment sent in the clear.
	FrankingKey franking.Key
	// Expire is the self-destruct timer, in whole seconds; 0 is none.
	Expire time.Duration
	// SentAt is the sender's clock, to the millisecond, at or after the
	// Unix epoch.
	SentAt time.Time
	// Text is UTF-8, at most MaxTextLength characters.
	Text string
}

// MarshalBinary encodes the payload (version 1, integers big-endian):
//
//	0x01 || kind (1) || franking key (32) || expire seconds (u32) ||
//	sent at, milliseconds since the Unix epoch (u64) || text (the rest)
//
// It refuses, with ErrBadPayload, another kind, a timer that is negative,
// not whole seconds or over MaxExpire, a time before the epoch and text
// that is not UTF-8; and text over MaxTextLength with ErrTextTooLong.
func (p Payload) MarshalBinary() ([]byte, error) {
	if err := p.check(); err != nil {
		return nil, err
	}
	b := make([]byte, 0, PayloadHeaderSize+len(p.Text))
	b = append(b, payloadVersion, p.Kind)
	b = append(b, p.FrankingKey[:]...)
	b = binary.BigEndian.AppendUint32(b, uint32(p.Expire/time.Second))
	b = binary.BigEndian.AppendUint64(b, uint64(p.SentAt.UnixMilli()))
	return append(b, p.Text...), nil
}

func (p Payload) check() error {
	switch {
	case p.Kind != KindText:
		return fmt.Errorf("device: payload: kind %d: %w", p.Kind, ErrBadPayload)
	case p.Expire < 0 || p.Expire > MaxExpire || p.Expire%time.Second != 0:
		return fmt.Errorf("device: payload: timer %v is not a whole number of seconds from 0 to %d: %w", p.Expire, uint32(math.MaxUint32), ErrBadPayload)
	case p.SentAt.UnixMilli() < 0:
		return fmt.Errorf("device: payload: time %v is before 1970: %w", p.SentAt, ErrBadPayload)
	case !utf8.ValidString(p.Text):
		return fmt.Errorf("device: payload: text is not UTF-8: %w", ErrBadPayload)
	}
	if n := utf8.RuneCountInString(p.Text); n > MaxTextLength {
		return fmt.Errorf("device: payload: %d characters, at most %d: %w", n, MaxTextLength, ErrTextTooLong)
	}
	return nil
}

// UnmarshalBinary decodes a payload written by MarshalBinary. It rejects
// with ErrBadPayload fewer than PayloadHeaderSize bytes, another version
// or kind, a time that does not fit a signed 64-bit count of milliseconds,
// and text that is not UTF-8 or has more than MaxTextLength characters; p
// is unchanged on error. Every payload it accepts re-encodes to the same
// bytes.
func (p *Payload) UnmarshalBinary(data []byte) error {
	if len(data) < PayloadHeaderSize {
		return fmt.Errorf("device: payload: %d bytes, at least %d: %w", len(data), PayloadHeaderSize, ErrBadPayload)
	}
	if data[0] != payloadVersion {
		return fmt.Errorf("device: payload: version %d: %w", data[0], ErrBadPayload)
	}
	if data[1] != KindText {
		return fmt.Errorf("device: payload: kind %d: %w", data[1], ErrBadPayload)
	}
	var np Payload
	np.Kind = data[1]
	copy(np.FrankingKey[:], data[2:34])
	np.Expire = time.Duration(binary.BigEndian.Uint32(data[34:38])) * time.Second
	ms := binary.BigEndian.Uint64(data[38:46])
	if ms > math.MaxInt64 {
		return fmt.Errorf("device: payload: time %d ms: %w", ms, ErrBadPayload)
	}
	np.SentAt = time.UnixMilli(int64(ms)).UTC()
	text := data[PayloadHeaderSize:]
	if !utf8.Valid(text) {
		return fmt.Errorf("device: payload: text is not UTF-8: %w", ErrBadPayload)
	}
	if n := utf8.RuneCount(text); n > MaxTextLength {
		return fmt.Errorf("device: payload: %d characters, at most %d: %w", n, MaxTextLength, ErrBadPayload)
	}
	np.Text = string(text)
	*p = np
	return nil
}
