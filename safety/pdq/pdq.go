// Package pdq computes PDQ hashes: Meta's 256-bit perceptual hash of an
// image, made to find copies of a known picture after recompression,
// resizing and small edits, with a quality score that says when a hash is
// worth matching at all.
//
// The steps are those of Meta's reference implementation (C++, in
// facebook/ThreatExchange, pdq/; the algorithm is described in its
// hashing.pdf): the image's luminance, 0.299 R + 0.587 G + 0.114 B; a Jarosz
// tent filter, two passes of a box filter along rows and then columns, each
// box about 1/128 of the image's side; the 64 × 64 samples at the centres of
// a 64 × 64 grid; the 16 × 16 lowest frequencies of their DCT but the
// constant one; and one bit per frequency, set when its coefficient is above
// the median of the 256. Quality counts the strong gradients between
// neighbouring samples.
//
// The arithmetic is float32 in the reference's order, operation by
// operation, so HashLuma gives the reference's hash bit for bit when it is
// given the same luminance. Hashes of files can differ from the reference's
// by as much as the image decoders do: Go's and libjpeg's JPEG decoders round
// differently, which moves a few bits of a photo's hash.
//
// Two hashes match when their Distance is at most MatchDistance. The hashes
// of a picture's rotations and mirror images come from the same DCT, without
// hashing again (Dihedral).
//
// All functions are safe for concurrent use.
package pdq

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math/bits"

	"kurir"
)

const (
	// MatchDistance is the reference's threshold: two hashes whose Distance
	// is at most this are of the same picture.
	MatchDistance = 31
	// MinQuality is the quality below which the reference advises not to
	// match a hash: such images are nearly flat, and flat images all look
	// alike to PDQ.
	MinQuality = 50
)

// Hash is a PDQ hash. Bit k, for k from 0 to 255, is set when the DCT
// coefficient k (row-major in the 16 × 16 block; row k/16 is the vertical
// frequency k/16+1) is above the median. The bytes hold the hash as one
// 256-bit big-endian number with bit k worth 2^k, which is the reference's
// hex format: h[31] holds bits 0 to 7, h[0] bits 248 to 255.
type Hash [32]byte

// String returns the hash as 64 lowercase hex digits, as the reference
// prints it.
func (h Hash) String() string { return hex.EncodeToString(h[:]) }

// MarshalText implements encoding.TextMarshaler with String's format.
func (h Hash) MarshalText() ([]byte, error) { return []byte(h.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler; it accepts what
// ParseHash does.
func (h *Hash) UnmarshalText(text []byte) error {
	p, err := ParseHash(string(text))
	if err != nil {
		return err
	}
	*h = p
	return nil
}

// ParseHash parses a hash in the reference's format: exactly 64 hex digits,
// in either case. Anything else is a *kurir.Error with code kurir.EInvalid.
func ParseHash(s string) (Hash, error) {
	var h Hash
	if len(s) != 2*len(h) {
		return Hash{}, &kurir.Error{Code: kurir.EInvalid, Message: fmt.Sprintf(
			"A PDQ hash is 64 hex digits; this one has %d characters.", len(s))}
	}
	if _, err := hex.Decode(h[:], []byte(s)); err != nil {
		return Hash{}, &kurir.Error{Code: kurir.EInvalid, Err: err, Message: "A PDQ hash is 64 hex digits; this one has other characters."}
	}
	return h, nil
}

// Distance returns the Hamming distance between a and b: the number of bits,
// 0 to 256, in which they differ. Unrelated pictures are about 128 apart.
func Distance(a, b Hash) int {
	n := 0
	for i := 0; i < len(a); i += 8 {
		n += bits.OnesCount64(binary.LittleEndian.Uint64(a[i:]) ^ binary.LittleEndian.Uint64(b[i:]))
	}
	return n
}

// setBit sets bit k, 0 to 255, as the reference numbers them.
func (h *Hash) setBit(k int) { h[31-k>>3] |= 1 << (k & 7) }

// Variant names the entries of the array that Dihedral returns: the hash of
// the image itself and of the seven images made from it by rotation and
// reflection, in the reference's order. A picture uploaded turned or
// mirrored matches one of its original's variants.
type Variant int

// The variants. Rotations are counterclockwise (Rotate90 turns the top
// edge to the left); FlipX turns the image upside down, FlipY mirrors it
// left to right, FlipPlus1 reflects it in the diagonal from the top left
// corner (rows become columns) and FlipMinus1 in the other diagonal. The
// names are the reference's.
const (
	Original Variant = iota
	Rotate90
	Rotate180
	Rotate270
	FlipX
	FlipY
	FlipPlus1
	FlipMinus1
)

var variantNames = [...]string{"original", "rotate90", "rotate180", "rotate270", "flipx", "flipy", "flipplus1", "flipminus1"}

// String returns the variant's name as the reference's tools print it, such
// as "rotate90".
func (v Variant) String() string {
	if v < 0 || int(v) >= len(variantNames) {
		return fmt.Sprintf("Variant(%d)", int(v))
	}
	return variantNames[v]
}
