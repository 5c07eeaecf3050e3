package messaging

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"kurir"
	"kurir/account"
	"kurir/sqldb"
)

// membershipChange runs fn on the chat loaded for actor inside a write
// transaction, then publishes the notices fn produced.
func (s *Service) membershipChange(ctx context.Context, actor kurir.UserID, id ChatID, fn func(tx *sqldb.Tx, c *chatRow, now time.Time, notices *[]*Notice) error) error {
	var notices []*Notice
	now := s.clock.Now()
	err := s.db.WriteTx(ctx, func(tx *sqldb.Tx) error {
		notices = notices[:0]
		c, err := s.loadChat(ctx, tx, id, actor)
		if err != nil {
			return err
		}
		return fn(tx, c, now, &notices)
	})
	if err != nil {
		return err
	}
	for _, n := range notices {
		s.publish(ctx, n)
	}
	return nil
}

// join adds user to c (already loaded for user) and records it.
func (s *Service) join(ctx context.Context, tx *sqldb.Tx, c *chatRow, user, actor kurir.UserID, now time.Time, notices *[]*Notice) error {
	switch {
	case c.isMember():
		return nil // joining twice is not an error
	case c.status == "banned":
		return kurir.Errorf(kurir.EForbidden, "You are banned from this chat.")
	case c.takenDown != 0, c.withheld != nil:
		return c.readErr()
	case c.kind == Private:
		return noChat(c.id)
	case c.kind == Group && c.members >= s.cfg.MaxGroupMembers:
		return kurir.Errorf(kurir.EConflict, "This group is full (%d members).", s.cfg.MaxGroupMembers)
	}
	if err := s.addMember(ctx, tx, c.id, user, Member); err != nil {
		return err
	}
	n, err := appendEvent(ctx, tx, &Event{ChatID: c.id, Kind: EventJoin, ActorID: actor, UserID: user, At: now}, c.kind == Group)
	if err != nil {
		return err
	}
	*notices = append(*notices, n)
	return s.maybeGrow(ctx, tx, c.id, now, notices)
}

// Join makes user a member of a public group or a subscriber of a public
// channel. Joining a chat one is already in succeeds and changes nothing.
func (s *Service) Join(ctx context.Context, user kurir.UserID, id ChatID) (Chat, error) {
	err := s.membershipChange(ctx, user, id, func(tx *sqldb.Tx, c *chatRow, now time.Time, notices *[]*Notice) error {
		if c.username == "" && !c.isMember() {
			return noChat(id) // private groups and channels are joined by invite
		}
		return s.join(ctx, tx, c, user, user, now, notices)
	})
	if err != nil {
		return Chat{}, err
	}
	return s.Chat(ctx, user, id)
}

// ChatByUsername finds a public group or channel by its @name.
func (s *Service) ChatByUsername(ctx context.Context, user kurir.UserID, name string) (Chat, error) {
	var id ChatID
	err := s.db.Read().QueryRowContext(ctx, `SELECT id FROM chats WHERE username_key = $1`, account.UsernameKey(name)).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return Chat{}, kurir.Errorf(kurir.ENotFound, "No public chat @%s.", name)
	}
	if err != nil {
		return Chat{}, err
	}
	c, err := s.Chat(ctx, user, id)
	if err == nil && c.Withheld != nil {
		// Found where it is withheld: the reader learns why, not what.
		return Chat{}, withheldErr(c.Kind, c.Withheld)
	}
	return c, err
}

