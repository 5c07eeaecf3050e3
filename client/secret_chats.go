package client

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"sync"
	"time"
	"unicode/utf8"

	"kurir"
	"kurir/secret/device"
	"kurir/secret/franking"
	"kurir/secret/protocol"
)

// SecretStore keeps one device's secret-chat state (the bytes of
// device.State.MarshalBinary) between calls and between processes;
// *device.FileStore is one. Lock waits until the caller holds the state
// exclusively — against other processes using the same state too — and
// returns the saved bytes, nil if none yet; Save replaces them (only while
// locked) and must be durable when it returns; Unlock lets the next caller
// in.
type SecretStore interface {
	Lock(ctx context.Context) ([]byte, error)
	Save(data []byte) error
	Unlock() error
}

// SecretChats is one device's secret chats: end-to-end encrypted messages
// to every device of another user, through the server's key directory and
// envelope relay (see docs/secret-chats.md). The device is the session the
// Client's token belongs to; its keys and sessions live in the store, and
// never leave the device.
//
// Every method holds the store's lock while it changes the state, and
// saves the state before anything it produced leaves the device: an
// envelope is sent only once the ratchet step that made it is saved, and
// an envelope is acknowledged only once its message is saved in the
// state's inbox. So no crash loses a message or shows one twice, and
// several processes (a "kurir chat secret tail" and a "send") can share a
// FileStore. A SecretChats is safe for concurrent use.
type SecretChats struct {
	c     *Client
	store SecretStore

	mu sync.Mutex // held while the store is locked
	// st is the state as last loaded or saved, and saved its bytes: while
	// the store holds the same bytes the state need not be decoded again.
	// Both are reset whenever an operation fails midway.
	st    *device.State
	saved []byte
	self  device.Peer // this device, once asked
}

// NewSecretChats returns the secret chats of the device c's token belongs
// to, keeping its state in store. It makes no request.
func NewSecretChats(c *Client, store SecretStore) *SecretChats {
	return &SecretChats{c: c, store: store}
}

// Limits of a secret message.
const (
	// MaxSecretText is the most characters (Unicode code points) a secret
	// message may have.
	MaxSecretText = device.MaxTextLength
	// sendBatch is the most envelopes one request may carry.
	sendBatch = 20
	// fetchBatch is how many envelopes Receive asks for at a time, and
	// maxReceive the most messages one Receive holds and returns: the
	// rest wait on the server (SecretReceived.More), so that the inbox,
	// saved at every step, stays small, and never passes
	// device.MaxInbox, past which a held message would be lost.
	fetchBatch = 100
	maxReceive = 1000
	// fetchPageBytes is where the server cuts a fetch short by the size of
	// its bodies (docs/secret-chats.md: "fewer when their bodies pass 8
	// MiB"), and maxEnvelopeBody the largest body it relays: a page with
	// fewer envelopes than asked for may have been cut short unless its
	// bodies come to less than the one but the other.
	fetchPageBytes  = 8 << 20
	maxEnvelopeBody = 64 << 10
	// preKeyBatch is how many one-time prekeys one upload carries, and
	// maxServerPreKeys how many the server holds at most.
	preKeyBatch      = 100
	maxServerPreKeys = 500
)

// ErrNoSecretDevices is the cause of Send's error when the recipient has no
// device that has set up secret chats.
var ErrNoSecretDevices = &kurir.Error{Code: kurir.ENotFound, Reason: "secret_no_devices",
	Message: "The user has no device that can receive secret messages yet: they have to open secret chats once."}

// ErrWrongDevice is the cause of an error when the store holds the state
// of another device (another session) than the Client's.
var ErrWrongDevice = &kurir.Error{Code: kurir.EConflict, Reason: "secret_wrong_device",
	Message: "The secret-chat keys stored here belong to another session of this device."}

