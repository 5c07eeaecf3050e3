package httpapi

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"time"

	"kurir"
	"kurir/media"
	"kurir/messaging"
)

type forwardView struct {
	ChatID   int64     `json:"chat_id"`
	Seq      int64     `json:"seq"`
	SenderID int64     `json:"sender_id"`
	At       time.Time `json:"at"`
}

type messageView struct {
	ChatID    int64           `json:"chat_id"`
	Seq       int64           `json:"seq"`
	SenderID  int64           `json:"sender_id"`
	Text      string          `json:"text"`
	ReplyTo   int64           `json:"reply_to,omitempty"`
	Forward   *forwardView    `json:"forward,omitempty" jsonschema:"description=Where a forwarded message first appeared."`
	CreatedAt time.Time       `json:"created_at"`
	EditedAt  *time.Time      `json:"edited_at,omitempty"`
	Deleted   bool            `json:"deleted,omitempty" jsonschema:"description=Deleted for everyone; the text is gone."`
	Media     *attachmentView `json:"media,omitempty" jsonschema:"description=The attached photo\\, video or file; text is then its caption."`
	Held      bool            `json:"held,omitempty" jsonschema:"description=In the answer to a send: the message is held for a moderator's review and nobody else sees it until it is released."`
	Withheld  *withheldView   `json:"withheld,omitempty" jsonschema:"description=Present when the message is withheld in the reader's country: why. Its text and media are left out."`
	Views     int64           `json:"views,omitempty" jsonschema:"description=In channels and large groups: how many people have seen the message\\, each counted once."`
}

func newMessageView(m messaging.Message) messageView {
	v := messageView{ChatID: int64(m.ChatID), Seq: m.Seq, SenderID: int64(m.SenderID), Text: m.Text, ReplyTo: m.ReplyTo,
		CreatedAt: m.CreatedAt, Deleted: m.Deleted, Media: newAttachmentView(m.Media), Held: m.Held,
		Withheld: newWithheldView(m.Withheld), Views: m.Views}
	if f := m.Forward; f != nil {
		v.Forward = &forwardView{ChatID: int64(f.ChatID), Seq: f.Seq, SenderID: int64(f.SenderID), At: f.At}
	}
	if !m.EditedAt.IsZero() {
		t := m.EditedAt
		v.EditedAt = &t
	}
	return v
}

type messageRef struct {
	ChatID int64 `json:"chat_id"`
	Seq    int64 `json:"seq"`
}

type sendRequest struct {
	Text           string      `json:"text,omitempty" jsonschema:"description=Up to 4\\,096 characters. Leave out when forwarding."`
	ReplyTo        int64       `json:"reply_to,omitempty" jsonschema:"description=Seq of the message in this chat being replied to."`
	ForwardFrom    *messageRef `json:"forward_from,omitempty" jsonschema:"description=Forward this message instead of sending text."`
	IdempotencyKey string      `json:"idempotency_key" jsonschema:"description=A fresh random value per message (e.g. a UUID); a retry with the same key returns the original message instead of posting twice."`
	MediaID        int64       `json:"media_id,omitempty" jsonschema:"description=Attach one of your uploads (POST /api/v1/media); text is then an optional caption."`
}

func handleSend(msg *messaging.Service, med *media.Service, limit int64) http.Handler {
	return chatBody(limit, func(w http.ResponseWriter, r *http.Request, me kurir.UserID, id messaging.ChatID, req sendRequest) {
		p := messaging.SendParams{Text: req.Text, ReplyTo: req.ReplyTo, IdempotencyKey: req.IdempotencyKey}
		if req.MediaID != 0 {
			m, err := med.Attach(r.Context(), me, media.ID(req.MediaID))
			if err != nil {
				writeError(w, r, err)
				return
			}
			p.Media = attachment(m)
		}
		if f := req.ForwardFrom; f != nil {
			p.ForwardFrom = &messaging.MessageRef{ChatID: messaging.ChatID(f.ChatID), Seq: f.Seq}
		}
		m, err := msg.Send(r.Context(), me, id, p)
		if err != nil {
			writeError(w, r, err)
			return
		}
		encode(w, http.StatusCreated, newMessageView(m))
	})
}

