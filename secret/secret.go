// Package secret is the server side of secret chats: the directory of
// devices' public keys and the relay of their end-to-end encrypted
// envelopes. The protocol itself is kurir/secret/protocol and message
// franking is kurir/secret/franking; docs/secret-chats.md specifies both and
// the API this package serves.
//
// A device is an account session. It publishes an identity, a signed prekey
// and one-time prekeys; anyone may claim a bundle of them to start a session
// with it, and each claim takes one one-time prekey, never handed out twice.
// Envelopes wait for their recipient device until it acknowledges them or
// they expire. Each is stamped with the server's franking tag, so that its
// recipient can later prove to a moderator what its sender sent.
//
// The server stores public keys and ciphertext only, and never sees a
// secret chat's plaintext, except what a reporter reveals to report it.
// Every row of a device goes with its session, whichever way the session
// ends, by the database's cascading foreign keys.
package secret

import (
	"cmp"
	"context"
	"crypto/rand"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"kurir"
	"kurir/moderation"
	"kurir/ratelimit"
	"kurir/secret/franking"
	"kurir/sqldb"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Migrations is the secret-chat schema, for sqldb.DB.Migrate. It refers to
// account's sessions table, so it comes after account.Migrations.
var Migrations = sqldb.Embedded("secret", migrationFiles, "migrations")

// Limits of the directory and the relay (docs/secret-chats.md, "Server API").
const (
	// LowWater is the stock of one-time prekeys below which a device is
	// told to replenish.
	LowWater = 20
	// MaxPreKeysPerCall is the most one-time prekeys one upload may carry.
	MaxPreKeysPerCall = 100
	// MaxPreKeys is the most unclaimed one-time prekeys a device may hold.
	MaxPreKeys = 500
	// MaxEnvelopesPerSend is the most envelopes one send may carry.
	MaxEnvelopesPerSend = 20
	// MaxBodySize bounds an envelope body. A version-1 payload is text of
	// at most 4096 characters (16 KiB of UTF-8 at most); with the payload's
	// 46 bytes, the AEAD tag and the headers a prekey envelope stays under
	// 17 KiB. 64 KiB leaves room for later payload kinds, while a hostile
	// sender cannot park megabytes per envelope.
	MaxBodySize = 64 << 10
	// MaxClientID bounds a send's client_id, in bytes.
	MaxClientID = 64
	// DefaultFetch and MaxFetch are the default and largest number of
	// envelopes one fetch returns.
	DefaultFetch = 100
	MaxFetch     = 500
	// MaxAck is the most envelope IDs one acknowledgement may name.
	MaxAck = 500
	// DefaultEnvelopeTTL is how long an envelope waits for its recipient
	// device by default.
	DefaultEnvelopeTTL = 30 * 24 * time.Hour
	// IdempotencyWindow is how long a send's client_id is remembered: a
	// retry within it answers the first result.
	IdempotencyWindow = 24 * time.Hour
)

// maxFetchBytes bounds the bodies one fetch returns, whatever the limit:
// 500 envelopes of 64 KiB would be a response of 32 MiB. A fetch returns
// at least one envelope.
const maxFetchBytes = 8 << 20

// Device is one of a user's devices: an account session, by its ID.
type Device struct {
	User kurir.UserID
	ID   int64
}

// Reports files verified reports of secret-chat messages with moderation;
// *moderation.Service implements it.
type Reports interface {
	Report(ctx context.Context, reporter kurir.UserID, p moderation.ReportParams) (moderation.Report, error)
}

// Config tunes the service; a zero field means its default.
type Config struct {
	// EnvelopeTTL is how long an envelope waits for its recipient device to
	// acknowledge it before it is deleted unread (default 30 days).
	EnvelopeTTL time.Duration
	// Claims limits the bundles one user may claim, per node (default 100
	// at once, then one every 15 seconds); a pointer to a zero Limit
	// turns the limit off, for load tests.
	Claims *ratelimit.Limit
	// Sends limits the envelopes one user may send, per node (default 300
	// at once, then 10 a second); a pointer to a zero Limit turns the limit
	// off, for load tests.
	Sends *ratelimit.Limit
	// MaxPendingFromSender is the most envelopes from one user that may
	// wait for one device (default 1,000), and MaxPendingPerDevice the most
	// from everyone (default 10,000): a device that is away does not gather
	// an attacker's flood, and its owner's other contacts still get through.
	MaxPendingFromSender, MaxPendingPerDevice int
	// Reports, if set, files verified reports; without it Report answers
	// EUnavailable.
	Reports Reports
}

// Service is the key directory and the envelope relay. It is safe for
// concurrent use.
type Service struct {
	db      *sqldb.DB
	clock   kurir.Clock
	log     *slog.Logger
	ttl     time.Duration
	stamper *franking.Stamper
	claims  *ratelimit.Limiter // by claiming user; nil: no limit
	sends   *ratelimit.Limiter // by sending user; nil: no limit
	reports Reports

	maxFromSender, maxPerDevice int
}

// NewService returns the service on db, which must be migrated with
// Migrations. It loads the server's franking secret from the database,
// creating it on the first start; several nodes starting at once agree on
// one secret.
func NewService(ctx context.Context, db *sqldb.DB, clock kurir.Clock, log *slog.Logger, cfg Config) (*Service, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if cfg.EnvelopeTTL <= 0 {
		cfg.EnvelopeTTL = DefaultEnvelopeTTL
	}
	limit := ratelimit.Limit{Every: 15 * time.Second, Burst: 100}
	if cfg.Claims != nil {
		limit = *cfg.Claims
	}
	s := &Service{db: db, clock: clock, log: log, ttl: cfg.EnvelopeTTL, reports: cfg.Reports,
		maxFromSender: cmp.Or(cfg.MaxPendingFromSender, 1000), maxPerDevice: cmp.Or(cfg.MaxPendingPerDevice, 10_000)}
	if limit.Burst > 0 {
		s.claims = ratelimit.New(limit, clock, 100_000)
	}
	sends := ratelimit.Limit{Every: 100 * time.Millisecond, Burst: 300}
	if cfg.Sends != nil {
		sends = *cfg.Sends
	}
	if sends.Burst > 0 {
		s.sends = ratelimit.New(sends, clock, 100_000)
	}
	stamper, err := loadStamper(ctx, db, clock)
	if err != nil {
		return nil, err
	}
	s.stamper = stamper
	return s, nil
}

// EnvelopeTTL is how long an envelope waits for its recipient device.
func (s *Service) EnvelopeTTL() time.Duration { return s.ttl }

// now is the service's time, to the microsecond that timestamps keep.
func (s *Service) now() time.Time { return s.clock.Now().UTC().Truncate(time.Microsecond) }

// loadStamper reads the server's franking keys, first creating key 0 from
// 32 random bytes if the table is empty. The insert is a no-op for every
// node but the first: on PostgreSQL a node that loses the race waits on the
// winner's key and then reads it.
func loadStamper(ctx context.Context, db *sqldb.DB, clock kurir.Clock) (*franking.Stamper, error) {
	fresh := make([]byte, franking.MinSecretSize)
	rand.Read(fresh)
	var keys []franking.ServerKey
	err := db.WriteTx(ctx, func(tx *sqldb.Tx) error {
		keys = keys[:0]
		if _, err := tx.ExecContext(ctx, `INSERT INTO secret_franking_keys (id, secret, created_at)
			SELECT 0, $1, $2 WHERE NOT EXISTS (SELECT 1 FROM secret_franking_keys)
			ON CONFLICT (id) DO NOTHING`, fresh, sqldb.Micros(clock.Now())); err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, `SELECT id, secret FROM secret_franking_keys ORDER BY id DESC`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var k franking.ServerKey
			var id int64
			if err := rows.Scan(&id, &k.Secret); err != nil {
				return err
			}
			if id < 0 || id > 255 {
				return fmt.Errorf("franking key ID %d is not a byte", id)
			}
			k.ID = byte(id)
			keys = append(keys, k)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("secret: load franking keys: %w", err)
	}
	if len(keys) == 0 {
		return nil, errors.New("secret: load franking keys: none stored")
	}
	st, err := franking.NewStamperKeys(keys[0], keys[1:]...)
	if err != nil {
		return nil, fmt.Errorf("secret: load franking keys: %w", err)
	}
	return st, nil
}

// lockSession checks, inside tx, that dev's session still exists, and on
// PostgreSQL keeps it from being deleted until tx ends, so that what tx
// writes for the device is either committed before a logout (and deleted
// by it) or refused. A session just logged out elsewhere may still pass
// authentication for a moment from a node's cache; this is where it stops.
func lockSession(ctx context.Context, tx *sqldb.Tx, dev Device) error {
	q := `SELECT user_id FROM sessions WHERE id = $1`
	if tx.Engine() == sqldb.Postgres {
		q += ` FOR KEY SHARE`
	}
	var user int64
	err := tx.QueryRowContext(ctx, q, dev.ID).Scan(&user)
	if err == nil && kurir.UserID(user) == dev.User {
		return nil
	}
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("find session %d: %w", dev.ID, err)
	}
	return &kurir.Error{Code: kurir.EUnauthenticated, Reason: "invalid_token",
		Message: "This device has been logged out; log in again."}
}

// Errors of the directory and the relay.
func errNoDevice(field string, d Device) error {
	return &kurir.Error{Code: kurir.ENotFound, Reason: "secret_no_device", Field: field,
		Message: fmt.Sprintf("User %d has no device %d with published secret-chat keys (it may have logged out); list the devices again.", d.User, d.ID)}
}

var errNotRegistered = &kurir.Error{Code: kurir.EConflict, Reason: "secret_not_registered",
	Message: "This device has not published its secret-chat keys yet; publish them first (PUT /api/v1/secret/keys)."}
