package client

import (
	"context"
	"net/http"
	"time"
)

// ChatKind is what sort of chat it is.
type ChatKind string

// The kinds of chat.
const (
	Private ChatKind = "private"
	Group   ChatKind = "group"
	Channel ChatKind = "channel"
)

// MemberRole is a member's standing in a group or channel.
type MemberRole string

// The member roles. The owner is an admin who also appoints admins.
const (
	Owner  MemberRole = "owner"
	Admin  MemberRole = "admin"
	Member MemberRole = "member"
)

// Permissions are what ordinary members of a group or channel may do;
// owners and admins may do all of it.
type Permissions struct {
	Post     bool `json:"post"`
	AddUsers bool `json:"add_users"`
	Pin      bool `json:"pin"`
	EditInfo bool `json:"edit_info"`
}

// Chat is a private chat, group or channel as the caller sees it.
type Chat struct {
	ID    int64    `json:"id"`
	Kind  ChatKind `json:"kind"`
	Title string   `json:"title"`
	About string   `json:"about"`
	// Username is the public @name, or "" for a private chat or group.
	Username    string      `json:"username,omitempty"`
	MemberCount int64       `json:"member_count"`
	Permissions Permissions `json:"permissions"`
	// Large chats are synced by their own seq (Client.ChatUpdates) rather
	// than through the caller's update log.
	Large bool `json:"large"`
	// Seq is the sequence number of the chat's latest change.
	Seq       int64 `json:"seq"`
	PinnedSeq int64 `json:"pinned_seq,omitempty"`
	// PeerID is the other person in a private chat.
	PeerID int64 `json:"peer_id,omitempty"`
	// Role is the caller's role, or "" if they are not a member.
	Role MemberRole `json:"role,omitempty"`
	// ReadSeq is how far the caller has read.
	ReadSeq int64 `json:"read_seq"`
	// PeerReadSeq is, in a private chat, how far the other person has
	// read: the caller's messages up to it are read. Groups and channels
	// keep no per-member receipts, so it is 0 there.
	PeerReadSeq int64     `json:"peer_read_seq,omitempty"`
	CreatedAt   time.Time `json:"created_at"`
	// Unavailable, if set, says why moderation took the chat down: it is
	// listed, but nothing in it can be read.
	Unavailable string `json:"unavailable,omitempty"`
	// Labels are warnings moderation put on the chat, such as "graphic".
	Labels []string `json:"labels,omitempty"`
	// Withheld, if set, says the chat is withheld in the caller's country:
	// it is listed, but nothing in it can be read there.
	Withheld *Withholding `json:"withheld,omitempty"`
}

// Withholding says why something is not shown where the caller is.
type Withholding struct {
	Country  string `json:"country"`
	Category string `json:"category,omitempty"`
	Reason   string `json:"reason"`
	LegalRef string `json:"legal_reference,omitempty"`
}

// String is the notice to show in its place.
func (w *Withholding) String() string {
	s := "not available in your country (" + w.Country + "): " + w.Reason
	if w.LegalRef != "" {
		s += " (" + w.LegalRef + ")"
	}
	return s
}

// NewChat is a group or channel to create. Title is required.
type NewChat struct {
	Title string `json:"title"`
	About string `json:"about,omitempty"`
	// Username makes the chat public under this @name.
	Username string `json:"username,omitempty"`
	// Permissions default to posting and adding people for groups, and
	// nothing for channels.
	Permissions *Permissions `json:"permissions,omitempty"`
	// Members are user IDs to add at once (groups only).
	Members []int64 `json:"members,omitempty"`
}

// ChatEdit changes a group's or channel's information; nil fields are left
// unchanged.
type ChatEdit struct {
	Title       *string      `json:"title,omitempty"`
	About       *string      `json:"about,omitempty"`
	Permissions *Permissions `json:"permissions,omitempty"`
}

// Invite is an invite link to a chat.
type Invite struct {
	Code      string    `json:"code"`
	ChatID    int64     `json:"chat_id"`
	CreatedAt time.Time `json:"created_at"`
	// ExpiresAt is the zero time for a link that does not expire.
	ExpiresAt time.Time `json:"expires_at,omitzero"`
	// UsageLimit is how many people may join with it, 0 for no limit.
	UsageLimit int64 `json:"usage_limit"`
}

// InviteParams shape a new invite link; the zero value never expires and
// has no usage limit.
type InviteParams struct {
	ExpiresAt  time.Time `json:"expires_at,omitzero"`
	UsageLimit int64     `json:"usage_limit,omitempty"`
}

// CreateGroup creates a group owned by the caller and returns it.
func (c *Client) CreateGroup(ctx context.Context, nc NewChat) (Chat, error) {
	return c.chat(ctx, http.MethodPost, c.url("/chats/groups"), nc)
}

// CreateChannel creates a broadcast channel owned by the caller and returns it.
func (c *Client) CreateChannel(ctx context.Context, nc NewChat) (Chat, error) {
	return c.chat(ctx, http.MethodPost, c.url("/chats/channels"), nc)
}

// OpenPrivateChat returns the private chat with a user, creating it the
// first time; the other user sees it once it has a message.
func (c *Client) OpenPrivateChat(ctx context.Context, userID int64) (Chat, error) {
	return c.chat(ctx, http.MethodPut, c.url("/users/*/chat", userID), nil)
}

// Chat returns a chat the caller is in, or a public one. A chat the caller
// cannot see is a kurir.ENotFound *Error.
func (c *Client) Chat(ctx context.Context, id int64) (Chat, error) {
	return c.chat(ctx, http.MethodGet, c.url("/chats/*", id), nil)
}

