package httpapi

import (
	"net/http"
	"strconv"
	"time"

	"kurir"
	"kurir/jurisdiction"
	"kurir/messaging"
)

// pathInt reads a numeric path parameter, refusing anything else clearly.
func pathInt(r *http.Request, name, what string) (int64, error) {
	v, err := strconv.ParseInt(r.PathValue(name), 10, 64)
	if err != nil || v <= 0 {
		return 0, kurir.Invalid(name, "invalid_id", "The %s %q is not a positive number.", what, r.PathValue(name))
	}
	return v, nil
}

// queryParams reads numeric query parameters, keeping the first error, so a
// handler checks once after reading them all.
type queryParams struct {
	r   *http.Request
	err error
}

func (q *queryParams) int(name string, def int64) int64 {
	if q.err != nil {
		return 0
	}
	v, err := queryInt(q.r, name, def)
	q.err = err
	return v
}

// queryInt reads an optional numeric query parameter (def when absent).
func queryInt(r *http.Request, name string, def int64) (int64, error) {
	s := r.URL.Query().Get(name)
	if s == "" {
		return def, nil
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil || v < 0 {
		return 0, kurir.Invalid(name, "invalid_number", "The query parameter %s=%q is not a whole number of 0 or more.", name, s)
	}
	return v, nil
}

type permissionsView struct {
	Post     bool `json:"post" jsonschema:"description=Members may send messages."`
	AddUsers bool `json:"add_users" jsonschema:"description=Members may add people and create invite links."`
	Pin      bool `json:"pin" jsonschema:"description=Members may pin messages."`
	EditInfo bool `json:"edit_info" jsonschema:"description=Members may change the title and description."`
}

type chatView struct {
	ID          int64           `json:"id"`
	Kind        string          `json:"kind" jsonschema:"enum=private,enum=group,enum=channel"`
	Title       string          `json:"title"`
	About       string          `json:"about"`
	Username    string          `json:"username,omitempty" jsonschema:"description=Public @name; absent for private chats."`
	MemberCount int64           `json:"member_count"`
	Large       bool            `json:"large" jsonschema:"description=Sync this chat by its own seq (GET /api/v1/chats/{id}/updates) rather than through the update log."`
	Permissions permissionsView `json:"permissions"`
	Seq         int64           `json:"seq" jsonschema:"description=The sequence number of the chat's latest change."`
	PinnedSeq   int64           `json:"pinned_seq,omitempty"`
	PeerID      int64           `json:"peer_id,omitempty" jsonschema:"description=The other person in a private chat."`
	Role        string          `json:"role,omitempty" jsonschema:"enum=owner,enum=admin,enum=member,description=Your role; absent if you are not a member."`
	ReadSeq     int64           `json:"read_seq"`
	PeerReadSeq int64           `json:"peer_read_seq,omitempty" jsonschema:"description=Private chats: how far the other person has read; your messages up to it are read. Groups and channels have no per-member receipts."`
	CreatedAt   time.Time       `json:"created_at"`
	Unavailable string          `json:"unavailable,omitempty" jsonschema:"description=Present when moderation took the chat down: why. Its messages can no longer be read."`
	Labels      []string        `json:"labels,omitempty" jsonschema:"description=Warnings moderation put on the chat (sensitive\\, graphic\\, misleading\\, scam_risk): show them before its content."`
	Withheld    *withheldView   `json:"withheld,omitempty" jsonschema:"description=Present when the chat is withheld in the reader's country: why. Its messages cannot be read there."`
}

func newChatView(c messaging.Chat) chatView {
	p := c.Permissions
	return chatView{ID: int64(c.ID), Kind: string(c.Kind), Title: c.Title, About: c.About, Username: c.Username,
		MemberCount: c.MemberCount, Large: c.Large, Permissions: permissionsView(p), Seq: c.Seq, PinnedSeq: c.PinnedSeq,
		PeerID: int64(c.Peer), Role: string(c.Role), ReadSeq: c.ReadSeq, PeerReadSeq: c.PeerReadSeq, CreatedAt: c.CreatedAt, Unavailable: c.Unavailable, Labels: c.Labels,
		Withheld: newWithheldView(c.Withheld)}
}

type newChatRequest struct {
	Title       string           `json:"title" jsonschema:"description=1 to 128 characters."`
	About       string           `json:"about,omitempty"`
	Username    string           `json:"username,omitempty" jsonschema:"description=Makes the chat public under this @name."`
	Permissions *permissionsView `json:"permissions,omitempty"`
	Members     []int64          `json:"members,omitempty" jsonschema:"description=User IDs to add (groups only)."`
}

func handleCreateChat(rt *router, msg *messaging.Service, kind messaging.Kind, limit int64) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req, err := decode[newChatRequest](r, limit)
		if err == nil && req.Username != "" {
			err = rt.allow(r, jurisdiction.PublicChats)
		}
		if err != nil {
			writeError(w, r, err)
			return
		}
		nc := messaging.NewChat{Title: req.Title, About: req.About, Username: req.Username}
		if req.Permissions != nil {
			p := messaging.Permissions(*req.Permissions)
			nc.Permissions = &p
		}
		for _, id := range req.Members {
			nc.Members = append(nc.Members, kurir.UserID(id))
		}
		me := principal(r.Context()).User.ID
		var c messaging.Chat
		if kind == messaging.Channel {
			c, err = msg.CreateChannel(r.Context(), me, nc)
		} else {
			c, err = msg.CreateGroup(r.Context(), me, nc)
		}
		if err != nil {
			writeError(w, r, err)
			return
		}
		w.Header().Set("Location", "/api/v1/chats/"+strconv.FormatInt(int64(c.ID), 10))
		encode(w, http.StatusCreated, newChatView(c))
	})
}

