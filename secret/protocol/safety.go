package protocol

import (
	"crypto/sha512"
	"encoding/binary"
	"fmt"
	"strings"
)

// Safety number parameters (see docs/secret-chats.md).
const (
	safetyVersion    = 1
	safetyIterations = 5200
)

// SafetyNumber returns the 60-digit number two people compare to check that
// their devices hold each other's real identity keys, as 12 groups of 5
// digits separated by single spaces. Both sides compute the same string:
// each identity yields 30 digits and the two halves are joined in ascending
// order. ourID and theirID are the stable account identifiers the identity
// keys belong to.
func SafetyNumber(ourID string, ourIdentity PublicIdentity, theirID string, theirIdentity PublicIdentity) string {
	a := fingerprintDigits(ourID, ourIdentity)
	b := fingerprintDigits(theirID, theirIdentity)
	if b < a {
		a, b = b, a
	}
	all := a + b
	groups := make([]string, 0, 12)
	for i := 0; i < len(all); i += 5 {
		groups = append(groups, all[i:i+5])
	}
	return strings.Join(groups, " ")
}

// fingerprintDigits is one identity's 30 digits:
//
//	h = SHA-512(version (u16 BE = 1) || X25519 public || Ed25519 public ||
//	            len(id) (u32 BE) || id)
//	5200 times: h = SHA-512(h || X25519 public || Ed25519 public)
//
// then the first 30 bytes of h as six 5-byte big-endian integers, each
// mod 100000, written as 5 zero-padded decimal digits.
func fingerprintDigits(id string, k PublicIdentity) string {
	b := binary.BigEndian.AppendUint16(nil, safetyVersion)
	b = append(b, k.DH[:]...)
	b = append(b, k.Sign[:]...)
	b = binary.BigEndian.AppendUint32(b, uint32(len(id)))
	b = append(b, id...)
	h := sha512.Sum512(b)
	buf := make([]byte, 0, sha512.Size+64)
	for range safetyIterations {
		buf = append(buf[:0], h[:]...)
		buf = append(buf, k.DH[:]...)
		buf = append(buf, k.Sign[:]...)
		h = sha512.Sum512(buf)
	}
	var sb strings.Builder
	for i := 0; i < 30; i += 5 {
		var v uint64
		for _, c := range h[i : i+5] {
			v = v<<8 | uint64(c)
		}
		fmt.Fprintf(&sb, "%05d", v%100000)
	}
	return sb.String()
}
