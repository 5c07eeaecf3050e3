package messaging_test

import (
	"context"
	"fmt"
	"regexp"
	"sync/atomic"
	"testing"
	"time"

	"kurir"
	"kurir/account"
	"kurir/clocktest"
	"kurir/messaging"
	"kurir/sqldb"
	"kurir/sqldb/sqldbtest"
)

// fakeClock is the tests' clock, which moves only when a test moves it.
type fakeClock = clocktest.Fake

// env is one test's world: a migrated database, the account service that
// registers its users, and the messaging service under test.
type env struct {
	t     *testing.T
	ctx   context.Context
	db    *sqldb.DB
	clock *fakeClock
	acc   *account.Service
	svc   *messaging.Service
	keys  atomic.Int64
}

// run runs fn on every engine (see sqldbtest.Run) with a fresh env whose
// messaging service has cfg. The engines run in parallel with each other
// and with other parallel tests.
func run(t *testing.T, cfg messaging.Config, fn func(t *testing.T, e *env)) {
	t.Helper()
	t.Parallel()
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		t.Parallel()
		clock := clocktest.New(time.Time{})
		e := &env{
			t: t, ctx: t.Context(), db: db, clock: clock,
			acc: account.NewService(db, clock, nil, account.Config{Argon2: account.CheapArgon2Params, Limits: &account.Limits{}}),
			svc: messaging.NewService(db, nil, clock, nil, cfg),
		}
		fn(t, e)
	}, account.Migrations, messaging.Migrations)
}

// user registers an account and returns its ID.
func (e *env) user(name string) kurir.UserID {
	e.t.Helper()
	u, err := e.acc.Register(e.ctx, account.RegisterParams{Username: name, Password: "wet-otter-lantern-9"})
	if err != nil {
		e.t.Fatalf("Register %q: %v", name, err)
	}
	return u.ID
}

// users registers n accounts named prefix000, prefix001, ...
func (e *env) users(prefix string, n int) []kurir.UserID {
	e.t.Helper()
	ids := make([]kurir.UserID, n)
	for i := range ids {
		ids[i] = e.user(fmt.Sprintf("%s%03d", prefix, i))
	}
	return ids
}

// key returns an idempotency key not used before in this env.
func (e *env) key() string { return fmt.Sprintf("key-%d", e.keys.Add(1)) }

// send posts text as from, failing the test if it cannot, so it belongs on
// the test's goroutine; other goroutines use trySend.
func (e *env) send(from kurir.UserID, chat messaging.ChatID, text string) messaging.Message {
	e.t.Helper()
	m, err := e.trySend(from, chat, text)
	if err != nil {
		e.t.Fatalf("Send %q by %d to chat %d: %v", text, from, chat, err)
	}
	return m
}

func (e *env) trySend(from kurir.UserID, chat messaging.ChatID, text string) (messaging.Message, error) {
	return e.svc.Send(e.ctx, from, chat, messaging.SendParams{Text: text, IdempotencyKey: e.key()})
}

// private opens the private chat of a and b.
func (e *env) private(a, b kurir.UserID) messaging.Chat {
	e.t.Helper()
	c, err := e.svc.OpenPrivate(e.ctx, a, b)
	if err != nil {
		e.t.Fatalf("OpenPrivate(%d, %d): %v", a, b, err)
	}
	return c
}

// group creates a group owned by owner with members.
func (e *env) group(owner kurir.UserID, title string, members ...kurir.UserID) messaging.Chat {
	e.t.Helper()
	c, err := e.svc.CreateGroup(e.ctx, owner, messaging.NewChat{Title: title, Members: members})
	if err != nil {
		e.t.Fatalf("CreateGroup %q: %v", title, err)
	}
	return c
}

// edit changes a message's text as user.
func (e *env) edit(user kurir.UserID, id messaging.ChatID, seq int64, text string) error {
	_, err := e.svc.Edit(e.ctx, user, id, seq, text)
	return err
}

