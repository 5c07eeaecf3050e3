package client

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"kurir/secret/franking"
)

// This file is the secret-chat API (/api/v1/secret), one method per
// operation, as docs/secret-chats.md ("Server API (version 1)") specifies
// it. A device is the session the Client's token belongs to. Byte strings
// are []byte, which encoding/json writes as the standard base64 with
// padding the API takes. SecretChats (secret_chats.go) builds secret chats
// on these methods; most callers want it rather than them.
//
// A server run without secret chats answers every method with a
// kurir.EUnavailable *Error, Reason "no_secret".

// SecretPreKey is a one-time prekey to publish: its ID and X25519 public
// key (32 bytes).
type SecretPreKey struct {
	ID  uint32 `json:"id"`
	Key []byte `json:"key"`
}

// SecretSignedPreKey is a signed prekey to publish: its ID, X25519 public
// key (32 bytes) and the identity's Ed25519 signature over it (64 bytes).
type SecretSignedPreKey struct {
	ID        uint32 `json:"id"`
	Key       []byte `json:"key"`
	Signature []byte `json:"signature"`
}

// SecretKeysParams are a device's keys to publish.
type SecretKeysParams struct {
	// Identity is the X25519 public key then the Ed25519 public key (64 bytes).
	Identity     []byte             `json:"identity"`
	SignedPreKey SecretSignedPreKey `json:"signed_prekey"`
	// OneTimePreKeys are at most 100.
	OneTimePreKeys []SecretPreKey `json:"one_time_prekeys"`
}

// SecretKeyStatus is what the server holds of this device's keys.
type SecretKeyStatus struct {
	// Registered says the device has published its keys; the other fields
	// are zero until it has.
	Registered     bool      `json:"registered"`
	Identity       []byte    `json:"identity,omitempty"`
	SignedPreKeyID uint32    `json:"signed_prekey_id"`
	SignedPreKeyAt time.Time `json:"signed_prekey_at"`
	// OneTimePreKeys is how many unclaimed one-time prekeys the server holds.
	OneTimePreKeys int `json:"one_time_prekeys"`
	// Replenish says fewer than 20 are left: upload more.
	Replenish bool `json:"replenish"`
}

// PublishSecretKeys publishes this device's keys (PUT /secret/keys). The
// server verifies the signed prekey's signature and refuses low-order
// points. The same identity again replaces the signed prekey and adds the
// one-time prekeys; another identity is a reinstall, which drops the
// device's one-time prekeys and pending envelopes.
func (c *Client) PublishSecretKeys(ctx context.Context, p SecretKeysParams) (SecretKeyStatus, error) {
	if p.OneTimePreKeys == nil {
		p.OneTimePreKeys = []SecretPreKey{}
	}
	var st SecretKeyStatus
	err := c.do(ctx, http.MethodPut, c.url("/secret/keys"), p, &st)
	return st, err
}

// AddSecretPreKeys uploads more one-time prekeys (at most 100 at a time,
// 500 held), once the keys are published.
func (c *Client) AddSecretPreKeys(ctx context.Context, keys []SecretPreKey) (SecretKeyStatus, error) {
	var st SecretKeyStatus
	err := c.do(ctx, http.MethodPost, c.url("/secret/keys/one-time"), struct {
		OneTimePreKeys []SecretPreKey `json:"one_time_prekeys"`
	}{keys}, &st)
	return st, err
}

// SecretKeys returns what the server holds of this device's keys.
func (c *Client) SecretKeys(ctx context.Context) (SecretKeyStatus, error) {
	var st SecretKeyStatus
	err := c.do(ctx, http.MethodGet, c.url("/secret/keys"), nil, &st)
	return st, err
}

// SecretDevice is one of a user's devices that have published keys.
type SecretDevice struct {
	DeviceID int64 `json:"device_id"`
	// Identity is the device's public identity (64 bytes), from which
	// safety numbers are computed.
	Identity  []byte    `json:"identity"`
	UpdatedAt time.Time `json:"updated_at"`
}

// SecretDevices returns a user's devices that have published keys: the
// recipients of a secret message to them.
func (c *Client) SecretDevices(ctx context.Context, userID int64) ([]SecretDevice, error) {
	var out struct {
		Devices []SecretDevice `json:"devices"`
	}
	err := c.do(ctx, http.MethodGet, c.url("/secret/users/*/devices", userID), nil, &out)
	return out.Devices, err
}

// SecretBundle is a prekey bundle claimed for one device, in the
// protocol's encoding (protocol.Bundle.UnmarshalBinary); verify it before
// use (protocol.Initiate does).
type SecretBundle struct {
	DeviceID int64  `json:"device_id"`
	Bundle   []byte `json:"bundle"`
}

// ClaimSecretBundles claims a prekey bundle for each of the user's devices
// (but the caller's own), or for those named. Each takes one one-time
// prekey, never handed out again. Claims are rate-limited (a
// kurir.ERateLimited *Error with Reason "too_many_claims").
func (c *Client) ClaimSecretBundles(ctx context.Context, userID int64, devices ...int64) ([]SecretBundle, error) {
	var out struct {
		Bundles []SecretBundle `json:"bundles"`
	}
	err := c.do(ctx, http.MethodPost, c.url("/secret/users/*/bundles", userID), struct {
		Devices []int64 `json:"devices,omitempty"`
	}{devices}, &out)
	return out.Bundles, err
}

