package messaging

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"time"

	"kurir"
	"kurir/account"
	"kurir/sqldb"
)

// NewChat describes a group or channel to create.
type NewChat struct {
	Title string
	About string
	// Username makes the chat public under that @name; empty keeps it private.
	Username    string
	Permissions *Permissions // nil: members may post and add users
	// Members are added at creation (groups only).
	Members []kurir.UserID
	// System allows a reserved @name, for a chat kurir itself runs
	// (account.ParseSystemUsername). Never set it from a request.
	System bool
}

// CreateGroup creates a group owned by creator, with the given members.
func (s *Service) CreateGroup(ctx context.Context, creator kurir.UserID, nc NewChat) (Chat, error) {
	return s.create(ctx, creator, Group, nc)
}

// CreateChannel creates a broadcast channel owned by creator. Only its
// admins post; everyone else subscribes.
func (s *Service) CreateChannel(ctx context.Context, creator kurir.UserID, nc NewChat) (Chat, error) {
	if len(nc.Members) > 0 {
		return Chat{}, kurir.Invalid("members", "not_allowed", "Channels have subscribers, who join themselves; they cannot be added at creation.")
	}
	return s.create(ctx, creator, Channel, nc)
}

func (s *Service) create(ctx context.Context, creator kurir.UserID, kind Kind, nc NewChat) (Chat, error) {
	title, err := cleanText("title", "title", nc.Title, 128, false)
	if err != nil {
		return Chat{}, err
	}
	about, err := cleanText("about", "description", nc.About, 1024, true)
	if err != nil {
		return Chat{}, err
	}
	var uname account.Username
	if nc.Username != "" {
		parse := account.ParseUsername
		if nc.System {
			parse = account.ParseSystemUsername
		}
		if uname, err = parse(nc.Username); err != nil {
			return Chat{}, err
		}
	}
	for _, f := range [...]struct{ field, text string }{{"title", title}, {"about", about}, {"username", nc.Username}} {
		if err := s.screen(ctx, creator, 0, f.field, f.text); err != nil {
			return Chat{}, err
		}
	}
	perms := Permissions{Post: true, AddUsers: true}
	if kind == Channel {
		perms = Permissions{}
	}
	if nc.Permissions != nil {
		perms = *nc.Permissions
	}
	if int64(len(nc.Members))+1 > s.cfg.MaxGroupMembers {
		return Chat{}, kurir.Invalid("members", "too_many_members", "A group may have at most %d members.", s.cfg.MaxGroupMembers)
	}
	now := s.clock.Now()
	var id ChatID
	var notices []*Notice
	err = s.db.WriteTx(ctx, func(tx *sqldb.Tx) error {
		notices = notices[:0]
		err := tx.QueryRowContext(ctx, `INSERT INTO chats (kind, title, about, username, username_key, username_skeleton, creator_id,
			large, members_can_post, members_can_add, members_can_pin, members_can_edit_info, last_activity_at, created_at, search_key)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13, $14) RETURNING id`,
			string(kind), title, about, nullIfEmpty(uname.Display), nullIfEmpty(uname.Key), nullIfEmpty(uname.Skeleton), creator,
			boolInt(kind == Channel), boolInt(perms.Post), boolInt(perms.AddUsers), boolInt(perms.Pin), boolInt(perms.EditInfo),
			sqldb.Micros(now), searchKey(title, uname.Display)).Scan(&id)
		if sqldb.IsUniqueViolation(err) {
			return &kurir.Error{Code: kurir.EConflict, Field: "username", Reason: "username_taken",
				Message: fmt.Sprintf("The name @%s is taken, or too similar to one that is.", uname.Display)}
		}
		if err != nil {
			return fmt.Errorf("create chat: %w", err)
		}
		if err := s.addMember(ctx, tx, id, creator, Owner); err != nil {
			return err
		}
		n, err := appendEvent(ctx, tx, &Event{ChatID: id, Kind: EventCreate, ActorID: creator, At: now}, true)
		if err != nil {
			return err
		}
		notices = append(notices, n)
		seen := map[kurir.UserID]bool{creator: true}
		for _, m := range nc.Members {
			if seen[m] {
				continue
			}
			seen[m] = true
			if err := userExists(ctx, tx, m); err != nil {
				return err
			}
			if err := s.addMember(ctx, tx, id, m, Member); err != nil {
				return err
			}
			n, err := appendEvent(ctx, tx, &Event{ChatID: id, Kind: EventJoin, ActorID: creator, UserID: m, At: now}, true)
			if err != nil {
				return err
			}
			notices = append(notices, n)
		}
		return s.maybeGrow(ctx, tx, id, now, &notices)
	})
	if err != nil {
		return Chat{}, err
	}
	for _, n := range notices {
		s.publish(ctx, n)
	}
	return s.Chat(ctx, creator, id)
}

func nullIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func userExists(ctx context.Context, q sqldb.Querier, id kurir.UserID) error {
	var n int
	if err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM users WHERE id = $1 AND deleted_at IS NULL`, id).Scan(&n); err != nil {
		return err
	}
	if n == 0 {
		return kurir.Errorf(kurir.ENotFound, "No user %d.", id)
	}
	return nil
}

// addMember makes user a member (again) of chat with role, and counts them.
func (s *Service) addMember(ctx context.Context, tx *sqldb.Tx, chat ChatID, user kurir.UserID, role MemberRole) error {
	if err := ensurePTS(ctx, tx, user); err != nil {
		return err
	}
	now := sqldb.Micros(s.clock.Now())
	res, err := tx.ExecContext(ctx, `UPDATE chat_members SET status = 'member', role = $3, joined_at = $4
		WHERE chat_id = $1 AND user_id = $2 AND status = 'left'`, chat, user, string(role), now)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		_, err = tx.ExecContext(ctx, `INSERT INTO chat_members (chat_id, user_id, role, joined_at) VALUES ($1, $2, $3, $4)`,
			chat, user, string(role), now)
		if sqldb.IsUniqueViolation(err) {
			return kurir.Errorf(kurir.EConflict, "User %d is already a member, or is banned from this chat.", user)
		}
		if err != nil {
			return err
		}
	}
	_, err = tx.ExecContext(ctx, `UPDATE chats SET member_count = member_count + 1 WHERE id = $1`, chat)
	return err
}

// maybeGrow turns a group that passed the size threshold into a large one,
// telling its members (through their logs, one last time) to sync it by seq.
func (s *Service) maybeGrow(ctx context.Context, tx *sqldb.Tx, chat ChatID, now time.Time, notices *[]*Notice) error {
	var members, large int64
	if err := tx.QueryRowContext(ctx, `SELECT member_count, large FROM chats WHERE id = $1`, chat).Scan(&members, &large); err != nil {
		return err
	}
	if large != 0 || members <= s.cfg.LargeChat {
		return nil
	}
	n, err := appendEvent(ctx, tx, &Event{ChatID: chat, Kind: EventLarge, At: now}, false)
	if err != nil {
		return err
	}
	*notices = append(*notices, n)
	_, err = tx.ExecContext(ctx, `UPDATE chats SET large = 1 WHERE id = $1`, chat)
	return err
}

// OpenPrivate returns the private chat between user and peer, creating it
// the first time. It shows in the peer's chat list once it has a message.
func (s *Service) OpenPrivate(ctx context.Context, user, peer kurir.UserID) (Chat, error) {
	if user == peer {
		return Chat{}, kurir.Invalid("user_id", "self", "You cannot open a private chat with yourself.")
	}
	lo, hi := min(user, peer), max(user, peer)
	key := strconv.FormatInt(int64(lo), 10) + ":" + strconv.FormatInt(int64(hi), 10)
	var id ChatID
	err := s.db.Read().QueryRowContext(ctx, `SELECT id FROM chats WHERE private_key = $1`, key).Scan(&id)
	if err == nil {
		return s.Chat(ctx, user, id)
	}
	if err := userExists(ctx, s.db.Read(), peer); err != nil {
		return Chat{}, err
	}
	now := s.clock.Now()
	err = s.db.WriteTx(ctx, func(tx *sqldb.Tx) error {
		// Another request may have created it since the read above.
		if err := tx.QueryRowContext(ctx, `SELECT id FROM chats WHERE private_key = $1`, key).Scan(&id); err == nil {
			return nil
		}
		if err := tx.QueryRowContext(ctx, `INSERT INTO chats (kind, private_key, creator_id, members_can_pin, last_activity_at, created_at)
			VALUES ('private', $1, $2, 1, $3, $3) RETURNING id`, key, user, sqldb.Micros(now)).Scan(&id); err != nil {
			return fmt.Errorf("create private chat: %w", err)
		}
		for _, u := range []kurir.UserID{lo, hi} {
			if err := s.addMember(ctx, tx, id, u, Member); err != nil {
				return err
			}
		}
		return nil
	})
	if sqldb.IsUniqueViolation(err) { // lost a race on PostgreSQL
		if err := s.db.Read().QueryRowContext(ctx, `SELECT id FROM chats WHERE private_key = $1`, key).Scan(&id); err != nil {
			return Chat{}, err
		}
		return s.Chat(ctx, user, id)
	}
	if err != nil {
		return Chat{}, err
	}
	return s.Chat(ctx, user, id)
}

// Chat returns a chat as user sees it, or ENotFound if they may not see it.
func (s *Service) Chat(ctx context.Context, user kurir.UserID, id ChatID) (Chat, error) {
	c, err := s.loadChat(ctx, s.db.Read(), id, user)
	if err != nil {
		return Chat{}, err
	}
	if !c.canSee() {
		return Chat{}, noChat(id)
	}
	ch := c.view(user)
	return ch, peerRead(ctx, s.db.Read(), &ch)
}

// peerRead fills in how far the other person of a private chat has read it.
func peerRead(ctx context.Context, q sqldb.Querier, ch *Chat) error {
	if ch.Kind != Private || ch.Peer == 0 {
		return nil
	}
	err := q.QueryRowContext(ctx, `SELECT read_seq FROM chat_members WHERE chat_id = $1 AND user_id = $2`, ch.ID, ch.Peer).Scan(&ch.PeerReadSeq)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	return err
}
