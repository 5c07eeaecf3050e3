package client

import (
	"context"
	"net/http"
)

// SearchChats finds public groups and channels whose title or @name
// contains q, biggest first: at most limit (0 for the server's default of
// 20; the server caps it). An empty q is a kurir.EInvalid *Error.
func (c *Client) SearchChats(ctx context.Context, q string, limit int) ([]Chat, error) {
	var qs query
	qs.add("q", q)
	if limit > 0 {
		qs.addInt("limit", int64(limit))
	}
	var out struct {
		Chats []Chat `json:"chats"`
	}
	err := c.do(ctx, http.MethodGet, c.url("/search/chats")+string(qs.b), nil, &out)
	return out.Chats, err
}

// SearchMessages finds messages containing every word of q, newest first:
// in the chat chatID, which the caller can read, or with chatID 0 in every
// chat the caller is a member of. Words match whole, ignoring letter case.
// It returns at most limit (0 for the server's default of 20).
func (c *Client) SearchMessages(ctx context.Context, q string, chatID int64, limit int) ([]Message, error) {
	var qs query
	qs.add("q", q)
	if chatID != 0 {
		qs.addInt("chat_id", chatID)
	}
	if limit > 0 {
		qs.addInt("limit", int64(limit))
	}
	var out struct {
		Messages []Message `json:"messages"`
	}
	err := c.do(ctx, http.MethodGet, c.url("/search/messages")+string(qs.b), nil, &out)
	return out.Messages, err
}