// Self returns this device's account and session ID, asking the server
// once.
func (s *SecretChats) Self(ctx context.Context) (device.Peer, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.selfLocked(ctx)
}

func (s *SecretChats) selfLocked(ctx context.Context) (device.Peer, error) {
	if s.self.Device != 0 {
		return s.self, nil
	}
	me, err := s.c.Me(ctx)
	if err != nil {
		return device.Peer{}, err
	}
	sessions, err := s.c.Sessions(ctx)
	if err != nil {
		return device.Peer{}, err
	}
	for _, ss := range sessions {
		if ss.Current {
			s.self = device.Peer{User: me.ID, Device: ss.ID}
			return s.self, nil
		}
	}
	return device.Peer{}, errors.New("client: secret chats: the server lists no current session for this token")
}

// begin takes the lock and returns the stored state, nil if there is none.
// Every begin is followed by end.
func (s *SecretChats) begin(ctx context.Context) (*device.State, error) {
	s.mu.Lock()
	self, err := s.selfLocked(ctx)
	if err != nil {
		s.mu.Unlock()
		return nil, err
	}
	data, err := s.store.Lock(ctx)
	if err != nil {
		s.mu.Unlock()
		return nil, fmt.Errorf("client: secret chats: %w", err)
	}
	if data == nil {
		s.st, s.saved = nil, nil
		return nil, nil
	}
	if s.st == nil || !bytes.Equal(data, s.saved) {
		st, err := device.Load(data, rand.Reader)
		if err != nil {
			s.end(err)
			return nil, fmt.Errorf("client: secret chats: %w", err)
		}
		s.st, s.saved = st, data
	}
	if stored := s.st.Self(); stored != self {
		s.end(ErrWrongDevice)
		return nil, fmt.Errorf("client: secret chats: the stored state is %v's, this is %v: %w", stored, self, ErrWrongDevice)
	}
	return s.st, nil
}

// commit saves st.
func (s *SecretChats) commit(st *device.State) error {
	data, err := st.MarshalBinary()
	if err != nil {
		return fmt.Errorf("client: secret chats: encode state: %w", err)
	}
	if err := s.store.Save(data); err != nil {
		return fmt.Errorf("client: secret chats: save state: %w", err)
	}
	s.st, s.saved = st, data
	return nil
}

// end unlocks the store. After a failure (err not nil) the state in memory
// may be ahead of the store's, so it is dropped and read again next time.
func (s *SecretChats) end(err error) {
	if err != nil {
		s.st, s.saved = nil, nil
	}
	s.store.Unlock()
	s.mu.Unlock()
}

// Register makes sure the server has this device's keys: it creates the
// device's keys the first time, publishes them if the server has none or
// others (it lost them, or the device was set up anew), rotates the signed
// prekey once a week and publishes the new one, and uploads one-time
// prekeys when the server runs low. Send and Receive register a device
// that has no keys yet; call Register when the live stream says the keys
// run low (NudgeSecretKeysLow), and now and then (at start) to rotate.
func (s *SecretChats) Register(ctx context.Context) (status SecretKeyStatus, err error) {
	st, err := s.begin(ctx)
	if err != nil {
		return SecretKeyStatus{}, err
	}
	defer func() { s.end(err) }()
	return s.register(ctx, st)
}

