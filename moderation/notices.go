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
	"strings"
	"time"

	"kurir"
	"kurir/messaging"
	"kurir/sqldb"
)

// NoticeParams is a notice of illegal content from anyone, with or without
// an account (DSA Art. 16).
type NoticeParams struct {
	// Explanation says why the content is illegal.
	Explanation string
	// Location is where it is: a public group's or channel's @name, with a
	// message number (@news/17), or a link to it (https://HOST/@news/17);
	// a link the app shows (https://HOST/chats/5, or /chats/5/17 for a
	// message); an invite link (https://HOST/join/CODE); or a user's @name.
	Location string
	Category Category
	// Name and Email identify the notifier; both are required except for
	// notices of child sexual abuse material (Directive 2011/93/EU).
	Name, Email string
	// GoodFaith is the notifier's statement that the notice is accurate and
	// complete to the best of their knowledge.
	GoodFaith bool
	// IP is the network address it came from, for the rate limit and, for
	// a notifier who gave no e-mail address, to count them once per case.
	IP string
	// Lang is the notifier's Accept-Language: their mail is written in the
	// first of Languages it names, and the case is queued under its first
	// language.
	Lang string
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
	// Action is what was done, if anything, and whether automation was
	// used; its Reversed is set if the decision was reversed since (on
	// appeal or by a moderator), and the content is back.
	Action *Action
	// Review is the notifier's request for a review of a dismissal
	// (RequestNoticeReview), if they made one, and how it was decided.
	Review *Appeal
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
	// The signal carries an excerpt; reviewers read the whole explanation
	// with the notice (CaseDetail.Notices).
	sig := signal{source: SourceNotice, category: p.Category, comment: excerpt(expl), weight: 1}
	sig.subject, sig.reach, sig.detail = s.locate(ctx, loc)
	token := rand.Text()
	hash := sha256.Sum256([]byte(token))
	now := s.now()
	lang, country := PickLanguage(p.Lang), kurir.LocationFrom(ctx).Network
	r := NoticeReceipt{Token: token, Received: now}
	who := notifierKey(email, p.IP)
	err = s.db.WriteTx(ctx, func(tx *sqldb.Tx) error {
		if who != "" && sig.subject.Kind != "" {
			var again bool
			if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM mod_signals g JOIN mod_cases c ON c.id = g.case_id
				WHERE c.subject = $1 AND c.state <> 'resolved' AND g.notifier = $2)`, sig.subject.Key(), who).Scan(&again); err != nil {
				return err
			}
			switch {
			case again && email != "":
				return alreadyNotified()
			case again:
				// A network address is not a person: behind one there may
				// be an office, a carrier's NAT or a hotline filing for
				// many. The notice is recorded, and counts for nothing
				// more in the case.
				sig.weight, who = 0, ""
			}
		}
		if err := tx.QueryRowContext(ctx, `INSERT INTO mod_notices (token_hash, name, email, explanation, location, category, good_faith, created_at, lang, country)
			VALUES ($1, $2, $3, $4, $5, $6, 1, $7, $8, $9) RETURNING id`,
			hex.EncodeToString(hash[:]), name, email, expl, loc, string(p.Category), sqldb.Micros(now), lang, country).Scan(&r.ID); err != nil {
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
		if _, err := tx.ExecContext(ctx, `UPDATE mod_notices SET case_id = $2 WHERE id = $1`, r.ID, caseID); err != nil {
			return err
		}
		if who != "" {
			// One notifier counts once per case, however many notices
			// they send about what it is about.
			if _, err := tx.ExecContext(ctx, `UPDATE mod_signals SET notifier = $2 WHERE notice_id = $1`, r.ID, who); err != nil {
				if sqldb.IsUniqueViolation(err) { // filed at the same moment
					return alreadyNotified()
				}
				return err
			}
		}
		if err := setOrigin(ctx, tx, caseID, languageTag(p.Lang), country); err != nil {
			return err
		}
		return queueReceipt(ctx, tx, r.ID, email, lang, p.Category, s.cfg.Site, token, now)
	})
	if err != nil {
		return NoticeReceipt{}, err
	}
	return r, nil
}

// alreadyNotified refuses a second notice from one e-mail address about a
// subject whose case is open.
func alreadyNotified() error {
	return &kurir.Error{Code: kurir.EConflict, Reason: "already_notified",
		Message: "You have already sent a notice about this; it is being handled, and one notice counts."}
}

// notifierKey names a notifier without keeping who they are: a hash of
// their e-mail address, or of their network address if they gave none.
func notifierKey(email, ip string) string {
	var who string
	switch {
	case email != "":
		who = "email:" + strings.ToLower(email)
	case ip != "":
		who = "ip:" + ip
	default:
		return ""
	}
	sum := sha256.Sum256([]byte(who))
	return hex.EncodeToString(sum[:16])
}

// The forms of location a notice may give (see NoticeParams.Location), as
// links or bare: "@news", "@news/17", "https://host/@news/17";
// "https://host/chats/5", "/chats/5/17"; "https://host/join/CODE".
var (
	atPattern     = regexp.MustCompile(`(?:^|/)@([\p{L}\p{N}_]{1,64})(?:/([0-9]{1,18}))?/?(?:[?#].*)?$`)
	chatsPattern  = regexp.MustCompile(`(?:^|/)chats/([0-9]{1,18})(?:/([0-9]{1,18}))?/?(?:[?#].*)?$`)
	invitePattern = regexp.MustCompile(`(?:^|/)join/([A-Za-z0-9_-]{1,64})/?(?:[?#].*)?$`)
)

// place is what a location names, before anyone looks it up.
type place struct {
	name string           // an @name, of a chat or a user
	chat messaging.ChatID // a chat by ID, or the one an invite opens
	seq  int64            // a message in the chat
	code string           // an invite code
}

// parsePlace reads a location; ok is false if it has none of the forms.
func parsePlace(loc string) (p place, ok bool) {
	num := func(s string) int64 { n, _ := strconv.ParseInt(s, 10, 64); return n }
	if m := atPattern.FindStringSubmatch(loc); m != nil {
		return place{name: m[1], seq: num(m[2])}, true
	}
	if m := chatsPattern.FindStringSubmatch(loc); m != nil && num(m[1]) > 0 {
		return place{chat: messaging.ChatID(num(m[1])), seq: num(m[2])}, true
	}
	if m := invitePattern.FindStringSubmatch(loc); m != nil {
		return place{code: m[1]}, true
	}
	return place{}, false
}

// inviteChat returns the chat an invite code opens, revoked or expired
// ones included: a notice names what was behind the link.
func (s *Service) inviteChat(ctx context.Context, code string) (messaging.ChatID, error) {
	var id messaging.ChatID
	err := s.db.Read().QueryRowContext(ctx, `SELECT chat_id FROM chat_invites WHERE code = $1`, code).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, kurir.Errorf(kurir.ENotFound, "No invite link %q.", code)
	}
	return id, err
}

// locate turns a notice's location into the subject it names, as a visitor
// without an account sees the platform: a public chat or one of its
// messages, a chat an invite link opens, or a user. It returns the zero
// Subject if it names nothing a visitor could see; staff can then link the
// case to what it means (LinkCase).
func (s *Service) locate(ctx context.Context, loc string) (Subject, int64, string) {
	p, ok := parsePlace(loc)
	if !ok {
		return Subject{}, 0, ""
	}
	var c messaging.Chat
	switch {
	case p.name != "":
		var err error
		if c, err = s.msg.ChatByUsername(ctx, 0, p.name); err != nil || c.Unavailable != "" {
			if p.seq == 0 {
				if u, err := s.acc.UserByUsername(ctx, p.name); err == nil {
					return Subject{Kind: SubjectUser, User: u.ID}, 0, excerpt(fmt.Sprintf("@%s %q", u.Username, u.DisplayName))
				}
			}
			return Subject{}, 0, ""
		}
	case p.chat != 0:
		if s.msg.ChatVisible(ctx, 0, p.chat) != nil {
			return Subject{}, 0, ""
		}
		r, err := s.msg.ReviewChat(ctx, p.chat)
		if err != nil {
			return Subject{}, 0, ""
		}
		c = r.Chat
	case p.code != "":
		// Whoever holds an invite link sees what is behind it.
		id, err := s.inviteChat(ctx, p.code)
		if err != nil {
			return Subject{}, 0, ""
		}
		r, err := s.msg.ReviewChat(ctx, id)
		if err != nil || !r.TakenDown.IsZero() {
			return Subject{}, 0, ""
		}
		c = r.Chat
	}
	if p.seq == 0 {
		return Subject{Kind: SubjectChat, Chat: c.ID}, c.MemberCount, excerpt(fmt.Sprintf("%s %q (@%s)", c.Kind, c.Title, c.Username))
	}
	if msg, err := s.msg.MessageVisible(ctx, 0, c.ID, p.seq); err == nil {
		return Subject{Kind: SubjectMessage, Chat: c.ID, Seq: p.seq}, c.MemberCount, evidence(msg)
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
	p, err := scanAppeal(s.db.Read().QueryRowContext(ctx, `SELECT `+appealColumns+` FROM mod_appeals p WHERE p.notice_id = $1 AND p.action_id IS NULL
		ORDER BY p.id DESC LIMIT 1`, id))
	switch {
	case err == nil:
		st.Review = &p
	case !errors.Is(err, sql.ErrNoRows):
		return NoticeStatus{}, err
	}
	return st, nil
}

// NoticeRecord is a notice as reviewers see it: whole, with who sent it
// and how the mail to them is getting on.
type NoticeRecord struct {
	ID          int64
	CaseID      int64
	Category    Category
	Location    string // as the notifier gave it
	Explanation string // all of it, up to Config.MaxExplanation
	Name, Email string // "" for an anonymous notice of child sexual abuse, once erased, or if Withheld
	// Withheld is set when Name and Email were left out for this reader:
	// who notified is shown only to staff who may decide (and may need to
	// write to them), not to triage.
	Withheld bool
	// Erased is when Name and Email were erased (EraseNotifiers); zero
	// while they are kept.
	Erased   time.Time
	Lang     string // the language their mail is written in
	Country  string // where they sent it from, if known
	Received time.Time
	Mail     []MailStatus
}

// caseNotices returns the notices filed into case caseID, oldest first.
func caseNotices(ctx context.Context, tx *sqldb.Tx, caseID int64) ([]NoticeRecord, error) {
	rows, err := tx.QueryContext(ctx, `SELECT id, case_id, category, location, explanation, name, email, lang, country, created_at, erased_at
		FROM mod_notices WHERE case_id = $1 ORDER BY id`, caseID)
	if err != nil {
		return nil, fmt.Errorf("case notices: %w", err)
	}
	var out []NoticeRecord
	for rows.Next() {
		var n NoticeRecord
		var cat string
		var at, erased int64
		if err := rows.Scan(&n.ID, &n.CaseID, &cat, &n.Location, &n.Explanation, &n.Name, &n.Email, &n.Lang, &n.Country, &at, &erased); err != nil {
			rows.Close()
			return nil, err
		}
		n.Category, n.Received = Category(cat), sqldb.FromMicros(at)
		if erased != 0 {
			n.Erased = sqldb.FromMicros(erased)
		}
		out = append(out, n)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for i := range out {
		rows, err := tx.QueryContext(ctx, `SELECT kind, state, attempts, last_error, created_at, sent_at FROM mod_mail WHERE notice_id = $1 ORDER BY id`, out[i].ID)
		if err != nil {
			return nil, fmt.Errorf("notice mail: %w", err)
		}
		for rows.Next() {
			var m MailStatus
			var created, sent int64
			if err := rows.Scan(&m.Kind, &m.State, &m.Attempts, &m.Error, &created, &sent); err != nil {
				rows.Close()
				return nil, err
			}
			m.Created = sqldb.FromMicros(created)
			if sent != 0 {
				m.Sent = sqldb.FromMicros(sent)
			}
			out[i].Mail = append(out[i].Mail, m)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// EraseNotifiers erases the names and e-mail addresses of notifiers once
// nobody can contest their case any more and Config.NoticeRetention has
// passed since: Config.AppealWindow plus NoticeRetention after the case
// closed, and never while an appeal about it is pending. With them go the
// addresses and bodies of the mail sent to them (mail not yet sent is given
// up) and the hash that counted each notifier once per case. The notice
// itself (what, where, why) stays as the record of the decision. It returns
// how many notices it erased; several nodes may run it at once.
func (s *Service) EraseNotifiers(ctx context.Context) (int, error) {
	now := s.now()
	before := now.Add(-s.cfg.AppealWindow - s.cfg.NoticeRetention)
	var ids []int64
	rows, err := s.db.Read().QueryContext(ctx, `SELECT n.id FROM mod_notices n JOIN mod_cases c ON c.id = n.case_id
		WHERE n.erased_at = 0 AND c.state = 'resolved' AND c.resolved_at < $1
		AND NOT EXISTS (SELECT 1 FROM mod_appeals p WHERE p.case_id = c.id AND p.state = 'pending')
		ORDER BY n.id LIMIT 500`, sqldb.Micros(before))
	if err != nil {
		return 0, fmt.Errorf("notifiers to erase: %w", err)
	}
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return 0, err
		}
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	n := 0
	for _, id := range ids {
		err := s.db.WriteTx(ctx, func(tx *sqldb.Tx) error {
			res, err := tx.ExecContext(ctx, `UPDATE mod_notices SET name = '', email = '', erased_at = $2 WHERE id = $1 AND erased_at = 0`, id, sqldb.Micros(now))
			if err != nil {
				return err
			}
			if k, _ := res.RowsAffected(); k == 0 {
				return nil // another node was quicker
			}
			n++
			if _, err := tx.ExecContext(ctx, `UPDATE mod_mail SET rcpt = '', body = '',
				last_error = CASE WHEN state = 'pending' THEN 'the notifier''s address was erased' ELSE last_error END,
				state = CASE WHEN state = 'pending' THEN 'failed' ELSE state END WHERE notice_id = $1`, id); err != nil {
				return err
			}
			_, err = tx.ExecContext(ctx, `UPDATE mod_signals SET notifier = '' WHERE notice_id = $1`, id)
			return err
		})
		if err != nil {
			return n, fmt.Errorf("erase notifier of notice %d: %w", id, err)
		}
	}
	return n, nil
}

// RunRetention erases notifiers' personal data as it falls due
// (EraseNotifiers), every interval until ctx is done.
func (s *Service) RunRetention(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		for {
			n, err := s.EraseNotifiers(ctx)
			if err != nil {
				if ctx.Err() == nil {
					s.log.Warn("erase notifiers", "err", err)
				}
				break
			}
			if n > 0 {
				s.log.Info("erased notifiers' names and addresses", "notices", n)
			}
			if n < 500 {
				break
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
