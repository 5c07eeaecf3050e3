package messaging

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"kurir"
	"kurir/sqldb"
)

// Publisher carries a committed change to the nodes that push it live.
// bus.Bus implements it.
type Publisher interface {
	Publish(ctx context.Context, subject string, data []byte) error
}

// Config tunes the service; a zero field means its default.
type Config struct {
	// MaxText is the longest message text, in characters (default 4096).
	MaxText int
	// EditWindow is how long after sending an author may edit (default 48h).
	EditWindow time.Duration
	// LargeChat is the member count past which a group stops writing
	// per-member update rows (default 200).
	LargeChat int64
	// MaxGroupMembers bounds a group (default 200,000). Channels are unbounded.
	MaxGroupMembers int64
	// Screen, if set, checks text people publish (messages, chat titles,
	// descriptions and @names) before it is stored.
	Screen Screener
	// Territory, if set, decides where territorial restrictions apply
	// (country groups and country rules); without it a restriction names
	// its countries one by one.
	Territory Territory
	// Stored, if set, is called in the transaction that stores each new
	// message (not a retry's answer, nor one held for review) and each
	// edit, with whether its chat is public (a group or channel with an
	// @name):
	// kurir/safety queues messages for its classifier there, so that a
	// crash cannot lose one between the send and the queue. An error
	// fails the send.
	Stored func(ctx context.Context, tx *sqldb.Tx, msg *Message, public bool) error
}

// Screener checks text before it is stored; kurir/safety implements it. An
// error refuses the text and is the author's answer, except a *Hold, which
// stores a message unseen until a moderator reviews it. Anything else it
// wants reviewed (a flag) it records itself. It is called outside any
// transaction.
type Screener interface {
	Screen(ctx context.Context, c Content) error
}

// Hold is what a Screener returns, as an error, for a message that may be
// stored but must not be shown to anyone until a moderator reviews it.
// Other text it holds (an edit, a title) is refused with the Hold's message.
type Hold struct {
	// Reason says why, for the author.
	Reason string
	// Signal, if set, records the hold once the message is stored, naming
	// where: the moderation queue consumes it.
	Signal func(ctx context.Context, chat ChatID, seq int64)
}

func (h *Hold) Error() string {
	return fmt.Sprintf("This needs a moderator's review before anyone can see it (%s).", h.Reason)
}

// Content is what someone is about to publish: text, or for a message
// also the file attached or the message forwarded.
type Content struct {
	Author kurir.UserID
	Chat   ChatID // 0 for a chat being created
	Field  string // "text", "title", "about", "username" or "display_name"
	Text   string // empty for a forward or a file without a caption
	// Media is the file a message carries, if any; Forward, the message it
	// forwards, whose text and file the copy carries (Text is then empty).
	// The spam limits count them as they count text, so that a file or
	// forward sent again and again is limited like pasted text.
	Media   *Attachment
	Forward *MessageRef
}

// screen runs the Screener, if any, on text.
//
// A hold refuses the text, as content_held; Send asks screenMessage instead.
func (s *Service) screen(ctx context.Context, author kurir.UserID, chat ChatID, field, text string) error {
	hold, err := s.screenMessage(ctx, Content{Author: author, Chat: chat, Field: field, Text: text})
	if hold != nil {
		return &kurir.Error{Code: kurir.EForbidden, Reason: "content_held", Field: field, Message: hold.Error()}
	}
	return err
}

// screenMessage runs the Screener, if any, on c, returning a hold
// separately from a refusal. Every message is screened, with or without
// text, so that the spam limits see files and forwards too.
func (s *Service) screenMessage(ctx context.Context, c Content) (*Hold, error) {
	if s.cfg.Screen == nil || c.Text == "" && c.Media == nil && c.Forward == nil {
		return nil, nil
	}
	err := s.cfg.Screen.Screen(ctx, c)
	var hold *Hold
	if errors.As(err, &hold) {
		return hold, nil
	}
	return nil, err
}

