package secret

import (
	"bytes"
	"context"
	"crypto/ecdh"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"time"

	"kurir"
	"kurir/secret/protocol"
	"kurir/sqldb"
)

// Keys is what a device publishes: its public identity, its signed prekey
// with the identity's signature over it, and one-time prekeys.
type Keys struct {
	Identity     protocol.PublicIdentity
	SignedPreKey protocol.PreKey
	Signature    [64]byte
	OneTime      []protocol.PreKey
}

// KeyStatus is a device's entry in the directory as the device sees it.
type KeyStatus struct {
	// Registered says the device has published its keys; the other fields
	// are zero until it has.
	Registered     bool
	Identity       protocol.PublicIdentity
	SignedPreKeyID uint32
	SignedPreKeyAt time.Time
	// OneTimePreKeys is how many unclaimed one-time prekeys it holds.
	OneTimePreKeys int
	// Replenish is set while it holds fewer than LowWater.
	Replenish bool
}

// DeviceKeys is one device in a user's list of devices with keys.
type DeviceKeys struct {
	Device    int64
	Identity  protocol.PublicIdentity
	UpdatedAt time.Time
}

// Bundle is the prekey bundle claimed for one device.
type Bundle struct {
	Device int64
	Bundle protocol.Bundle
}

// Claim is the outcome of claiming bundles.
type Claim struct {
	Bundles []Bundle
	// Low are the devices the claim left with fewer than LowWater one-time
	// prekeys: they should be told to replenish.
	Low []Device
}

// MaxClaim is the most devices one claim may name.
const MaxClaim = 100

// lowOrderProbe is the fixed X25519 scalar of docs/secret-chats.md ("Prekey
// bundle"): 32 zero bytes, which clamping makes a multiple of the cofactor,
// so that DH with it is all-zero exactly for the low-order points. It is a
// constant, computed once.
var lowOrderProbe, _ = ecdh.X25519().NewPrivateKey(make([]byte, 32))

// usableX25519 reports whether pub is an X25519 public key that is not a
// low-order point (which would make every shared secret with it zero).
func usableX25519(pub [32]byte) bool {
	p, err := ecdh.X25519().NewPublicKey(pub[:])
	if err != nil {
		return false
	}
	_, err = lowOrderProbe.ECDH(p) // crypto/ecdh refuses an all-zero result
	return err == nil
}

// check verifies keys before they are stored: no low-order points, the
// signed prekey's Ed25519 signature, and the one-time prekeys.
func (k Keys) check() error {
	if !usableX25519(k.Identity.DH) {
		return kurir.Invalid("identity", "secret_bad_key", "The identity's X25519 key is a low-order point, which no session may use.")
	}
	if !usableX25519(k.SignedPreKey.Key) {
		return kurir.Invalid("signed_prekey.key", "secret_bad_key", "The signed prekey is a low-order point, which no session may use.")
	}
	b := protocol.Bundle{Identity: k.Identity, SignedPreKey: k.SignedPreKey, SignedPreKeySignature: k.Signature}
	if err := b.Verify(); err != nil {
		return &kurir.Error{Code: kurir.EInvalid, Reason: "secret_bad_signature", Field: "signed_prekey.signature",
			Message: "The signed prekey's signature does not verify under the identity's Ed25519 key (over \"kurir secret chat v1 signed prekey\" || identity X25519 key || u32 ID || prekey).",
			Err:     err}
	}
	return checkPreKeys(k.OneTime)
}

// checkPreKeys checks an upload of one-time prekeys: at most
// MaxPreKeysPerCall, distinct IDs, no low-order points.
func checkPreKeys(keys []protocol.PreKey) error {
	if len(keys) > MaxPreKeysPerCall {
		return kurir.Invalid("one_time_prekeys", "too_many", "Upload at most %d one-time prekeys at a time, not %d.", MaxPreKeysPerCall, len(keys))
	}
	seen := make(map[uint32]bool, len(keys))
	for i, k := range keys {
		field := "one_time_prekeys[" + strconv.Itoa(i) + "]"
		if seen[k.ID] {
			return kurir.Invalid(field+".id", "duplicate_id", "One-time prekey ID %d appears more than once.", k.ID)
		}
		seen[k.ID] = true
		if !usableX25519(k.Key) {
			return kurir.Invalid(field+".key", "secret_bad_key", "One-time prekey %d is a low-order point, which no session may use.", k.ID)
		}
	}
	return nil
}

