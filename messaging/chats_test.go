package messaging_test

import (
	"sync"
	"testing"
	"time"

	"kurir"
	"kurir/messaging"
)

func TestOpenPrivate(t *testing.T) {
	run(t, messaging.Config{}, func(t *testing.T, e *env) {
		anna, boris := e.user("anna"), e.user("boris")
		ab := e.private(anna, boris)
		if ab.Kind != messaging.Private || ab.Peer != boris || ab.Role != messaging.Member || ab.MemberCount != 2 {
			t.Errorf("anna's view of the chat = %+v, want a private chat with peer boris (%d), 2 members", ab, boris)
		}
		ba := e.private(boris, anna)
		if ba.ID != ab.ID || ba.Peer != anna {
			t.Errorf("boris opening the chat got chat %d peer %d, want chat %d peer %d", ba.ID, ba.Peer, ab.ID, anna)
		}
		if again := e.private(anna, boris); again.ID != ab.ID {
			t.Errorf("opening again gave chat %d, want %d", again.ID, ab.ID)
		}
		if n := e.count(`SELECT COUNT(*) FROM chats WHERE kind = 'private'`); n != 1 {
			t.Errorf("%d private chats stored, want 1", n)
		}
		if seq := e.storedSeq(ab.ID); seq != 0 {
			t.Errorf("opening a private chat took seq %d; it changes nothing anyone can see", seq)
		}

		_, err := e.svc.OpenPrivate(e.ctx, anna, anna)
		wantCode(t, "OpenPrivate with oneself", err, kurir.EInvalid, "self")
		_, err = e.svc.OpenPrivate(e.ctx, anna, boris+1000)
		wantCode(t, "OpenPrivate with an unknown user", err, kurir.ENotFound, "")
		if n := e.count(`SELECT COUNT(*) FROM chats`); n != 1 {
			t.Errorf("%d chats after the failed opens, want 1", n)
		}
	})
}

// Both people tapping "message" at the same moment must end up in one chat.
func TestOpenPrivateConcurrently(t *testing.T) {
	run(t, messaging.Config{}, func(t *testing.T, e *env) {
		const pairs, perSide = 4, 6
		users := e.users("peer", 2*pairs)
		for p := range pairs {
			a, b := users[2*p], users[2*p+1]
			ids := make([]messaging.ChatID, 2*perSide)
			var wg sync.WaitGroup
			start := make(chan struct{})
			for i := range ids {
				wg.Go(func() {
					<-start
					from, to := a, b
					if i%2 == 1 {
						from, to = b, a
					}
					c, err := e.svc.OpenPrivate(e.ctx, from, to)
					if err != nil {
						t.Errorf("OpenPrivate(%d, %d): %v", from, to, err)
					}
					ids[i] = c.ID
				})
			}
			close(start)
			wg.Wait()
			for i, id := range ids {
				if id != ids[0] {
					t.Errorf("pair %d: open %d gave chat %d, open 0 gave chat %d", p, i, id, ids[0])
				}
			}
			if c := e.chat(a, ids[0]); c.MemberCount != 2 {
				t.Errorf("pair %d: member_count %d, want 2", p, c.MemberCount)
			}
		}
		if n := e.count(`SELECT COUNT(*) FROM chats`); n != pairs {
			t.Errorf("%d chats stored for %d pairs", n, pairs)
		}
		if n := e.count(`SELECT COUNT(*) FROM chat_members`); n != 2*pairs {
			t.Errorf("%d memberships stored for %d pairs, want %d", n, pairs, 2*pairs)
		}
	})
}

