package account

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/mail"
	"runtime"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"kurir"
	"kurir/ratelimit"
	"kurir/sqldb"
)

// Config tunes the account service. The zero value of a field means its default.
type Config struct {
	// Argon2 are the password hashing costs (default DefaultArgon2Params).
	Argon2 Argon2Params
	// DeletionGrace is how long a deletion request waits, during which logging
	// in cancels it (default 7 days).
	DeletionGrace time.Duration
	// Limits are the brute-force limits (default DefaultLimits).
	Limits *Limits
	// Screen, if set, checks the public names people choose (field
	// "username" or "display_name") before they are stored; an error
	// refuses the name, except a *Review. At registration user is 0, as
	// the account does not exist yet. kurir/safety provides it.
	Screen func(ctx context.Context, user kurir.UserID, field, name string) error
	// StaffTOTPOptional lets staff (StaffRoles) use their tools without an
	// authenticator app, for a deployment rolling the second factor out;
	// by default they need one (NeedsSecondFactor).
	StaffTOTPOptional bool
}

// Review is what Config.Screen returns, as an error, for a name chosen at
// registration that may be used but must be recorded for review: the
// account has no ID until it is created, so Register calls Record with
// it then (and not at all if registration fails), and the record names
// the new account. To any other call Screen records such a name itself.
type Review struct {
	Record func(ctx context.Context, user kurir.UserID)
}

func (r *Review) Error() string { return "the name is recorded for review" }

// Limits bound registration and login attempts. A zero Limit disables that check.
type Limits struct {
	// RegisterPerIP limits registrations from one IP address.
	RegisterPerIP ratelimit.Limit
	// LoginPerIP limits login attempts, successful or not, from one IP address.
	LoginPerIP ratelimit.Limit
	// LoginFailuresPerAccount limits failed logins to one account from anywhere,
	// which stops a password guesser spread over many addresses. Only failures
	// count, so an attacker cannot lock the owner out by logging in rightly.
	LoginFailuresPerAccount ratelimit.Limit
}

// DefaultLimits are the limits a production server uses.
var DefaultLimits = Limits{
	RegisterPerIP:           ratelimit.Limit{Every: 6 * time.Minute, Burst: 10},
	LoginPerIP:              ratelimit.Limit{Every: 2 * time.Second, Burst: 30},
	LoginFailuresPerAccount: ratelimit.Limit{Every: time.Minute, Burst: 10},
}

// Service manages accounts and sessions. It is safe for concurrent use.
type Service struct {
	db     *sqldb.DB
	clock  kurir.Clock
	log    *slog.Logger
	argon  Argon2Params
	grace  time.Duration
	hashes chan struct{} // bounds concurrent argon2id runs: each holds Argon2.Memory

	registerIP, loginIP, loginFail *ratelimit.Limiter

	dummyHash string // verified against when a username is unknown, so timing does not tell
	auth      authCache

	screenName func(ctx context.Context, user kurir.UserID, field, name string) error

	staffTOTPOptional bool
}

// screen runs the configured name check, if any. A review it asks for is
// returned for the caller to record once user exists (user 0), or
// recorded now.
func (s *Service) screen(ctx context.Context, user kurir.UserID, field, name string) (*Review, error) {
	if s.screenName == nil || name == "" {
		return nil, nil
	}
	err := s.screenName(ctx, user, field, name)
	var r *Review
	if !errors.As(err, &r) {
		return nil, err
	}
	if user != 0 && r.Record != nil {
		r.Record(ctx, user)
		return nil, nil
	}
	return r, nil
}

