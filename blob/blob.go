// Package blob stores immutable byte strings (media files, thumbnails,
// attached documents) addressed by their SHA-256. The same content is stored
// once, however many times it is uploaded, so that trust & safety can find
// and remove a file everywhere at once by its hash.
//
// FS keeps blobs in a directory, which is the embedded default; other stores
// (S3-compatible) implement the same methods and pass the same conformance
// suite, blobtest.Run.
package blob

import (
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
)

// Hash is a SHA-256 digest: a blob's address.
type Hash [sha256.Size]byte

// String returns h in lower-case hexadecimal.
func (h Hash) String() string { return hex.EncodeToString(h[:]) }

// IsZero reports whether h is the zero hash (no blob).
func (h Hash) IsZero() bool { return h == Hash{} }

// ParseHash parses a hash in hexadecimal, as String writes it.
func ParseHash(s string) (Hash, error) {
	var h Hash
	if len(s) != 2*len(h) {
		return h, fmt.Errorf("blob hash %q: want %d hexadecimal digits", s, 2*len(h))
	}
	if _, err := hex.Decode(h[:], []byte(s)); err != nil {
		return h, fmt.Errorf("blob hash %q: %w", s, err)
	}
	return h, nil
}

// Info describes a stored blob. MD5 is recorded beside SHA-256 because the
// industry's hash lists of known abuse material use it.
type Info struct {
	SHA256 Hash
	MD5    [md5.Size]byte
	Size   int64
}

// MD5Hex returns the MD5 digest in lower-case hexadecimal.
func (i Info) MD5Hex() string { return hex.EncodeToString(i.MD5[:]) }

// Errors a Store returns; test with errors.Is.
var (
	ErrNotFound = errors.New("blob not found")
	ErrTooLarge = errors.New("blob larger than the limit")
)

// Object is an open blob. It is safe for one goroutine; close it when done.
type Object interface {
	io.ReadSeekCloser
	io.ReaderAt
	Size() int64
}

// Hasher computes a blob's Info while its bytes stream past, so that a
// caller can hash what it writes without reading it twice.
type Hasher struct {
	sha, md hash.Hash
	n       int64
}

// NewHasher returns a Hasher with nothing written.
func NewHasher() *Hasher { return &Hasher{sha: sha256.New(), md: md5.New()} }

// Write adds p to the hashes. It never fails.
func (h *Hasher) Write(p []byte) (int, error) {
	h.sha.Write(p)
	h.md.Write(p)
	h.n += int64(len(p))
	return len(p), nil
}

// Info returns the hashes and size of everything written so far.
func (h *Hasher) Info() Info {
	var i Info
	h.sha.Sum(i.SHA256[:0])
	h.md.Sum(i.MD5[:0])
	i.Size = h.n
	return i
}
