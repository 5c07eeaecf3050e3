package moderation

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"net/mail"
	"regexp"
	"strconv"
	"time"

	"kurir"
	"kurir/sqldb"
)

// NoticeParams is a notice of illegal content from anyone, with or without
// an account (DSA Art. 16).
type NoticeParams struct {
	// Explanation says why the content is illegal.
	Explanation string
	// Location is where it is: a public group's or channel's @name, with a
	// message number (@news/17), or a link to it (https://HOST/@news/17),
	// or a user's @name.
	Location string
	Category Category
	// Name and Email identify the notifier; both are required except for
	// notices of child sexual abuse material (Directive 2011/93/EU).
	Name, Email string
	// GoodFaith is the notifier's statement that the notice is accurate and
	// complete to the best of their knowledge.
	GoodFaith bool
	// IP is the network address it came from, for the rate limit.
	IP string
}

// NoticeReceipt confirms a notice: with its ID and token the notifier
// follows it to its decision.
type NoticeReceipt struct {
	ID       int64
	Token    string
	Received time.Time
}

// NoticeStatus is what a notifier learns of their notice.
type NoticeStatus struct {
	ID       int64
	Received time.Time
	Location string
	Category Category
	// State is received until the case is decided, then decided; Outcome is
	// actioned or dismissed.
	State   string
	Outcome string
	Decided time.Time
	// Action is what was done, if anything, and whether automation was used.
	Action *Action
}