// deviceRow is a device's row in secret_devices.
type deviceRow struct {
	user      kurir.UserID
	identity  protocol.PublicIdentity
	spk       protocol.PreKey
	signature [64]byte
	spkAt     time.Time
	updatedAt time.Time
}

// lockFor returns clause on PostgreSQL and nothing on SQLite, whose single
// writer needs no row locks.
func lockFor(tx *sqldb.Tx, clause string) string {
	if tx.Engine() == sqldb.Postgres {
		return " " + clause
	}
	return ""
}

// findDevice reads a device's row; lock is appended to the query (see lockFor).
func findDevice(ctx context.Context, q sqldb.Querier, device int64, lock string) (deviceRow, bool, error) {
	var d deviceRow
	var user, spkID, spkAt, updated int64
	var identity, spk, sig []byte
	err := q.QueryRowContext(ctx, `SELECT user_id, identity, spk_id, spk, spk_signature, spk_at, updated_at
		FROM secret_devices WHERE device_id = $1`+lock, device).Scan(&user, &identity, &spkID, &spk, &sig, &spkAt, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		return d, false, nil
	}
	if err != nil {
		return d, false, fmt.Errorf("find device %d: %w", device, err)
	}
	if len(identity) != 64 || len(spk) != 32 || len(sig) != 64 {
		return d, false, fmt.Errorf("device %d: stored keys have the wrong lengths", device)
	}
	d.user = kurir.UserID(user)
	copy(d.identity.DH[:], identity[:32])
	copy(d.identity.Sign[:], identity[32:])
	d.spk.ID = uint32(spkID)
	copy(d.spk.Key[:], spk)
	copy(d.signature[:], sig)
	d.spkAt, d.updatedAt = sqldb.FromMicros(spkAt), sqldb.FromMicros(updated)
	return d, true, nil
}

func identityBytes(id protocol.PublicIdentity) []byte { return append(id.DH[:], id.Sign[:]...) }

// PublishKeys stores dev's keys after verifying them. Publishing the same
// identity again updates the signed prekey (rotation) and adds the
// one-time prekeys; another identity is a reinstall, which drops the
// device's one-time prekeys and pending envelopes. A one-time prekey ID the
// device already holds (or held and had claimed) is refused if its key
// differs, and skipped if it is the same key (a retried upload). It returns
// the device's status.
func (s *Service) PublishKeys(ctx context.Context, dev Device, k Keys) (KeyStatus, error) {
	if err := k.check(); err != nil {
		return KeyStatus{}, err
	}
	now := sqldb.Micros(s.now())
	var st KeyStatus
	publish := func(tx *sqldb.Tx) error {
		if err := lockSession(ctx, tx, dev); err != nil {
			return err
		}
		cur, found, err := findDevice(ctx, tx, dev.ID, lockFor(tx, "FOR UPDATE"))
		if err != nil {
			return err
		}
		switch {
		case !found:
			if _, err := tx.ExecContext(ctx, `INSERT INTO secret_devices (device_id, user_id, identity, spk_id, spk, spk_signature, spk_at, updated_at)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $7)`,
				dev.ID, dev.User, identityBytes(k.Identity), int64(k.SignedPreKey.ID), k.SignedPreKey.Key[:], k.Signature[:], now); err != nil {
				return fmt.Errorf("store keys: %w", err)
			}
		case cur.identity != k.Identity:
			// A new identity on the same session: whatever was encrypted to
			// the old one can never be read, and its prekeys are gone with it.
			if _, err := tx.ExecContext(ctx, `DELETE FROM secret_prekeys WHERE device_id = $1`, dev.ID); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `DELETE FROM secret_envelopes WHERE recipient_device = $1`, dev.ID); err != nil {
				return err
			}
			fallthrough
		case cur.spk != k.SignedPreKey || cur.signature != k.Signature:
			if _, err := tx.ExecContext(ctx, `UPDATE secret_devices SET identity = $2, spk_id = $3, spk = $4, spk_signature = $5,
				spk_at = $6, updated_at = $6 WHERE device_id = $1`,
				dev.ID, identityBytes(k.Identity), int64(k.SignedPreKey.ID), k.SignedPreKey.Key[:], k.Signature[:], now); err != nil {
				return fmt.Errorf("update keys: %w", err)
			}
		}
		if err := addPreKeys(ctx, tx, dev.ID, k.OneTime); err != nil {
			return err
		}
		st, err = status(ctx, tx, dev)
		return err
	}
	err := s.db.WriteTx(ctx, publish)
	if sqldb.IsUniqueViolation(err) {
		// The device's first upload raced another (only PostgreSQL runs
		// them at once), which stored the row first: there is no row to
		// lock until then. Now there is, and this attempt waits its turn.
		err = s.db.WriteTx(ctx, publish)
	}
	if err != nil {
		return KeyStatus{}, err
	}
	return st, nil
}