// NewService returns an account service on db.
func NewService(db *sqldb.DB, clock kurir.Clock, log *slog.Logger, cfg Config) *Service {
	if cfg.Argon2 == (Argon2Params{}) {
		cfg.Argon2 = DefaultArgon2Params
	}
	if cfg.DeletionGrace == 0 {
		cfg.DeletionGrace = 7 * 24 * time.Hour
	}
	limits := DefaultLimits
	if cfg.Limits != nil {
		limits = *cfg.Limits
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Service{
		db: db, clock: clock, log: log, argon: cfg.Argon2, grace: cfg.DeletionGrace,
		hashes:     make(chan struct{}, runtime.GOMAXPROCS(0)),
		registerIP: newLimiter(limits.RegisterPerIP, clock),
		loginIP:    newLimiter(limits.LoginPerIP, clock),
		loginFail:  newLimiter(limits.LoginFailuresPerAccount, clock),
		screenName: cfg.Screen, staffTOTPOptional: cfg.StaffTOTPOptional,
	}
	dummy, err := HashPassword("kurir dummy password for timing", cfg.Argon2)
	if err != nil {
		panic(fmt.Sprintf("account: hash dummy password: %v", err))
	}
	s.dummyHash = dummy
	return s
}

func newLimiter(l ratelimit.Limit, clock kurir.Clock) *ratelimit.Limiter {
	if l.Burst == 0 {
		return nil
	}
	return ratelimit.New(l, clock, 100_000)
}

func allow(l *ratelimit.Limiter, key, what string) error {
	if l == nil || key == "" {
		return nil
	}
	if ok, wait := l.Allow(key); !ok {
		return tooMany(what, wait)
	}
	return nil
}

func tooMany(what string, wait time.Duration) error {
	secs := int((wait + time.Second - 1) / time.Second)
	return &kurir.Error{Code: kurir.ERateLimited, Reason: "too_many_attempts", RetryAfter: wait,
		Message: fmt.Sprintf("Too many %s. Try again in %d seconds.", what, secs)}
}

// hash runs argon2id under the concurrency bound.
func (s *Service) hash(ctx context.Context, password string) (string, error) {
	if err := s.acquire(ctx); err != nil {
		return "", err
	}
	defer func() { <-s.hashes }()
	return HashPassword(password, s.argon)
}

func (s *Service) verify(ctx context.Context, encoded, password string) (bool, error) {
	if err := s.acquire(ctx); err != nil {
		return false, err
	}
	defer func() { <-s.hashes }()
	return VerifyPassword(encoded, password)
}

func (s *Service) acquire(ctx context.Context) error {
	select {
	case s.hashes <- struct{}{}:
		return nil
	case <-ctx.Done():
		return &kurir.Error{Code: kurir.EUnavailable, Message: "The server is busy; try again.", Err: ctx.Err()}
	}
}

// RegisterParams are what a new account is made of.
type RegisterParams struct {
	Username    string
	Password    string
	DisplayName string // defaults to the username
	Email       string // optional
	Phone       string // optional, E.164
	Country     string // optional, ISO 3166-1 alpha-2
	Role        kurir.Role
	// IP is the address the request came from, for rate limiting; empty for
	// operator commands, which are not limited.
	IP string
	// System allows a reserved username, for an account kurir itself runs
	// (ParseSystemUsername). Never set it from a request.
	System bool
}

// Register creates an account. It fails with EInvalid for a bad field (the
// error names it), EConflict when the username or a confusable look-alike is
// taken, and ERateLimited when the IP registers too often.
func (s *Service) Register(ctx context.Context, p RegisterParams) (User, error) {
	name, err := parseUsername(p.Username, p.System)
	if err != nil {
		return User{}, err
	}
	if err := CheckPasswordStrength(p.Password, name.Display); err != nil {
		return User{}, err
	}
	if p.DisplayName == "" {
		p.DisplayName = name.Display
	}
	display, err := cleanDisplayName(p.DisplayName)
	if err != nil {
		return User{}, err
	}
	var reviews []*Review // recorded naming the account once it exists
	for _, f := range [...]struct{ field, name string }{{"username", name.Display}, {"display_name", display}} {
		if f.field == "display_name" && f.name == name.Display {
			break // the default display name, the @name just checked
		}
		r, err := s.screen(ctx, 0, f.field, f.name)
		if err != nil {
			return User{}, err
		}
		if r != nil && r.Record != nil {
			reviews = append(reviews, r)
		}
	}
	email, err := cleanEmail(p.Email)
	if err != nil {
		return User{}, err
	}
	phone, err := cleanPhone(p.Phone)
	if err != nil {
		return User{}, err
	}
	country, err := cleanCountry(p.Country)
	if err != nil {
		return User{}, err
	}
	if p.Role == "" {
		p.Role = kurir.RoleUser
	}
	if !p.Role.Valid() {
		return User{}, kurir.Invalid("role", "unknown_role", "Unknown role %q; roles are user, triage, moderator, legal and admin.", p.Role)
	}
	if err := allow(s.registerIP, p.IP, "registrations from your network"); err != nil {
		return User{}, err
	}
	hash, err := s.hash(ctx, p.Password)
	if err != nil {
		return User{}, err
	}
	u := User{
		Username: name.Display, DisplayName: display, Email: email, Phone: phone, Country: country,
		Role: p.Role, State: StateActive, CreatedAt: s.clock.Now().UTC().Truncate(time.Microsecond),
	}
	err = s.db.WriteTx(ctx, func(tx *sqldb.Tx) error {
		return tx.QueryRowContext(ctx, `
			INSERT INTO users (username, username_key, username_skeleton, display_name, password_hash, email, phone, role, created_at, country)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id`,
			name.Display, name.Key, name.Skeleton, display, hash, nullString(email), nullString(phone),
			string(p.Role), sqldb.Micros(u.CreatedAt), country).Scan(&u.ID)
	})
	if sqldb.IsUniqueViolation(err) {
		return User{}, &kurir.Error{Code: kurir.EConflict, Field: "username", Reason: "username_taken",
			Message: fmt.Sprintf("The username %q is taken, or too similar to one that is.", name.Display)}
	}
	if err != nil {
		return User{}, fmt.Errorf("register %q: %w", name.Display, err)
	}
	for _, r := range reviews {
		r.Record(ctx, u.ID)
	}
	return u, nil
}

// LoginParams identify the person logging in and the device they use.
type LoginParams struct {
	Username   string
	Password   string
	DeviceName string
	UserAgent  string
	IP         string
	// Restricted opens a session even for a suspended or banned account,
	// whose token then serves only what such an account still may do:
	// read the decisions about it and appeal them (AuthenticateRestricted).
	Restricted bool
	// Code is the authenticator app's current code, which an account with
	// one set up (User.TOTP) must give.
	Code string
	// Admit, if set, may refuse the account once its password is proven,
	// before a session opens: the market where it is has been withdrawn.
	Admit func(User) error
}

// Login checks a username and password and opens a device session. It returns
// the bearer token, which is shown only now: the server keeps only its hash.
// Logging in cancels a pending deletion. A wrong username and a wrong password
// give the same EUnauthenticated error; a suspended or banned account gets
// EForbidden saying why, but only once the password is proven, unless the
// login is Restricted. An account with an authenticator app then needs its
// code: EUnauthenticated "totp_required" without one and "totp_invalid" for
// a wrong code or one already used, which counts as a failed login.
func (s *Service) Login(ctx context.Context, p LoginParams) (token string, sess Session, u User, err error) {
	defer s.auth.clear() // after the change commits: see authCache
	if err := allow(s.loginIP, p.IP, "login attempts from your network"); err != nil {
		return "", Session{}, User{}, err
	}
	device, err := cleanDeviceName(p.DeviceName)
	if err != nil {
		return "", Session{}, User{}, err
	}
	wrong := &kurir.Error{Code: kurir.EUnauthenticated, Reason: "wrong_credentials", Message: "Wrong username or password."}
	// Look the name up by its key without re-validating it, so that an
	// account whose name a later rule would refuse can still log in.
	key := ""
	if utf8.ValidString(p.Username) && len(p.Username) <= 4*maxUsernameLen {
		key = UsernameKey(p.Username)
	}
	if key == "" || len(p.Password) > maxPasswordBytes {
		s.verify(ctx, s.dummyHash, p.Password) // same cost as a real attempt
		return "", Session{}, User{}, wrong
	}
	failKey := key
	if s.loginFail != nil {
		if ok, wait := s.loginFail.Peek(failKey); !ok {
			return "", Session{}, User{}, tooMany("failed logins to this account", wait)
		}
	}
	var hash sql.NullString
	u, err = s.findUser(ctx, s.db.Read(), `u.username_key = $1`, key)
	if err == nil {
		err = s.db.Read().QueryRowContext(ctx, `SELECT password_hash FROM users WHERE id = $1`, u.ID).Scan(&hash)
	}
	if err != nil && kurir.ErrorCode(err) != kurir.ENotFound {
		return "", Session{}, User{}, err
	}
	if !hash.Valid || u.State == StateDeleted {
		s.verify(ctx, s.dummyHash, p.Password)
		return "", Session{}, User{}, wrong
	}
	ok, err := s.verify(ctx, hash.String, p.Password)
	if err != nil {
		return "", Session{}, User{}, fmt.Errorf("verify password of user %d: %w", u.ID, err)
	}
	if !ok {
		if s.loginFail != nil {
			s.loginFail.Allow(failKey)
		}
		return "", Session{}, User{}, wrong
	}
	var step int64
	if u.TOTP {
		if step, err = s.loginCode(ctx, u.ID, p.Code, failKey); err != nil {
			return "", Session{}, User{}, err
		}
	}
	if s.loginFail != nil {
		s.loginFail.Reset(failKey)
	}
	if err := standing(u, s.clock.Now()); err != nil && (!p.Restricted || kurir.ErrorCode(err) != kurir.EForbidden) {
		return "", Session{}, User{}, err
	}
	if p.Admit != nil {
		if err := p.Admit(u); err != nil {
			return "", Session{}, User{}, err
		}
	}
	token, tokenHash := newToken()
	now := s.clock.Now().UTC().Truncate(time.Microsecond)
	sess = Session{UserID: u.ID, DeviceName: device, UserAgent: clip(p.UserAgent, 256), IP: p.IP, CreatedAt: now, LastSeenAt: now}
	var rehash string
	if NeedsRehash(hash.String, s.argon) {
		if rehash, err = s.hash(ctx, p.Password); err != nil {
			return "", Session{}, User{}, err
		}
	}
	err = s.db.WriteTx(ctx, func(tx *sqldb.Tx) error {
		if step != 0 {
			if err := useLoginStep(ctx, tx, u.ID, step); err != nil {
				return err
			}
		}
		if err := tx.QueryRowContext(ctx, `
			INSERT INTO sessions (user_id, token_hash, device_name, user_agent, ip, created_at, last_seen_at)
			VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING id`,
			u.ID, tokenHash, sess.DeviceName, sess.UserAgent, sess.IP, sqldb.Micros(now)).Scan(&sess.ID); err != nil {
			return err
		}
		if !u.DeletionScheduledAt.IsZero() {
			if _, err := tx.ExecContext(ctx, `UPDATE users SET deletion_scheduled_at = NULL WHERE id = $1 AND deleted_at IS NULL`, u.ID); err != nil {
				return err
			}
		}
		if rehash != "" {
			_, err := tx.ExecContext(ctx, `UPDATE users SET password_hash = $1 WHERE id = $2`, rehash, u.ID)
			return err
		}
		return nil
	})
	if err != nil {
		return "", Session{}, User{}, fmt.Errorf("open session for user %d: %w", u.ID, err)
	}
	if !u.DeletionScheduledAt.IsZero() {
		s.log.Info("login cancelled account deletion", "user", u.ID)
		u.DeletionScheduledAt = time.Time{}
	}
	return token, sess, u, nil
}

// standing returns nil if u may act now, and otherwise an EForbidden error
// telling its owner why not.
func standing(u User, now time.Time) error {
	switch u.State {
	case StateActive:
		return nil
	case StateSuspended:
		if !now.Before(u.SuspendedUntil) {
			return nil
		}
		return &kurir.Error{Code: kurir.EForbidden, Reason: "account_suspended", Message: fmt.Sprintf(
			"Your account is suspended until %s. Reason: %s", u.SuspendedUntil.UTC().Format("2006-01-02 15:04 MST"), orUnstated(u.StateReason))}
	case StateBanned:
		return &kurir.Error{Code: kurir.EForbidden, Reason: "account_banned", Message: fmt.Sprintf(
			"Your account is banned. Reason: %s", orUnstated(u.StateReason))}
	default:
		return &kurir.Error{Code: kurir.EUnauthenticated, Reason: "account_deleted", Message: "This account has been deleted."}
	}
}

func orUnstated(s string) string {
	if s == "" {
		return "no reason was recorded."
	}
	return s
}

// tokenPrefix marks kurir bearer tokens, so a leaked one is recognisable to
// secret scanners.
const tokenPrefix = "kurir_"

func newToken() (token, hash string) {
	b := make([]byte, 32)
	rand.Read(b)
	token = tokenPrefix + base64.RawURLEncoding.EncodeToString(b)
	return token, hashToken(token)
}

func hashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// touchEvery is how stale a session's last-seen time may get before a request
// refreshes it; refreshing on every request would make every read a write.
const touchEvery = 5 * time.Minute

// Authenticate returns the principal a bearer token belongs to. It fails with
// EUnauthenticated for an unknown, revoked or malformed token and with
// EForbidden (saying why) for a suspended or banned account.
func (s *Service) Authenticate(ctx context.Context, token string) (Principal, error) {
	p, err := s.AuthenticateRestricted(ctx, token)
	if err != nil {
		return Principal{}, err
	}
	if err := standing(p.User, s.clock.Now()); err != nil {
		return Principal{}, err
	}
	return p, nil
}

// AuthenticateRestricted is Authenticate for what a suspended or banned
// account may still do (read the decisions about it, appeal, log out): it
// accepts their tokens too. Check the Principal's standing before anything
// else.
func (s *Service) AuthenticateRestricted(ctx context.Context, token string) (Principal, error) {
	unknown := &kurir.Error{Code: kurir.EUnauthenticated, Reason: "invalid_token", Message: "The access token is invalid or has been revoked; log in again."}
	if !strings.HasPrefix(token, tokenPrefix) || len(token) > 128 {
		return Principal{}, unknown
	}
	hash := hashToken(token)
	now := s.clock.Now()
	if p, ok := s.auth.get(hash, now); ok {
		return p, nil
	}
	gen := s.auth.generation()
	// One query finds the session and its account: this runs on every request.
	var sessID, lastSeen int64
	row := s.db.Read().QueryRowContext(ctx, `SELECT s.id, s.last_seen_at, `+userColumns+`
		FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = $1`, hash)
	u, err := scanUser(row, &sessID, &lastSeen)
	if errors.Is(err, sql.ErrNoRows) {
		return Principal{}, unknown
	}
	if err != nil {
		return Principal{}, fmt.Errorf("authenticate: %w", err)
	}
	if err := standing(u, now); err != nil && kurir.ErrorCode(err) != kurir.EForbidden {
		return Principal{}, err // deleted
	}
	if now.Sub(sqldb.FromMicros(lastSeen)) > touchEvery {
		err := s.db.WriteTx(ctx, func(tx *sqldb.Tx) error {
			_, err := tx.ExecContext(ctx, `UPDATE sessions SET last_seen_at = $1 WHERE id = $2`, sqldb.Micros(now), sessID)
			return err
		})
		if err != nil {
			s.log.Warn("refresh session last-seen time", "session", sessID, "err", err)
		}
	}
	p := Principal{User: u, SessionID: sessID}
	s.auth.put(gen, hash, p, now)
	return p, nil
}

// Sessions lists a user's devices, most recently used first.
func (s *Service) Sessions(ctx context.Context, userID kurir.UserID) ([]Session, error) {
	rows, err := s.db.Read().QueryContext(ctx, `
		SELECT id, user_id, device_name, user_agent, ip, created_at, last_seen_at
		FROM sessions WHERE user_id = $1 ORDER BY last_seen_at DESC, id DESC`, userID)
	if err != nil {
		return nil, fmt.Errorf("list sessions: %w", err)
	}
	defer rows.Close()
	var out []Session
	for rows.Next() {
		var ss Session
		var created, seen int64
		if err := rows.Scan(&ss.ID, &ss.UserID, &ss.DeviceName, &ss.UserAgent, &ss.IP, &created, &seen); err != nil {
			return nil, err
		}
		ss.CreatedAt, ss.LastSeenAt = sqldb.FromMicros(created), sqldb.FromMicros(seen)
		out = append(out, ss)
	}
	return out, rows.Err()
}

// RevokeSession logs one of the user's devices out. It fails with ENotFound
// if the session does not exist or belongs to someone else.
func (s *Service) RevokeSession(ctx context.Context, userID kurir.UserID, sessionID int64) error {
	defer s.auth.clear() // after the change commits: see authCache
	return s.db.WriteTx(ctx, func(tx *sqldb.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE id = $1 AND user_id = $2`, sessionID, userID)
		if err != nil {
			return fmt.Errorf("revoke session: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return kurir.Errorf(kurir.ENotFound, "No session %d on your account.", sessionID)
		}
		return nil
	})
}

// ChangePassword sets a new password after checking the current one, and logs
// out every other device, keeping the session keep (the one making the change).
func (s *Service) ChangePassword(ctx context.Context, userID kurir.UserID, keep int64, current, next string) error {
	defer s.auth.clear() // after the change commits: see authCache
	u, hash, err := s.userWithHash(ctx, userID)
	if err != nil {
		return err
	}
	if ok, err := s.verify(ctx, hash, current); err != nil {
		return fmt.Errorf("verify password of user %d: %w", userID, err)
	} else if !ok {
		return &kurir.Error{Code: kurir.EForbidden, Field: "current_password", Reason: "wrong_password", Message: "The current password is wrong."}
	}
	if err := CheckPasswordStrength(next, u.Username); err != nil {
		var e *kurir.Error
		if errors.As(err, &e) {
			e.Field = "new_password"
		}
		return err
	}
	newHash, err := s.hash(ctx, next)
	if err != nil {
		return err
	}
	return s.db.WriteTx(ctx, func(tx *sqldb.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE users SET password_hash = $1 WHERE id = $2`, newHash, userID); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = $1 AND id <> $2`, userID, keep)
		return err
	})
}

func (s *Service) userWithHash(ctx context.Context, userID kurir.UserID) (User, string, error) {
	u, err := s.findUser(ctx, s.db.Read(), `u.id = $1`, userID)
	if err != nil {
		return User{}, "", err
	}
	var hash sql.NullString
	if err := s.db.Read().QueryRowContext(ctx, `SELECT password_hash FROM users WHERE id = $1`, userID).Scan(&hash); err != nil {
		return User{}, "", err
	}
	if !hash.Valid {
		return User{}, "", kurir.Errorf(kurir.ENotFound, "No such user.")
	}
	return u, hash.String, nil
}

// Logout ends one session.
func (s *Service) Logout(ctx context.Context, p Principal) error {
	defer s.auth.clear() // after the change commits: see authCache
	return s.RevokeSession(ctx, p.User.ID, p.SessionID)
}

// ProfileUpdate changes the fields that are set; a pointer to "" clears an
// optional field (email, phone).
type ProfileUpdate struct {
	DisplayName *string
	Email       *string
	Phone       *string
	Country     *string
}

// UpdateProfile changes a user's own profile and returns it.
func (s *Service) UpdateProfile(ctx context.Context, userID kurir.UserID, p ProfileUpdate) (User, error) {
	defer s.auth.clear() // after the change commits: see authCache
	var sets []string
	var args []any
	if p.DisplayName != nil {
		d, err := cleanDisplayName(*p.DisplayName)
		if err != nil {
			return User{}, err
		}
		if _, err := s.screen(ctx, userID, "display_name", d); err != nil {
			return User{}, err
		}
		args = append(args, d)
		sets = append(sets, fmt.Sprintf("display_name = $%d", len(args)))
	}
	if p.Email != nil {
		e, err := cleanEmail(*p.Email)
		if err != nil {
			return User{}, err
		}
		args = append(args, nullString(e))
		sets = append(sets, fmt.Sprintf("email = $%d", len(args)))
	}
	if p.Phone != nil {
		ph, err := cleanPhone(*p.Phone)
		if err != nil {
			return User{}, err
		}
		args = append(args, nullString(ph))
		sets = append(sets, fmt.Sprintf("phone = $%d", len(args)))
	}
	if p.Country != nil {
		c, err := cleanCountry(*p.Country)
		if err != nil {
			return User{}, err
		}
		args = append(args, c)
		sets = append(sets, fmt.Sprintf("country = $%d", len(args)))
	}
	var u User
	err := s.db.WriteTx(ctx, func(tx *sqldb.Tx) error {
		if len(sets) > 0 {
			args = append(args, userID)
			q := fmt.Sprintf(`UPDATE users SET %s WHERE id = $%d AND deleted_at IS NULL`, strings.Join(sets, ", "), len(args))
			if _, err := tx.ExecContext(ctx, q, args...); err != nil {
				return fmt.Errorf("update profile: %w", err)
			}
		}
		var err error
		u, err = s.findUser(ctx, tx, `u.id = $1`, userID)
		return err
	})
	return u, err
}

// cleanCountry checks a declared country: an ISO 3166-1 alpha-2 code, in
// either case, or "" for none.
func cleanCountry(c string) (string, error) {
	c = strings.ToUpper(strings.TrimSpace(c))
	if c != "" && !kurir.IsCountry(c) {
		return "", kurir.Invalid("country", "unknown_country", "%q is not an ISO 3166-1 alpha-2 country code (such as DE or ID).", c)
	}
	return c, nil
}

// UserByID returns an account by ID, with ENotFound if there is none or it was deleted.
func (s *Service) UserByID(ctx context.Context, id kurir.UserID) (User, error) {
	return s.findUser(ctx, s.db.Read(), `u.id = $1 AND u.deleted_at IS NULL`, id)
}

// UserByUsername returns an account by username, compared case-insensitively
// after normalisation, with ENotFound if there is none.
func (s *Service) UserByUsername(ctx context.Context, username string) (User, error) {
	if !utf8.ValidString(username) || len(username) > 4*maxUsernameLen {
		return User{}, kurir.Errorf(kurir.ENotFound, "No such user.")
	}
	return s.findUser(ctx, s.db.Read(), `u.username_key = $1`, UsernameKey(username))
}

// Users lists accounts in ID order, after the ID after, at most limit of them,
// for operators.
func (s *Service) Users(ctx context.Context, after kurir.UserID, limit int) ([]User, error) {
	rows, err := s.db.Read().QueryContext(ctx, `SELECT `+userColumns+` FROM users u WHERE u.id > $1 ORDER BY u.id LIMIT $2`, after, limit)
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	defer rows.Close()
	var out []User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	return out, rows.Err()
}

const userColumns = `u.id, COALESCE(u.username, ''), u.display_name, COALESCE(u.email, ''), COALESCE(u.phone, ''),
	u.role, u.state, u.state_reason, u.suspended_until, u.created_at, u.deletion_scheduled_at, u.country,
	CASE WHEN u.totp_secret IS NULL THEN 0 ELSE 1 END`

type scanner interface{ Scan(dest ...any) error }

// scanUser reads userColumns, after the columns that extra points to.
func scanUser(row scanner, extra ...any) (User, error) {
	var u User
	var role, state string
	var suspended, scheduled sql.NullInt64
	var created, totp int64
	dest := append(extra, &u.ID, &u.Username, &u.DisplayName, &u.Email, &u.Phone, &role, &state, &u.StateReason,
		&suspended, &created, &scheduled, &u.Country, &totp)
	if err := row.Scan(dest...); err != nil {
		return User{}, err
	}
	u.TOTP = totp != 0
	u.Role, u.State = kurir.Role(role), State(state)
	u.SuspendedUntil = sqldb.FromNullMicros(suspended)
	u.CreatedAt = sqldb.FromMicros(created)
	u.DeletionScheduledAt = sqldb.FromNullMicros(scheduled)
	return u, nil
}

// findUser returns the one user matching where (a condition on alias u with
// $1 = arg), or ENotFound.
func (s *Service) findUser(ctx context.Context, q sqldb.Querier, where string, arg any) (User, error) {
	u, err := scanUser(q.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users u WHERE `+where, arg))
	if errors.Is(err, sql.ErrNoRows) {
		return User{}, kurir.Errorf(kurir.ENotFound, "No such user.")
	}
	if err != nil {
		return User{}, fmt.Errorf("find user: %w", err)
	}
	return u, nil
}