// register is Register with the lock held; st is nil for a new device.
func (s *SecretChats) register(ctx context.Context, st *device.State) (SecretKeyStatus, error) {
	now := time.Now()
	if st == nil {
		var err error
		if st, err = device.New(rand.Reader, now); err != nil {
			return SecretKeyStatus{}, fmt.Errorf("client: secret chats: new keys: %w", err)
		}
		st.SetSelf(s.self)
		if err := s.commit(st); err != nil {
			return SecretKeyStatus{}, err
		}
	}
	status, err := s.c.SecretKeys(ctx)
	if err != nil {
		return SecretKeyStatus{}, err
	}
	st.Expire(now)
	rotate := st.RotationDue(now)
	if rotate {
		if err := st.Rotate(now); err != nil {
			return SecretKeyStatus{}, fmt.Errorf("client: secret chats: rotate signed prekey: %w", err)
		}
	}
	spk, _, _ := st.SignedPreKey()
	ours := device.IdentityBytes(st.Identity())
	lost := !status.Registered || !bytes.Equal(status.Identity, ours)
	want := 0 // one-time prekeys to upload
	switch {
	case lost:
		want = preKeyBatch
	case status.Replenish:
		want = min(preKeyBatch, maxServerPreKeys-status.OneTimePreKeys)
	}
	if !lost && !rotate && status.SignedPreKeyID == spk.ID && want == 0 {
		if err := s.commit(st); err != nil { // Expire may have dropped old keys
			return SecretKeyStatus{}, err
		}
		return status, nil
	}
	// The private halves are saved before their public halves are
	// published: a prekey the server hands out must still be here.
	if !lost && !rotate && status.SignedPreKeyID == spk.ID {
		opks, err := st.NewOneTimePreKeys(want)
		if err != nil {
			return SecretKeyStatus{}, err
		}
		if err := s.commit(st); err != nil {
			return SecretKeyStatus{}, err
		}
		return s.c.AddSecretPreKeys(ctx, secretPreKeys(opks))
	}
	keys, err := st.Publish(want)
	if err != nil {
		return SecretKeyStatus{}, err
	}
	if err := s.commit(st); err != nil {
		return SecretKeyStatus{}, err
	}
	return s.c.PublishSecretKeys(ctx, SecretKeysParams{
		Identity:       device.IdentityBytes(keys.Identity),
		SignedPreKey:   SecretSignedPreKey{ID: keys.SignedPreKey.ID, Key: keys.SignedPreKey.Key[:], Signature: keys.SignedPreKeySignature[:]},
		OneTimePreKeys: secretPreKeys(keys.OneTimePreKeys),
	})
}

func secretPreKeys(keys []protocol.PreKey) []SecretPreKey {
	out := make([]SecretPreKey, len(keys))
	for i, k := range keys {
		out[i] = SecretPreKey{ID: k.ID, Key: bytes.Clone(k.Key[:])}
	}
	return out
}

// SecretSend is a secret message as sent: one envelope per device of the
// recipient.
type SecretSend struct {
	To     int64
	Text   string
	Expire time.Duration
	// SentAt is this device's clock when it was sent, as the payload says.
	SentAt    time.Time
	Envelopes []SecretSent
	// IdentityChanged lists the recipient's devices whose identity is not
	// the one this device had a session with: compare safety numbers again.
	IdentityChanged []int64
}

// Send sends text to every device of the user that has set up secret
// chats (ErrNoSecretDevices if none has), but this one when writing to
// oneself. expire is the self-destruct timer, in whole seconds; 0 for
// none. For each device it has no session with — or whose identity
// changed — it claims a prekey bundle and starts one. It encrypts for each
// device, saves the state, and then sends every envelope in one request
// (batches of 20 for more devices), retried with the same client IDs, so
// a retry never delivers a message twice.
func (s *SecretChats) Send(ctx context.Context, userID int64, text string, expire time.Duration) (sent SecretSend, err error) {
	if err := checkSecretText(text, expire); err != nil {
		return SecretSend{}, err
	}
	st, err := s.begin(ctx)
	if err != nil {
		return SecretSend{}, err
	}
	var out []SecretOutgoing
	sent, out, err = s.seal(ctx, st, userID, text, expire)
	s.end(err)
	if err != nil {
		return SecretSend{}, err
	}
	// The state is saved: the envelopes may leave. The store is unlocked
	// meanwhile, so that a receiving process is not held up by the network.
	for len(out) > 0 {
		n := min(len(out), sendBatch)
		res, err := s.c.SendEnvelopes(ctx, out[:n])
		if err != nil {
			return SecretSend{}, fmt.Errorf("client: secret send to user %d: %w", userID, err)
		}
		sent.Envelopes = append(sent.Envelopes, res...)
		out = out[n:]
	}
	return sent, nil
}

