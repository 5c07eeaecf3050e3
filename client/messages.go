package client

import (
	"context"
	"crypto/rand"
	"fmt"
	"net/http"
	"time"
)

// Message is a message as stored.
type Message struct {
	ChatID   int64  `json:"chat_id"`
	Seq      int64  `json:"seq"`
	SenderID int64  `json:"sender_id"`
	Text     string `json:"text"`
	// ReplyTo is the seq of the message this one answers, or 0.
	ReplyTo int64 `json:"reply_to,omitempty"`
	// Forward is where a forwarded message first appeared, or nil.
	Forward   *Forward  `json:"forward,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	// EditedAt is the zero time for a message never edited.
	EditedAt time.Time `json:"edited_at,omitzero"`
	// Deleted messages were deleted for everyone; their text is gone.
	Deleted bool `json:"deleted,omitempty"`
	// Media is the attached photo, video or file, or nil; Text is then its
	// caption. Fetch it with Download or Thumbnail.
	Media *Attachment `json:"media,omitempty"`
	// Held, in the answer to a send, says the message waits for a
	// moderator's review: nobody else sees it until it is released.
	Held bool `json:"held,omitempty"`
	// Withheld, if set, says the message is withheld in the caller's
	// country: Text and Media are empty.
	Withheld *Withholding `json:"withheld,omitempty"`
	// Views is how many people have seen the message, each counted once;
	// 0 outside channels and large groups.
	Views int64 `json:"views,omitempty"`
}

// Forward is the origin of a forwarded message.
type Forward struct {
	ChatID   int64     `json:"chat_id"`
	Seq      int64     `json:"seq"`
	SenderID int64     `json:"sender_id"`
	At       time.Time `json:"at"`
}

// MessageRef points at a message.
type MessageRef struct {
	ChatID int64 `json:"chat_id"`
	Seq    int64 `json:"seq"`
}

// SendParams are a message to send: Text, or ForwardFrom to forward an
// existing message instead.
type SendParams struct {
	// Text is up to 4,096 characters.
	Text string `json:"text,omitempty"`
	// ReplyTo is the seq of the message in the same chat being answered.
	ReplyTo     int64       `json:"reply_to,omitempty"`
	ForwardFrom *MessageRef `json:"forward_from,omitempty"`
	// IdempotencyKey identifies the message across retries: the server stores
	// one message per key and sender, and answers a repeat with it. Leave it
	// empty and Send makes a random one, used by all of Send's own attempts;
	// set it (see NewIdempotencyKey) to retry safely across calls of Send,
	// for instance after a process restart. At most 128 bytes.
	IdempotencyKey string `json:"idempotency_key"`
	// MediaID attaches one of your uploads (UploadMedia, UploadFile); Text
	// is then an optional caption.
	MediaID int64 `json:"media_id,omitempty"`
}

// NewIdempotencyKey returns a random key for SendParams.IdempotencyKey
// (26 characters, 130 bits of entropy).
func NewIdempotencyKey() string { return rand.Text() }

// Send posts a message to a chat and returns it as stored, once it is
// durable. It retries as Retry describes, every attempt with the same
// idempotency key, so a message is stored at most once however often Send
// had to try; when every attempt fails it returns the last error, which
// still satisfies IsCode and errors.As. A send the server refuses — a
// kurir.ENotFound, kurir.EForbidden or kurir.EInvalid *Error — is not retried.
func (c *Client) Send(ctx context.Context, chatID int64, p SendParams) (Message, error) {
	if p.IdempotencyKey == "" {
		p.IdempotencyKey = NewIdempotencyKey()
	}
	target := c.url("/chats/*/messages", chatID)
	body, err := encodeSend(&p)
	if err != nil {
		return Message{}, fmt.Errorf("client: send to chat %d: encode request: %w", chatID, err)
	}
	var m Message
	for attempt := 1; ; attempt++ {
		err := c.exchange(ctx, http.MethodPost, target, body, &m)
		if err == nil {
			return m, nil
		}
		d, again := c.retry.wait(ctx, attempt, err)
		if !again {
			if attempt > 1 {
				return Message{}, fmt.Errorf("client: send to chat %d: gave up after %d attempts: %w", chatID, attempt, err)
			}
			return Message{}, err
		}
		if serr := sleep(ctx, d); serr != nil {
			return Message{}, fmt.Errorf("client: send to chat %d: %w while waiting to retry after: %w", chatID, serr, err)
		}
	}
}

// Anchor is where a page of history starts; see Before and After. The
// zero Anchor is Before(0): the newest messages.
type Anchor struct {
	seq   int64
	after bool
}

// Before anchors a page at the messages older than seq, newest first;
// Before(0) means the newest messages of the chat.
func Before(seq int64) Anchor { return Anchor{seq: seq} }

// After anchors a page at the messages newer than seq, oldest first;
// After(0) means the first messages of the chat.
func After(seq int64) Anchor { return Anchor{seq: seq, after: true} }

// History returns a page of a chat's history from the anchor: at most limit
// messages (0 for the server's default of 50; the server caps it).
func (c *Client) History(ctx context.Context, chatID int64, from Anchor, limit int) ([]Message, error) {
	var q query
	switch {
	case from.after:
		q.addInt("after", from.seq)
	case from.seq > 0:
		q.addInt("before", from.seq)
	}
	if limit > 0 {
		q.addInt("limit", int64(limit))
	}
	var out struct {
		Messages []Message `json:"messages"`
	}
	err := c.do(ctx, http.MethodGet, c.url("/chats/*/messages", chatID)+string(q.b), nil, &out)
	return out.Messages, err
}

// EditMessage replaces the text of the caller's message and returns it.
func (c *Client) EditMessage(ctx context.Context, chatID, seq int64, text string) (Message, error) {
	body := struct {
		Text string `json:"text"`
	}{text}
	var m Message
	err := c.do(ctx, http.MethodPatch, c.url("/chats/*/messages/*", chatID, seq), body, &m)
	return m, err
}

// DeleteMessage deletes a message for everyone, or with forMe only from the
// caller's own view of the chat.
func (c *Client) DeleteMessage(ctx context.Context, chatID, seq int64, forMe bool) error {
	u := c.url("/chats/*/messages/*", chatID, seq)
	if forMe {
		u += "?for=me"
	}
	return c.do(ctx, http.MethodDelete, u, nil, nil)
}

// Pin pins a message of a chat; seq 0 unpins.
func (c *Client) Pin(ctx context.Context, chatID, seq int64) error {
	return c.do(ctx, http.MethodPut, c.url("/chats/*/pin", chatID), seqBody{seq}, nil)
}

// MarkRead marks the chat read up to and including seq.
func (c *Client) MarkRead(ctx context.Context, chatID, seq int64) error {
	return c.do(ctx, http.MethodPut, c.url("/chats/*/read", chatID), seqBody{seq}, nil)
}

// RecordViews reports that this device showed the messages seqs of a
// channel or large group (at most 100 at a time), and returns how many of
// the views were new: each user counts once per message.
func (c *Client) RecordViews(ctx context.Context, chatID int64, seqs []int64) (int, error) {
	var out struct {
		Counted int `json:"counted"`
	}
	err := c.do(ctx, http.MethodPost, c.url("/chats/*/views", chatID), struct {
		Seqs []int64 `json:"seqs"`
	}{seqs}, &out)
	return out.Counted, err
}

type seqBody struct {
	Seq int64 `json:"seq"`
}