// Leave takes user out of a group or channel. The last owner cannot leave a
// group that still has members; they must appoint another owner first.
func (s *Service) Leave(ctx context.Context, user kurir.UserID, id ChatID) error {
	return s.membershipChange(ctx, user, id, func(tx *sqldb.Tx, c *chatRow, now time.Time, notices *[]*Notice) error {
		if !c.isMember() || c.kind == Private {
			return noChat(id)
		}
		if c.role == Owner && c.members > 1 {
			var owners int
			if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM chat_members WHERE chat_id = $1 AND role = 'owner' AND status = 'member'`, id).Scan(&owners); err != nil {
				return err
			}
			if owners == 1 {
				return kurir.Errorf(kurir.EConflict, "You are the only owner: make another member owner before you leave.")
			}
		}
		return s.removeMember(ctx, tx, c, user, user, "left", EventLeave, now, notices)
	})
}

func (s *Service) removeMember(ctx context.Context, tx *sqldb.Tx, c *chatRow, user, actor kurir.UserID, status string, kind EventKind, now time.Time, notices *[]*Notice) error {
	if _, err := tx.ExecContext(ctx, `UPDATE chat_members SET status = $3, role = 'member' WHERE chat_id = $1 AND user_id = $2`, c.id, user, status); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE chats SET member_count = member_count - 1 WHERE id = $1`, c.id); err != nil {
		return err
	}
	// The removed user is no longer a member, so name them to get the event.
	n, err := appendEvent(ctx, tx, &Event{ChatID: c.id, Kind: kind, ActorID: actor, UserID: user, At: now}, c.kind == Group, user)
	if err != nil {
		return err
	}
	*notices = append(*notices, n)
	return nil
}

// AddMembers adds users to a group. Admins may always; members when the
// group's permissions let them.
func (s *Service) AddMembers(ctx context.Context, actor kurir.UserID, id ChatID, users []kurir.UserID) error {
	return s.membershipChange(ctx, actor, id, func(tx *sqldb.Tx, c *chatRow, now time.Time, notices *[]*Notice) error {
		if !c.isMember() {
			return noChat(id)
		}
		if c.takenDown != 0 {
			return c.readErr()
		}
		if c.kind != Group {
			return kurir.Errorf(kurir.EForbidden, "Members can be added only to groups; channel subscribers join themselves.")
		}
		if !c.isAdmin() && !c.perms.AddUsers {
			return kurir.Errorf(kurir.EForbidden, "Only admins may add members to this group.")
		}
		for _, u := range users {
			if err := userExists(ctx, tx, u); err != nil {
				return err
			}
			target, err := loadChat(ctx, tx, id, u)
			if err != nil {
				return err
			}
			if target.status == "banned" && !c.isAdmin() {
				return kurir.Errorf(kurir.EForbidden, "User %d is banned from this group; only an admin can add them back.", u)
			}
			if target.status == "banned" {
				if _, err := tx.ExecContext(ctx, `UPDATE chat_members SET status = 'left' WHERE chat_id = $1 AND user_id = $2`, id, u); err != nil {
					return err
				}
				target.status = "left"
			}
			if err := s.join(ctx, tx, target, u, actor, now, notices); err != nil {
				return err
			}
		}
		return nil
	})
}

// RemoveMember removes user from a group or channel; with ban they cannot
// come back until an admin adds them. Admins may remove members; only the
// owner may remove an admin.
func (s *Service) RemoveMember(ctx context.Context, actor kurir.UserID, id ChatID, user kurir.UserID, ban bool) error {
	return s.membershipChange(ctx, actor, id, func(tx *sqldb.Tx, c *chatRow, now time.Time, notices *[]*Notice) error {
		if !c.isMember() {
			return noChat(id)
		}
		if !c.isAdmin() || c.kind == Private {
			return kurir.Errorf(kurir.EForbidden, "Only admins may remove members.")
		}
		if user == actor {
			return kurir.Invalid("user_id", "self", "To leave, use leave instead of removing yourself.")
		}
		target, err := loadChat(ctx, tx, id, user)
		if err != nil {
			return err
		}
		if target.isAdmin() && c.role != Owner {
			return kurir.Errorf(kurir.EForbidden, "Only the owner may remove an admin.")
		}
		status := "left"
		if ban {
			status = "banned"
		}
		if !target.isMember() {
			if ban && target.status == "left" {
				_, err := tx.ExecContext(ctx, `UPDATE chat_members SET status = 'banned' WHERE chat_id = $1 AND user_id = $2`, id, user)
				return err
			}
			return kurir.Errorf(kurir.ENotFound, "User %d is not a member of this chat.", user)
		}
		return s.removeMember(ctx, tx, c, user, actor, status, EventRemove, now, notices)
	})
}

// SetRole makes a member an admin, an owner or a plain member again. Only
// an owner may change roles.
func (s *Service) SetRole(ctx context.Context, actor kurir.UserID, id ChatID, user kurir.UserID, role MemberRole) error {
	if role != Owner && role != Admin && role != Member {
		return kurir.Invalid("role", "unknown_role", "Unknown role %q; roles are owner, admin and member.", role)
	}
	return s.membershipChange(ctx, actor, id, func(tx *sqldb.Tx, c *chatRow, now time.Time, notices *[]*Notice) error {
		if !c.isMember() {
			return noChat(id)
		}
		if c.role != Owner || c.kind == Private {
			return kurir.Errorf(kurir.EForbidden, "Only the owner may change roles.")
		}
		res, err := tx.ExecContext(ctx, `UPDATE chat_members SET role = $3 WHERE chat_id = $1 AND user_id = $2 AND status = 'member'`, id, user, string(role))
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return kurir.Errorf(kurir.ENotFound, "User %d is not a member of this chat.", user)
		}
		if user == actor && role != Owner {
			var owners int
			if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM chat_members WHERE chat_id = $1 AND role = 'owner' AND status = 'member'`, id).Scan(&owners); err != nil {
				return err
			}
			if owners == 0 {
				return kurir.Errorf(kurir.EConflict, "A chat must keep an owner: make another member owner first.")
			}
		}
		n, err := appendEvent(ctx, tx, &Event{ChatID: id, Kind: EventRole, ActorID: actor, UserID: user, At: now}, false)
		if err != nil {
			return err
		}
		*notices = append(*notices, n)
		return nil
	})
}

// ChatInfo changes a group's or channel's title, description or member
// permissions; fields left nil are unchanged.
type ChatInfo struct {
	Title       *string
	About       *string
	Permissions *Permissions
}

// EditInfo changes a chat's info. Admins may; members of a group when its
// permissions let them (but only admins change permissions).
func (s *Service) EditInfo(ctx context.Context, actor kurir.UserID, id ChatID, info ChatInfo) (Chat, error) {
	if info.Title != nil {
		if err := s.screen(ctx, actor, id, "title", *info.Title); err != nil {
			return Chat{}, err
		}
	}
	if info.About != nil {
		if err := s.screen(ctx, actor, id, "about", *info.About); err != nil {
			return Chat{}, err
		}
	}
	err := s.membershipChange(ctx, actor, id, func(tx *sqldb.Tx, c *chatRow, now time.Time, notices *[]*Notice) error {
		if !c.isMember() {
			return noChat(id)
		}
		if c.takenDown != 0 {
			return c.readErr()
		}
		if c.kind == Private {
			return kurir.Errorf(kurir.EForbidden, "Private chats have no title or description.")
		}
		if !c.isAdmin() && (!c.perms.EditInfo || c.kind == Channel || info.Permissions != nil) {
			return kurir.Errorf(kurir.EForbidden, "Only admins may change this chat's info.")
		}
		if info.Title != nil {
			t, err := cleanText("title", "title", *info.Title, 128, false)
			if err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `UPDATE chats SET title = $2, search_key = $3 WHERE id = $1`, id, t, searchKey(t, c.username)); err != nil {
				return err
			}
		}
		if info.About != nil {
			a, err := cleanText("about", "description", *info.About, 1024, true)
			if err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `UPDATE chats SET about = $2 WHERE id = $1`, id, a); err != nil {
				return err
			}
		}
		if p := info.Permissions; p != nil {
			if _, err := tx.ExecContext(ctx, `UPDATE chats SET members_can_post = $2, members_can_add = $3, members_can_pin = $4, members_can_edit_info = $5 WHERE id = $1`,
				id, boolInt(p.Post), boolInt(p.AddUsers), boolInt(p.Pin), boolInt(p.EditInfo)); err != nil {
				return err
			}
		}
		n, err := appendEvent(ctx, tx, &Event{ChatID: id, Kind: EventInfo, ActorID: actor, At: now}, false)
		if err != nil {
			return err
		}
		*notices = append(*notices, n)
		return nil
	})
	if err != nil {
		return Chat{}, err
	}
	return s.Chat(ctx, actor, id)
}

// Invite is a link that lets people join a group or channel.
type Invite struct {
	Code       string
	ChatID     ChatID
	CreatedAt  time.Time
	ExpiresAt  time.Time // zero: never
	UsageLimit int64     // 0: unlimited
	UsageCount int64
	Revoked    bool
}

// CreateInvite makes an invite link; admins may, and members of a group that
// lets them add users.
func (s *Service) CreateInvite(ctx context.Context, actor kurir.UserID, id ChatID, expires time.Time, limit int64) (Invite, error) {
	if limit < 0 {
		return Invite{}, kurir.Invalid("usage_limit", "negative", "The usage limit cannot be negative.")
	}
	if !expires.IsZero() && !expires.After(s.clock.Now()) {
		return Invite{}, kurir.Invalid("expires_at", "in_past", "An invite must expire in the future.")
	}
	inv := Invite{Code: rand.Text(), ChatID: id, CreatedAt: s.clock.Now().UTC().Truncate(time.Microsecond), ExpiresAt: expires, UsageLimit: limit}
	err := s.db.WriteTx(ctx, func(tx *sqldb.Tx) error {
		c, err := loadChat(ctx, tx, id, actor)
		if err != nil {
			return err
		}
		if !c.isMember() || c.kind == Private {
			return noChat(id)
		}
		if c.takenDown != 0 {
			return c.readErr()
		}
		if !c.isAdmin() && !(c.kind == Group && c.perms.AddUsers) {
			return kurir.Errorf(kurir.EForbidden, "Only admins may create invite links for this chat.")
		}
		var exp int64
		if !expires.IsZero() {
			exp = sqldb.Micros(expires)
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO chat_invites (code, chat_id, creator_id, created_at, expires_at, usage_limit) VALUES ($1, $2, $3, $4, $5, $6)`,
			inv.Code, id, actor, sqldb.Micros(inv.CreatedAt), exp, limit)
		return err
	})
	return inv, err
}

// RevokeInvite stops an invite link from working.
func (s *Service) RevokeInvite(ctx context.Context, actor kurir.UserID, code string) error {
	return s.db.WriteTx(ctx, func(tx *sqldb.Tx) error {
		var id ChatID
		var creator kurir.UserID
		err := tx.QueryRowContext(ctx, `SELECT chat_id, creator_id FROM chat_invites WHERE code = $1`, code).Scan(&id, &creator)
		if errors.Is(err, sql.ErrNoRows) {
			return kurir.Errorf(kurir.ENotFound, "No such invite.")
		}
		if err != nil {
			return err
		}
		c, err := loadChat(ctx, tx, id, actor)
		if err != nil {
			return err
		}
		if !c.isAdmin() && creator != actor {
			return kurir.Errorf(kurir.ENotFound, "No such invite.")
		}
		_, err = tx.ExecContext(ctx, `UPDATE chat_invites SET revoked_at = $2 WHERE code = $1 AND revoked_at = 0`, code, sqldb.Micros(s.clock.Now()))
		return err
	})
}

// JoinByInvite joins the chat an invite link points to.
func (s *Service) JoinByInvite(ctx context.Context, user kurir.UserID, code string) (Chat, error) {
	var id ChatID
	var notices []*Notice
	now := s.clock.Now()
	gone := kurir.Errorf(kurir.ENotFound, "This invite link is invalid, expired or revoked.")
	err := s.db.WriteTx(ctx, func(tx *sqldb.Tx) error {
		notices = notices[:0]
		var expires, limit, count, revoked int64
		err := tx.QueryRowContext(ctx, `SELECT chat_id, expires_at, usage_limit, usage_count, revoked_at FROM chat_invites WHERE code = $1`, code).
			Scan(&id, &expires, &limit, &count, &revoked)
		if errors.Is(err, sql.ErrNoRows) {
			return gone
		}
		if err != nil {
			return err
		}
		if revoked != 0 || (expires != 0 && expires <= sqldb.Micros(now)) || (limit != 0 && count >= limit) {
			return gone
		}
		c, err := s.loadChat(ctx, tx, id, user)
		if err != nil {
			return err
		}
		if c.isMember() {
			return nil
		}
		if err := s.join(ctx, tx, c, user, user, now, &notices); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE chat_invites SET usage_count = usage_count + 1 WHERE code = $1`, code)
		return err
	})
	if err != nil {
		return Chat{}, err
	}
	for _, n := range notices {
		s.publish(ctx, n)
	}
	return s.Chat(ctx, user, id)
}

// Block stops blocked from messaging user in private; Unblock lifts it.
func (s *Service) Block(ctx context.Context, user, blocked kurir.UserID) error {
	if user == blocked {
		return kurir.Invalid("user_id", "self", "You cannot block yourself.")
	}
	if err := userExists(ctx, s.db.Read(), blocked); err != nil {
		return err
	}
	return s.db.WriteTx(ctx, func(tx *sqldb.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO blocks (user_id, blocked_id, created_at) VALUES ($1, $2, $3) ON CONFLICT (user_id, blocked_id) DO NOTHING`,
			user, blocked, sqldb.Micros(s.clock.Now()))
		return err
	})
}

