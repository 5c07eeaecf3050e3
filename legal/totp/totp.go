// Package totp implements the time-based one-time passwords of RFC 6238 (an
// RFC 4226 HOTP over the 30-second step of the Unix time) as authenticator
// apps use them: HMAC-SHA-1, 6 digits, a 30 s period.
//
// A code proves possession of the key for one step. Verify accepts the
// current step and one step either side for clock skew, and only steps after
// the last one accepted, so that a code seen over a shoulder or in a proxy log
// cannot be used a second time, not even within its own window.
package totp

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"crypto/subtle"
	"encoding/base32"
	"encoding/binary"
	"fmt"
	"net/url"
	"strings"
	"time"
)

const (
	// Digits is the length of a code.
	Digits = 6
	// Period is the time step: a new code every 30 seconds.
	Period = 30 * time.Second
	// KeySize is the length in bytes of the secrets NewKey makes: 160 bits, the
	// size RFC 4226 recommends for HMAC-SHA-1.
	KeySize = 20

	// minKeySize is the 128 bits RFC 4226 section 4 requires; maxKeySize is the
	// HMAC-SHA-1 block, past which a key is hashed down anyway.
	minKeySize = 16
	maxKeySize = 64
	// skew is how many steps either side of the current one Verify accepts.
	skew = 1
)

// encoding is RFC 4648 base32 without padding, the form authenticator apps
// take in a URI and from a person typing.
var encoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// Key is a shared TOTP secret. The zero Key has no secret and must not be used.
type Key struct {
	Secret []byte
}

// NewKey returns a Key of KeySize bytes from crypto/rand.
func NewKey() (Key, error) {
	secret := make([]byte, KeySize)
	if _, err := rand.Read(secret); err != nil {
		return Key{}, fmt.Errorf("totp: new key: %w", err)
	}
	return Key{Secret: secret}, nil
}

// Base32 returns the secret in upper-case RFC 4648 base32 without padding, as
// authenticator apps take it.
func (k Key) Base32() string {
	return encoding.EncodeToString(k.Secret)
}

// ParseKey decodes a base32 secret as a person may type or paste it: spaces,
// tabs and hyphens between groups, lower case and a missing or present "="
// padding are all accepted. Base32 that does not end on a whole byte is
// refused, since it most often means a character was lost. It returns an error that names the problem for
// anything else, and for secrets shorter than the 128 bits RFC 4226 requires
// or longer than 64 bytes.
func ParseKey(s string) (Key, error) {
	if len(s) > 4*maxKeySize {
		return Key{}, fmt.Errorf("totp: the secret is %d characters long; a base32 secret of at most %d bytes has at most %d", len(s), maxKeySize, encoding.EncodedLen(maxKeySize))
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '-':
			continue
		case 'a' <= c && c <= 'z':
			c -= 'a' - 'A'
		case 'A' <= c && c <= 'Z', '2' <= c && c <= '7', c == '=':
		default:
			return Key{}, fmt.Errorf("totp: the secret has %q at byte %d, which is not base32 (letters A to Z and digits 2 to 7; 0, 1, 8 and 9 are never used)", badRune(s[i:]), i)
		}
		b = append(b, c)
	}
	// Padding is only ever at the end; TrimRight leaves any "=" in the middle,
	// which the decoder then reports.
	t := strings.TrimRight(string(b), "=")
	if t == "" {
		return Key{}, fmt.Errorf("totp: the secret is empty")
	}
	secret, err := encoding.DecodeString(t)
	if err != nil {
		// A base32 string of 1, 3 or 6 characters past a multiple of 8 cannot
		// end on a whole byte: a character was lost or added.
		return Key{}, fmt.Errorf("totp: the secret is not valid base32 (a character missing, extra or misplaced?): %w", err)
	}
	if encoding.EncodeToString(secret) != t {
		// The last character carries bits past the last whole byte, which
		// Base32 never writes: most likely a character was lost or added.
		return Key{}, fmt.Errorf("totp: the secret is not valid base32: its last character %q has bits past the last whole byte (a character missing or extra?)", t[len(t)-1:])
	}
	if len(secret) < minKeySize {
		return Key{}, fmt.Errorf("totp: the secret is %d bytes; at least %d (128 bits) are required", len(secret), minKeySize)
	}
	if len(secret) > maxKeySize {
		return Key{}, fmt.Errorf("totp: the secret is %d bytes; at most %d are accepted", len(secret), maxKeySize)
	}
	return Key{Secret: secret}, nil
}