// SecretOutgoing is an envelope to send to one device.
type SecretOutgoing struct {
	UserID   int64 `json:"user_id"`
	DeviceID int64 `json:"device_id"`
	// Body is the envelope body (device.Body), Commitment the franking
	// commitment (32 bytes).
	Body       []byte `json:"body"`
	Commitment []byte `json:"commitment"`
	// ClientID is unique among this device's sends (at most 64 bytes): a
	// retry with the same ClientID answers the first result and stores
	// nothing. SendEnvelopes fills in an empty one.
	ClientID string `json:"client_id"`
}

// SecretSent is an envelope the server stored.
type SecretSent struct {
	ID       string `json:"id"`
	UserID   int64  `json:"user_id"`
	DeviceID int64  `json:"device_id"`
	// AtMicros is when the server stored it, in microseconds since the
	// Unix epoch; Tag the server's franking tag (33 bytes).
	AtMicros int64  `json:"at_us"`
	Tag      []byte `json:"tag"`
}

// At returns AtMicros as a time.
func (s SecretSent) At() time.Time { return time.UnixMicro(s.AtMicros).UTC() }

// SendEnvelopes sends at most 20 envelopes: all are stored, or none. Like
// Send it retries as Retry describes, every attempt with the same client
// IDs, so each envelope is stored at most once however often it had to
// try; envs is updated with the client IDs it filled in.
func (c *Client) SendEnvelopes(ctx context.Context, envs []SecretOutgoing) ([]SecretSent, error) {
	for i := range envs {
		if envs[i].ClientID == "" {
			envs[i].ClientID = NewIdempotencyKey()
		}
	}
	body, err := encodeJSON(struct {
		Envelopes []SecretOutgoing `json:"envelopes"`
	}{envs})
	if err != nil {
		return nil, fmt.Errorf("client: send envelopes: encode request: %w", err)
	}
	target := c.url("/secret/envelopes")
	var out struct {
		Envelopes []SecretSent `json:"envelopes"`
	}
	for attempt := 1; ; attempt++ {
		err := c.exchange(ctx, http.MethodPost, target, body, &out)
		if err == nil {
			return out.Envelopes, nil
		}
		d, again := c.retry.wait(ctx, attempt, err)
		if !again {
			if attempt > 1 {
				return nil, fmt.Errorf("client: send envelopes: gave up after %d attempts: %w", attempt, err)
			}
			return nil, err
		}
		if serr := sleep(ctx, d); serr != nil {
			return nil, fmt.Errorf("client: send envelopes: %w while waiting to retry after: %w", serr, err)
		}
	}
}

// SecretEnvelope is an envelope waiting for this device.
type SecretEnvelope struct {
	ID           string `json:"id"`
	Sender       int64  `json:"sender"`
	SenderDevice int64  `json:"sender_device"`
	Body         []byte `json:"body"`
	Commitment   []byte `json:"commitment"`
	Tag          []byte `json:"tag"`
	AtMicros     int64  `json:"at_us"`
}

// FetchEnvelopes returns this device's pending envelopes, oldest first: at
// most limit (0 for the server's default of 100; it caps it at 500), and
// fewer when their bodies are large. They stay until acknowledged.
func (c *Client) FetchEnvelopes(ctx context.Context, limit int) ([]SecretEnvelope, error) {
	var q query
	if limit > 0 {
		q.addInt("limit", int64(limit))
	}
	var out struct {
		Envelopes []SecretEnvelope `json:"envelopes"`
	}
	err := c.do(ctx, http.MethodGet, c.url("/secret/envelopes")+string(q.b), nil, &out)
	return out.Envelopes, err
}

// AckEnvelopes deletes delivered envelopes (at most 500 IDs); IDs that are
// not this device's, or gone, are ignored.
func (c *Client) AckEnvelopes(ctx context.Context, ids []string) error {
	return c.do(ctx, http.MethodPost, c.url("/secret/envelopes/ack"), struct {
		IDs []string `json:"ids"`
	}{ids}, nil)
}

// ReportSecret reports a secret-chat message to the moderators with its
// franking proof (device.Message.Report makes it). reason is one of the
// IDs from ReportReasons. The server checks the proof and that the caller
// is the recipient device; a proof that does not verify is a
// kurir.EInvalid *Error with Reason "franking_invalid" (status 422), and
// nothing is filed. The report, like any other, joins a case.
func (c *Client) ReportSecret(ctx context.Context, proof franking.Report, reason, comment string) (Report, error) {
	var r Report
	err := c.do(ctx, http.MethodPost, c.url("/secret/reports"), struct {
		Report  franking.Report `json:"report"`
		Reason  string          `json:"reason"`
		Comment string          `json:"comment,omitempty"`
	}{proof, reason, comment}, &r)
	return r, err
}