func TestPrivateChatListedOnceItHasAMessage(t *testing.T) {
	run(t, messaging.Config{}, func(t *testing.T, e *env) {
		anna, boris := e.user("anna"), e.user("boris")
		pc := e.private(anna, boris)
		for _, u := range []kurir.UserID{anna, boris} {
			if dl := e.dialogs(u); len(dl) != 0 {
				t.Errorf("user %d lists %d chats before any message, want none", u, len(dl))
			}
		}
		e.send(anna, pc.ID, "hi boris")
		dl := e.dialogs(boris)
		if len(dl) != 1 || dl[0].Chat.ID != pc.ID || dl[0].Chat.Peer != anna ||
			dl[0].LastMessage == nil || dl[0].LastMessage.Text != "hi boris" || dl[0].Unread != 1 {
			t.Fatalf("boris's chat list = %+v, want the chat with anna, last message %q, 1 unread", dl, "hi boris")
		}
	})
}

func TestBlock(t *testing.T) {
	run(t, messaging.Config{}, func(t *testing.T, e *env) {
		anna, boris := e.user("anna"), e.user("boris")
		pc := e.private(anna, boris)
		e.send(boris, pc.ID, "hello?")
		if err := e.svc.Block(e.ctx, anna, boris); err != nil {
			t.Fatal(err)
		}
		if err := e.svc.Block(e.ctx, anna, boris); err != nil {
			t.Errorf("blocking twice: %v", err)
		}
		seq := e.storedSeq(pc.ID)
		_, err := e.trySend(boris, pc.ID, "let me in")
		wantCode(t, "blocked user sends", err, kurir.EForbidden, "")
		if got := e.storedSeq(pc.ID); got != seq {
			t.Errorf("a refused send moved the chat from seq %d to %d", seq, got)
		}
		// A group they share is unaffected: blocking is about private messages.
		g := e.group(anna, "Book club", boris)
		e.send(boris, g.ID, "in the group I am still heard")

		if err := e.svc.Unblock(e.ctx, anna, boris); err != nil {
			t.Fatal(err)
		}
		if m, err := e.trySend(boris, pc.ID, "thanks"); err != nil || m.Text != "thanks" {
			t.Errorf("send after unblock = %+v, %v", m, err)
		}

		wantCode(t, "block oneself", e.svc.Block(e.ctx, anna, anna), kurir.EInvalid, "self")
		wantCode(t, "block unknown user", e.svc.Block(e.ctx, anna, boris+1000), kurir.ENotFound, "")
	})
}

