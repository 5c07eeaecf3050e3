package client

import (
	"context"
	"iter"
	"net/http"
	"time"
)

// EventKind is what changed in a chat.
type EventKind string

// The kinds of event.
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
	// EventLarge says the group passed the size past which it is synced by
	// its own seq (Client.ChatUpdates) rather than the update log.
	EventLarge EventKind = "large"
	// Moderation: a message removed (show it as gone) or put back (the
	// event carries it), and the whole chat taken down (it can no longer be
	// read: Chat.Unavailable says why) or reinstated.
	EventRemoved    EventKind = "removed"
	EventRestored   EventKind = "restored"
	EventTakedown   EventKind = "takedown"
	EventReinstated EventKind = "reinstated"
	// A territorial restriction of the chat (MessageSeq 0) or of a message
	// was put on or lifted: fetch it again to see it as it now is.
	EventRestricted   EventKind = "restricted"
	EventUnrestricted EventKind = "unrestricted"
	// EventRead is no change to the chat (its Seq is 0): UserID read the
	// chat up to MessageSeq. It comes from the caller's own other devices
	// and, in a private chat, from the other person.
	EventRead EventKind = "read"
)

// Event is one change to a chat, numbered by the chat's seq. The sync
// endpoints and the live update stream deliver the same Event.
type Event struct {
	ChatID int64     `json:"chat_id"`
	Seq    int64     `json:"seq"`
	Kind   EventKind `json:"kind"`
	// ActorID is who made the change, if anyone.
	ActorID int64 `json:"actor_id,omitempty"`
	// MessageSeq is the message a message, edit, delete or pin event is about.
	MessageSeq int64 `json:"message_seq,omitempty"`
	// UserID is the member a membership or role event is about.
	UserID int64     `json:"user_id,omitempty"`
	At     time.Time `json:"at"`
	// Message is, for message and edit events, the message as it is now.
	Message *Message `json:"message,omitempty"`
}

// Update is an Event in the caller's update log, numbered by their pts.
type Update struct {
	PTS   int64 `json:"pts"`
	Event Event `json:"event"`
}

// Updates is a page of the caller's update log.
type Updates struct {
	// Updates are in pts order.
	Updates []Update `json:"updates"`
	// PTS is where to continue from.
	PTS int64 `json:"pts"`
	// TooLong means the gap is too long to replay: reload the chat list
	// (Dialogs) and continue from PTS.
	TooLong bool `json:"too_long"`
}

// ChatUpdates is a page of one chat's events.
type ChatUpdates struct {
	// Events are in seq order.
	Events []Event `json:"events"`
	// Seq is where to continue from.
	Seq int64 `json:"seq"`
	// TooLong means the gap is too long to replay: reload the chat's
	// history and continue from Seq.
	TooLong bool `json:"too_long"`
}

// LargeChat is a large group or channel and its current seq, from which the
// caller syncs it with ChatUpdates.
type LargeChat struct {
	ChatID int64 `json:"chat_id"`
	Seq    int64 `json:"seq"`
}

// SyncState is where a device starts syncing: the caller's pts and their
// large chats.
type SyncState struct {
	PTS        int64       `json:"pts"`
	LargeChats []LargeChat `json:"large_chats"`
}

// Dialog is one entry of the chat list.
type Dialog struct {
	Chat Chat `json:"chat"`
	// LastMessage is the chat's latest message, or nil if it has none.
	LastMessage *Message `json:"last_message,omitempty"`
	// Unread counts messages from others after the read mark, up to 999.
	Unread       int       `json:"unread"`
	LastActivity time.Time `json:"last_activity"`
}

// DialogPage is a page of the chat list.
type DialogPage struct {
	Dialogs []Dialog `json:"dialogs"`
	// NextCursor fetches the next page; "" on the last page.
	NextCursor string `json:"next_cursor,omitempty"`
}

// Dialogs returns a page of the caller's chat list, most recently active
// first: the first page for cursor "", then the page after each
// DialogPage.NextCursor. limit is at most 100; 0 means the server's default
// of 50. AllDialogs walks every page.
func (c *Client) Dialogs(ctx context.Context, cursor string, limit int) (DialogPage, error) {
	var q query
	if cursor != "" {
		q.add("cursor", cursor)
	}
	if limit > 0 {
		q.addInt("limit", int64(limit))
	}
	var p DialogPage
	err := c.do(ctx, http.MethodGet, c.url("/dialogs")+string(q.b), nil, &p)
	return p, err
}

// AllDialogs returns an iterator over the caller's whole chat list, fetched
// pageSize at a time (0 for the server's default) as the loop advances. An
// error is yielded once, with a zero Dialog, and ends the iteration.
//
//	for d, err := range c.AllDialogs(ctx, 100) {
//		if err != nil {
//			return err
//		}
//		fmt.Println(d.Chat.Title)
//	}
func (c *Client) AllDialogs(ctx context.Context, pageSize int) iter.Seq2[Dialog, error] {
	return func(yield func(Dialog, error) bool) {
		cursor := ""
		for {
			p, err := c.Dialogs(ctx, cursor, pageSize)
			if err != nil {
				yield(Dialog{}, err)
				return
			}
			for _, d := range p.Dialogs {
				if !yield(d, nil) {
					return
				}
			}
			if p.NextCursor == "" || p.NextCursor == cursor {
				return
			}
			cursor = p.NextCursor
		}
	}
}

// Updates returns what changed in the caller's private chats and small
// groups after pts, at most limit (0 for the server's default of 100).
// Large groups and channels are synced per chat with ChatUpdates.
func (c *Client) Updates(ctx context.Context, pts int64, limit int) (Updates, error) {
	var q query
	q.addInt("pts", pts)
	if limit > 0 {
		q.addInt("limit", int64(limit))
	}
	var u Updates
	err := c.do(ctx, http.MethodGet, c.url("/updates")+string(q.b), nil, &u)
	return u, err
}

// SyncState returns where to start syncing: the caller's pts and the seq of
// each of their large chats.
func (c *Client) SyncState(ctx context.Context) (SyncState, error) {
	var s SyncState
	err := c.do(ctx, http.MethodGet, c.url("/updates/state"), nil, &s)
	return s, err
}

// ChatUpdates returns what changed in a chat after seq, oldest first, at
// most limit (0 for the server's default of 100).
func (c *Client) ChatUpdates(ctx context.Context, chatID, seq int64, limit int) (ChatUpdates, error) {
	var q query
	q.addInt("seq", seq)
	if limit > 0 {
		q.addInt("limit", int64(limit))
	}
	var u ChatUpdates
	err := c.do(ctx, http.MethodGet, c.url("/chats/*/updates", chatID)+string(q.b), nil, &u)
	return u, err
}