func checkSecretText(text string, expire time.Duration) error {
	switch {
	case text == "":
		return kurir.Invalid("text", "empty_message", "A secret message needs text.")
	case !utf8.ValidString(text):
		return kurir.Invalid("text", "invalid_text", "The text is not valid UTF-8.")
	case utf8.RuneCountInString(text) > MaxSecretText:
		return kurir.Invalid("text", "too_long", "A secret message has at most %d characters, not %d.", MaxSecretText, utf8.RuneCountInString(text))
	case expire < 0 || expire%time.Second != 0 || expire > device.MaxExpire:
		return kurir.Invalid("expire", "invalid_timer", "The self-destruct timer must be a whole number of seconds, not %v.", expire)
	}
	return nil
}

// seal encrypts text for each of the user's devices, starting sessions as
// needed, and saves the state; it runs with the lock held.
func (s *SecretChats) seal(ctx context.Context, st *device.State, userID int64, text string, expire time.Duration) (SecretSend, []SecretOutgoing, error) {
	if st == nil {
		if _, err := s.register(ctx, nil); err != nil {
			return SecretSend{}, nil, err
		}
		st = s.st
	}
	devices, err := s.c.SecretDevices(ctx, userID)
	if err != nil {
		return SecretSend{}, nil, err
	}
	sent := SecretSend{To: userID, Text: text, Expire: expire, SentAt: time.Now().UTC().Truncate(time.Millisecond)}
	var claim []int64
	known := map[int64]protocol.PublicIdentity{}
	for _, d := range devices {
		p := device.Peer{User: userID, Device: d.DeviceID}
		if p == s.self {
			continue
		}
		id, err := device.ParseIdentity(d.Identity)
		if err != nil {
			return SecretSend{}, nil, fmt.Errorf("client: secret send: device %d: %w", d.DeviceID, err)
		}
		known[d.DeviceID] = id
		if have, ok := st.PeerIdentity(p); !ok || have != id {
			claim = append(claim, d.DeviceID)
		}
	}
	if len(known) == 0 {
		return SecretSend{}, nil, fmt.Errorf("client: secret send to user %d: %w", userID, ErrNoSecretDevices)
	}
	if len(claim) > 0 {
		bundles, err := s.c.ClaimSecretBundles(ctx, userID, claim...)
		if err != nil {
			return SecretSend{}, nil, err
		}
		for _, b := range bundles {
			want, ok := known[b.DeviceID]
			if !ok {
				continue
			}
			var bundle protocol.Bundle
			if err := bundle.UnmarshalBinary(b.Bundle); err != nil {
				return SecretSend{}, nil, fmt.Errorf("client: secret send: bundle of device %d: %w", b.DeviceID, err)
			}
			if bundle.Identity != want {
				// Reinstalled between the two requests: the next send
				// lists it afresh.
				delete(known, b.DeviceID)
				continue
			}
			changed, err := st.StartSession(device.Peer{User: userID, Device: b.DeviceID}, bundle)
			if err != nil {
				return SecretSend{}, nil, fmt.Errorf("client: secret send: device %d: %w", b.DeviceID, err)
			}
			if changed {
				sent.IdentityChanged = append(sent.IdentityChanged, b.DeviceID)
			}
		}
	}
	var out []SecretOutgoing
	for _, d := range devices {
		p := device.Peer{User: userID, Device: d.DeviceID}
		if _, ok := known[d.DeviceID]; !ok || !st.HasSession(p) {
			continue // no bundle came for it
		}
		sealed, err := st.Encrypt(p, text, expire, sent.SentAt)
		if err != nil {
			return SecretSend{}, nil, fmt.Errorf("client: secret send: device %d: %w", d.DeviceID, err)
		}
		out = append(out, SecretOutgoing{UserID: userID, DeviceID: d.DeviceID, Body: sealed.Body, Commitment: bytes.Clone(sealed.Commitment[:]), ClientID: NewIdempotencyKey()})
	}
	if len(out) == 0 {
		return SecretSend{}, nil, fmt.Errorf("client: secret send to user %d: no bundle for any device: %w", userID, ErrNoSecretDevices)
	}
	if err := s.commit(st); err != nil {
		return SecretSend{}, nil, err
	}
	return sent, out, nil
}