func handleOpenPrivate(msg *messaging.Service) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		peer, err := pathInt(r, "user_id", "user ID")
		if err != nil {
			writeError(w, r, err)
			return
		}
		c, err := msg.OpenPrivate(r.Context(), principal(r.Context()).User.ID, kurir.UserID(peer))
		if err != nil {
			writeError(w, r, err)
			return
		}
		encode(w, http.StatusOK, newChatView(c))
	})
}

// chatHandler wraps a handler of one chat: it parses {id} and passes the caller.
func chatHandler(fn func(w http.ResponseWriter, r *http.Request, me kurir.UserID, id messaging.ChatID)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := pathInt(r, "id", "chat ID")
		if err != nil {
			writeError(w, r, err)
			return
		}
		fn(w, r, principal(r.Context()).User.ID, messaging.ChatID(id))
	})
}

// chatBody wraps a handler of one chat that takes a JSON body of type T:
// it parses {id}, then decodes the body (at most limit bytes), answering a
// bad one with a problem.
func chatBody[T any](limit int64, fn func(w http.ResponseWriter, r *http.Request, me kurir.UserID, id messaging.ChatID, req T)) http.Handler {
	return chatHandler(func(w http.ResponseWriter, r *http.Request, me kurir.UserID, id messaging.ChatID) {
		req, err := decode[T](r, limit)
		if err != nil {
			writeError(w, r, err)
			return
		}
		fn(w, r, me, id, req)
	})
}

// respondChat writes a chat, or the error that prevented getting it.
func respondChat(w http.ResponseWriter, r *http.Request, c messaging.Chat, err error) {
	if err != nil {
		writeError(w, r, err)
		return
	}
	encode(w, http.StatusOK, newChatView(c))
}

// respondDone writes 204, or the error.
func respondDone(w http.ResponseWriter, r *http.Request, err error) {
	if err != nil {
		writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func handleGetChat(msg *messaging.Service) http.Handler {
	return chatHandler(func(w http.ResponseWriter, r *http.Request, me kurir.UserID, id messaging.ChatID) {
		c, err := msg.Chat(r.Context(), me, id)
		respondChat(w, r, c, err)
	})
}

func handleChatByUsername(msg *messaging.Service) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := msg.ChatByUsername(r.Context(), principal(r.Context()).User.ID, r.PathValue("username"))
		respondChat(w, r, c, err)
	})
}