// AddPreKeys adds one-time prekeys to dev's stock, as PublishKeys does, and
// returns its status. The device must have published its keys.
func (s *Service) AddPreKeys(ctx context.Context, dev Device, keys []protocol.PreKey) (KeyStatus, error) {
	if err := checkPreKeys(keys); err != nil {
		return KeyStatus{}, err
	}
	var st KeyStatus
	err := s.db.WriteTx(ctx, func(tx *sqldb.Tx) error {
		if err := lockSession(ctx, tx, dev); err != nil {
			return err
		}
		_, found, err := findDevice(ctx, tx, dev.ID, lockFor(tx, "FOR UPDATE"))
		if err != nil {
			return err
		}
		if !found {
			return errNotRegistered
		}
		if err := addPreKeys(ctx, tx, dev.ID, keys); err != nil {
			return err
		}
		st, err = status(ctx, tx, dev)
		return err
	})
	if err != nil {
		return KeyStatus{}, err
	}
	return st, nil
}

// addPreKeys stores one-time prekeys for device, whose row the caller has
// locked. It refuses the whole upload if an ID is taken by another key or
// the stock would pass MaxPreKeys.
func addPreKeys(ctx context.Context, tx *sqldb.Tx, device int64, keys []protocol.PreKey) error {
	if len(keys) == 0 {
		return nil
	}
	var stock int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM secret_prekeys WHERE device_id = $1 AND claimed_at IS NULL`, device).Scan(&stock); err != nil {
		return fmt.Errorf("count prekeys: %w", err)
	}
	for i, k := range keys {
		var pub []byte
		err := tx.QueryRowContext(ctx, `SELECT pub FROM secret_prekeys WHERE device_id = $1 AND key_id = $2`, device, int64(k.ID)).Scan(&pub)
		switch {
		case err == nil && bytes.Equal(pub, k.Key[:]):
			continue // uploaded before: a retry, or claimed since
		case err == nil:
			return &kurir.Error{Code: kurir.EConflict, Reason: "secret_prekey_id_taken", Field: "one_time_prekeys[" + strconv.Itoa(i) + "].id",
				Message: fmt.Sprintf("One-time prekey ID %d is already used by another key on this device; give each new prekey a new ID.", k.ID)}
		case !errors.Is(err, sql.ErrNoRows):
			return fmt.Errorf("find prekey: %w", err)
		}
		if stock >= MaxPreKeys {
			return &kurir.Error{Code: kurir.EConflict, Reason: "secret_too_many_prekeys", Field: "one_time_prekeys",
				Message: fmt.Sprintf("A device holds at most %d unclaimed one-time prekeys; this upload would pass that.", MaxPreKeys)}
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO secret_prekeys (device_id, key_id, pub) VALUES ($1, $2, $3)`,
			device, int64(k.ID), k.Key[:]); err != nil {
			return fmt.Errorf("store prekey: %w", err)
		}
		stock++
	}
	return nil
}