// SecretMessage is a secret message this device received.
type SecretMessage struct {
	// ID is the envelope's ID.
	ID           string
	Sender       int64
	SenderDevice int64
	Text         string
	// SentAt is the sender's clock when they sent it; At is when the
	// server accepted it.
	SentAt, At time.Time
	// Expire is the self-destruct timer: delete the message that long
	// after it is first shown; 0 for none.
	Expire time.Duration
	// NewSession says the sender's device started a new session with
	// this one; IdentityChanged that its identity is not the one this
	// device knew: compare safety numbers again.
	NewSession, IdentityChanged bool
	// Proof is what reporting the message reveals to the server: pass the
	// message to SecretChats.Report, or keep Proof (it has a JSON
	// encoding) to report it later with Client.ReportSecret.
	Proof franking.Report
}

// SecretDropped is an envelope that Receive acknowledged without a
// message: it did not decrypt, or its content was not a valid message.
type SecretDropped struct {
	ID           string
	Sender       int64
	SenderDevice int64
	Err          error
}

// SecretReceived is what Receive got.
type SecretReceived struct {
	Messages []SecretMessage
	Dropped  []SecretDropped
	// More says that envelopes may still wait on the server: Receive
	// stopped at its bound on the messages one call returns. Call it
	// again once these are kept.
	More bool
}

// Receive fetches this device's pending envelopes, decrypts them, saves
// the messages in the state's inbox, acknowledges the envelopes, and
// returns the inbox's messages in the order they arrived, emptying it.
// The state is saved before anything is acknowledged, so a crash loses no
// message and shows none twice: an envelope delivered again after a crash
// is recognised, and its message comes from the inbox. Envelopes that
// cannot be decrypted (replayed, tampered, for keys this device no longer
// holds) are acknowledged too, and listed in Dropped. Once Receive has
// returned a message, keeping it is the caller's part. One call returns
// at most 1000 messages; More then says to call again.
func (s *SecretChats) Receive(ctx context.Context) (got SecretReceived, err error) {
	st, err := s.begin(ctx)
	if err != nil {
		return SecretReceived{}, err
	}
	defer func() { s.end(err) }()
	if st == nil {
		if _, err := s.register(ctx, nil); err != nil {
			return SecretReceived{}, err
		}
		st = s.st
	}
	for {
		// The inbox may hold messages from a Receive that failed before it
		// handed them over; they count against this one's bound.
		room := maxReceive - (device.MaxInbox - st.InboxRoom())
		if room <= 0 {
			got.More = true
			break
		}
		limit := min(fetchBatch, room)
		envs, err := s.c.FetchEnvelopes(ctx, limit)
		if err != nil {
			return SecretReceived{}, err
		}
		if len(envs) == 0 {
			break
		}
		ids := make([]string, len(envs))
		bodies := 0
		for i, e := range envs {
			ids[i] = e.ID
			bodies += len(e.Body)
			m, err := s.open(st, e)
			switch {
			case errors.Is(err, device.ErrDuplicate):
				// Processed before a crash: its message is in the inbox.
			case err != nil:
				got.Dropped = append(got.Dropped, SecretDropped{ID: e.ID, Sender: e.Sender, SenderDevice: e.SenderDevice, Err: err})
			default:
				st.Hold(m)
			}
		}
		if err := s.commit(st); err != nil {
			return SecretReceived{}, err
		}
		if err := s.c.AckEnvelopes(ctx, ids); err != nil {
			return SecretReceived{}, err
		}
		if len(envs) < limit && bodies <= fetchPageBytes-maxEnvelopeBody {
			break // all there was: not a page cut short by its size
		}
	}
	held := st.TakeInbox()
	if len(held) > 0 {
		if err := s.commit(st); err != nil {
			return SecretReceived{}, err
		}
	}
	got.Messages = make([]SecretMessage, len(held))
	for i, m := range held {
		got.Messages[i] = SecretMessage{
			ID: m.Envelope, Sender: m.From.User, SenderDevice: m.From.Device, Text: m.Text,
			SentAt: m.SentAt, At: m.At, Expire: m.Expire,
			NewSession: m.NewSession, IdentityChanged: m.IdentityChanged,
			Proof: m.Report(s.self),
		}
	}
	return got, nil
}