// badRune returns the first character of s for an error message: the whole
// rune when s starts with UTF-8, so that a person sees what they typed.
func badRune(s string) string {
	for _, r := range s {
		return string(r)
	}
	return ""
}

// URI returns the otpauth:// URI that authenticator apps read from a QR code:
//
//	otpauth://totp/ISSUER:ACCOUNT?secret=...&issuer=ISSUER&algorithm=SHA1&digits=6&period=30
//
// Issuer and account are percent-encoded, a space as %20 (some apps show a
// "+" literally) and a colon as %3A so that it cannot be taken for the
// separator; "@" stays as it is, as apps expect in an e-mail address. With an
// empty issuer the label is the account alone and there is no issuer
// parameter.
func (k Key) URI(issuer, account string) string {
	var b strings.Builder
	b.WriteString("otpauth://totp/")
	if issuer != "" {
		b.WriteString(labelEscape(issuer))
		b.WriteByte(':')
	}
	b.WriteString(labelEscape(account))
	b.WriteString("?secret=")
	b.WriteString(k.Base32())
	if issuer != "" {
		b.WriteString("&issuer=")
		b.WriteString(strings.ReplaceAll(url.QueryEscape(issuer), "+", "%20"))
	}
	fmt.Fprintf(&b, "&algorithm=SHA1&digits=%d&period=%d", Digits, int(Period/time.Second))
	return b.String()
}

// labelEscape escapes one side of the label: as a path segment, and a colon
// too, which would otherwise split it.
func labelEscape(s string) string {
	return strings.ReplaceAll(url.PathEscape(s), ":", "%3A")
}

// Step returns the RFC 6238 time step of t: the 30-second periods since the
// Unix epoch, rounded down.
func Step(t time.Time) int64 {
	sec := t.Unix()
	step := sec / int64(Period/time.Second)
	if sec < 0 && sec%int64(Period/time.Second) != 0 {
		step-- // floor, not truncation, before 1970
	}
	return step
}

// Code returns the 6-digit code for the step of t, zero-padded.
func (k Key) Code(t time.Time) string {
	return string(k.hotp(Step(t), Digits))
}

// Verify reports whether code is the code for the step of t or one step
// either side of it, counting only steps greater than lastStep, and returns
// the step it matched. The caller stores that step and passes it as lastStep
// the next time, which refuses the same code (and any earlier one) forever
// after; pass 0 before any code has been accepted.
//
// A code that is not exactly 6 ASCII digits is refused at once. Otherwise
// every candidate step is computed and compared in constant time, and if two
// steps match the code (one chance in a million) the later one is returned,
// so that the code cannot then be replayed against it.
func (k Key) Verify(code string, t time.Time, lastStep int64) (step int64, ok bool) {
	if !wellFormed(code) {
		return 0, false
	}
	now := Step(t)
	found := 0
	for s := now - skew; s <= now+skew; s++ {
		hit := subtle.ConstantTimeCompare(k.hotp(s, Digits), []byte(code))
		if s <= lastStep {
			hit = 0 // already used, or older than a code already used
		}
		found |= hit
		// step = s if hit, without a branch on whether the code matched.
		mask := -int64(hit)
		step = s&mask | step&^mask
	}
	if found == 0 {
		return 0, false
	}
	return step, true
}

// wellFormed reports whether code is exactly Digits ASCII digits.
func wellFormed(code string) bool {
	if len(code) != Digits {
		return false
	}
	for i := 0; i < len(code); i++ {
		if code[i] < '0' || code[i] > '9' {
			return false
		}
	}
	return true
}

// hotp returns the RFC 4226 HOTP value of the counter as digits decimal
// digits, zero-padded. A negative counter is taken as its two's complement,
// which no time after 1970 produces.
func (k Key) hotp(counter int64, digits int) []byte {
	var msg [8]byte
	binary.BigEndian.PutUint64(msg[:], uint64(counter))
	mac := hmac.New(sha1.New, k.Secret)
	mac.Write(msg[:])
	sum := mac.Sum(nil)
	// Dynamic truncation, RFC 4226 section 5.3.
	off := sum[len(sum)-1] & 0x0f
	v := binary.BigEndian.Uint32(sum[off:off+4]) & 0x7fffffff
	out := make([]byte, digits)
	for i := digits - 1; i >= 0; i-- {
		out[i] = byte('0' + v%10)
		v /= 10
	}
	return out
}