type chatInfoRequest struct {
	Title       *string          `json:"title,omitempty"`
	About       *string          `json:"about,omitempty"`
	Permissions *permissionsView `json:"permissions,omitempty"`
}

func handleEditChat(msg *messaging.Service, limit int64) http.Handler {
	return chatBody(limit, func(w http.ResponseWriter, r *http.Request, me kurir.UserID, id messaging.ChatID, req chatInfoRequest) {
		info := messaging.ChatInfo{Title: req.Title, About: req.About}
		if req.Permissions != nil {
			p := messaging.Permissions(*req.Permissions)
			info.Permissions = &p
		}
		c, err := msg.EditInfo(r.Context(), me, id, info)
		respondChat(w, r, c, err)
	})
}

func handleJoin(msg *messaging.Service) http.Handler {
	return chatHandler(func(w http.ResponseWriter, r *http.Request, me kurir.UserID, id messaging.ChatID) {
		c, err := msg.Join(r.Context(), me, id)
		respondChat(w, r, c, err)
	})
}

func handleLeave(msg *messaging.Service) http.Handler {
	return chatHandler(func(w http.ResponseWriter, r *http.Request, me kurir.UserID, id messaging.ChatID) {
		respondDone(w, r, msg.Leave(r.Context(), me, id))
	})
}

type addMembersRequest struct {
	UserIDs []int64 `json:"user_ids" jsonschema:"minItems=1,maxItems=200"`
}

func handleAddMembers(msg *messaging.Service, limit int64) http.Handler {
	return chatBody(limit, func(w http.ResponseWriter, r *http.Request, me kurir.UserID, id messaging.ChatID, req addMembersRequest) {
		if len(req.UserIDs) == 0 || len(req.UserIDs) > 200 {
			writeError(w, r, kurir.Invalid("user_ids", "count", "Add 1 to 200 users at a time."))
			return
		}
		users := make([]kurir.UserID, len(req.UserIDs))
		for i, u := range req.UserIDs {
			users[i] = kurir.UserID(u)
		}
		respondDone(w, r, msg.AddMembers(r.Context(), me, id, users))
	})
}

func handleRemoveMember(msg *messaging.Service) http.Handler {
	return chatHandler(func(w http.ResponseWriter, r *http.Request, me kurir.UserID, id messaging.ChatID) {
		user, err := pathInt(r, "user_id", "user ID")
		if err != nil {
			writeError(w, r, err)
			return
		}
		ban := false
		switch r.URL.Query().Get("ban") {
		case "", "false":
		case "true":
			ban = true
		default:
			writeError(w, r, kurir.Invalid("ban", "invalid_bool", "ban must be true or false."))
			return
		}
		respondDone(w, r, msg.RemoveMember(r.Context(), me, id, kurir.UserID(user), ban))
	})
}

type roleRequest struct {
	Role string `json:"role" jsonschema:"enum=owner,enum=admin,enum=member"`
}

func handleSetRole(msg *messaging.Service, limit int64) http.Handler {
	return chatHandler(func(w http.ResponseWriter, r *http.Request, me kurir.UserID, id messaging.ChatID) {
		user, err := pathInt(r, "user_id", "user ID")
		if err != nil {
			writeError(w, r, err)
			return
		}
		req, err := decode[roleRequest](r, limit)
		if err != nil {
			writeError(w, r, err)
			return
		}
		respondDone(w, r, msg.SetRole(r.Context(), me, id, kurir.UserID(user), messaging.MemberRole(req.Role)))
	})
}

type inviteRequest struct {
	ExpiresAt  *time.Time `json:"expires_at,omitempty"`
	UsageLimit int64      `json:"usage_limit,omitempty" jsonschema:"minimum=0,description=How many people may join with it; 0 or absent for no limit."`
}

type inviteView struct {
	Code       string     `json:"code"`
	ChatID     int64      `json:"chat_id"`
	CreatedAt  time.Time  `json:"created_at"`
	ExpiresAt  *time.Time `json:"expires_at,omitempty"`
	UsageLimit int64      `json:"usage_limit"`
}