type messageList struct {
	Messages []messageView `json:"messages"`
}

func handleHistory(msg *messaging.Service) http.Handler {
	return chatHandler(func(w http.ResponseWriter, r *http.Request, me kurir.UserID, id messaging.ChatID) {
		q := queryParams{r: r}
		before := q.int("before", 0)
		after := q.int("after", 0)
		limit := q.int("limit", 50)
		if q.err != nil {
			writeError(w, r, q.err)
			return
		}
		if before > 0 && r.URL.Query().Has("after") {
			writeError(w, r, kurir.Invalid("after", "conflicting", "Give before or after, not both."))
			return
		}
		dir, anchor := messaging.Older, before
		if r.URL.Query().Has("after") {
			dir, anchor = messaging.Newer, after
		}
		list, err := msg.History(r.Context(), me, id, anchor, dir, int(limit))
		if err != nil {
			writeError(w, r, err)
			return
		}
		out := messageList{Messages: make([]messageView, 0, len(list))}
		for _, m := range list {
			out.Messages = append(out.Messages, newMessageView(m))
		}
		encode(w, http.StatusOK, out)
	})
}

// messageHandler wraps a handler of one message: {id} and {seq}.
func messageHandler(fn func(w http.ResponseWriter, r *http.Request, me kurir.UserID, id messaging.ChatID, seq int64)) http.Handler {
	return chatHandler(func(w http.ResponseWriter, r *http.Request, me kurir.UserID, id messaging.ChatID) {
		seq, err := pathInt(r, "seq", "message number")
		if err != nil {
			writeError(w, r, err)
			return
		}
		fn(w, r, me, id, seq)
	})
}

type editRequest struct {
	Text string `json:"text"`
}

func handleEdit(msg *messaging.Service, limit int64) http.Handler {
	return messageHandler(func(w http.ResponseWriter, r *http.Request, me kurir.UserID, id messaging.ChatID, seq int64) {
		req, err := decode[editRequest](r, limit)
		if err != nil {
			writeError(w, r, err)
			return
		}
		m, err := msg.Edit(r.Context(), me, id, seq, req.Text)
		if err != nil {
			writeError(w, r, err)
			return
		}
		encode(w, http.StatusOK, newMessageView(m))
	})
}

func handleDeleteMessage(msg *messaging.Service) http.Handler {
	return messageHandler(func(w http.ResponseWriter, r *http.Request, me kurir.UserID, id messaging.ChatID, seq int64) {
		switch r.URL.Query().Get("for") {
		case "", "everyone":
			respondDone(w, r, msg.Delete(r.Context(), me, id, seq))
		case "me":
			respondDone(w, r, msg.DeleteForMe(r.Context(), me, id, seq))
		default:
			writeError(w, r, kurir.Invalid("for", "invalid_choice", "for must be everyone or me."))
		}
	})
}

type seqRequest struct {
	Seq int64 `json:"seq" jsonschema:"minimum=0"`
}

func handlePin(msg *messaging.Service, limit int64) http.Handler {
	return chatBody(limit, func(w http.ResponseWriter, r *http.Request, me kurir.UserID, id messaging.ChatID, req seqRequest) {
		respondDone(w, r, msg.Pin(r.Context(), me, id, req.Seq))
	})
}

func handleMarkRead(msg *messaging.Service, limit int64) http.Handler {
	return chatBody(limit, func(w http.ResponseWriter, r *http.Request, me kurir.UserID, id messaging.ChatID, req seqRequest) {
		respondDone(w, r, msg.MarkRead(r.Context(), me, id, req.Seq))
	})
}