func TestChannel(t *testing.T) {
	run(t, messaging.Config{}, func(t *testing.T, e *env) {
		owner, editor, reader, visitor := e.user("owner"), e.user("editor"), e.user("reader"), e.user("visitor")
		ch, err := e.svc.CreateChannel(e.ctx, owner, messaging.NewChat{Title: "Morning news", Username: "newsroom"})
		if err != nil {
			t.Fatal(err)
		}
		if ch.Kind != messaging.Channel || !ch.Large || ch.Role != messaging.Owner || ch.Username != "newsroom" {
			t.Errorf("new channel = %+v, want a large public channel owned by its creator", ch)
		}

		for _, name := range []string{"newsroom", "NewsRoom", "newsr00m"} {
			_, err := e.svc.CreateChannel(e.ctx, editor, messaging.NewChat{Title: "Fake news", Username: name})
			wantCode(t, "CreateChannel @"+name, err, kurir.EConflict, "username_taken")
		}
		_, err = e.svc.CreateChannel(e.ctx, owner, messaging.NewChat{Title: "x", Members: []kurir.UserID{reader}})
		wantCode(t, "channel with members", err, kurir.EInvalid, "not_allowed")

		for _, name := range []string{"newsroom", "NEWSROOM"} {
			found, err := e.svc.ChatByUsername(e.ctx, reader, name)
			if err != nil || found.ID != ch.ID || found.Role != "" {
				t.Errorf("ChatByUsername(%q) = %+v, %v; want chat %d seen by a non-member", name, found, err, ch.ID)
			}
		}
		_, err = e.svc.ChatByUsername(e.ctx, reader, "nosuchchannel")
		wantCode(t, "ChatByUsername unknown", err, kurir.ENotFound, "")

		for _, u := range []kurir.UserID{editor, reader} {
			c, err := e.svc.Join(e.ctx, u, ch.ID)
			if err != nil || c.Role != messaging.Member {
				t.Fatalf("Join by %d = %+v, %v", u, c, err)
			}
		}
		if c, err := e.svc.Join(e.ctx, reader, ch.ID); err != nil || c.MemberCount != 3 {
			t.Errorf("joining twice = %+v, %v; want no change (3 members)", c, err)
		}

		_, err = e.trySend(reader, ch.ID, "can I post?")
		wantCode(t, "subscriber posts", err, kurir.EForbidden, "")
		_, err = e.trySend(visitor, ch.ID, "and I?")
		wantCode(t, "visitor posts", err, kurir.EForbidden, "")
		e.send(owner, ch.ID, "first edition")
		if err := e.svc.SetRole(e.ctx, owner, ch.ID, editor, messaging.Admin); err != nil {
			t.Fatal(err)
		}
		e.send(editor, ch.ID, "second edition")

		// A public channel can be read without joining.
		if got := texts(e.history(visitor, ch.ID)); len(got) != 2 || got[0] != "first edition" || got[1] != "second edition" {
			t.Errorf("visitor reads %q", got)
		}
		if evs := e.chatEvents(visitor, ch.ID, 0, 100); len(evs) == 0 {
			t.Errorf("visitor syncs no events of a public channel")
		}

		// A private channel is invisible to outsiders: joining it by ID must
		// say what a chat that does not exist says.
		secret, err := e.svc.CreateChannel(e.ctx, owner, messaging.NewChat{Title: "Insiders"})
		if err != nil {
			t.Fatal(err)
		}
		e.send(owner, secret.ID, "for subscribers only")
		_, errJoin := e.svc.Join(e.ctx, visitor, secret.ID)
		wantCode(t, "Join private channel", errJoin, kurir.ENotFound, "")
		_, errNone := e.svc.Join(e.ctx, visitor, secret.ID+1000)
		if shape(errJoin) != shape(errNone) {
			t.Errorf("joining a private channel says %q, a missing chat %q", kurir.ErrorMessage(errJoin), kurir.ErrorMessage(errNone))
		}
		_, err = e.svc.History(e.ctx, visitor, secret.ID, 0, messaging.Older, 10)
		wantCode(t, "History of private channel", err, kurir.ENotFound, "")

		// Nor can a private group be read from outside.
		g := e.group(owner, "Board", editor)
		e.send(editor, g.ID, "minutes")
		_, err = e.svc.History(e.ctx, visitor, g.ID, 0, messaging.Older, 10)
		wantCode(t, "History of private group", err, kurir.ENotFound, "")
	})
}