// must fails the test at once if a step it depends on failed.
func must(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// chat returns chat id as user sees it.
func (e *env) chat(user kurir.UserID, id messaging.ChatID) messaging.Chat {
	e.t.Helper()
	c, err := e.svc.Chat(e.ctx, user, id)
	if err != nil {
		e.t.Fatalf("Chat(%d) as %d: %v", id, user, err)
	}
	return c
}

// count returns the result of a COUNT(*) query, read past the service.
func (e *env) count(query string, args ...any) int {
	e.t.Helper()
	var n int
	if err := e.db.Read().QueryRowContext(e.ctx, query, args...).Scan(&n); err != nil {
		e.t.Fatalf("%s: %v", query, err)
	}
	return n
}

// storedSeq is a chat's last seq as stored, read past the service.
func (e *env) storedSeq(id messaging.ChatID) int64 {
	e.t.Helper()
	var seq int64
	if err := e.db.Read().QueryRowContext(e.ctx, `SELECT seq FROM chats WHERE id = $1`, id).Scan(&seq); err != nil {
		e.t.Fatalf("seq of chat %d: %v", id, err)
	}
	return seq
}

// chatEvents returns every change of a chat after seq as user syncs it,
// paging with limit.
func (e *env) chatEvents(user kurir.UserID, id messaging.ChatID, seq int64, limit int) []messaging.Event {
	e.t.Helper()
	var all []messaging.Event
	for {
		evs, next, tooLong, err := e.svc.ChatDifference(e.ctx, user, id, seq, limit)
		if err != nil {
			e.t.Fatalf("ChatDifference(chat %d, after %d) as %d: %v", id, seq, user, err)
		}
		if tooLong {
			e.t.Fatalf("ChatDifference(chat %d, after %d): too long", id, seq)
		}
		all = append(all, evs...)
		if next == seq || len(evs) == 0 {
			return all
		}
		seq = next
	}
}

// updates returns user's whole update log after pts, paging with limit.
func (e *env) updates(user kurir.UserID, pts int64, limit int) []messaging.Update {
	e.t.Helper()
	var all []messaging.Update
	for {
		d, err := e.svc.Difference(e.ctx, user, pts, limit)
		if err != nil {
			e.t.Fatalf("Difference(after %d) as %d: %v", pts, user, err)
		}
		if d.TooLong {
			e.t.Fatalf("Difference(after %d) as %d: too long", pts, user)
		}
		all = append(all, d.Updates...)
		if d.PTS == pts || len(d.Updates) == 0 {
			return all
		}
		pts = d.PTS
	}
}

// history returns every message of a chat user may see, oldest first.
func (e *env) history(user kurir.UserID, id messaging.ChatID) []messaging.Message {
	e.t.Helper()
	var all []messaging.Message
	var after int64
	for {
		page, err := e.svc.History(e.ctx, user, id, after, messaging.Newer, 100)
		if err != nil {
			e.t.Fatalf("History(chat %d) as %d: %v", id, user, err)
		}
		all = append(all, page...)
		if len(page) < 100 {
			return all
		}
		after = page[len(page)-1].Seq
	}
}

// texts lists the texts of messages, in order.
func texts(ms []messaging.Message) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.Text
	}
	return out
}

// wantCode fails the test unless err has code and, if reason is set, reason.
func wantCode(t *testing.T, what string, err error, code kurir.Code, reason string) {
	t.Helper()
	if kurir.ErrorCode(err) != code || reason != "" && kurir.ErrorReason(err) != reason {
		t.Errorf("%s: got code %q reason %q (err %v), want code %q reason %q",
			what, kurir.ErrorCode(err), kurir.ErrorReason(err), err, code, reason)
	}
}

var digits = regexp.MustCompile(`[0-9]+`)

// shape is a client-visible error message with its numbers blanked, so that
// two answers can be compared for anything they might leak.
func shape(err error) string { return digits.ReplaceAllString(kurir.ErrorMessage(err), "N") }

// wantSeqs fails the test unless events are numbered from..to with no gap.
func wantSeqs(t *testing.T, what string, evs []messaging.Event, from, to int64) {
	t.Helper()
	if int64(len(evs)) != to-from+1 {
		t.Errorf("%s: %d events, want seq %d..%d (%d)", what, len(evs), from, to, to-from+1)
	}
	for i, ev := range evs {
		if ev.Seq != from+int64(i) {
			t.Errorf("%s: event %d has seq %d, want %d", what, i, ev.Seq, from+int64(i))
			return
		}
	}
}

// wantPTS fails the test unless updates are numbered from..to with no gap.
func wantPTS(t *testing.T, what string, ups []messaging.Update, from, to int64) {
	t.Helper()
	if int64(len(ups)) != to-from+1 {
		t.Errorf("%s: %d updates, want pts %d..%d (%d)", what, len(ups), from, to, to-from+1)
	}
	for i, u := range ups {
		if u.PTS != from+int64(i) {
			t.Errorf("%s: update %d has pts %d, want %d", what, i, u.PTS, from+int64(i))
			return
		}
	}
}

// kinds lists the kinds of events, in order.
func kinds(evs []messaging.Event) []messaging.EventKind {
	out := make([]messaging.EventKind, len(evs))
	for i, ev := range evs {
		out[i] = ev.Kind
	}
	return out
}

// dialogs returns the first page of user's chat list.
func (e *env) dialogs(user kurir.UserID) []messaging.Dialog {
	e.t.Helper()
	dl, err := e.svc.Dialogs(e.ctx, user, messaging.DialogCursor{}, 100)
	if err != nil {
		e.t.Fatalf("Dialogs of %d: %v", user, err)
	}
	return dl
}

// unread returns user's unread count for chat from their chat list.
func (e *env) unread(user kurir.UserID, chat messaging.ChatID) int {
	e.t.Helper()
	for _, d := range e.dialogs(user) {
		if d.Chat.ID == chat {
			return d.Unread
		}
	}
	e.t.Fatalf("chat %d is not in user %d's chat list", chat, user)
	return 0
}