type eventView struct {
	ChatID     int64        `json:"chat_id"`
	Seq        int64        `json:"seq"`
	Kind       string       `json:"kind" jsonschema:"enum=message,enum=edit,enum=delete,enum=pin,enum=unpin,enum=join,enum=leave,enum=remove,enum=role,enum=info,enum=create,enum=large,enum=removed,enum=restored,enum=takedown,enum=reinstated,enum=restricted,enum=unrestricted,enum=read,description=removed and restored: moderation took a message down or put it back (a restored event carries it); takedown and reinstated: the whole chat; restricted and unrestricted: a territorial restriction of the chat (message_seq 0) or a message was put on or lifted\\, so fetch it again. read: user_id read the chat up to message_seq (you on another device\\, or the other person of a private chat); it takes no seq of the chat (seq is 0)."`
	ActorID    int64        `json:"actor_id,omitempty"`
	MessageSeq int64        `json:"message_seq,omitempty"`
	UserID     int64        `json:"user_id,omitempty"`
	At         time.Time    `json:"at"`
	Message    *messageView `json:"message,omitempty" jsonschema:"description=For message and edit events: the message as it is now."`
}

func newEventView(e messaging.Event) eventView {
	v := eventView{ChatID: int64(e.ChatID), Seq: e.Seq, Kind: string(e.Kind), ActorID: int64(e.ActorID),
		MessageSeq: e.MessageSeq, UserID: int64(e.UserID), At: e.At}
	if e.Message != nil {
		m := newMessageView(*e.Message)
		v.Message = &m
	}
	return v
}

type chatUpdates struct {
	Events []eventView `json:"events"`
	// Seq is where to continue from.
	Seq     int64 `json:"seq"`
	TooLong bool  `json:"too_long" jsonschema:"description=The gap is too long to replay: reload the chat's history and continue from seq."`
}

func handleChatUpdates(msg *messaging.Service) http.Handler {
	return chatHandler(func(w http.ResponseWriter, r *http.Request, me kurir.UserID, id messaging.ChatID) {
		q := queryParams{r: r}
		since := q.int("seq", 0)
		limit := q.int("limit", 100)
		if q.err != nil {
			writeError(w, r, q.err)
			return
		}
		evs, next, tooLong, err := msg.ChatDifference(r.Context(), me, id, since, int(limit))
		if err != nil {
			writeError(w, r, err)
			return
		}
		out := chatUpdates{Events: make([]eventView, 0, len(evs)), Seq: next, TooLong: tooLong}
		for _, e := range evs {
			out.Events = append(out.Events, newEventView(e))
		}
		encode(w, http.StatusOK, out)
	})
}

type updateView struct {
	PTS   int64     `json:"pts"`
	Event eventView `json:"event"`
}

type updatesView struct {
	Updates []updateView `json:"updates"`
	PTS     int64        `json:"pts" jsonschema:"description=Where to continue from."`
	TooLong bool         `json:"too_long" jsonschema:"description=The gap is too long to replay: reload the chat list and continue from pts."`
}

func handleUpdates(msg *messaging.Service) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := queryParams{r: r}
		pts := q.int("pts", 0)
		limit := q.int("limit", 100)
		if q.err != nil {
			writeError(w, r, q.err)
			return
		}
		d, err := msg.Difference(r.Context(), principal(r.Context()).User.ID, pts, int(limit))
		if err != nil {
			writeError(w, r, err)
			return
		}
		out := updatesView{Updates: make([]updateView, 0, len(d.Updates)), PTS: d.PTS, TooLong: d.TooLong}
		for _, u := range d.Updates {
			out.Updates = append(out.Updates, updateView{PTS: u.PTS, Event: newEventView(u.Event)})
		}
		encode(w, http.StatusOK, out)
	})
}

type largeChatState struct {
	ChatID int64 `json:"chat_id"`
	Seq    int64 `json:"seq"`
}

type syncStateView struct {
	PTS        int64            `json:"pts"`
	LargeChats []largeChatState `json:"large_chats" jsonschema:"description=Your channels and large groups\\, each synced by its own seq."`
}

func handleSyncState(msg *messaging.Service) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		st, err := msg.State(r.Context(), principal(r.Context()).User.ID)
		if err != nil {
			writeError(w, r, err)
			return
		}
		out := syncStateView{PTS: st.PTS, LargeChats: make([]largeChatState, 0, len(st.LargeChats))}
		for id, seq := range st.LargeChats {
			out.LargeChats = append(out.LargeChats, largeChatState{ChatID: int64(id), Seq: seq})
		}
		encode(w, http.StatusOK, out)
	})
}

