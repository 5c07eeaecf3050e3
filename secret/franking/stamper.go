package franking

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"hash"
	"slices"
	"sync"
	"time"

	"kurir"
)

// TagSize is the size of a server tag in bytes: a key-ID byte and an
// HMAC-SHA256.
const TagSize = 1 + sha256.Size

// MinSecretSize is the smallest server secret a [Stamper] accepts.
const MinSecretSize = 32

const tagLabel = "kurir franking v1 tag"

// Tag is the server's tag binding a commitment to its [Context]. Byte 0 is the
// ID of the server key that made it.
type Tag [TagSize]byte

// KeyID returns the ID of the server key that made t.
func (t Tag) KeyID() byte { return t[0] }

// Context is what the server vouches for when it stamps a commitment: who
// sent the message from which device, to whom and which device, when, and in
// which envelope. At is kept to the microsecond; finer parts are ignored.
type Context struct {
	Sender          int64
	SenderDevice    int64
	Recipient       int64
	RecipientDevice int64
	At              time.Time
	Envelope        string
}

// ServerKey is one of the server's franking secrets and its ID, which is
// written into every tag it makes.
type ServerKey struct {
	ID     byte
	Secret []byte
}

// Stamper makes and verifies server tags. It holds a current key, with which
// it stamps, and any number of previous keys, with which it still verifies.
// A Stamper is immutable and safe for concurrent use; [Stamper.Rotate] and
// [Stamper.Drop] return new Stampers.
type Stamper struct {
	current  *serverKey
	previous []*serverKey
}

// serverKey is a secret with a pool of MAC states keyed with it, so that
// stamping a message does not allocate.
type serverKey struct {
	id     byte
	secret []byte
	pool   sync.Pool // of *macState
}

type macState struct {
	mac hash.Hash
	buf []byte
	sum [sha256.Size]byte
}

func newServerKey(k ServerKey) (*serverKey, error) {
	if len(k.Secret) < MinSecretSize {
		return nil, fmt.Errorf("franking: server key %d is %d bytes, want at least %d", k.ID, len(k.Secret), MinSecretSize)
	}
	sk := &serverKey{id: k.ID, secret: slices.Clone(k.Secret)}
	sk.pool.New = func() any {
		return &macState{mac: hmac.New(sha256.New, sk.secret), buf: make([]byte, 0, 256)}
	}
	return sk, nil
}

// NewStamper returns a Stamper with one key, ID 0. secret must be at least
// [MinSecretSize] random bytes; it is copied.
func NewStamper(secret []byte) (*Stamper, error) {
	return NewStamperKeys(ServerKey{ID: 0, Secret: secret})
}

// NewStamperKeys returns a Stamper that stamps with current and also verifies
// tags made with any of previous. Key IDs must be distinct and every secret
// at least [MinSecretSize] bytes; secrets are copied.
func NewStamperKeys(current ServerKey, previous ...ServerKey) (*Stamper, error) {
	cur, err := newServerKey(current)
	if err != nil {
		return nil, err
	}
	s := &Stamper{current: cur}
	seen := map[byte]bool{current.ID: true}
	for _, p := range previous {
		if seen[p.ID] {
			return nil, fmt.Errorf("franking: server key ID %d used twice", p.ID)
		}
		seen[p.ID] = true
		sk, err := newServerKey(p)
		if err != nil {
			return nil, err
		}
		s.previous = append(s.previous, sk)
	}
	return s, nil
}

// Rotate returns a Stamper that stamps with next and still verifies with s's
// current and previous keys. next.ID must not be an ID s holds.
func (s *Stamper) Rotate(next ServerKey) (*Stamper, error) {
	if s.key(next.ID) != nil {
		return nil, fmt.Errorf("franking: rotate: server key ID %d is still held", next.ID)
	}
	cur, err := newServerKey(next)
	if err != nil {
		return nil, err
	}
	prev := make([]*serverKey, 0, 1+len(s.previous))
	prev = append(prev, s.current)
	prev = append(prev, s.previous...)
	return &Stamper{current: cur, previous: prev}, nil
}

// Drop returns a Stamper without the previous key id: tags made with it no
// longer verify. The current key cannot be dropped.
func (s *Stamper) Drop(id byte) (*Stamper, error) {
	if id == s.current.id {
		return nil, fmt.Errorf("franking: drop: server key %d is the current key", id)
	}
	i := slices.IndexFunc(s.previous, func(k *serverKey) bool { return k.id == id })
	if i < 0 {
		return nil, fmt.Errorf("franking: drop: server key %d is not held", id)
	}
	return &Stamper{current: s.current, previous: slices.Delete(slices.Clone(s.previous), i, i+1)}, nil
}