func TestInvites(t *testing.T) {
	run(t, messaging.Config{}, func(t *testing.T, e *env) {
		owner, member, outsider := e.user("owner"), e.user("member"), e.user("outsider")
		joiners := e.users("joiner", 5)
		noAdd := messaging.Permissions{Post: true}
		g, err := e.svc.CreateGroup(e.ctx, owner, messaging.NewChat{Title: "Hidden", Members: []kurir.UserID{member}, Permissions: &noAdd})
		if err != nil {
			t.Fatal(err)
		}

		_, err = e.svc.CreateInvite(e.ctx, member, g.ID, time.Time{}, 0)
		wantCode(t, "member creates invite without add permission", err, kurir.EForbidden, "")
		_, err = e.svc.CreateInvite(e.ctx, outsider, g.ID, time.Time{}, 0)
		wantCode(t, "outsider creates invite", err, kurir.ENotFound, "")
		_, err = e.svc.CreateInvite(e.ctx, owner, g.ID, e.clock.Now().Add(-time.Minute), 0)
		wantCode(t, "invite expiring in the past", err, kurir.EInvalid, "in_past")
		_, err = e.svc.CreateInvite(e.ctx, owner, g.ID, time.Time{}, -1)
		wantCode(t, "negative usage limit", err, kurir.EInvalid, "negative")

		twice, err := e.svc.CreateInvite(e.ctx, owner, g.ID, time.Time{}, 2)
		if err != nil {
			t.Fatal(err)
		}
		for i, u := range joiners[:2] {
			c, err := e.svc.JoinByInvite(e.ctx, u, twice.Code)
			if err != nil || c.ID != g.ID || c.Role != messaging.Member {
				t.Fatalf("JoinByInvite by %d = %+v, %v", u, c, err)
			}
			if i == 0 {
				// A member following the link again is not counted against the limit.
				if _, err := e.svc.JoinByInvite(e.ctx, u, twice.Code); err != nil {
					t.Errorf("member follows the link again: %v", err)
				}
			}
		}
		_, errUsed := e.svc.JoinByInvite(e.ctx, joiners[2], twice.Code)
		wantCode(t, "invite past its usage limit", errUsed, kurir.ENotFound, "")

		hour, err := e.svc.CreateInvite(e.ctx, owner, g.ID, e.clock.Now().Add(time.Hour), 0)
		if err != nil {
			t.Fatal(err)
		}
		e.clock.Advance(59 * time.Minute)
		if _, err := e.svc.JoinByInvite(e.ctx, joiners[2], hour.Code); err != nil {
			t.Errorf("join one minute before expiry: %v", err)
		}
		e.clock.Advance(2 * time.Minute)
		_, errExpired := e.svc.JoinByInvite(e.ctx, joiners[3], hour.Code)
		wantCode(t, "expired invite", errExpired, kurir.ENotFound, "")

		revoked, err := e.svc.CreateInvite(e.ctx, owner, g.ID, time.Time{}, 0)
		if err != nil {
			t.Fatal(err)
		}
		wantCode(t, "outsider revokes", e.svc.RevokeInvite(e.ctx, outsider, revoked.Code), kurir.ENotFound, "")
		wantCode(t, "member revokes another's invite", e.svc.RevokeInvite(e.ctx, member, revoked.Code), kurir.ENotFound, "")
		wantCode(t, "revoke unknown code", e.svc.RevokeInvite(e.ctx, owner, "NOSUCHCODE"), kurir.ENotFound, "")
		if err := e.svc.RevokeInvite(e.ctx, owner, revoked.Code); err != nil {
			t.Fatal(err)
		}
		_, errRevoked := e.svc.JoinByInvite(e.ctx, joiners[3], revoked.Code)
		wantCode(t, "revoked invite", errRevoked, kurir.ENotFound, "")
		_, errUnknown := e.svc.JoinByInvite(e.ctx, joiners[3], "NOSUCHCODE")
		wantCode(t, "unknown invite", errUnknown, kurir.ENotFound, "")

		// Every dead link reads the same, so a code cannot be probed.
		for name, err := range map[string]error{"used up": errUsed, "expired": errExpired, "revoked": errRevoked} {
			if kurir.ErrorMessage(err) != kurir.ErrorMessage(errUnknown) {
				t.Errorf("%s invite says %q, unknown code %q", name, kurir.ErrorMessage(err), kurir.ErrorMessage(errUnknown))
			}
		}
		if c := e.chat(owner, g.ID); c.MemberCount != 5 {
			t.Errorf("member_count %d, want 5 (owner, member, 3 joiners)", c.MemberCount)
		}

		// Channels take subscribers by invite too.
		ch, err := e.svc.CreateChannel(e.ctx, owner, messaging.NewChat{Title: "Private feed"})
		if err != nil {
			t.Fatal(err)
		}
		inv, err := e.svc.CreateInvite(e.ctx, owner, ch.ID, time.Time{}, 0)
		if err != nil {
			t.Fatal(err)
		}
		if c, err := e.svc.JoinByInvite(e.ctx, outsider, inv.Code); err != nil || c.Role != messaging.Member || c.Kind != messaging.Channel {
			t.Errorf("join channel by invite = %+v, %v", c, err)
		}
	})
}