func nullString(s string) sql.NullString { return sql.NullString{String: s, Valid: s != ""} }

func clip(s string, n int) string {
	s = strings.ToValidUTF8(s, "")
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// cleanText validates a short human-written label: valid UTF-8, NFC, no
// control or invisible formatting characters, trimmed, 1 to max characters.
func cleanText(field, what, s string, max int) (string, error) {
	if !utf8.ValidString(s) {
		return "", kurir.Invalid(field, "invalid_utf8", "The %s is not valid UTF-8 text.", what)
	}
	s = strings.TrimSpace(norm.NFC.String(s))
	n := 0
	for _, r := range s {
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) && r != '\u200d' { // ZWJ joins emoji
			return "", kurir.Invalid(field, "invalid_characters", "The %s contains control or invisible characters.", what)
		}
		n++
	}
	if n == 0 {
		return "", kurir.Invalid(field, "empty", "The %s must not be empty.", what)
	}
	if n > max {
		return "", kurir.Invalid(field, "too_long", "The %s must be at most %d characters.", what, max)
	}
	return s, nil
}

func cleanDisplayName(s string) (string, error) {
	return cleanText("display_name", "display name", s, 64)
}

func cleanDeviceName(s string) (string, error) {
	if strings.TrimSpace(s) == "" {
		return "Unknown device", nil
	}
	return cleanText("device_name", "device name", s, 64)
}

func cleanEmail(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", nil
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || len(s) > 254 || !strings.Contains(s[strings.LastIndexByte(s, '@'):], ".") {
		return "", kurir.Invalid("email", "invalid_email", "%q is not a valid e-mail address.", clip(s, 64))
	}
	return s, nil
}

// cleanPhone accepts an international number, with spaces, dashes, dots and
// brackets as the user may type them, and returns it in E.164 (+ and digits).
func cleanPhone(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", nil
	}
	bad := kurir.Invalid("phone", "invalid_phone", "%q is not an international phone number; write it with + and the country code, e.g. +62 812 3456 7890.", clip(s, 32))
	if s[0] != '+' {
		return "", bad
	}
	var b strings.Builder
	b.WriteByte('+')
	for _, r := range s[1:] {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case r == ' ' || r == '-' || r == '.' || r == '(' || r == ')':
		default:
			return "", bad
		}
	}
	if n := b.Len() - 1; n < 7 || n > 15 || b.String()[1] == '0' {
		return "", bad
	}
	return b.String(), nil
}
