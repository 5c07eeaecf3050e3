// Package kurir holds what every part of the kurir messenger shares: the error
// type with its stable codes, identifiers and the clock. It imports only the
// standard library, so every other package may depend on it.
package kurir

import "time"

// Clock tells the time. Services take a Clock instead of calling time.Now so
// that tests can move time deterministically.
type Clock interface {
	Now() time.Time
}

// SystemClock is the wall clock.
type SystemClock struct{}

// Now returns time.Now().
func (SystemClock) Now() time.Time { return time.Now() }

// UserID identifies an account. IDs are assigned by the database and never reused.
type UserID int64

// Role is what an account may do beyond chatting. Roles are ordered only by
// convention; each privileged operation names the roles it accepts.
type Role string

// The roles, from least to most privileged.
const (
	RoleUser      Role = "user"
	RoleTriage    Role = "triage"
	RoleModerator Role = "moderator"
	RoleLegal     Role = "legal"
	RoleAdmin     Role = "admin"
)

// Roles lists every role in a stable order.
var Roles = []Role{RoleUser, RoleTriage, RoleModerator, RoleLegal, RoleAdmin}

// Valid reports whether r is one of Roles.
func (r Role) Valid() bool {
	for _, x := range Roles {
		if r == x {
			return true
		}
	}
	return false
}