// Unblock lets blocked message user again.
func (s *Service) Unblock(ctx context.Context, user, blocked kurir.UserID) error {
	return s.db.WriteTx(ctx, func(tx *sqldb.Tx) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM blocks WHERE user_id = $1 AND blocked_id = $2`, user, blocked)
		return err
	})
}

// BlockedUser is someone a user blocked, as Blocked lists them.
type BlockedUser struct {
	UserID      kurir.UserID
	Username    string // empty once the account is deleted
	DisplayName string
	BlockedAt   time.Time
}

// Blocked lists the people user blocked after user after (0 for the first
// page), by user ID, at most limit, so that every device of theirs can show
// who is blocked.
func (s *Service) Blocked(ctx context.Context, user, after kurir.UserID, limit int) ([]BlockedUser, error) {
	limit = clampLimit(limit, 200)
	rows, err := s.db.Read().QueryContext(ctx, `SELECT b.blocked_id, COALESCE(u.username, ''), u.display_name, b.created_at
		FROM blocks b JOIN users u ON u.id = b.blocked_id
		WHERE b.user_id = $1 AND b.blocked_id > $2 ORDER BY b.blocked_id LIMIT $3`, user, after, limit)
	if err != nil {
		return nil, fmt.Errorf("list blocked users: %w", err)
	}
	defer rows.Close()
	var out []BlockedUser
	for rows.Next() {
		var b BlockedUser
		var at int64
		if err := rows.Scan(&b.UserID, &b.Username, &b.DisplayName, &at); err != nil {
			return nil, err
		}
		b.BlockedAt = sqldb.FromMicros(at)
		out = append(out, b)
	}
	return out, rows.Err()
}

// ChatMember is a member of a chat as other members see them.
type ChatMember struct {
	UserID      kurir.UserID
	Username    string // empty once the account is deleted
	DisplayName string
	Role        MemberRole
	JoinedAt    time.Time
}

// Members lists a chat's members after user after (0 for the first page),
// by user ID, at most limit. Members of a private chat or group may list
// it; a channel's subscribers are listed to its admins only, and to others
// the list holds the admins.
func (s *Service) Members(ctx context.Context, viewer kurir.UserID, id ChatID, after kurir.UserID, limit int) ([]ChatMember, error) {
	limit = clampLimit(limit, 200)
	c, err := loadChat(ctx, s.db.Read(), id, viewer)
	if err != nil {
		return nil, err
	}
	if !c.isMember() {
		return nil, noChat(id)
	}
	q := `SELECT m.user_id, COALESCE(u.username, ''), u.display_name, m.role, m.joined_at
		FROM chat_members m JOIN users u ON u.id = m.user_id
		WHERE m.chat_id = $1 AND m.status = 'member' AND m.user_id > $2`
	if c.kind == Channel && !c.isAdmin() {
		q += ` AND m.role IN ('owner', 'admin')`
	}
	rows, err := s.db.Read().QueryContext(ctx, q+` ORDER BY m.user_id LIMIT $3`, id, after, limit)
	if err != nil {
		return nil, fmt.Errorf("list members of chat %d: %w", id, err)
	}
	defer rows.Close()
	var out []ChatMember
	for rows.Next() {
		var m ChatMember
		var role string
		var joined int64
		if err := rows.Scan(&m.UserID, &m.Username, &m.DisplayName, &role, &joined); err != nil {
			return nil, err
		}
		m.Role, m.JoinedAt = MemberRole(role), sqldb.FromMicros(joined)
		out = append(out, m)
	}
	return out, rows.Err()
}