// SubmitNotice records a notice and files it into the case about what it
// names (or a case of its own when the location names nothing on kurir a
// visitor could see). Nothing is written if any field is wrong.
func (s *Service) SubmitNotice(ctx context.Context, p NoticeParams) (NoticeReceipt, error) {
	if !p.Category.Valid() {
		return NoticeReceipt{}, kurir.Invalid("category", "unknown_category", "Choose what kind of illegal content this is from the list.")
	}
	expl, err := cleanText("explanation", "explanation", p.Explanation, s.cfg.MaxExplanation, true)
	if err != nil {
		return NoticeReceipt{}, err
	}
	loc, err := cleanText("location", "location", p.Location, 2000, true)
	if err != nil {
		return NoticeReceipt{}, err
	}
	name, err := cleanText("name", "name", p.Name, 200, p.Category != ChildAbuse)
	if err != nil {
		return NoticeReceipt{}, err
	}
	email, err := cleanText("email", "e-mail address", p.Email, 254, p.Category != ChildAbuse)
	if err != nil {
		return NoticeReceipt{}, err
	}
	if email != "" {
		if a, err := mail.ParseAddress(email); err != nil || a.Address != email {
			return NoticeReceipt{}, kurir.Invalid("email", "bad_email", "%q is not an e-mail address.", email)
		}
	}
	if !p.GoodFaith {
		return NoticeReceipt{}, kurir.Invalid("good_faith", "required", "Confirm that you believe in good faith that the notice is accurate and complete.")
	}
	if p.IP != "" {
		if ok, wait := s.notices.Allow(p.IP); !ok {
			return NoticeReceipt{}, &kurir.Error{Code: kurir.ERateLimited, Reason: "too_many_notices", RetryAfter: wait,
				Message: fmt.Sprintf("Too many notices from your network. Try again in %d minutes.", int(wait.Minutes())+1)}
		}
	}
	sig := signal{source: SourceNotice, category: p.Category, comment: excerpt(expl), weight: 1}
	sig.subject, sig.reach, sig.detail = s.locate(ctx, loc)
	token := rand.Text()
	hash := sha256.Sum256([]byte(token))
	now := s.now()
	r := NoticeReceipt{Token: token, Received: now}
	err = s.db.WriteTx(ctx, func(tx *sqldb.Tx) error {
		if err := tx.QueryRowContext(ctx, `INSERT INTO mod_notices (token_hash, name, email, explanation, location, category, good_faith, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, 1, $7) RETURNING id`,
			hex.EncodeToString(hash[:]), name, email, expl, loc, string(p.Category), sqldb.Micros(now)).Scan(&r.ID); err != nil {
			return fmt.Errorf("record notice: %w", err)
		}
		sig.notice = r.ID
		if sig.subject.Kind == "" {
			sig.subject = Subject{Kind: SubjectNotice, Notice: r.ID}
		}
		caseID, err := file(ctx, tx, sig, now)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE mod_notices SET case_id = $2 WHERE id = $1`, r.ID, caseID)
		return err
	})
	if err != nil {
		return NoticeReceipt{}, err
	}
	return r, nil
}

// locationPattern finds an @name, with an optional message number, in a
// notice's location: "@news", "@news/17", "https://host/@news/17".
var locationPattern = regexp.MustCompile(`(?:^|/)@([\p{L}\p{N}_]{1,64})(?:/([0-9]{1,18}))?/?(?:[?#].*)?$`)

// locate turns a notice's location into the subject it names, as a visitor
// without an account sees the platform: a public chat or one of its
// messages, or a user. It returns the zero Subject if it names nothing.
func (s *Service) locate(ctx context.Context, loc string) (Subject, int64, string) {
	m := locationPattern.FindStringSubmatch(loc)
	if m == nil {
		return Subject{}, 0, ""
	}
	if c, err := s.msg.ChatByUsername(ctx, 0, m[1]); err == nil && c.Unavailable == "" {
		if m[2] == "" {
			return Subject{Kind: SubjectChat, Chat: c.ID}, c.MemberCount, excerpt(fmt.Sprintf("%s %q (@%s)", c.Kind, c.Title, c.Username))
		}
		seq, _ := strconv.ParseInt(m[2], 10, 64)
		if msg, err := s.msg.MessageVisible(ctx, 0, c.ID, seq); err == nil {
			return Subject{Kind: SubjectMessage, Chat: c.ID, Seq: seq}, c.MemberCount, evidence(msg)
		}
		return Subject{}, 0, ""
	}
	if m[2] == "" {
		if u, err := s.acc.UserByUsername(ctx, m[1]); err == nil {
			return Subject{Kind: SubjectUser, User: u.ID}, 0, excerpt(fmt.Sprintf("@%s %q", u.Username, u.DisplayName))
		}
	}
	return Subject{}, 0, ""
}

// Notice returns a notice's status to whoever holds its token. A wrong
// token and a missing notice are the same ENotFound.
func (s *Service) Notice(ctx context.Context, id int64, token string) (NoticeStatus, error) {
	gone := kurir.Errorf(kurir.ENotFound, "No notice %d with that token.", id)
	var st NoticeStatus
	var hash, cat string
	var created, caseID, resolved int64
	err := s.db.Read().QueryRowContext(ctx, `SELECT n.id, n.token_hash, n.location, n.category, n.created_at, n.case_id, c.state, c.outcome, c.resolved_at
		FROM mod_notices n JOIN mod_cases c ON c.id = n.case_id WHERE n.id = $1`, id).
		Scan(&st.ID, &hash, &st.Location, &cat, &created, &caseID, &st.State, &st.Outcome, &resolved)
	if errors.Is(err, sql.ErrNoRows) {
		return NoticeStatus{}, gone
	}
	if err != nil {
		return NoticeStatus{}, err
	}
	sum := sha256.Sum256([]byte(token))
	if subtle.ConstantTimeCompare([]byte(hex.EncodeToString(sum[:])), []byte(hash)) != 1 {
		return NoticeStatus{}, gone
	}
	st.Category, st.Received = Category(cat), sqldb.FromMicros(created)
	if st.State == StateResolved {
		st.State, st.Decided = "decided", sqldb.FromMicros(resolved)
		as, err := actions(ctx, s.db.Read(), `case_id = $1`, caseID)
		if err != nil {
			return NoticeStatus{}, err
		}
		if len(as) > 0 {
			st.Action = &as[len(as)-1]
		}
	} else {
		st.State = "received"
	}
	return st, nil
}