// open decrypts one fetched envelope.
func (s *SecretChats) open(st *device.State, e SecretEnvelope) (device.Message, error) {
	env := device.Envelope{ID: e.ID, From: device.Peer{User: e.Sender, Device: e.SenderDevice}, Body: e.Body, At: time.UnixMicro(e.AtMicros).UTC()}
	if len(e.Commitment) != franking.CommitmentSize {
		return device.Message{}, fmt.Errorf("envelope %s: commitment of %d bytes: %w", e.ID, len(e.Commitment), protocol.ErrMalformed)
	}
	copy(env.Commitment[:], e.Commitment)
	tag, err := franking.ParseTag(e.Tag)
	if err != nil {
		return device.Message{}, fmt.Errorf("envelope %s: %w", e.ID, err)
	}
	env.Tag = tag
	return st.Decrypt(env)
}

// Report reports a received secret message to the moderators, revealing
// its text with the franking proof that the sender really sent it;
// reason is one of the IDs from ReportReasons.
func (s *SecretChats) Report(ctx context.Context, m SecretMessage, reason, comment string) (Report, error) {
	return s.c.ReportSecret(ctx, m.Proof, reason, comment)
}

// SecretSafetyNumber is the safety number of this device and one of
// another user's devices.
type SecretSafetyNumber struct {
	DeviceID int64
	// Number is 60 digits in 12 groups of 5: the same on both devices
	// exactly when each holds the other's real identity key.
	Number string
	// Session says this device has a session with that identity.
	Session bool
}

// SafetyNumber returns the safety number of this device with each of the
// user's devices that has set up secret chats. Two people compare them
// (read aloud, or side by side) to know that no one is in the middle.
func (s *SecretChats) SafetyNumber(ctx context.Context, userID int64) (numbers []SecretSafetyNumber, err error) {
	st, err := s.begin(ctx)
	if err != nil {
		return nil, err
	}
	defer func() { s.end(err) }()
	if st == nil {
		if _, err := s.register(ctx, nil); err != nil {
			return nil, err
		}
		st = s.st
	}
	devices, err := s.c.SecretDevices(ctx, userID)
	if err != nil {
		return nil, err
	}
	for _, d := range devices {
		p := device.Peer{User: userID, Device: d.DeviceID}
		if p == s.self {
			continue
		}
		id, err := device.ParseIdentity(d.Identity)
		if err != nil {
			return nil, fmt.Errorf("client: safety number: device %d: %w", d.DeviceID, err)
		}
		have, ok := st.PeerIdentity(p)
		numbers = append(numbers, SecretSafetyNumber{DeviceID: d.DeviceID, Number: st.SafetyNumber(userID, id), Session: ok && have == id})
	}
	if len(numbers) == 0 {
		return nil, fmt.Errorf("client: safety number of user %d: %w", userID, ErrNoSecretDevices)
	}
	return numbers, nil
}
