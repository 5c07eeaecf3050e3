// Package account holds kurir's accounts: registration with confusable-safe
// usernames, argon2id passwords, device sessions, roles, suspension and bans,
// and account deletion that respects legal holds.
package account

import (
	"embed"
	"time"

	"kurir"
	"kurir/sqldb"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Migrations is the account schema, for sqldb.DB.Migrate.
var Migrations = sqldb.Embedded("account", migrationFiles, "migrations")

// State is an account's standing.
type State string

// The account states. A suspended account whose suspension has ended is
// active again without anyone acting.
const (
	StateActive    State = "active"
	StateSuspended State = "suspended"
	StateBanned    State = "banned"
	StateDeleted   State = "deleted"
)

// User is an account as its owner and the operator see it.
type User struct {
	ID          kurir.UserID
	Username    string
	DisplayName string
	Email       string
	Phone       string
	// Country is the country the account declares, ISO 3166-1 alpha-2, or "".
	Country string
	Role    kurir.Role
	State   State
	// StateReason says why the account is suspended or banned.
	StateReason string
	// SuspendedUntil is when a suspension ends; zero unless suspended.
	SuspendedUntil time.Time
	CreatedAt      time.Time
	// DeletionScheduledAt is when the account will be deleted, if its owner
	// asked for deletion; logging in before then cancels it.
	DeletionScheduledAt time.Time
	// TOTP reports that the account has a confirmed authenticator app: its
	// logins need a code (see EnrolTOTP).
	TOTP bool
}

// Session is one logged-in device.
type Session struct {
	ID         int64
	UserID     kurir.UserID
	DeviceName string
	UserAgent  string
	IP         string
	CreatedAt  time.Time
	LastSeenAt time.Time
}

// Principal is who is making a request: the account and the device session
// its token belongs to.
type Principal struct {
	User      User
	SessionID int64
}

// Has reports whether the principal holds one of roles.
func (p Principal) Has(roles ...kurir.Role) bool {
	for _, r := range roles {
		if p.User.Role == r {
			return true
		}
	}
	return false
}
