package messaging_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"kurir"
	"kurir/messaging"
)

func TestMarkRead(t *testing.T) {
	run(t, messaging.Config{}, func(t *testing.T, e *env) {
		anna, boris, chen := e.user("anna"), e.user("boris"), e.user("chen")
		pc := e.private(anna, boris)
		for i := range 3 {
			e.send(anna, pc.ID, fmt.Sprintf("m%d", i+1)) // seq 1..3
		}
		if got := e.unread(boris, pc.ID); got != 3 {
			t.Errorf("boris has %d unread, want 3", got)
		}
		if got := e.unread(anna, pc.ID); got != 0 {
			t.Errorf("anna has %d unread of her own messages", got)
		}

		must(t, "mark 2", e.svc.MarkRead(e.ctx, boris, pc.ID, 2))
		if c := e.chat(boris, pc.ID); c.ReadSeq != 2 {
			t.Errorf("ReadSeq %d, want 2", c.ReadSeq)
		}
		if got := e.unread(boris, pc.ID); got != 1 {
			t.Errorf("after reading to 2: %d unread, want 1", got)
		}
		must(t, "mark 1", e.svc.MarkRead(e.ctx, boris, pc.ID, 1))
		if c := e.chat(boris, pc.ID); c.ReadSeq != 2 {
			t.Errorf("marking an older seq moved ReadSeq back to %d", c.ReadSeq)
		}
		wantCode(t, "mark beyond the end", e.svc.MarkRead(e.ctx, boris, pc.ID, 4), kurir.EInvalid, "beyond_end")
		must(t, "mark 3", e.svc.MarkRead(e.ctx, boris, pc.ID, 3))
		if got := e.unread(boris, pc.ID); got != 0 {
			t.Errorf("after reading all: %d unread", got)
		}

		// Replying marks one's own message read, and the other side sees it unread.
		e.send(boris, pc.ID, "reply") // 4
		if c := e.chat(boris, pc.ID); c.ReadSeq != 4 {
			t.Errorf("boris's ReadSeq after replying = %d, want 4", c.ReadSeq)
		}
		if got := e.unread(anna, pc.ID); got != 1 {
			t.Errorf("anna has %d unread, want 1", got)
		}
		// A message deleted before it was read is not unread.
		e.send(anna, pc.ID, "kept")                                   // 5
		oops := e.send(anna, pc.ID, "oops")                           // 6
		must(t, "delete", e.svc.Delete(e.ctx, anna, pc.ID, oops.Seq)) // 7
		if got := e.unread(boris, pc.ID); got != 1 {
			t.Errorf("boris has %d unread after a deletion, want 1", got)
		}

		// Membership changes are not messages.
		g := e.group(anna, "Group", boris)
		must(t, "add", e.svc.AddMembers(e.ctx, anna, g.ID, []kurir.UserID{chen}))
		if got := e.unread(boris, g.ID); got != 0 {
			t.Errorf("boris has %d unread in a group without messages", got)
		}
	})
}