// Service is the messenger. It is safe for concurrent use.
type Service struct {
	db    *sqldb.DB
	pub   Publisher
	clock kurir.Clock
	log   *slog.Logger
	cfg   Config
	restr restrictionState
}

// NewService returns the messaging service. pub may be nil, in which case
// changes are only stored (devices still get them by syncing).
func NewService(db *sqldb.DB, pub Publisher, clock kurir.Clock, log *slog.Logger, cfg Config) *Service {
	if cfg.MaxText == 0 {
		cfg.MaxText = 4096
	}
	if cfg.EditWindow == 0 {
		cfg.EditWindow = 48 * time.Hour
	}
	if cfg.LargeChat == 0 {
		cfg.LargeChat = 200
	}
	if cfg.MaxGroupMembers == 0 {
		cfg.MaxGroupMembers = 200_000
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Service{db: db, pub: pub, clock: clock, log: log, cfg: cfg}
}

// noChat is the answer for a chat that does not exist and for one the caller
// may not see: the two must be indistinguishable.
func noChat(id ChatID) error {
	return kurir.Errorf(kurir.ENotFound, "No chat %d.", id)
}

// chatRow is a chat's stored state with the acting user's membership.
type chatRow struct {
	id         ChatID
	kind       Kind
	title      string
	about      string
	username   string
	creator    kurir.UserID
	seq        int64
	members    int64
	large      bool
	perms      Permissions
	pinned     int64
	createdAt  int64
	privateKey string
	takenDown  int64        // when moderation took it down, or 0
	takedown   string       // why, as shown to its members
	labels     string       // moderation's labels, comma-separated
	withheld   *Withholding // withheld where the reader is (see territorial)
	// membership of the user it was loaded for
	role    MemberRole
	status  string
	readSeq int64
	cleared int64
}

func (c *chatRow) isMember() bool { return c.status == "member" }
func (c *chatRow) isAdmin() bool  { return c.isMember() && (c.role == Owner || c.role == Admin) }

// canSee reports whether the user may see the chat exists: members, and
// anyone for a public group or channel.
func (c *chatRow) canSee() bool {
	return c.isMember() || (c.username != "" && c.kind != Private && c.status != "banned")
}

// canRead reports whether the user may read the chat's messages: they can
// see it, moderation has not taken it down, and it is not withheld where
// they are.
func (c *chatRow) canRead() bool { return c.takenDown == 0 && c.withheld == nil && c.canSee() }

// readErr is why the user may not read the chat: that it was taken down, for
// those who could otherwise read it, and for everyone else that there is no
// such chat.
func (c *chatRow) readErr() error {
	if c.takenDown != 0 && c.canSee() {
		return unavailable(c.id, c.kind, c.takedown)
	}
	if c.withheld != nil && c.canSee() {
		return withheldErr(c.kind, c.withheld)
	}
	return noChat(c.id)
}

// unavailable is the answer for a chat that moderation took down.
func unavailable(id ChatID, kind Kind, reason string) error {
	return &kurir.Error{Code: kurir.EForbidden, Reason: "chat_unavailable",
		Message: fmt.Sprintf("This %s is unavailable: it was taken down for violating the terms of service (%s).", kind, reason)}
}

const chatColumns = `c.id, c.kind, c.title, c.about, COALESCE(c.username, ''), c.creator_id, c.seq, c.member_count, c.large,
	c.members_can_post, c.members_can_add, c.members_can_pin, c.members_can_edit_info, c.pinned_seq, c.created_at, COALESCE(c.private_key, ''), c.taken_down_at, c.takedown_reason, c.labels,
	COALESCE(m.role, ''), COALESCE(m.status, ''), COALESCE(m.read_seq, 0), COALESCE(m.cleared_seq, 0)`

// scanChat scans chatColumns, and into extra any columns that follow them.
func scanChat(row interface{ Scan(...any) error }, extra ...any) (*chatRow, error) {
	var c chatRow
	var large, post, add, pin, edit int64
	var kind, role string
	err := row.Scan(append([]any{&c.id, &kind, &c.title, &c.about, &c.username, &c.creator, &c.seq, &c.members, &large,
		&post, &add, &pin, &edit, &c.pinned, &c.createdAt, &c.privateKey, &c.takenDown, &c.takedown, &c.labels, &role, &c.status, &c.readSeq, &c.cleared}, extra...)...)
	if err != nil {
		return nil, err
	}
	c.kind, c.role = Kind(kind), MemberRole(role)
	c.large = large != 0
	c.perms = Permissions{Post: post != 0, AddUsers: add != 0, Pin: pin != 0, EditInfo: edit != 0}
	return &c, nil
}

// loadChat reads a chat with user's membership, or noChat.
func loadChat(ctx context.Context, q sqldb.Querier, id ChatID, user kurir.UserID) (*chatRow, error) {
	c, err := scanChat(q.QueryRowContext(ctx, `SELECT `+chatColumns+`
		FROM chats c LEFT JOIN chat_members m ON m.chat_id = c.id AND m.user_id = $2
		WHERE c.id = $1`, id, user))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, noChat(id)
	}
	if err != nil {
		return nil, fmt.Errorf("load chat %d: %w", id, err)
	}
	return c, nil
}