// status reads dev's status.
func status(ctx context.Context, q sqldb.Querier, dev Device) (KeyStatus, error) {
	d, found, err := findDevice(ctx, q, dev.ID, "")
	if err != nil {
		return KeyStatus{}, err
	}
	if !found || d.user != dev.User {
		return KeyStatus{Replenish: true}, nil
	}
	st := KeyStatus{Registered: true, Identity: d.identity, SignedPreKeyID: d.spk.ID, SignedPreKeyAt: d.spkAt}
	if err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM secret_prekeys WHERE device_id = $1 AND claimed_at IS NULL`, dev.ID).
		Scan(&st.OneTimePreKeys); err != nil {
		return KeyStatus{}, fmt.Errorf("count prekeys: %w", err)
	}
	st.Replenish = st.OneTimePreKeys < LowWater
	return st, nil
}

// KeyStatus returns dev's status in the directory.
func (s *Service) KeyStatus(ctx context.Context, dev Device) (KeyStatus, error) {
	var st KeyStatus
	err := s.db.ReadTx(ctx, func(tx *sqldb.Tx) error {
		var err error
		st, err = status(ctx, tx, dev)
		return err
	})
	return st, err
}

// Devices returns user's devices that have published keys, in the order
// they logged in. A user without any, or no such user, has none.
func (s *Service) Devices(ctx context.Context, user kurir.UserID) ([]DeviceKeys, error) {
	rows, err := s.db.Read().QueryContext(ctx, `SELECT device_id, identity, updated_at FROM secret_devices
		WHERE user_id = $1 ORDER BY device_id`, user)
	if err != nil {
		return nil, fmt.Errorf("list devices: %w", err)
	}
	defer rows.Close()
	out := []DeviceKeys{}
	for rows.Next() {
		var d DeviceKeys
		var identity []byte
		var updated int64
		if err := rows.Scan(&d.Device, &identity, &updated); err != nil {
			return nil, err
		}
		if len(identity) != 64 {
			return nil, fmt.Errorf("device %d: stored identity is %d bytes", d.Device, len(identity))
		}
		copy(d.Identity.DH[:], identity[:32])
		copy(d.Identity.Sign[:], identity[32:])
		d.UpdatedAt = sqldb.FromMicros(updated)
		out = append(out, d)
	}
	return out, rows.Err()
}

// Claim hands by a prekey bundle for each of user's devices, or for those
// named in devices, taking one unclaimed one-time prekey from each: no
// prekey is ever handed out twice, however many claims run at once on
// however many nodes. A device with none left gets a bundle without one.
// The claimer's own device is left out of "each device", and may not be
// named. A named device without keys fails the whole claim with
// ENotFound; an unnamed one that logs out meanwhile is left out. Claims
// are rate-limited per claiming user.
func (s *Service) Claim(ctx context.Context, by Device, user kurir.UserID, devices []int64) (Claim, error) {
	out := Claim{Bundles: []Bundle{}}
	named := len(devices) > 0
	if len(devices) > MaxClaim {
		return out, kurir.Invalid("devices", "too_many", "Name at most %d devices in one claim, not %d.", MaxClaim, len(devices))
	}
	seen := make(map[int64]bool, len(devices))
	for i, d := range devices {
		field := "devices[" + strconv.Itoa(i) + "]"
		switch {
		case d <= 0:
			return out, kurir.Invalid(field, "invalid_id", "%d is not a device ID.", d)
		case seen[d]:
			return out, kurir.Invalid(field, "duplicate_id", "Device %d is named twice.", d)
		case user == by.User && d == by.ID:
			return out, kurir.Invalid(field, "secret_own_device", "A device does not start a secret chat with itself.")
		}
		seen[d] = true
	}
	if !named {
		list, err := s.Devices(ctx, user)
		if err != nil {
			return out, err
		}
		for _, d := range list {
			if user != by.User || d.Device != by.ID {
				devices = append(devices, d.Device)
			}
		}
		if len(devices) == 0 {
			return out, nil
		}
	}
	if s.claims != nil {
		if ok, wait := s.claims.AllowN("claim:"+strconv.FormatInt(int64(by.User), 10), len(devices)); !ok {
			return out, tooManyClaims(wait)
		}
	}
	now := sqldb.Micros(s.now())
	err := s.db.WriteTx(ctx, func(tx *sqldb.Tx) error {
		out = Claim{Bundles: make([]Bundle, 0, len(devices))}
		if err := lockSession(ctx, tx, by); err != nil {
			return err
		}
		for i, id := range devices {
			b, stock, found, err := claimOne(ctx, tx, Device{User: user, ID: id}, now)
			if err != nil {
				return err
			}
			if !found {
				if named {
					return errNoDevice("devices["+strconv.Itoa(i)+"]", Device{User: user, ID: id})
				}
				continue
			}
			out.Bundles = append(out.Bundles, Bundle{Device: id, Bundle: b})
			if stock < LowWater {
				out.Low = append(out.Low, Device{User: user, ID: id})
			}
		}
		return nil
	})
	if err != nil {
		return Claim{Bundles: []Bundle{}}, err
	}
	return out, nil
}

func tooManyClaims(wait time.Duration) error {
	msg := "Too many prekey bundles claimed; try again in a while."
	if wait < time.Hour {
		msg = fmt.Sprintf("Too many prekey bundles claimed; try again in %d seconds.", int((wait+time.Second-1)/time.Second))
	}
	return &kurir.Error{Code: kurir.ERateLimited, Reason: "too_many_claims", RetryAfter: min(wait, time.Hour), Message: msg}
}

// claimOne takes the bundle of dev and one of its one-time prekeys, and
// returns the bundle and how many unclaimed one-time prekeys are left.
// found is false if dev has no keys.
//
// On PostgreSQL the device's row is share-locked, so that a concurrent
// reinstall cannot pair the old identity with a new prekey, and the prekey
// is chosen with SKIP LOCKED: concurrent claims each lock a different one
// rather than queueing for the lowest, and a prekey whose claim committed
// first is skipped, never returned again. On SQLite claims run one at a
// time on the single writer.
func claimOne(ctx context.Context, tx *sqldb.Tx, dev Device, now int64) (b protocol.Bundle, stock int, found bool, err error) {
	d, found, err := findDevice(ctx, tx, dev.ID, lockFor(tx, "FOR SHARE"))
	if err != nil || !found || d.user != dev.User {
		return b, 0, false, err
	}
	b = protocol.Bundle{Identity: d.identity, SignedPreKey: d.spk, SignedPreKeySignature: d.signature}
	var keyID int64
	var pub []byte
	err = tx.QueryRowContext(ctx, `UPDATE secret_prekeys SET claimed_at = $2
		WHERE device_id = $1 AND key_id = (SELECT key_id FROM secret_prekeys WHERE device_id = $1 AND claimed_at IS NULL
			ORDER BY key_id LIMIT 1`+lockFor(tx, "FOR UPDATE SKIP LOCKED")+`)
		RETURNING key_id, pub`, dev.ID, now).Scan(&keyID, &pub)
	switch {
	case errors.Is(err, sql.ErrNoRows): // none left: a bundle without one
	case err != nil:
		return b, 0, false, fmt.Errorf("claim prekey of device %d: %w", dev.ID, err)
	case len(pub) != 32:
		return b, 0, false, fmt.Errorf("device %d prekey %d: stored key is %d bytes", dev.ID, keyID, len(pub))
	default:
		opk := protocol.PreKey{ID: uint32(keyID)}
		copy(opk.Key[:], pub)
		b.OneTimePreKey = &opk
	}
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM secret_prekeys WHERE device_id = $1 AND claimed_at IS NULL`, dev.ID).Scan(&stock); err != nil {
		return b, 0, false, fmt.Errorf("count prekeys: %w", err)
	}
	return b, stock, true, nil
}