type dialogView struct {
	Chat         chatView     `json:"chat"`
	LastMessage  *messageView `json:"last_message,omitempty"`
	Unread       int          `json:"unread" jsonschema:"description=Messages from others after your read mark\\, counted up to 999."`
	LastActivity time.Time    `json:"last_activity"`
}

type dialogList struct {
	Dialogs    []dialogView `json:"dialogs"`
	NextCursor string       `json:"next_cursor,omitempty" jsonschema:"description=Pass as cursor for the next page; absent on the last page."`
}

type dialogCursor struct {
	Activity int64 `json:"a"`
	ChatID   int64 `json:"c"`
}

func handleDialogs(msg *messaging.Service) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := queryParams{r: r}
		limit := q.int("limit", 50)
		if q.err != nil {
			writeError(w, r, q.err)
			return
		}
		var cur messaging.DialogCursor
		if s := r.URL.Query().Get("cursor"); s != "" {
			var c dialogCursor
			raw, err := base64.RawURLEncoding.DecodeString(s)
			if err == nil {
				err = json.Unmarshal(raw, &c)
			}
			if err != nil || c.ChatID <= 0 {
				writeError(w, r, kurir.Invalid("cursor", "invalid_cursor", "The cursor is not one this server gave out."))
				return
			}
			cur = messaging.DialogCursor{Activity: time.UnixMicro(c.Activity), ChatID: messaging.ChatID(c.ChatID)}
		}
		list, err := msg.Dialogs(r.Context(), principal(r.Context()).User.ID, cur, int(limit))
		if err != nil {
			writeError(w, r, err)
			return
		}
		out := dialogList{Dialogs: make([]dialogView, 0, len(list))}
		for _, d := range list {
			v := dialogView{Chat: newChatView(d.Chat), Unread: d.Unread, LastActivity: d.LastActivity}
			if d.LastMessage != nil {
				m := newMessageView(*d.LastMessage)
				v.LastMessage = &m
			}
			out.Dialogs = append(out.Dialogs, v)
		}
		if limit <= 0 || limit > 100 {
			limit = 100 // as Dialogs clamps it
		}
		if n := len(list); n > 0 && int64(n) == limit {
			last := list[n-1]
			raw, _ := json.Marshal(dialogCursor{Activity: last.LastActivity.UnixMicro(), ChatID: int64(last.Chat.ID)})
			out.NextCursor = base64.RawURLEncoding.EncodeToString(raw)
		}
		encode(w, http.StatusOK, out)
	})
}

type chatList struct {
	Chats []chatView `json:"chats"`
}

func handleSearchChats(msg *messaging.Service) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := queryParams{r: r}
		limit := q.int("limit", 20)
		if q.err != nil {
			writeError(w, r, q.err)
			return
		}
		list, err := msg.SearchChats(r.Context(), principal(r.Context()).User.ID, r.URL.Query().Get("q"), int(limit))
		if err != nil {
			writeError(w, r, err)
			return
		}
		out := chatList{Chats: make([]chatView, 0, len(list))}
		for _, c := range list {
			out.Chats = append(out.Chats, newChatView(c))
		}
		encode(w, http.StatusOK, out)
	})
}

func handleSearchMessages(msg *messaging.Service) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := queryParams{r: r}
		limit := q.int("limit", 20)
		chat := q.int("chat_id", 0)
		if q.err != nil {
			writeError(w, r, q.err)
			return
		}
		list, err := msg.SearchMessages(r.Context(), principal(r.Context()).User.ID, r.URL.Query().Get("q"), messaging.ChatID(chat), int(limit))
		if err != nil {
			writeError(w, r, err)
			return
		}
		out := messageList{Messages: make([]messageView, 0, len(list))}
		for _, m := range list {
			out.Messages = append(out.Messages, newMessageView(m))
		}
		encode(w, http.StatusOK, out)
	})
}