func TestDialogs(t *testing.T) {
	run(t, messaging.Config{}, func(t *testing.T, e *env) {
		anna, boris, chen, dora := e.user("anna"), e.user("boris"), e.user("chen"), e.user("dora")
		tick := func() { e.clock.Advance(time.Minute) }

		withBoris := e.private(anna, boris)
		tick()
		e.send(boris, withBoris.ID, "boris first")
		tick()
		g := e.group(anna, "Quiet group", chen)
		tick()
		withChen := e.private(chen, anna)
		e.send(chen, withChen.ID, "chen here")
		tick()
		ch, err := e.svc.CreateChannel(e.ctx, anna, messaging.NewChat{Title: "Anna's channel"})
		if err != nil {
			t.Fatal(err)
		}
		e.private(anna, dora) // never used: not listed
		solo := e.group(anna, "Abandoned")
		must(t, "leave", e.svc.Leave(e.ctx, anna, solo.ID))
		tick()
		again := e.send(boris, withBoris.ID, "boris again")
		tick()
		// Two chats active at the same instant are ordered by ID, newest first.
		twin1 := e.group(anna, "Twin one", boris)
		twin2 := e.group(anna, "Twin two", boris)

		type row struct {
			id     messaging.ChatID
			last   string
			unread int
		}
		want := []row{
			{twin2.ID, "", 0}, {twin1.ID, "", 0}, {withBoris.ID, "boris again", 2},
			{ch.ID, "", 0}, {withChen.ID, "chen here", 1}, {g.ID, "", 0},
		}
		got := func(dl []messaging.Dialog) []row {
			var out []row
			for _, d := range dl {
				r := row{id: d.Chat.ID, unread: d.Unread}
				if d.LastMessage != nil {
					r.last = d.LastMessage.Text
				}
				out = append(out, r)
			}
			return out
		}
		if rows := got(e.dialogs(anna)); !slices.Equal(rows, want) {
			t.Errorf("anna's chat list:\n got %+v\nwant %+v", rows, want)
		}
		for _, limit := range []int{1, 2, 4} {
			var all []messaging.Dialog
			var cursor messaging.DialogCursor
			for page := 0; ; page++ {
				dl, err := e.svc.Dialogs(e.ctx, anna, cursor, limit)
				if err != nil {
					t.Fatal(err)
				}
				if len(dl) > limit || page > 10 {
					t.Fatalf("page %d has %d entries with limit %d", page, len(dl), limit)
				}
				if len(dl) == 0 {
					break
				}
				all = append(all, dl...)
				last := dl[len(dl)-1]
				cursor = messaging.DialogCursor{Activity: last.LastActivity, ChatID: last.Chat.ID}
			}
			if rows := got(all); !slices.Equal(rows, want) {
				t.Errorf("paged by %d:\n got %+v\nwant %+v", limit, rows, want)
			}
		}
		// Deleting the latest message brings back the one before it.
		must(t, "delete", e.svc.Delete(e.ctx, boris, withBoris.ID, again.Seq))
		for _, d := range e.dialogs(anna) {
			if d.Chat.ID == withBoris.ID && (d.LastMessage == nil || d.LastMessage.Text != "boris first" || d.Unread != 1) {
				t.Errorf("after deleting the last message the chat shows %+v with %d unread, want %q and 1", d.LastMessage, d.Unread, "boris first")
			}
		}
		// boris does not see anna's group or channel, and sees his chat with her.
		if rows := got(e.dialogs(boris)); len(rows) != 3 || rows[2] != (row{withBoris.ID, "boris first", 0}) {
			t.Errorf("boris's chat list = %+v", rows)
		}
	})
}

// TestDeleteForMeLeavesTheChatList: a message deleted for oneself neither
// counts as unread nor shows as the chat's last message.
func TestDeleteForMeLeavesTheChatList(t *testing.T) {
	run(t, messaging.Config{}, func(t *testing.T, e *env) {
		anna, boris := e.user("anna"), e.user("boris")
		chat, err := e.svc.OpenPrivate(e.ctx, anna, boris)
		must(t, "open", err)
		first, err := e.svc.Send(e.ctx, anna, chat.ID, messaging.SendParams{Text: "first", IdempotencyKey: "a"})
		must(t, "send first", err)
		second, err := e.svc.Send(e.ctx, anna, chat.ID, messaging.SendParams{Text: "second", IdempotencyKey: "b"})
		must(t, "send second", err)
		must(t, "delete for me", e.svc.DeleteForMe(e.ctx, boris, chat.ID, second.Seq))
		list, err := e.svc.Dialogs(e.ctx, boris, messaging.DialogCursor{}, 10)
		must(t, "dialogs", err)
		if len(list) != 1 || list[0].Unread != 1 || list[0].LastMessage == nil || list[0].LastMessage.Seq != first.Seq {
			t.Errorf("Boris's chat list = %+v, want 1 unread and %q as the last message", list, "first")
		}
	})
}
