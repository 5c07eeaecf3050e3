package secret_test

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"testing"
	"time"

	"kurir"
	"kurir/account"
	"kurir/audit"
	"kurir/clocktest"
	"kurir/media"
	"kurir/messaging"
	"kurir/moderation"
	"kurir/ratelimit"
	"kurir/secret"
	"kurir/secret/franking"
	"kurir/secret/protocol"
	"kurir/sqldb"
)

// schema is every migration the service's tests need.
var schema = []sqldb.Migrations{account.Migrations, media.Migrations, messaging.Migrations, audit.Migrations,
	moderation.Migrations, secret.Migrations}

const password = "wet-otter-lantern-9"

// world is a secret-chat service over a real database, with the accounts
// and moderation it works with and a clock the test moves.
type world struct {
	db    *sqldb.DB
	acc   *account.Service
	mod   *moderation.Service
	svc   *secret.Service
	clock *clocktest.Fake
	n     int
}

// newWorld starts the service on db; claims is Config.Claims (nil: default).
func newWorld(t testing.TB, db *sqldb.DB, claims *ratelimit.Limit) *world {
	t.Helper()
	return newWorldWith(t, db, secret.Config{Claims: claims})
}

// newWorldWith starts the service on db with cfg (its Reports are the
// world's moderation).
func newWorldWith(t testing.TB, db *sqldb.DB, cfg secret.Config) *world {
	t.Helper()
	clock := clocktest.New(time.Time{})
	acc := account.NewService(db, clock, nil, account.Config{Argon2: account.CheapArgon2Params, Limits: &account.Limits{}})
	msg := messaging.NewService(db, nil, clock, nil, messaging.Config{})
	mod := moderation.NewService(db, msg, acc, clock, nil, moderation.Config{})
	cfg.Reports = mod
	svc, err := secret.NewService(context.Background(), db, clock, nil, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return &world{db: db, acc: acc, mod: mod, svc: svc, clock: clock}
}

// user registers a user and logs in one device for them.
func (w *world) user(t testing.TB, name string) (account.Principal, secret.Device) {
	t.Helper()
	ctx := context.Background()
	if _, err := w.acc.Register(ctx, account.RegisterParams{Username: name, Password: password}); err != nil {
		t.Fatal(err)
	}
	return w.login(t, name)
}

// login logs in another device of an existing user.
func (w *world) login(t testing.TB, name string) (account.Principal, secret.Device) {
	t.Helper()
	w.n++
	_, sess, u, err := w.acc.Login(context.Background(), account.LoginParams{Username: name, Password: password, DeviceName: fmt.Sprint("device ", w.n)})
	if err != nil {
		t.Fatal(err)
	}
	return account.Principal{User: u, SessionID: sess.ID}, secret.Device{User: u.ID, ID: sess.ID}
}

// keyring is a device's private keys, for tests that publish them.
type keyring struct {
	identity *protocol.IdentityKey
	spk      *protocol.SignedPreKey
	opks     []*protocol.OneTimePreKey
}

// newKeyring makes an identity, signed prekey spkID, and one-time prekeys
// with IDs first, first+1, ... (n of them).
func newKeyring(t testing.TB, spkID uint32, first uint32, n int) *keyring {
	t.Helper()
	id, err := protocol.NewIdentityKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	k := &keyring{identity: id}
	k.rotate(t, spkID)
	k.opks = k.more(t, first, n)
	return k
}

func (k *keyring) rotate(t testing.TB, spkID uint32) {
	t.Helper()
	spk, err := protocol.NewSignedPreKey(spkID, k.identity, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	k.spk = spk
}

// more makes n one-time prekeys numbered from first.
func (k *keyring) more(t testing.TB, first uint32, n int) []*protocol.OneTimePreKey {
	t.Helper()
	var out []*protocol.OneTimePreKey
	for i := range n {
		opk, err := protocol.NewOneTimePreKey(first+uint32(i), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, opk)
	}
	return out
}

func publicKeys(opks []*protocol.OneTimePreKey) []protocol.PreKey {
	out := make([]protocol.PreKey, len(opks))
	for i, k := range opks {
		out[i] = k.Public()
	}
	return out
}

// keys is what the device publishes.
func (k *keyring) keys() secret.Keys {
	return secret.Keys{Identity: k.identity.Public(), SignedPreKey: k.spk.Public(), Signature: k.spk.Signature, OneTime: publicKeys(k.opks)}
}

// publish publishes a fresh keyring with n one-time prekeys for dev.
func (w *world) publish(t testing.TB, dev secret.Device, n int) *keyring {
	t.Helper()
	k := newKeyring(t, 1, 1, n)
	if _, err := w.svc.PublishKeys(context.Background(), dev, k.keys()); err != nil {
		t.Fatal(err)
	}
	return k
}

// body is a framed envelope body around random bytes: the server checks the
// framing only, so a prekey or session envelope of any ciphertext will do.
func body(prekey bool, ciphertext int) []byte {
	b := []byte{0x02}
	if prekey {
		h := make([]byte, 102)
		rand.Read(h)
		h[0], h[101] = 1, 0
		b = append([]byte{0x01}, h...)
	}
	hdr := make([]byte, protocol.HeaderSize)
	rand.Read(hdr)
	hdr[0] = 1
	b = append(b, hdr...)
	ct := make([]byte, ciphertext+16)
	rand.Read(ct)
	return append(b, ct...)
}

// outgoing is an envelope to dev with a commitment to text.
func outgoing(to secret.Device, clientID, text string) (secret.Outgoing, franking.Key) {
	kf, _ := franking.NewKey(rand.Reader)
	return secret.Outgoing{To: to, Body: body(false, len(text)), Commitment: franking.Commit(kf, []byte(text)), ClientID: clientID}, kf
}

// wantCode fails the test unless err has code (and reason, if given).
func wantCode(t testing.TB, what string, err error, code kurir.Code, reason string) {
	t.Helper()
	var e *kurir.Error
	if !errors.As(err, &e) || e.Code != code || (reason != "" && e.Reason != reason) {
		t.Errorf("%s: got %v, want %s %s", what, err, code, reason)
	}
}

// count returns the rows of table matching where.
func count(t testing.TB, db *sqldb.DB, table, where string, args ...any) int {
	t.Helper()
	q := "SELECT COUNT(*) FROM " + table
	if where != "" {
		q += " WHERE " + where
	}
	var n int
	if err := db.Read().QueryRowContext(context.Background(), q, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}
