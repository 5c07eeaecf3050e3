// Package legal is kurir's one place for law enforcement: agencies the
// operator registers, their officers (verified e-mail at the agency's
// domain, a second factor, an attestation of official capacity), and the
// requests they file — emergency disclosure, preservation, disclosure by
// legal process, removal orders — with a timeline, SLA clocks, and the
// legal team's decisions. A removal order from a competent authority is
// enforced at once in the issuing country and then reviewed; preservation
// places a hold on the targets' accounts; a disclosure is a signed package
// holding only the categories the legal team approved.
//
// Officers see only their agency's requests. Legal documents they attach
// are stored as blobs, never opened by the server, and read only by the
// legal team. Every step is on the request's timeline and in the audit log.
package legal

import (
	"context"
	"embed"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"kurir"
	"kurir/account"
	"kurir/audit"
	"kurir/blob"
	"kurir/legal/mail"
	"kurir/messaging"
	"kurir/moderation"
	"kurir/ratelimit"
	"kurir/sqldb"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Migrations is the legal schema, for sqldb.DB.Migrate.
var Migrations = sqldb.Embedded("legal", migrationFiles, "migrations")

// Kind is the type of a request.
type Kind string

// The kinds of request.
const (
	Emergency    Kind = "emergency"    // disclosure to prevent an imminent threat to life or serious injury
	Preservation Kind = "preservation" // freeze the targets' account data for 90 days
	Disclosure   Kind = "disclosure"   // disclosure under legal process
	Removal      Kind = "removal"      // a content removal order
	Other        Kind = "other"
)

// Kinds are all kinds of request.
var Kinds = []Kind{Emergency, Preservation, Disclosure, Removal, Other}

// Process is the legal process a request rests on.
type Process string

// The processes.
const (
	Subpoena        Process = "subpoena"
	CourtOrder      Process = "court_order"
	Warrant         Process = "warrant"
	MLAT            Process = "mlat"              // a mutual legal assistance request
	EmergencyBasis  Process = "emergency"         // good faith, imminent danger
	PreservationReq Process = "preservation"      // a preservation letter
	RemovalOrder    Process = "removal_order"     // a national removal order
	TCORemovalOrder Process = "tco_removal_order" // Regulation (EU) 2021/784: act within one hour
	OtherProcess    Process = "other"
)

// Processes are all processes.
var Processes = []Process{Subpoena, CourtOrder, Warrant, MLAT, EmergencyBasis, PreservationReq, RemovalOrder, TCORemovalOrder, OtherProcess}

// State is where a request is in its workflow.
type State string

// The states.
const (
	Received  State = "received"
	InReview  State = "in_review"
	NeedsInfo State = "needs_info"
	Approved  State = "approved"
	Fulfilled State = "fulfilled"
	Rejected  State = "rejected"
	Withdrawn State = "withdrawn"
)

// Category is a category of data a disclosure may hold.
type Category string

// The data categories.
const (
	Subscriber Category = "subscriber" // registration time, username, display name, e-mail, phone, declared country
	Access     Category = "access"     // IP addresses and times of the account's sessions still held
	Content    Category = "content"    // cloud-chat messages the account sent: only under a warrant (or its equivalent)
)

// Categories are the data categories, in the order packages hold them.
var Categories = []Category{Subscriber, Access, Content}

// contentProcesses are the processes under which content may be disclosed:
// a warrant, or a mutual legal assistance request that carries one.
var contentProcesses = []Process{Warrant, MLAT}

// Agency is a law-enforcement authority the operator registered.
type Agency struct {
	ID           int64
	Name         string
	Country      string
	Jurisdiction string
	Domains      []string
	// Removal says the agency is a competent authority for removal
	// orders, which are then enforced at once in its country.
	Removal   bool
	CreatedAt time.Time
	Disabled  time.Time
}

// Officer is a person at an agency with access to the portal.
type Officer struct {
	ID       int64
	AgencyID int64
	Email    string
	Name     string
	Badge    string
	Lang     string
	// Verified, TOTP and Attested are the three steps before an officer may
	// see or file anything.
	Verified  bool
	TOTP      bool
	Attested  bool
	CreatedAt time.Time
	// DisabledAt is when the legal team kept the officer out; zero if not.
	DisabledAt time.Time
}

// Ready reports whether the officer has done every step before access.
func (o Officer) Ready() bool { return o.Verified && o.TOTP && o.Attested }

// Config tunes the service; a zero field means its default.
type Config struct {
	// Pager, if set, is told of every emergency request and removal order.
	Pager Pager
	// Mail sends officers their codes (default: a mail.LogSender).
	Mail mail.Sender
	// Issuer names the service in authenticator apps (default "kurir").
	Issuer string
	// ReviewDays is the target for answering a request without a
	// deadline of its own (default 10 days).
	ReviewDays int
	// MaxAttachment bounds a legal document (default 20 MiB) and
	// MaxAttachments their number per request (default 10).
	MaxAttachment  int64
	MaxAttachments int
	// Argon2 is the cost of hashing officers' passwords (default
	// account.DefaultArgon2Params).
	Argon2 account.Argon2Params
	// LoginFailures limits failed logins (a wrong password or
	// authenticator code) to one officer's account, per node (default 5,
	// then one a minute).
	LoginFailures ratelimit.Limit
}

// Blobs stores legal documents and disclosure packages: blob.FS, or any
// store that passes blobtest.
type Blobs interface {
	Put(ctx context.Context, r io.Reader, limit int64) (blob.Info, error)
	Open(ctx context.Context, h blob.Hash) (blob.Object, error)
}

// Service is the law-enforcement intake and the legal team's workflow. It
// is safe for concurrent use.
type Service struct {
	db    *sqldb.DB
	blobs Blobs
	acc   *account.Service
	msg   *messaging.Service
	mod   *moderation.Service
	clock kurir.Clock
	log   *slog.Logger
	cfg   Config
	pages sync.WaitGroup // pages being sent

	loginFail *ratelimit.Limiter // failed logins per officer e-mail
	signups   *ratelimit.Limiter // officer sign-ups per agency domain
}

// Wait waits for the pages being sent in the background.
func (s *Service) Wait() { s.pages.Wait() }

// NewService returns the legal service.
func NewService(db *sqldb.DB, blobs Blobs, acc *account.Service, msg *messaging.Service, mod *moderation.Service,
	clock kurir.Clock, log *slog.Logger, cfg Config) *Service {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if cfg.Mail == nil {
		cfg.Mail = &mail.LogSender{Log: log}
	}
	if cfg.Issuer == "" {
		cfg.Issuer = "kurir"
	}
	if cfg.ReviewDays == 0 {
		cfg.ReviewDays = 10
	}
	if cfg.MaxAttachment == 0 {
		cfg.MaxAttachment = 20 << 20
	}
	if cfg.MaxAttachments == 0 {
		cfg.MaxAttachments = 10
	}
	if cfg.Argon2 == (account.Argon2Params{}) {
		cfg.Argon2 = account.DefaultArgon2Params
	}
	if cfg.LoginFailures == (ratelimit.Limit{}) {
		cfg.LoginFailures = ratelimit.Limit{Every: time.Minute, Burst: 5}
	}
	return &Service{db: db, blobs: blobs, acc: acc, msg: msg, mod: mod, clock: clock, log: log, cfg: cfg,
		loginFail: ratelimit.New(cfg.LoginFailures, clock, 100_000),
		signups:   ratelimit.New(ratelimit.Limit{Every: 3 * time.Minute, Burst: 20}, clock, 10_000)}
}

func (s *Service) now() time.Time { return s.clock.Now().UTC().Truncate(time.Microsecond) }

// Staff is a member of the operator's staff acting on requests; only the
// legal role and admins may.
type Staff = moderation.Staff

func mayReview(by Staff) error {
	if by.Role != kurir.RoleLegal && by.Role != kurir.RoleAdmin {
		return &kurir.Error{Code: kurir.EForbidden, Reason: "legal_only", Message: "Only the legal team handles law-enforcement requests."}
	}
	return nil
}

// record appends to the audit log inside tx.
func record(ctx context.Context, tx *sqldb.Tx, actor kurir.UserID, role kurir.Role, action, subject, detail string) error {
	if _, err := audit.Append(ctx, tx, audit.Entry{Actor: actor, Role: role, Action: action, Subject: subject, Detail: detail}); err != nil {
		return fmt.Errorf("audit %s: %w", action, err)
	}
	return nil
}

// cleanText checks free text: valid UTF-8, no control characters but
// newlines and tabs, at most max characters, and not empty if required.
func cleanText(field, what, s string, max int, required bool) (string, error) {
	if !utf8.ValidString(s) {
		return "", kurir.Invalid(field, "invalid_utf8", "The %s is not valid UTF-8 text.", what)
	}
	s = strings.TrimSpace(s)
	if strings.ContainsFunc(s, func(r rune) bool { return unicode.IsControl(r) && r != '\n' && r != '\t' }) {
		return "", kurir.Invalid(field, "invalid_characters", "The %s contains control characters.", what)
	}
	if n := utf8.RuneCountInString(s); n > max {
		return "", kurir.Invalid(field, "too_long", "The %s is %d characters long; the limit is %d.", what, n, max)
	}
	if s == "" && required {
		return "", kurir.Invalid(field, "required", "The %s is required.", what)
	}
	return s, nil
}