func (c *chatRow) view(viewer kurir.UserID) Chat {
	ch := Chat{
		ID: c.id, Kind: c.kind, Title: c.title, About: c.about, Username: c.username, MemberCount: c.members,
		Large: c.large, Permissions: c.perms, Seq: c.seq, PinnedSeq: c.pinned, CreatedAt: sqldb.FromMicros(c.createdAt),
		ReadSeq: c.readSeq,
	}
	if c.takenDown != 0 {
		ch.Unavailable = c.takedown
	}
	if c.labels != "" {
		ch.Labels = strings.Split(c.labels, ",")
	}
	ch.Withheld = c.withheld
	if c.isMember() {
		ch.Role = c.role
	}
	if c.kind == Private {
		lo, hi, _ := strings.Cut(c.privateKey, ":")
		a, _ := strconv.ParseInt(lo, 10, 64)
		b, _ := strconv.ParseInt(hi, 10, 64)
		if kurir.UserID(a) == viewer {
			ch.Peer = kurir.UserID(b)
		} else {
			ch.Peer = kurir.UserID(a)
		}
	}
	return ch
}

// Notice is what travels on the bus after a change commits: the event, and
// for small chats the pts each member's log gave it. Large chats name no
// recipients: every node pushes their events to its sessions that follow
// the chat.
type Notice struct {
	Event Event       `json:"event"`
	Large bool        `json:"large"`
	To    []Recipient `json:"to,omitempty"`
}

// Recipient is a user whose update log received an event, with its pts there.
type Recipient struct {
	User kurir.UserID `json:"user"`
	PTS  int64        `json:"pts"`
}

// Subject is the bus subject of a chat's changes.
func Subject(id ChatID) string { return "chat." + strconv.FormatInt(int64(id), 10) }

// publish announces a committed change. A lost announcement costs only
// latency: devices find the change when they next sync.
func (s *Service) publish(ctx context.Context, n *Notice) {
	if s.pub == nil {
		return
	}
	data, err := json.Marshal(n)
	if err == nil {
		err = s.pub.Publish(context.WithoutCancel(ctx), Subject(n.Event.ChatID), data)
	}
	if err != nil {
		s.log.Warn("publish chat event", "chat", n.Event.ChatID, "seq", n.Event.Seq, "err", err)
	}
}