// ChatByUsername finds a public group or channel by its @name.
func (c *Client) ChatByUsername(ctx context.Context, username string) (Chat, error) {
	return c.chat(ctx, http.MethodGet, c.urlSegment("/public-chats/", username, ""), nil)
}

// EditChat changes a group's or channel's title, description or member
// permissions and returns the chat as it now is.
func (c *Client) EditChat(ctx context.Context, id int64, e ChatEdit) (Chat, error) {
	return c.chat(ctx, http.MethodPatch, c.url("/chats/*", id), e)
}

// Join joins a public group or subscribes to a public channel, and returns it.
func (c *Client) Join(ctx context.Context, id int64) (Chat, error) {
	return c.chat(ctx, http.MethodPost, c.url("/chats/*/join", id), nil)
}

// Leave leaves a group or unsubscribes from a channel.
func (c *Client) Leave(ctx context.Context, id int64) error {
	return c.do(ctx, http.MethodPost, c.url("/chats/*/leave", id), nil, nil)
}

// AddMembers adds people to a group; the server takes 1 to 200 at a time.
func (c *Client) AddMembers(ctx context.Context, chatID int64, userIDs ...int64) error {
	body := struct {
		UserIDs []int64 `json:"user_ids"`
	}{userIDs}
	return c.do(ctx, http.MethodPost, c.url("/chats/*/members", chatID), body, nil)
}

// RemoveMember removes someone from a group or channel; with ban they
// cannot rejoin.
func (c *Client) RemoveMember(ctx context.Context, chatID, userID int64, ban bool) error {
	u := c.url("/chats/*/members/*", chatID, userID)
	if ban {
		u += "?ban=true"
	}
	return c.do(ctx, http.MethodDelete, u, nil, nil)
}

// SetMemberRole makes a member owner, admin or member (owners only).
func (c *Client) SetMemberRole(ctx context.Context, chatID, userID int64, role MemberRole) error {
	body := struct {
		Role MemberRole `json:"role"`
	}{role}
	return c.do(ctx, http.MethodPut, c.url("/chats/*/members/*/role", chatID, userID), body, nil)
}

// CreateInvite creates an invite link to a chat.
func (c *Client) CreateInvite(ctx context.Context, chatID int64, p InviteParams) (Invite, error) {
	var inv Invite
	err := c.do(ctx, http.MethodPost, c.url("/chats/*/invites", chatID), p, &inv)
	return inv, err
}

// RevokeInvite makes an invite link stop working.
func (c *Client) RevokeInvite(ctx context.Context, code string) error {
	return c.do(ctx, http.MethodDelete, c.urlSegment("/invites/", code, ""), nil, nil)
}

// JoinByInvite joins the chat an invite link points to, and returns it.
func (c *Client) JoinByInvite(ctx context.Context, code string) (Chat, error) {
	return c.chat(ctx, http.MethodPost, c.urlSegment("/invites/", code, "/join"), nil)
}

// Block stops a user from messaging the caller in private.
func (c *Client) Block(ctx context.Context, userID int64) error {
	return c.do(ctx, http.MethodPut, c.url("/users/*/block", userID), nil, nil)
}

// Unblock lets a blocked user message the caller again.
func (c *Client) Unblock(ctx context.Context, userID int64) error {
	return c.do(ctx, http.MethodDelete, c.url("/users/*/block", userID), nil, nil)
}

// BlockedUser is someone the caller blocked.
type BlockedUser struct {
	UserID      int64     `json:"user_id"`
	Username    string    `json:"username"`
	DisplayName string    `json:"display_name"`
	BlockedAt   time.Time `json:"blocked_at"`
}

// Blocked lists the people the caller blocked after user ID after (0 for
// the first page), at most limit (0 for the server's default).
func (c *Client) Blocked(ctx context.Context, after int64, limit int) ([]BlockedUser, error) {
	var q query
	if after > 0 {
		q.addInt("after", after)
	}
	if limit > 0 {
		q.addInt("limit", int64(limit))
	}
	var out struct {
		Blocked []BlockedUser `json:"blocked"`
	}
	err := c.do(ctx, http.MethodGet, c.url("/me/blocked")+string(q.b), nil, &out)
	return out.Blocked, err
}

// chat makes a request that answers with a chat.
func (c *Client) chat(ctx context.Context, method, target string, in any) (Chat, error) {
	var ch Chat
	err := c.do(ctx, method, target, in, &ch)
	return ch, err
}

// ChatMember is a member of a chat.
type ChatMember struct {
	UserID int64 `json:"user_id"`
	// Username is empty once the account is deleted.
	Username    string     `json:"username,omitempty"`
	DisplayName string     `json:"display_name"`
	Role        MemberRole `json:"role"`
	JoinedAt    time.Time  `json:"joined_at"`
}

// Members returns a page of a chat's members, by user ID, after user after
// (0 for the first page), at most limit (0 for the server's default). A
// channel's subscribers are listed to its admins; others see its admins.
func (c *Client) Members(ctx context.Context, chatID, after int64, limit int) ([]ChatMember, error) {
	var q query
	if after > 0 {
		q.addInt("after", after)
	}
	if limit > 0 {
		q.addInt("limit", int64(limit))
	}
	var out struct {
		Members []ChatMember `json:"members"`
	}
	err := c.do(ctx, http.MethodGet, c.url("/chats/*/members", chatID)+string(q.b), nil, &out)
	return out.Members, err
}
