package client

import (
	"context"
	"net/http"
	"time"

	"kurir"
)

// User is an account as its owner sees it (GET /api/v1/me).
type User struct {
	ID          int64  `json:"id"`
	Username    string `json:"username"`
	DisplayName string `json:"display_name"`
	Email       string `json:"email,omitempty"`
	Phone       string `json:"phone,omitempty"`
	// Country is the country the account declares (ISO 3166-1 alpha-2):
	// with the country of the connection, it decides whose law applies.
	Country string     `json:"country,omitempty"`
	Role    kurir.Role `json:"role"`
	// State is "active", "suspended" or "banned", StateReason why, and
	// SuspendedUntil when a suspension ends.
	State          string    `json:"state"`
	StateReason    string    `json:"state_reason,omitempty"`
	SuspendedUntil time.Time `json:"suspended_until,omitzero"`
	CreatedAt      time.Time `json:"created_at"`
	// DeletionScheduledAt is when the account will be deleted, or the zero
	// time if no deletion is pending.
	DeletionScheduledAt time.Time `json:"deletion_scheduled_at,omitzero"`
	// TOTP reports that an authenticator app is set up: logging in needs
	// its code (LoginParams.TOTP).
	TOTP bool `json:"totp_enabled,omitempty"`
}

// PublicUser is an account as anyone else sees it.
type PublicUser struct {
	ID          int64  `json:"id"`
	Username    string `json:"username"`
	DisplayName string `json:"display_name"`
}

// Session is a device logged in to an account.
type Session struct {
	ID         int64     `json:"id"`
	DeviceName string    `json:"device_name"`
	UserAgent  string    `json:"user_agent"`
	IP         string    `json:"ip"`
	CreatedAt  time.Time `json:"created_at"`
	LastSeenAt time.Time `json:"last_seen_at"`
	// Current marks the session that made the request.
	Current bool `json:"current"`
}

// RegisterParams are a new account. Username and Password are required.
type RegisterParams struct {
	Username    string `json:"username"`
	Password    string `json:"password"`
	DisplayName string `json:"display_name,omitempty"`
	Email       string `json:"email,omitempty"`
	Phone       string `json:"phone,omitempty"`
	Country     string `json:"country,omitempty"`
}

// LoginParams open a session. DeviceName is how the session appears in the
// account's list of devices.
type LoginParams struct {
	Username   string `json:"username"`
	Password   string `json:"password"`
	DeviceName string `json:"device_name,omitempty"`
	// Restricted logs in even if the account is suspended or banned; the
	// session then serves only Me, Statements, Appeal, Reports and Logout.
	Restricted bool `json:"restricted,omitempty"`
	// TOTP is the authenticator app's current code, which an account with
	// one set up must give: without it the login fails with reason
	// "totp_required", and with a wrong or used one "totp_invalid".
	TOTP string `json:"totp,omitempty"`
}

// LoginResult is a new session.
type LoginResult struct {
	// Token is the session's bearer token; the server shows it only once.
	// Pass it to Client.WithToken.
	Token   string  `json:"token"`
	Session Session `json:"session"`
	User    User    `json:"user"`
}

// ProfileUpdate changes a profile. Nil fields are left unchanged; an empty
// Email or Phone removes it. In Go 1.26, new("Alice") makes a *string.
type ProfileUpdate struct {
	DisplayName *string `json:"display_name,omitempty"`
	Email       *string `json:"email,omitempty"`
	Phone       *string `json:"phone,omitempty"`
	Country     *string `json:"country,omitempty"`
}

// Register creates an account and returns it. It needs no token. A refused
// username or password is a kurir.EInvalid *Error whose Field names it.
func (c *Client) Register(ctx context.Context, p RegisterParams) (User, error) {
	var u User
	err := c.do(ctx, http.MethodPost, c.url("/accounts"), p, &u)
	return u, err
}