// appendEvent gives ev the chat's next seq, records it, and, for a small
// chat, appends it to the update log of every member (and of extra users,
// such as one just removed, who must learn of it). It returns the Notice to
// publish once the transaction commits.
func appendEvent(ctx context.Context, tx *sqldb.Tx, ev *Event, activity bool, extra ...kurir.UserID) (*Notice, error) {
	now := sqldb.Micros(ev.At)
	set := `seq = seq + 1`
	if activity {
		set += `, last_activity_at = $2`
	}
	if ev.Kind == EventMessage {
		set += `, last_message_seq = seq + 1`
	}
	var large int64
	args := []any{ev.ChatID}
	if activity {
		args = append(args, now)
	}
	if err := tx.QueryRowContext(ctx, `UPDATE chats SET `+set+` WHERE id = $1 RETURNING seq, large`, args...).Scan(&ev.Seq, &large); err != nil {
		return nil, fmt.Errorf("next seq of chat %d: %w", ev.ChatID, err)
	}
	if ev.Kind == EventMessage {
		ev.MessageSeq = ev.Seq // a message is keyed by the seq of its creation
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO chat_events (chat_id, seq, kind, actor_id, message_seq, user_id, at)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		ev.ChatID, ev.Seq, string(ev.Kind), ev.ActorID, ev.MessageSeq, ev.UserID, now); err != nil {
		return nil, fmt.Errorf("record event: %w", err)
	}
	n := &Notice{Event: *ev, Large: large != 0}
	if n.Large {
		return n, nil
	}
	// One statement bumps every member's pts, one copies them into the log,
	// whatever the group's size.
	members := `SELECT user_id FROM chat_members WHERE chat_id = $1 AND status = 'member'`
	args = []any{ev.ChatID}
	for _, u := range extra {
		args = append(args, u)
		members += fmt.Sprintf(" UNION SELECT CAST($%d AS BIGINT)", len(args))
	}
	rows, err := tx.QueryContext(ctx, `UPDATE user_pts SET pts = pts + 1 WHERE user_id IN (`+members+`) RETURNING user_id, pts`, args...)
	if err != nil {
		return nil, fmt.Errorf("advance update logs: %w", err)
	}
	for rows.Next() {
		var r Recipient
		if err := rows.Scan(&r.User, &r.PTS); err != nil {
			rows.Close()
			return nil, err
		}
		n.To = append(n.To, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	args = append(args, ev.Seq)
	if _, err := tx.ExecContext(ctx, fmt.Sprintf(`INSERT INTO user_updates (user_id, pts, chat_id, chat_seq)
		SELECT user_id, pts, CAST($1 AS BIGINT), CAST($%d AS BIGINT) FROM user_pts WHERE user_id IN (`+members+`)`, len(args)), args...); err != nil {
		return nil, fmt.Errorf("append to update logs: %w", err)
	}
	return n, nil
}

// ensurePTS creates a user's update log counter if it is missing.
func ensurePTS(ctx context.Context, tx *sqldb.Tx, user kurir.UserID) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO user_pts (user_id, pts) VALUES ($1, 0) ON CONFLICT (user_id) DO NOTHING`, user)
	return err
}

// cleanText validates a title, about text or message text.
func cleanText(field, what, s string, max int, allowEmpty bool) (string, error) {
	if !utf8.ValidString(s) {
		return "", kurir.Invalid(field, "invalid_utf8", "The %s is not valid UTF-8 text.", what)
	}
	s = strings.TrimSpace(s)
	n := 0
	for _, r := range s {
		if unicode.IsControl(r) && r != '\n' && r != '\t' {
			return "", kurir.Invalid(field, "invalid_characters", "The %s contains control characters.", what)
		}
		n++
	}
	if n == 0 && !allowEmpty {
		return "", kurir.Invalid(field, "empty", "The %s must not be empty.", what)
	}
	if n > max {
		e := kurir.Invalid(field, "too_long", "The %s is %d characters long; the limit is %d.", what, n, max)
		e.Limit = int64(max)
		return "", e
	}
	return s, nil
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
