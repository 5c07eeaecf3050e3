// Package moderation is how harmful content leaves the platform and how the
// people affected are treated fairly: signals (user reports, notices from
// people without an account, trusted flaggers, automated detection) about a
// subject join one case; cases wait in a queue ordered by priority; a
// moderator's action takes the subject down at once; every action against
// someone's content or account is owed a statement of reasons, can be
// appealed to a different person, and is reversed at once if the appeal
// is upheld. Every privileged read and write is written to the audit log.
//
// Who may do what is decided here, not by the transport, so the console,
// the API and kurir admin enforce the same rules.
package moderation

import (
	"context"
	"embed"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"kurir"
	"kurir/account"
	"kurir/audit"
	"kurir/legal/mail"
	"kurir/messaging"
	"kurir/ratelimit"
	"kurir/sqldb"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Migrations is the moderation schema, for sqldb.DB.Migrate. It refers to
// account's users table, so it comes after account.Migrations.
var Migrations = sqldb.Embedded("moderation", migrationFiles, "migrations")

// SubjectKind is what sort of thing a case is about.
type SubjectKind string

// The kinds of subject.
const (
	SubjectMessage SubjectKind = "message"
	SubjectChat    SubjectKind = "chat" // a group or channel as a whole
	SubjectUser    SubjectKind = "user"
	SubjectMedia   SubjectKind = "media"  // an uploaded file, as automated detection found it
	SubjectNotice  SubjectKind = "notice" // a notice whose location names nothing on kurir
)

// Subject is what a signal or case is about.
type Subject struct {
	Kind   SubjectKind
	Chat   messaging.ChatID // message and chat subjects
	Seq    int64            // message subjects
	User   kurir.UserID     // user subjects
	Media  int64            // media subjects
	Notice int64            // notice subjects
}

// Key is the subject's stable name, such as "message:5:17".
func (s Subject) Key() string {
	switch s.Kind {
	case SubjectMessage:
		return fmt.Sprintf("message:%d:%d", s.Chat, s.Seq)
	case SubjectChat:
		return fmt.Sprintf("chat:%d", s.Chat)
	case SubjectUser:
		return fmt.Sprintf("user:%d", s.User)
	case SubjectMedia:
		return fmt.Sprintf("media:%d", s.Media)
	case SubjectNotice:
		return fmt.Sprintf("notice:%d", s.Notice)
	}
	return string(s.Kind)
}

// ParseSubject parses a Key.
func ParseSubject(key string) (Subject, error) {
	parts := strings.Split(key, ":")
	bad := kurir.Invalid("subject", "bad_subject", "%q is not a subject; write message:CHAT:SEQ, chat:ID or user:ID.", key)
	nums := make([]int64, len(parts)-1)
	for i, p := range parts[1:] {
		n, err := strconv.ParseInt(p, 10, 64)
		if err != nil || n <= 0 {
			return Subject{}, bad
		}
		nums[i] = n
	}
	switch {
	case parts[0] == "message" && len(nums) == 2:
		return Subject{Kind: SubjectMessage, Chat: messaging.ChatID(nums[0]), Seq: nums[1]}, nil
	case parts[0] == "chat" && len(nums) == 1:
		return Subject{Kind: SubjectChat, Chat: messaging.ChatID(nums[0])}, nil
	case parts[0] == "user" && len(nums) == 1:
		return Subject{Kind: SubjectUser, User: kurir.UserID(nums[0])}, nil
	case parts[0] == "media" && len(nums) == 1:
		return Subject{Kind: SubjectMedia, Media: nums[0]}, nil
	case parts[0] == "notice" && len(nums) == 1:
		return Subject{Kind: SubjectNotice, Notice: nums[0]}, nil
	}
	return Subject{}, bad
}

// Staff is a person acting in moderation: their account and role. The
// operator's command line acts as Operator.
type Staff struct {
	ID   kurir.UserID
	Role kurir.Role
	// Via, if set, says how they acted other than through a session of
	// their own, such as "cli os-user=root as=@mona": the command line holds
	// the database, so whom it acts as is the operator's say-so, and the
	// audit log records that with every entry.
	Via string
}

// Operator is the operator at the command line: an admin with no account.
var Operator = Staff{Role: kurir.RoleAdmin}

// may reports whether the staff member's role allows what.
func (s Staff) may(what permission) bool {
	switch s.Role {
	case kurir.RoleAdmin:
		return true
	case kurir.RoleModerator:
		return what != permConfigure
	case kurir.RoleTriage:
		return what == permView || what == permSort
	}
	return false
}

type permission int

const (
	permView      permission = iota // see the queue and cases
	permSort                        // assign, escalate, comment
	permAct                         // take, reverse and dismiss; decide appeals
	permConfigure                   // trusted flaggers
)

// require returns an error unless staff may do what.
func (s Staff) require(what permission) error {
	if s.may(what) {
		return nil
	}
	switch what {
	case permView, permSort:
		return kurir.Errorf(kurir.EForbidden, "Only moderation staff (triage, moderators, admins) can do this.")
	case permAct:
		return kurir.Errorf(kurir.EForbidden, "Only moderators and admins can take or reverse actions; triage can sort and escalate.")
	}
	return kurir.Errorf(kurir.EForbidden, "Only admins can change moderation settings.")
}

// Config tunes the service; a zero field means its default.
type Config struct {
	// AppealWindow is how long after a decision its subject may appeal
	// (default six months, the DSA's minimum).
	AppealWindow time.Duration
	// AppealSLA is how long after it is filed an appeal is due to be
	// decided (default seven days); the appeal queue puts the soonest due,
	// and so the overdue, first.
	AppealSLA time.Duration
	// NoticeRetention is how long a notifier's name and e-mail address
	// (and the mail sent to them) are kept once nobody can contest their
	// case any more: after the appeal window from its closing (default six
	// months). EraseNotifiers erases them.
	NoticeRetention time.Duration
	// MaxComment bounds a report's comment and a notice's explanation, in
	// characters (default 2,000 and 5,000).
	MaxComment, MaxExplanation int
	// BulkApprovalAbove is the number of subjects above which a bulk
	// action waits for a second person's approval (default 10).
	BulkApprovalAbove int
	// BulkInBackground leaves approved bulk actions to RunBulk, which the
	// process promises to run: the approval answers at once with the
	// action running. Without it the approving call acts on every target
	// before it returns (whatever becomes of its caller).
	BulkInBackground bool
	// NoticesPerIP bounds the notices one network address may send
	// (default 20 an hour): the form needs no account.
	NoticesPerIP ratelimit.Limit
	// Live, if set, ends a suspended or banned account's open live
	// streams on every node at once; without it they go on until they
	// reconnect and are refused.
	Live LiveStreams
	// ReportsPerHour bounds the reports one account may file in an hour,
	// counted in the database so that every node agrees (default 60).
	ReportsPerHour int
	// Mail sends notifiers their receipts and decisions (DeliverMail); nil
	// leaves them waiting in the outbox.
	Mail mail.Sender
	// Site is the address people reach the server at, such as
	// https://kurir.example, for the links mail carries; "" writes paths.
	Site string
	// TermsURL is the address of the terms of service, such as
	// https://kurir.example/terms: a statement of reasons on the terms
	// links to its clause there (TermsURL#clause-4.1); "" names the
	// clause without a link.
	TermsURL string
}

// LiveStreams ends live streams (realtime.Hub is one); declared here so
// that moderation does not depend on the transport.
type LiveStreams interface {
	// EndDevice ends user's live streams of device on every node, or of
	// every device but keep when device is 0.
	EndDevice(ctx context.Context, user kurir.UserID, device, keep int64)
	// NotifyDevice sends the frame {"type":typ} to the live streams of
	// user's device on every node: a nudge, such as "decision" when a
	// decision about them was taken or reversed.
	NotifyDevice(ctx context.Context, user kurir.UserID, device int64, typ string)
}

// Service is moderation. It is safe for concurrent use.
type Service struct {
	db    *sqldb.DB
	msg   *messaging.Service
	acc   *account.Service
	clock kurir.Clock
	log   *slog.Logger
	cfg   Config

	notices    *ratelimit.Limiter // by network address
	queueViews *ratelimit.Limiter // by staff member, list and filter: which list views are audited (recordListView)

	bulkKick chan struct{} // wakes RunBulk when an approval starts a bulk action
}

// NewService returns the moderation service, acting through the messaging
// and account services.
func NewService(db *sqldb.DB, msg *messaging.Service, acc *account.Service, clock kurir.Clock, log *slog.Logger, cfg Config) *Service {
	if cfg.AppealWindow == 0 {
		cfg.AppealWindow = 183 * 24 * time.Hour
	}
	if cfg.AppealSLA == 0 {
		cfg.AppealSLA = 7 * 24 * time.Hour
	}
	if cfg.NoticeRetention == 0 {
		cfg.NoticeRetention = 183 * 24 * time.Hour
	}
	if cfg.MaxComment == 0 {
		cfg.MaxComment = 2000
	}
	if cfg.BulkApprovalAbove == 0 {
		cfg.BulkApprovalAbove = 10
	}
	if cfg.NoticesPerIP.Burst == 0 {
		cfg.NoticesPerIP = ratelimit.PerHour(20)
	}
	if cfg.MaxExplanation == 0 {
		cfg.MaxExplanation = 5000
	}
	if cfg.ReportsPerHour == 0 {
		cfg.ReportsPerHour = 60
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Service{db: db, msg: msg, acc: acc, clock: clock, log: log, cfg: cfg,
		notices: ratelimit.New(cfg.NoticesPerIP, clock, 100_000), queueViews: ratelimit.New(ratelimit.PerMinute(1), clock, 10_000),
		bulkKick: make(chan struct{}, 1)}
}

func (s *Service) now() time.Time { return s.clock.Now().UTC().Truncate(time.Microsecond) }

// record appends to the audit log what staff did, in tx.
func record(ctx context.Context, tx *sqldb.Tx, by Staff, action, subject, detail string) error {
	if by.Via != "" {
		detail = "[via " + by.Via + "] " + detail // first, so that no cut loses it
	}
	_, err := audit.Append(ctx, tx, audit.Entry{Actor: by.ID, Role: by.Role, Action: action, Subject: subject, Detail: detail})
	if err != nil {
		return fmt.Errorf("audit %s: %w", action, err)
	}
	return nil
}

// addEvent appends to a case's history.
func addEvent(ctx context.Context, tx *sqldb.Tx, caseID int64, actor kurir.UserID, kind, note string, at time.Time) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO mod_events (case_id, actor_id, kind, note, at) VALUES ($1, $2, $3, $4, $5)`,
		caseID, actor, kind, note, sqldb.Micros(at))
	if err != nil {
		return fmt.Errorf("case event: %w", err)
	}
	return nil
}

// cleanText validates free text a person typed: a comment, facts, a reason.
func cleanText(field, what, s string, max int, required bool) (string, error) {
	if !utf8.ValidString(s) {
		return "", kurir.Invalid(field, "invalid_utf8", "The %s is not valid UTF-8 text.", what)
	}
	s = strings.TrimSpace(s)
	n := 0
	for _, r := range s {
		if r < 0x20 && r != '\n' && r != '\t' || r == 0x7f {
			return "", kurir.Invalid(field, "invalid_characters", "The %s contains control characters.", what)
		}
		n++
	}
	if n == 0 && required {
		return "", kurir.Invalid(field, "required", "The %s is required.", what)
	}
	if n > max {
		return "", kurir.Invalid(field, "too_long", "The %s is %d characters long; the limit is %d.", what, n, max)
	}
	return s, nil
}