// Login opens a session and returns it with its token. It needs no token,
// and it does not change c: use c.WithToken(result.Token) to act as the
// session. Too many attempts are a kurir.ERateLimited *Error with RetryAfter.
func (c *Client) Login(ctx context.Context, p LoginParams) (LoginResult, error) {
	var r LoginResult
	err := c.do(ctx, http.MethodPost, c.url("/sessions"), p, &r)
	return r, err
}

// Logout ends the session of c's token, which then stops working.
func (c *Client) Logout(ctx context.Context) error {
	return c.do(ctx, http.MethodDelete, c.url("/sessions/current"), nil, nil)
}

// Sessions lists the devices logged in to the account.
func (c *Client) Sessions(ctx context.Context) ([]Session, error) {
	var out struct {
		Sessions []Session `json:"sessions"`
	}
	err := c.do(ctx, http.MethodGet, c.url("/sessions"), nil, &out)
	return out.Sessions, err
}

// RevokeSession logs out another device of the account.
func (c *Client) RevokeSession(ctx context.Context, id int64) error {
	return c.do(ctx, http.MethodDelete, c.url("/sessions/*", id), nil, nil)
}

// Me returns the account of c's token.
func (c *Client) Me(ctx context.Context) (User, error) {
	var u User
	err := c.do(ctx, http.MethodGet, c.url("/me"), nil, &u)
	return u, err
}

// UpdateMe changes the profile and returns the account as it now is.
func (c *Client) UpdateMe(ctx context.Context, p ProfileUpdate) (User, error) {
	var u User
	err := c.do(ctx, http.MethodPatch, c.url("/me"), p, &u)
	return u, err
}

// EnrolAuthenticator starts setting up an authenticator app (a second
// factor) for the account and returns its secret, which the server shows
// only now; ConfirmAuthenticator turns it on. It fails with reason
// "totp_enabled" if one is already on. (BeginTOTP is the officers' own.)
func (c *Client) EnrolAuthenticator(ctx context.Context) (TOTPSetup, error) {
	var e TOTPSetup
	err := c.do(ctx, http.MethodPost, c.url("/me/totp"), nil, &e)
	return e, err
}

// ConfirmAuthenticator turns on the authenticator EnrolAuthenticator set
// up, with a code it shows now (reason "totp_invalid" for a wrong one). From
// then on Login needs LoginParams.TOTP, and staff may use their tools.
func (c *Client) ConfirmAuthenticator(ctx context.Context, code string) error {
	body := struct {
		Code string `json:"code"`
	}{code}
	return c.do(ctx, http.MethodPost, c.url("/me/totp/confirm"), body, nil)
}

// DisableAuthenticator turns the account's authenticator off; it needs the
// password and a current code.
func (c *Client) DisableAuthenticator(ctx context.Context, password, code string) error {
	body := struct {
		Password string `json:"password"`
		Code     string `json:"code"`
	}{password, code}
	return c.do(ctx, http.MethodPost, c.url("/me/totp/disable"), body, nil)
}

// ChangePassword replaces the password; every other session is logged out.
func (c *Client) ChangePassword(ctx context.Context, current, next string) error {
	body := struct {
		Current string `json:"current_password"`
		New     string `json:"new_password"`
	}{current, next}
	return c.do(ctx, http.MethodPost, c.url("/me/password"), body, nil)
}

// RequestDeletion schedules the account's deletion, logs out every session,
// and returns when the account will be deleted; logging in before then
// cancels it. password is asked again so that a stolen session cannot
// delete the account.
func (c *Client) RequestDeletion(ctx context.Context, password string) (time.Time, error) {
	body := struct {
		Password string `json:"password"`
	}{password}
	var out struct {
		ScheduledAt time.Time `json:"scheduled_at"`
	}
	err := c.do(ctx, http.MethodPost, c.url("/me/deletion"), body, &out)
	return out.ScheduledAt, err
}

// User looks up an account by username, in any letter case.
func (c *Client) User(ctx context.Context, username string) (PublicUser, error) {
	var u PublicUser
	err := c.do(ctx, http.MethodGet, c.urlSegment("/users/", username, ""), nil, &u)
	return u, err
}