func handleCreateInvite(msg *messaging.Service, limit int64) http.Handler {
	return chatBody(limit, func(w http.ResponseWriter, r *http.Request, me kurir.UserID, id messaging.ChatID, req inviteRequest) {
		var exp time.Time
		if req.ExpiresAt != nil {
			exp = *req.ExpiresAt
		}
		inv, err := msg.CreateInvite(r.Context(), me, id, exp, req.UsageLimit)
		if err != nil {
			writeError(w, r, err)
			return
		}
		v := inviteView{Code: inv.Code, ChatID: int64(inv.ChatID), CreatedAt: inv.CreatedAt, UsageLimit: inv.UsageLimit}
		if !inv.ExpiresAt.IsZero() {
			v.ExpiresAt = &inv.ExpiresAt
		}
		encode(w, http.StatusCreated, v)
	})
}

func handleRevokeInvite(msg *messaging.Service) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		respondDone(w, r, msg.RevokeInvite(r.Context(), principal(r.Context()).User.ID, r.PathValue("code")))
	})
}

func handleJoinByInvite(msg *messaging.Service) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := msg.JoinByInvite(r.Context(), principal(r.Context()).User.ID, r.PathValue("code"))
		respondChat(w, r, c, err)
	})
}

func handleBlock(msg *messaging.Service, block bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, err := pathInt(r, "user_id", "user ID")
		if err != nil {
			writeError(w, r, err)
			return
		}
		me := principal(r.Context()).User.ID
		if block {
			err = msg.Block(r.Context(), me, kurir.UserID(user))
		} else {
			err = msg.Unblock(r.Context(), me, kurir.UserID(user))
		}
		respondDone(w, r, err)
	})
}

type blockedView struct {
	UserID      int64     `json:"user_id"`
	Username    string    `json:"username,omitempty" jsonschema:"description=Absent once the account is deleted."`
	DisplayName string    `json:"display_name"`
	BlockedAt   time.Time `json:"blocked_at"`
}

type blockedList struct {
	Blocked []blockedView `json:"blocked"`
}

func handleListBlocked(msg *messaging.Service) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := queryParams{r: r}
		after := q.int("after", 0)
		limit := q.int("limit", 100)
		if q.err != nil {
			writeError(w, r, q.err)
			return
		}
		list, err := msg.Blocked(r.Context(), principal(r.Context()).User.ID, kurir.UserID(after), int(limit))
		if err != nil {
			writeError(w, r, err)
			return
		}
		out := blockedList{Blocked: make([]blockedView, 0, len(list))}
		for _, b := range list {
			out.Blocked = append(out.Blocked, blockedView{UserID: int64(b.UserID), Username: b.Username, DisplayName: b.DisplayName, BlockedAt: b.BlockedAt})
		}
		encode(w, http.StatusOK, out)
	})
}

type memberView struct {
	UserID      int64     `json:"user_id"`
	Username    string    `json:"username,omitempty" jsonschema:"description=Absent once the account is deleted."`
	DisplayName string    `json:"display_name"`
	Role        string    `json:"role" jsonschema:"enum=owner,enum=admin,enum=member"`
	JoinedAt    time.Time `json:"joined_at"`
}

type memberList struct {
	Members []memberView `json:"members"`
}

func handleListMembers(msg *messaging.Service) http.Handler {
	return chatHandler(func(w http.ResponseWriter, r *http.Request, me kurir.UserID, id messaging.ChatID) {
		q := queryParams{r: r}
		after := q.int("after", 0)
		limit := q.int("limit", 100)
		if q.err != nil {
			writeError(w, r, q.err)
			return
		}
		list, err := msg.Members(r.Context(), me, id, kurir.UserID(after), int(limit))
		if err != nil {
			writeError(w, r, err)
			return
		}
		out := memberList{Members: make([]memberView, 0, len(list))}
		for _, m := range list {
			out.Members = append(out.Members, memberView{UserID: int64(m.UserID), Username: m.Username, DisplayName: m.DisplayName,
				Role: string(m.Role), JoinedAt: m.JoinedAt})
		}
		encode(w, http.StatusOK, out)
	})
}
