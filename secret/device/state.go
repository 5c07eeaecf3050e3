package device

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"time"

	"kurir/secret/franking"
	"kurir/secret/protocol"
)

// Lifetimes and bounds of what a State keeps.
const (
	// SignedPreKeyRotation is how long a signed prekey stays current
	// before RotationDue says to replace it.
	SignedPreKeyRotation = 7 * 24 * time.Hour
	// SignedPreKeyGrace is how long a replaced signed prekey still starts
	// sessions: as long as the relay keeps an undelivered envelope (its
	// default TTL), so that an initial message sent just before the
	// rotation still decrypts when its recipient comes back online.
	SignedPreKeyGrace = 30 * 24 * time.Hour
	// MaxPreviousSignedPreKeys bounds the replaced signed prekeys kept
	// within their grace; the oldest go first.
	MaxPreviousSignedPreKeys = 8
	// MaxOneTimePreKeys bounds the private one-time prekeys held. The
	// server stores at most 500; past this bound the oldest (lowest IDs,
	// long handed out or lost) are dropped.
	MaxOneTimePreKeys = 1000
	// MaxSessionsPerPeer bounds the sessions kept with one peer device:
	// the current one and those that may still receive messages (both
	// sides started a session at once, or an earlier session's messages
	// are still in flight).
	MaxSessionsPerPeer = 4
	// MaxSeen is how many processed envelope IDs are remembered, so that
	// an envelope delivered again (its acknowledgement was lost) is
	// recognised rather than refused as a replay. Only envelopes fetched
	// but not yet acknowledged can come again — at most one fetch, of at
	// most 500 — and the ratchet refuses any other replay anyway.
	MaxSeen = 1000
	// MaxUsedEphemerals bounds the remembered ephemeral keys of sessions
	// other devices started with this one; see Decrypt.
	MaxUsedEphemerals = 20000
	// MaxInbox bounds the decrypted messages held for the application.
	MaxInbox = 10000
	// MaxEnvelopeID is the longest envelope ID accepted, in bytes.
	MaxEnvelopeID = franking.MaxEnvelopeSize
)

// Peer is one device of a user: the user's ID and the device's (the ID of
// the logged-in session that is the device).
type Peer struct {
	User, Device int64
}

// String returns "user 17 device 4".
func (p Peer) String() string {
	return "user " + strconv.FormatInt(p.User, 10) + " device " + strconv.FormatInt(p.Device, 10)
}

