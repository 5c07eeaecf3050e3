// Package messaging is the messenger itself: private chats, groups and
// broadcast channels, their members and roles, messages, and the sequences
// that let every device sync gap-free.
//
// Every chat has its own sequence: each change to it (a message, an edit, a
// deletion, a pin, a membership change) takes the next seq and is recorded in
// chat_events. Every user has an update log with its own sequence (pts) that
// lists the changes to their private chats and small groups. Large chats —
// channels and groups past Config.LargeChat members — write no per-member
// rows, so a post costs the same to store for one subscriber or millions;
// their members sync them by the chat's seq.
package messaging

import (
	"embed"
	"time"

	"kurir"
	"kurir/sqldb"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Migrations is the messaging schema, for sqldb.DB.Migrate. It refers to
// account's users table, so it comes after account.Migrations.
var Migrations = sqldb.Embedded("messaging", migrationFiles, "migrations")

// ChatID identifies a chat.
type ChatID int64

// Kind is what sort of chat it is.
type Kind string

// The kinds of chat.
const (
	Private Kind = "private"
	Group   Kind = "group"
	Channel Kind = "channel"
)

// MemberRole is a member's standing in a group or channel.
type MemberRole string

// The member roles. The owner is an admin who also appoints admins.
const (
	Owner  MemberRole = "owner"
	Admin  MemberRole = "admin"
	Member MemberRole = "member"
)

// Permissions say what ordinary members of a group may do; admins may do all of it.
type Permissions struct {
	Post     bool `json:"post"`
	AddUsers bool `json:"add_users"`
	Pin      bool `json:"pin"`
	EditInfo bool `json:"edit_info"`
}

// Chat is a chat as one of its members (or a visitor of a public one) sees it.
type Chat struct {
	ID          ChatID
	Kind        Kind
	Title       string
	About       string
	Username    string // public @name, empty for private ones
	MemberCount int64
	Large       bool
	Permissions Permissions
	Seq         int64 // the last change's sequence number
	PinnedSeq   int64
	CreatedAt   time.Time
	// Peer is the other user of a private chat.
	Peer kurir.UserID
	// Membership of the viewer; Role is empty when the viewer is not a member.
	Role    MemberRole
	ReadSeq int64
	// PeerReadSeq is how far Peer has read a private chat: the viewer's
	// messages up to it have been read. Groups and channels keep no
	// per-member receipts, so it is 0 there.
	PeerReadSeq int64
	// Unavailable, if not empty, says why moderation took the chat down:
	// its members still see it in their list, but nothing in it.
	Unavailable string
	// Labels are what moderation marked the chat with, such as "graphic":
	// readers are warned before they read it.
	Labels []string
	// Withheld, if set, says the chat is withheld in the reader's country:
	// its members still see it in their list, but nothing in it.
	Withheld *Withholding
}

// Withholding says why something is not shown where the reader is: the
// law of that country, as the operator's restriction names it.
type Withholding struct {
	Country  string // the reader's country it is withheld in
	Category string // the moderation category, such as "hate_speech"
	Reason   string // what readers there are told
	LegalRef string // the law, such as "§ 86a StGB"; may be empty
}

// Forward names where a forwarded message first appeared.
type Forward struct {
	ChatID   ChatID
	Seq      int64
	SenderID kurir.UserID
	At       time.Time
}

// Message is one message.
type Message struct {
	ChatID    ChatID
	Seq       int64
	SenderID  kurir.UserID
	Text      string
	ReplyTo   int64 // seq of the message replied to, or 0
	Forward   *Forward
	CreatedAt time.Time
	EditedAt  time.Time // zero unless edited
	Deleted   bool      // deleted for everyone; Text is empty
	// Media is the attached photo, video or file, if any; Text is then its
	// caption and may be empty.
	Media *Attachment
	// Held says the message is held for a moderator's review: only its
	// author (in the answer to their send) knows it exists until then.
	Held bool
	// Withheld, if set, says the message is withheld in the reader's
	// country: Text and Media are empty, and Forward is nil.
	Withheld *Withholding
	// Views is how many people's devices showed the message, each counted
	// once (see RecordViews); 0 outside channels and large groups.
	Views int64
}

// Attachment describes a media object attached to a message, as the media
// service described it when it was attached. Its content is fetched from
// the media service, which checks MediaVisible.
type Attachment struct {
	MediaID     int64  `json:"media_id"`
	Kind        string `json:"kind"`
	ContentType string `json:"content_type"`
	Name        string `json:"name"`
	Size        int64  `json:"size"`
	Width       int    `json:"width,omitempty"`
	Height      int    `json:"height,omitempty"`
	Thumbnail   bool   `json:"thumbnail,omitempty"`
}

// EventKind names a change to a chat.
type EventKind string

// The kinds of change, each of which takes a seq of its chat.
const (
	EventMessage EventKind = "message"
	EventEdit    EventKind = "edit"
	EventDelete  EventKind = "delete"
	EventPin     EventKind = "pin"
	EventUnpin   EventKind = "unpin"
	EventJoin    EventKind = "join"
	EventLeave   EventKind = "leave"
	EventRemove  EventKind = "remove"
	EventRole    EventKind = "role"
	EventInfo    EventKind = "info"
	EventCreate  EventKind = "create"
	EventLarge   EventKind = "large" // the group passed the size threshold: sync it by seq from now on
	// Moderation: a message removed (it reads as deleted) or put back, and
	// the whole chat taken down or reinstated.
	EventRemoved    EventKind = "removed"
	EventRestored   EventKind = "restored"
	EventTakedown   EventKind = "takedown"
	EventReinstated EventKind = "reinstated"
	// A territorial restriction of the chat (MessageSeq 0) or of one
	// message was put on or lifted: devices fetch it again, and see it as
	// it now is where they are.
	EventRestricted   EventKind = "restricted"
	EventUnrestricted EventKind = "unrestricted"
)

// EventRead is not a change to a chat and takes no seq of it (Seq is 0): it
// says that UserID read the chat up to MessageSeq. It goes to the reader's
// own update log, so their other devices clear the chat's unread count, and
// in a private chat to the other person's, who sees their messages read.
// Groups and channels have no per-member receipts.
const EventRead EventKind = "read"

// Event is one change to a chat. For message and edit events Message holds
// the message as it is now (which may since have been deleted).
type Event struct {
	ChatID     ChatID
	Seq        int64
	Kind       EventKind
	ActorID    kurir.UserID
	MessageSeq int64
	UserID     kurir.UserID
	At         time.Time
	Message    *Message
}

// Update is an entry of a user's update log: an event of one of their chats
// numbered with their own pts.
type Update struct {
	PTS   int64
	Event Event
}