// KeyIDs returns the IDs of the keys s holds, the current key first.
func (s *Stamper) KeyIDs() []byte {
	ids := []byte{s.current.id}
	for _, k := range s.previous {
		ids = append(ids, k.id)
	}
	return ids
}

func (s *Stamper) key(id byte) *serverKey {
	if s.current.id == id {
		return s.current
	}
	for _, k := range s.previous {
		if k.id == id {
			return k
		}
	}
	return nil
}

// Stamp returns the server's tag for commitment c relayed in ctx, made with
// the current key. It does not allocate for envelope IDs of up to about 150
// bytes.
func (s *Stamper) Stamp(c Commitment, ctx Context) Tag {
	var t Tag
	t[0] = s.current.id
	s.current.mac(c, ctx, t[1:])
	return t
}

// mac writes the MAC of the tag input for (c, ctx) under k into dst.
func (k *serverKey) mac(c Commitment, ctx Context, dst []byte) {
	st := k.pool.Get().(*macState)
	st.buf = appendTagInput(st.buf[:0], k.id, c, ctx)
	st.mac.Reset()
	st.mac.Write(st.buf)
	copy(dst, st.mac.Sum(st.sum[:0]))
	if cap(st.buf) > 4096 { // do not pin a huge buffer from an odd envelope ID
		st.buf = make([]byte, 0, 256)
	}
	k.pool.Put(st)
}

// appendTagInput appends the MAC input of a tag, as the package comment
// defines it.
func appendTagInput(b []byte, id byte, c Commitment, ctx Context) []byte {
	b = binary.BigEndian.AppendUint64(b, uint64(len(tagLabel)))
	b = append(b, tagLabel...)
	b = append(b, id)
	b = append(b, c[:]...)
	b = binary.BigEndian.AppendUint64(b, uint64(ctx.Sender))
	b = binary.BigEndian.AppendUint64(b, uint64(ctx.SenderDevice))
	b = binary.BigEndian.AppendUint64(b, uint64(ctx.Recipient))
	b = binary.BigEndian.AppendUint64(b, uint64(ctx.RecipientDevice))
	b = binary.BigEndian.AppendUint64(b, uint64(ctx.At.UnixMicro()))
	b = binary.BigEndian.AppendUint64(b, uint64(len(ctx.Envelope)))
	return append(b, ctx.Envelope...)
}

// Report is what a recipient reveals to report a message from a secret chat.
type Report struct {
	Plaintext  []byte
	Key        Key
	Commitment Commitment
	Tag        Tag
	Context    Context
}

// Verify checks that r.Commitment opens to r.Plaintext under r.Key and that
// r.Tag is this server's tag for r.Commitment in exactly r.Context, comparing
// in constant time. It returns nil, or a *kurir.Error (code invalid) wrapping
// [ErrUnknownKey] if the tag's server key is not held, [ErrBadCommitment] if
// the commitment does not open, or [ErrBadTag] if the tag does not match.
func (s *Stamper) Verify(r Report) error {
	k := s.key(r.Tag.KeyID())
	if k == nil {
		return &kurir.Error{
			Code:    kurir.EInvalid,
			Reason:  "franking_unknown_key",
			Message: "the reported message is too old to verify, or its tag is not from this server",
			Err:     fmt.Errorf("key ID %d: %w", r.Tag.KeyID(), ErrUnknownKey),
		}
	}
	if err := Open(r.Key, r.Plaintext, r.Commitment); err != nil {
		return err
	}
	var want [sha256.Size]byte
	k.mac(r.Commitment, r.Context, want[:])
	if !hmac.Equal(want[:], r.Tag[1:]) {
		return &kurir.Error{
			Code:    kurir.EInvalid,
			Reason:  "franking_bad_tag",
			Message: "the report does not match a message this server delivered",
			Err:     ErrBadTag,
		}
	}
	return nil
}

// ParseTag returns the tag in b, which must be exactly [TagSize] bytes.
func ParseTag(b []byte) (Tag, error) {
	var t Tag
	if len(b) != TagSize {
		return t, &kurir.Error{
			Code:    kurir.EInvalid,
			Reason:  "franking_bad_tag",
			Message: fmt.Sprintf("franking tag is %d bytes, want %d", len(b), TagSize),
			Err:     ErrBadTag,
		}
	}
	copy(t[:], b)
	return t, nil
}