func (p Peer) compare(q Peer) int {
	if c := cmpInt(p.User, q.User); c != 0 {
		return c
	}
	return cmpInt(p.Device, q.Device)
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// State is one device's secret-chat state; see the package documentation.
// Make one with New or UnmarshalBinary. It is not safe for concurrent use.
type State struct {
	rand     io.Reader
	self     Peer
	identity *protocol.IdentityKey
	spk      signedPreKey
	previous []signedPreKey // newest first
	opks     map[uint32]*protocol.OneTimePreKey
	nextSPK  uint32
	nextOPK  uint32
	peers    map[Peer]*peerState
	used     []usedEphemeral // oldest first
	usedSet  map[[32]byte]struct{}
	seen     []string // oldest first
	seenSet  map[string]struct{}
	inbox    []Message
}

type signedPreKey struct {
	key     *protocol.SignedPreKey
	created time.Time // to the millisecond
	retired time.Time // zero while current
}

// usedEphemeral is the ephemeral key of a session another device started
// with this one, and the signed prekey it named.
type usedEphemeral struct {
	key [32]byte
	spk uint32
}

type peerState struct {
	identity protocol.PublicIdentity
	sessions []*session // the current one first
}

type session struct {
	s *protocol.Session
	// initial is the encoded initial header to attach while this device
	// started the session and has not decrypted a reply on it.
	initial []byte
	// theirs marks a session the peer started; origin is the ephemeral key
	// of its initial header.
	theirs bool
	origin [32]byte
}

// New returns the state of a new device: a fresh identity key and signed
// prekey (ID 1, made at now), no one-time prekeys and no sessions. rand is
// the source of every key the state makes (crypto/rand.Reader outside
// tests).
func New(rand io.Reader, now time.Time) (*State, error) {
	id, err := protocol.NewIdentityKey(rand)
	if err != nil {
		return nil, err
	}
	spk, err := protocol.NewSignedPreKey(1, id, rand)
	if err != nil {
		return nil, err
	}
	s := emptyState(rand)
	s.identity = id
	s.spk = signedPreKey{key: spk, created: toMillis(now)}
	s.nextSPK, s.nextOPK = 2, 1
	return s, nil
}

func emptyState(rand io.Reader) *State {
	return &State{
		rand:    rand,
		opks:    map[uint32]*protocol.OneTimePreKey{},
		peers:   map[Peer]*peerState{},
		usedSet: map[[32]byte]struct{}{},
		seenSet: map[string]struct{}{},
	}
}

func toMillis(t time.Time) time.Time { return time.UnixMilli(t.UnixMilli()).UTC() }

// SetRand sets the source of the keys the state and its sessions make
// from now on.
func (s *State) SetRand(rand io.Reader) {
	s.rand = rand
	for _, p := range s.peers {
		for _, ss := range p.sessions {
			ss.s.SetRand(rand)
		}
	}
}

// Self returns the account and device the state belongs to, as set by
// SetSelf; zero until then.
func (s *State) Self() Peer { return s.self }

// SetSelf records the account and device (logged-in session) the state
// belongs to. The keys of a device are its own: a state must not move to
// another session, so callers check Self before using a stored state.
func (s *State) SetSelf(p Peer) { s.self = p }

// Identity returns the device's public identity.
func (s *State) Identity() protocol.PublicIdentity { return s.identity.Public() }

// IdentityBytes returns the public identity as the API sends it: the
// X25519 key then the Ed25519 key (64 bytes).
func IdentityBytes(p protocol.PublicIdentity) []byte {
	return append(append(make([]byte, 0, 64), p.DH[:]...), p.Sign[:]...)
}

// ParseIdentity reads a public identity in the form IdentityBytes makes.
func ParseIdentity(b []byte) (protocol.PublicIdentity, error) {
	var p protocol.PublicIdentity
	if len(b) != 64 {
		return p, fmt.Errorf("device: identity: %d bytes, want 64: %w", len(b), protocol.ErrMalformed)
	}
	copy(p.DH[:], b[:32])
	copy(p.Sign[:], b[32:])
	return p, nil
}

// Keys is what a device publishes (PUT /api/v1/secret/keys).
type Keys struct {
	Identity              protocol.PublicIdentity
	SignedPreKey          protocol.PreKey
	SignedPreKeySignature [64]byte
	OneTimePreKeys        []protocol.PreKey
}

// SignedPreKey returns the current signed prekey, its signature and when
// it was made.
func (s *State) SignedPreKey() (protocol.PreKey, [64]byte, time.Time) {
	return s.spk.key.Public(), s.spk.key.Signature, s.spk.created
}

// Publish returns the device's keys to publish, with n new one-time
// prekeys (see NewOneTimePreKeys).
func (s *State) Publish(n int) (Keys, error) {
	opks, err := s.NewOneTimePreKeys(n)
	if err != nil {
		return Keys{}, err
	}
	k := Keys{Identity: s.Identity(), SignedPreKey: s.spk.key.Public(), SignedPreKeySignature: s.spk.key.Signature, OneTimePreKeys: opks}
	return k, nil
}

// NewOneTimePreKeys makes n one-time prekeys, keeps their private halves
// and returns the public ones to upload. Past MaxOneTimePreKeys the oldest
// private halves are dropped.
func (s *State) NewOneTimePreKeys(n int) ([]protocol.PreKey, error) {
	if n < 0 || n > MaxOneTimePreKeys {
		return nil, fmt.Errorf("device: %d one-time prekeys: at most %d at once", n, MaxOneTimePreKeys)
	}
	out := make([]protocol.PreKey, 0, n)
	for range n {
		for s.nextOPK == 0 || s.opks[s.nextOPK] != nil {
			s.nextOPK++ // 0 is never used; after 2^32 keys the IDs wrap around
		}
		k, err := protocol.NewOneTimePreKey(s.nextOPK, s.rand)
		if err != nil {
			return nil, err
		}
		s.opks[k.ID] = k
		s.nextOPK++
		out = append(out, k.Public())
	}
	if over := len(s.opks) - MaxOneTimePreKeys; over > 0 {
		ids := s.oneTimePreKeyIDs()
		// The oldest in the order they were made, which is the ID order
		// unless the IDs wrapped around: then the ones after nextOPK.
		slices.SortFunc(ids, func(a, b uint32) int { return cmpInt(int64(a-s.nextOPK), int64(b-s.nextOPK)) })
		for _, id := range ids[:over] {
			delete(s.opks, id)
		}
	}
	return out, nil
}

func (s *State) oneTimePreKeyIDs() []uint32 {
	ids := make([]uint32, 0, len(s.opks))
	for id := range s.opks {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// OneTimePreKeys returns how many private one-time prekeys the state holds.
func (s *State) OneTimePreKeys() int { return len(s.opks) }

// RotationDue reports whether the current signed prekey is older than
// SignedPreKeyRotation at now.
func (s *State) RotationDue(now time.Time) bool {
	return now.Sub(s.spk.created) >= SignedPreKeyRotation
}

// Rotate makes a new current signed prekey at now. The one it replaces
// still starts sessions for SignedPreKeyGrace; publish the new one
// (Publish) for it to be handed out.
func (s *State) Rotate(now time.Time) error {
	spk, err := protocol.NewSignedPreKey(s.nextSPK, s.identity, s.rand)
	if err != nil {
		return err
	}
	s.nextSPK++
	if s.nextSPK == 0 {
		s.nextSPK = 1
	}
	old := s.spk
	old.retired = toMillis(now)
	s.previous = append([]signedPreKey{old}, s.previous...)
	if len(s.previous) > MaxPreviousSignedPreKeys {
		for _, p := range s.previous[MaxPreviousSignedPreKeys:] {
			s.forgetEphemerals(p.key.ID)
		}
		s.previous = s.previous[:MaxPreviousSignedPreKeys]
	}
	s.spk = signedPreKey{key: spk, created: toMillis(now)}
	return nil
}

// Expire drops the replaced signed prekeys whose grace has passed at now,
// with the record of the sessions started with them.
func (s *State) Expire(now time.Time) {
	s.previous = slices.DeleteFunc(s.previous, func(p signedPreKey) bool {
		if now.Sub(p.retired) < SignedPreKeyGrace {
			return false
		}
		s.forgetEphemerals(p.key.ID)
		return true
	})
}

func (s *State) forgetEphemerals(spk uint32) {
	s.used = slices.DeleteFunc(s.used, func(u usedEphemeral) bool {
		if u.spk != spk {
			return false
		}
		delete(s.usedSet, u.key)
		return true
	})
}

func (s *State) signedPreKey(id uint32) *protocol.SignedPreKey {
	if s.spk.key.ID == id {
		return s.spk.key
	}
	for _, p := range s.previous {
		if p.key.ID == id {
			return p.key
		}
	}
	return nil
}

// Peers returns the peer devices the state has sessions with, in order.
func (s *State) Peers() []Peer {
	out := make([]Peer, 0, len(s.peers))
	for p := range s.peers {
		out = append(out, p)
	}
	slices.SortFunc(out, Peer.compare)
	return out
}

// HasSession reports whether the state can encrypt to the peer device.
func (s *State) HasSession(p Peer) bool { return s.peers[p] != nil }

// PeerIdentity returns the identity of the peer device the state has a
// session with.
func (s *State) PeerIdentity(p Peer) (protocol.PublicIdentity, bool) {
	ps := s.peers[p]
	if ps == nil {
		return protocol.PublicIdentity{}, false
	}
	return ps.identity, true
}

// Forget drops every session with the peer device (it logged out, or was
// reinstalled).
func (s *State) Forget(p Peer) { delete(s.peers, p) }

// StartSession starts a session with the peer device from a bundle the
// server handed out for it (protocol.Initiate, which verifies it). The new
// session becomes the one Encrypt uses; until a reply decrypts on it, its
// messages are prekey envelopes. A bundle with another identity than the
// one the state knew for the device replaces every session with it, and
// changed says so: the safety number has changed.
func (s *State) StartSession(p Peer, b protocol.Bundle) (changed bool, err error) {
	sess, h, err := protocol.Initiate(s.identity, b, s.rand)
	if err != nil {
		return false, fmt.Errorf("device: start session with %v: %w", p, err)
	}
	initial, err := h.MarshalBinary()
	if err != nil {
		return false, err
	}
	return s.install(p, b.Identity, &session{s: sess, initial: initial}), nil
}

// install makes ss the current session with p, whose identity is id, and
// reports whether id replaced another identity.
func (s *State) install(p Peer, id protocol.PublicIdentity, ss *session) (changed bool) {
	ps := s.peers[p]
	if ps != nil && ps.identity != id {
		ps, changed = nil, true
	}
	if ps == nil {
		ps = &peerState{identity: id}
		s.peers[p] = ps
	}
	ps.sessions = append([]*session{ss}, ps.sessions...)
	if len(ps.sessions) > MaxSessionsPerPeer {
		ps.sessions = ps.sessions[:MaxSessionsPerPeer]
	}
	return changed
}

// Sealed is a message encrypted for one peer device.
type Sealed struct {
	// Body is the envelope body to relay.
	Body []byte
	// Commitment is the franking commitment to send with it in the clear.
	Commitment franking.Commitment
	// PreKey says Body is a prekey envelope (the peer has not replied on
	// this session yet).
	PreKey bool
}

// Encrypt encrypts a text message for the peer device with the current
// session, with a fresh franking key and the franking commitment to the
// text as the ratchet's associated data. expire is the self-destruct timer
// (whole seconds, 0 for none), now the sender's clock. It returns
// ErrNoSession without a session (see StartSession). The session advances:
// persist the state before the envelope leaves the device, or a later
// message could reuse its key.
func (s *State) Encrypt(p Peer, text string, expire time.Duration, now time.Time) (Sealed, error) {
	ps := s.peers[p]
	if ps == nil {
		return Sealed{}, fmt.Errorf("device: encrypt for %v: %w", p, ErrNoSession)
	}
	kf, err := franking.NewKey(s.rand)
	if err != nil {
		return Sealed{}, err
	}
	pt, err := Payload{Kind: KindText, FrankingKey: kf, Expire: expire, SentAt: now, Text: text}.MarshalBinary()
	if err != nil {
		return Sealed{}, err
	}
	c := franking.Commit(kf, []byte(text))
	ss := ps.sessions[0]
	m, err := ss.s.Encrypt(pt, c[:])
	if err != nil {
		return Sealed{}, fmt.Errorf("device: encrypt for %v: %w", p, err)
	}
	msg, err := m.MarshalBinary()
	if err != nil {
		return Sealed{}, err
	}
	out := Sealed{Commitment: c, PreKey: ss.initial != nil}
	if ss.initial != nil {
		out.Body = make([]byte, 0, 1+len(ss.initial)+len(msg))
		out.Body = append(append(append(out.Body, bodyPreKey), ss.initial...), msg...)
	} else {
		out.Body = append(append(make([]byte, 0, 1+len(msg)), bodySession), msg...)
	}
	return out, nil
}

// Envelope is an envelope as the relay delivers it.
type Envelope struct {
	// ID is the server's envelope ID (at most MaxEnvelopeID bytes).
	ID string
	// From is the sending user and device, as the server vouches.
	From Peer
	Body []byte
	// Commitment is the franking commitment sent in the clear, Tag the
	// server's franking tag over it.
	Commitment franking.Commitment
	Tag        franking.Tag
	// At is when the server accepted the envelope, to the microsecond.
	At time.Time
}

// Message is a decrypted secret chat message, with what reporting it
// takes.
type Message struct {
	// Envelope is the ID of the envelope that carried it.
	Envelope string
	// From is the sending device.
	From Peer
	// At is when the server accepted it, to the microsecond (the franking
	// tag covers it).
	At time.Time
	// Payload is the content: Text, SentAt (the sender's clock), Expire
	// (the self-destruct timer) and the franking key.
	Payload
	Commitment franking.Commitment
	Tag        franking.Tag
	// NewSession says the message started a new session with its sender.
	NewSession bool
	// IdentityChanged says the sender's identity key is not the one this
	// device knew for that device: the safety number has changed.
	IdentityChanged bool
}

// Report returns the franking report that proves m to the server, from
// the recipient device self.
func (m Message) Report(self Peer) franking.Report {
	return franking.Report{
		Plaintext:  []byte(m.Text),
		Key:        m.FrankingKey,
		Commitment: m.Commitment,
		Tag:        m.Tag,
		Context: franking.Context{
			Sender: m.From.User, SenderDevice: m.From.Device,
			Recipient: self.User, RecipientDevice: self.Device,
			At: m.At, Envelope: m.Envelope,
		},
	}
}

// Decrypt opens an envelope addressed to this device:
//
//   - An envelope whose ID was processed before fails with ErrDuplicate.
//   - A prekey envelope continues the session its initial header started
//     if the state has it; otherwise it starts a session with the named
//     signed and one-time prekeys (protocol.ErrPreKeyMismatch if the state
//     does not hold them), unless a session was already started with the
//     header's ephemeral key (protocol.ErrReplay): a replayed prekey
//     envelope never makes a second session. The one-time prekey is
//     deleted once the message decrypts.
//   - A session envelope is tried on each session with the sender, the
//     current one first (ErrNoSession if there is none); the one that
//     opens it becomes current.
//
// The ratchet rejects replayed and tampered messages (protocol.ErrReplay,
// protocol.ErrDecrypt), and then the state is unchanged. A message that
// authenticates but whose payload does not decode (ErrBadPayload) or does
// not open its franking commitment (an error wrapping
// franking.ErrBadCommitment) is dropped: the error is returned, its ID is
// remembered, and on an existing session the session has advanced past
// it. A prekey envelope dropped so starts no session: a new identity is
// only ever installed with a message that is shown, which carries
// IdentityChanged, so a key change cannot slip in unannounced. A message
// decrypted on a session this device started ends its prekey envelopes.
func (s *State) Decrypt(e Envelope) (Message, error) {
	if len(e.ID) == 0 || len(e.ID) > MaxEnvelopeID {
		return Message{}, fmt.Errorf("device: envelope ID of %d bytes: %w", len(e.ID), protocol.ErrMalformed)
	}
	if _, ok := s.seenSet[e.ID]; ok {
		return Message{}, fmt.Errorf("device: envelope %s: %w", e.ID, ErrDuplicate)
	}
	var body Body
	if err := body.UnmarshalBinary(e.Body); err != nil {
		return Message{}, fmt.Errorf("device: envelope %s: %w", e.ID, err)
	}
	ad := e.Commitment[:]
	ps := s.peers[e.From]
	m := Message{Envelope: e.ID, From: e.From, At: time.UnixMicro(e.At.UnixMicro()).UTC(), Commitment: e.Commitment, Tag: e.Tag}
	var (
		pt     []byte
		err    error
		opened bool // m holds the payload, its commitment checked
	)
	switch h := body.Initial; {
	case h != nil:
		if ss := ps.startedBy(h); ss != nil {
			if pt, err = ss.s.Decrypt(body.Message, ad); err != nil {
				return Message{}, fmt.Errorf("device: envelope %s from %v: %w", e.ID, e.From, err)
			}
			ps.promote(ss)
			break
		}
		if _, ok := s.usedSet[h.Ephemeral]; ok {
			return Message{}, fmt.Errorf("device: envelope %s from %v: its session was started before: %w", e.ID, e.From, protocol.ErrReplay)
		}
		spk := s.signedPreKey(h.SignedPreKeyID)
		if spk == nil {
			return Message{}, fmt.Errorf("device: envelope %s from %v: signed prekey %d is not held: %w", e.ID, e.From, h.SignedPreKeyID, protocol.ErrPreKeyMismatch)
		}
		var opk *protocol.OneTimePreKey
		if h.HasOneTimePreKey {
			if opk = s.opks[h.OneTimePreKeyID]; opk == nil {
				return Message{}, fmt.Errorf("device: envelope %s from %v: one-time prekey %d is not held: %w", e.ID, e.From, h.OneTimePreKeyID, protocol.ErrPreKeyMismatch)
			}
		}
		sess, err := protocol.Respond(s.identity, spk, opk, *h, s.rand)
		if err != nil {
			return Message{}, fmt.Errorf("device: envelope %s from %v: %w", e.ID, e.From, err)
		}
		if pt, err = sess.Decrypt(body.Message, ad); err != nil {
			return Message{}, fmt.Errorf("device: envelope %s from %v: %w", e.ID, e.From, err)
		}
		if err := m.open(pt); err != nil {
			s.remember(e.ID)
			return Message{}, fmt.Errorf("device: envelope %s from %v: dropped: %w", e.ID, e.From, err)
		}
		opened = true
		// The message authenticates and is shown: the session is real.
		if opk != nil {
			delete(s.opks, opk.ID)
		}
		s.useEphemeral(h.Ephemeral, h.SignedPreKeyID)
		m.NewSession = true
		m.IdentityChanged = s.install(e.From, h.Identity, &session{s: sess, theirs: true, origin: h.Ephemeral})
	default:
		if ps == nil {
			return Message{}, fmt.Errorf("device: envelope %s from %v: %w", e.ID, e.From, ErrNoSession)
		}
		var errs []error
		for _, ss := range ps.sessions {
			p, err := ss.s.Decrypt(body.Message, ad)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			pt = p
			ss.initial = nil // the peer replied on it
			ps.promote(ss)
			break
		}
		if pt == nil {
			return Message{}, fmt.Errorf("device: envelope %s from %v: %w", e.ID, e.From, bestError(errs))
		}
	}
	s.remember(e.ID)
	if !opened {
		if err := m.open(pt); err != nil {
			return Message{}, fmt.Errorf("device: envelope %s from %v: dropped: %w", e.ID, e.From, err)
		}
	}
	return m, nil
}

// open decodes the payload pt into m and checks its franking commitment.
func (m *Message) open(pt []byte) error {
	if err := m.Payload.UnmarshalBinary(pt); err != nil {
		return err
	}
	return franking.Open(m.FrankingKey, []byte(m.Text), m.Commitment)
}

// bestError picks, of the sessions' reasons to refuse a message, the one
// that says most: a replay (one session knew the message) over a failed
// authentication (the others did not).
func bestError(errs []error) error {
	for _, err := range errs {
		if errors.Is(err, protocol.ErrReplay) {
			return err
		}
	}
	for _, err := range errs {
		if !errors.Is(err, protocol.ErrDecrypt) {
			return err
		}
	}
	return errs[0]
}

// startedBy returns the session the initial header h started, if the
// state has it.
func (ps *peerState) startedBy(h *protocol.InitialHeader) *session {
	if ps == nil || ps.identity != h.Identity {
		return nil
	}
	for _, ss := range ps.sessions {
		if ss.theirs && ss.origin == h.Ephemeral {
			return ss
		}
	}
	return nil
}

// promote makes ss the current session.
func (ps *peerState) promote(ss *session) {
	i := slices.Index(ps.sessions, ss)
	copy(ps.sessions[1:i+1], ps.sessions[:i])
	ps.sessions[0] = ss
}

func (s *State) useEphemeral(key [32]byte, spk uint32) {
	s.used = append(s.used, usedEphemeral{key: key, spk: spk})
	s.usedSet[key] = struct{}{}
	if over := len(s.used) - MaxUsedEphemerals; over > 0 {
		for _, u := range s.used[:over] {
			delete(s.usedSet, u.key)
		}
		s.used = append(s.used[:0], s.used[over:]...)
	}
}

// remember records a processed envelope ID, forgetting the oldest past
// MaxSeen.
func (s *State) remember(id string) {
	s.seen = append(s.seen, id)
	s.seenSet[id] = struct{}{}
	if over := len(s.seen) - MaxSeen; over > 0 {
		for _, old := range s.seen[:over] {
			delete(s.seenSet, old)
		}
		s.seen = append(s.seen[:0], s.seen[over:]...)
	}
}

// Seen reports whether the envelope ID was processed (and is still
// remembered).
func (s *State) Seen(id string) bool {
	_, ok := s.seenSet[id]
	return ok
}

// Hold keeps a decrypted message in the inbox, which is persisted with the
// state, until TakeInbox hands it to the application. Holding messages
// before acknowledging their envelopes means that no crash loses one: the
// envelope is either still on the server or its message is in the inbox.
// Past MaxInbox the oldest held message is dropped: callers that hold
// messages whose envelopes they then acknowledge must keep within
// InboxRoom, or those messages are lost.
func (s *State) Hold(m Message) {
	s.inbox = append(s.inbox, m)
	if over := len(s.inbox) - MaxInbox; over > 0 {
		s.inbox = append(s.inbox[:0], s.inbox[over:]...)
	}
}

// InboxRoom returns how many more messages the inbox holds before Hold
// drops the oldest.
func (s *State) InboxRoom() int { return MaxInbox - len(s.inbox) }

// Inbox returns the held messages, oldest first, without taking them.
func (s *State) Inbox() []Message { return slices.Clone(s.inbox) }

// TakeInbox returns the held messages, oldest first, and empties the
// inbox.
func (s *State) TakeInbox() []Message {
	out := s.inbox
	s.inbox = nil
	return out
}

// SafetyNumber returns the safety number of this device and the peer
// device with identity theirs (protocol.SafetyNumber), where each account
// is identified by its user ID in decimal.
func (s *State) SafetyNumber(peerUser int64, theirs protocol.PublicIdentity) string {
	return protocol.SafetyNumber(strconv.FormatInt(s.self.User, 10), s.Identity(), strconv.FormatInt(peerUser, 10), theirs)
}
