package messaging_test

import (
	"slices"
	"testing"

	"kurir"
	"kurir/messaging"
)

func TestTakeDownHidesAChatOnEveryPathAndReinstateBringsItBack(t *testing.T) {
	run(t, messaging.Config{}, func(t *testing.T, e *env) {
		owner, sub, visitor := e.user("owner"), e.user("subscriber"), e.user("visitor")
		ch, err := e.svc.CreateChannel(e.ctx, owner, messaging.NewChat{Title: "Bad news", Username: "badnews"})
		must(t, "CreateChannel", err)
		_, err = e.svc.Join(e.ctx, sub, ch.ID)
		must(t, "Join", err)
		post := e.send(owner, ch.ID, "glowing lanterns tonight")
		st, err := e.svc.State(e.ctx, sub)
		must(t, "State", err)
		before := st.LargeChats[ch.ID]

		must(t, "TakeDown", e.svc.TakeDown(e.ctx, ch.ID, "terrorist content"))
		wantCode(t, "TakeDown twice", e.svc.TakeDown(e.ctx, ch.ID, "again"), kurir.EConflict, "")

		for _, u := range []kurir.UserID{owner, sub, visitor} {
			_, err := e.svc.History(e.ctx, u, ch.ID, 0, messaging.Older, 10)
			wantCode(t, "History after takedown", err, kurir.EForbidden, "chat_unavailable")
			_, _, _, err = e.svc.ChatDifference(e.ctx, u, ch.ID, before, 10)
			wantCode(t, "ChatDifference after takedown", err, kurir.EForbidden, "chat_unavailable")
			_, err = e.svc.SearchMessages(e.ctx, u, "lanterns", ch.ID, 10)
			wantCode(t, "search in the chat", err, kurir.EForbidden, "chat_unavailable")
			found, err := e.svc.SearchMessages(e.ctx, u, "lanterns", 0, 10)
			must(t, "search everywhere", err)
			if len(found) != 0 {
				t.Errorf("search as %d found %d messages of a chat taken down", u, len(found))
			}
		}
		if c := e.chat(sub, ch.ID); c.Unavailable != "terrorist content" {
			t.Errorf("subscriber sees Unavailable %q, want the reason", c.Unavailable)
		}
		_, err = e.trySend(owner, ch.ID, "still here?")
		wantCode(t, "post after takedown", err, kurir.EForbidden, "chat_unavailable")
		_, err = e.svc.Join(e.ctx, visitor, ch.ID)
		wantCode(t, "join after takedown", err, kurir.EForbidden, "chat_unavailable")
		_, err = e.svc.MessageVisible(e.ctx, sub, ch.ID, post.Seq)
		wantCode(t, "MessageVisible", err, kurir.EForbidden, "chat_unavailable")
		if hits, err := e.svc.SearchChats(e.ctx, visitor, "badnews", 10); err != nil || len(hits) != 0 {
			t.Errorf("SearchChats finds the chat taken down: %v, %v", hits, err)
		}
		ds := e.dialogs(sub)
		if len(ds) != 1 || ds[0].Chat.Unavailable == "" || ds[0].LastMessage != nil {
			t.Errorf("subscriber's chat list: %+v; want the chat marked unavailable with no last message", ds)
		}
		// Subscribers who follow the chat by seq learn of the takedown as an event.
		review, err := e.svc.ReviewChat(e.ctx, ch.ID)
		must(t, "ReviewChat", err)
		if review.TakenDown.IsZero() || review.Owner != owner {
			t.Errorf("ReviewChat = %+v; want taken down, owned by %d", review, owner)
		}

		must(t, "Reinstate", e.svc.Reinstate(e.ctx, ch.ID))
		if got := texts(e.history(sub, ch.ID)); !slices.Equal(got, []string{"glowing lanterns tonight"}) {
			t.Errorf("history after reinstatement = %q", got)
		}
		evs := e.chatEvents(sub, ch.ID, before, 10)
		if got := kinds(evs); !slices.Equal(got, []messaging.EventKind{messaging.EventTakedown, messaging.EventReinstated}) {
			t.Errorf("events after the post: %v, want takedown then reinstated", got)
		}
		wantCode(t, "Reinstate twice", e.svc.Reinstate(e.ctx, ch.ID), kurir.EConflict, "")
	})
}

func TestTakeDownOfASmallGroupWithholdsItsUpdates(t *testing.T) {
	run(t, messaging.Config{}, func(t *testing.T, e *env) {
		a, b := e.user("anna"), e.user("boris")
		g := e.group(a, "Plotters", b)
		e.send(a, g.ID, "before")
		st, err := e.svc.State(e.ctx, b)
		must(t, "State", err)
		must(t, "TakeDown", e.svc.TakeDown(e.ctx, g.ID, "illegal goods"))
		ups := e.updates(b, st.PTS, 100)
		if len(ups) != 1 || ups[0].Event.Kind != messaging.EventTakedown {
			t.Fatalf("updates after the takedown: %+v, want only the takedown", ups)
		}
		d, err := e.svc.Difference(e.ctx, b, 0, 100)
		must(t, "Difference from 0", err)
		for _, u := range d.Updates {
			if u.Event.Message != nil {
				t.Errorf("Difference replays message %q of a group taken down", u.Event.Message.Text)
			}
		}
		p := e.private(a, b)
		wantCode(t, "TakeDown of a private chat", e.svc.TakeDown(e.ctx, p.ID, "x"), kurir.EInvalid, "")
		wantCode(t, "TakeDown of no chat", e.svc.TakeDown(e.ctx, 9999, "x"), kurir.ENotFound, "")
	})
}

func TestRemoveMessageReadsAsDeletedAndRestoreBringsItBack(t *testing.T) {
	run(t, messaging.Config{}, func(t *testing.T, e *env) {
		a, b := e.user("anna"), e.user("boris")
		g := e.group(a, "Neighbours", b)
		e.send(a, g.ID, "hello")
		bad := e.send(b, g.ID, "buy cheap pills here")
		e.send(a, g.ID, "bye")
		st, err := e.svc.State(e.ctx, a)
		must(t, "State", err)

		was, err := e.svc.RemoveMessage(e.ctx, g.ID, bad.Seq, "spam")
		must(t, "RemoveMessage", err)
		if was.Text != "buy cheap pills here" {
			t.Errorf("RemoveMessage returned %q, want the message as it was", was.Text)
		}
		_, err = e.svc.RemoveMessage(e.ctx, g.ID, bad.Seq, "spam")
		wantCode(t, "RemoveMessage twice", err, kurir.EConflict, "")
		if got := texts(e.history(a, g.ID)); !slices.Equal(got, []string{"hello", "bye"}) {
			t.Errorf("history after removal = %q", got)
		}
		if found, _ := e.svc.SearchMessages(e.ctx, a, "pills", 0, 10); len(found) != 0 {
			t.Errorf("search finds the removed message: %+v", found)
		}
		_, err = e.svc.MessageVisible(e.ctx, a, g.ID, bad.Seq)
		wantCode(t, "MessageVisible of a removed message", err, kurir.ENotFound, "")
		ups := e.updates(a, st.PTS, 10)
		if len(ups) != 1 || ups[0].Event.Kind != messaging.EventRemoved || ups[0].Event.MessageSeq != bad.Seq {
			t.Errorf("updates after removal: %+v", ups)
		}
		ctx, err := e.svc.ReviewMessages(e.ctx, g.ID, bad.Seq, 5)
		must(t, "ReviewMessages", err)
		if len(ctx) != 3 || ctx[1].Text != "buy cheap pills here" || ctx[1].Removed.IsZero() || ctx[1].Reason != "spam" || ctx[0].Text != "hello" {
			t.Errorf("ReviewMessages = %+v; want the removed message with its text between its neighbours", ctx)
		}

		must(t, "RestoreMessage", e.svc.RestoreMessage(e.ctx, g.ID, bad.Seq))
		if got := texts(e.history(a, g.ID)); !slices.Equal(got, []string{"hello", "buy cheap pills here", "bye"}) {
			t.Errorf("history after restore = %q", got)
		}
		if found, _ := e.svc.SearchMessages(e.ctx, a, "pills", 0, 10); len(found) != 1 {
			t.Errorf("search after restore found %d messages, want 1", len(found))
		}
		ups = e.updates(a, st.PTS, 10)
		if len(ups) != 2 || ups[1].Event.Kind != messaging.EventRestored || ups[1].Event.Message == nil || ups[1].Event.Message.Text != "buy cheap pills here" {
			t.Errorf("updates after restore: %+v", ups)
		}
		wantCode(t, "RestoreMessage twice", e.svc.RestoreMessage(e.ctx, g.ID, bad.Seq), kurir.ENotFound, "")
		_, err = e.svc.ReviewMessages(e.ctx, g.ID, 999, 5)
		wantCode(t, "ReviewMessages of no message", err, kurir.ENotFound, "")
	})
}

// A removed message takes its forwarded copies with it, wherever they were
// posted (a copy of a copy names the same origin), and a reversal brings them
// back; a copy moderation removed on its own stays removed.
func TestRemoveMessageRemovesItsForwardedCopies(t *testing.T) {
	run(t, messaging.Config{}, func(t *testing.T, e *env) {
		a, b, c := e.user("anaya"), e.user("bruno"), e.user("chiara")
		src := e.group(a, "Source", b)
		g1 := e.group(b, "First", c)
		g2 := e.group(c, "Second", a)
		bad := e.send(a, src.ID, "join my pyramid scheme")
		fwd := func(from kurir.UserID, to messaging.ChatID, ref messaging.MessageRef) messaging.Message {
			t.Helper()
			m, err := e.svc.Send(e.ctx, from, to, messaging.SendParams{IdempotencyKey: e.key(), ForwardFrom: &ref})
			must(t, "forward", err)
			return m
		}
		copy1 := fwd(b, g1.ID, messaging.MessageRef{ChatID: src.ID, Seq: bad.Seq})
		copy2 := fwd(c, g2.ID, messaging.MessageRef{ChatID: g1.ID, Seq: copy1.Seq}) // a copy of the copy
		e.send(c, g2.ID, "unrelated")
		st, err := e.svc.State(e.ctx, c)
		must(t, "State", err)

		_, err = e.svc.RemoveMessage(e.ctx, src.ID, bad.Seq, "fraud")
		must(t, "RemoveMessage", err)
		for _, chat := range []messaging.ChatID{src.ID, g1.ID} {
			if got := texts(e.history(b, chat)); slices.Contains(got, "join my pyramid scheme") {
				t.Errorf("chat %d after the removal shows %q, want no copy of the removed message", chat, got)
			}
		}
		if got := texts(e.history(c, g2.ID)); !slices.Equal(got, []string{"unrelated"}) {
			t.Errorf("the copy of the copy's chat after the removal = %q, want only the unrelated message", got)
		}
		if found, _ := e.svc.SearchMessages(e.ctx, c, "pyramid", 0, 10); len(found) != 0 {
			t.Errorf("search finds a copy of the removed message: %+v", found)
		}
		var removed []int64
		for _, u := range e.updates(c, st.PTS, 10) {
			if u.Event.Kind == messaging.EventRemoved {
				removed = append(removed, u.Event.MessageSeq)
			}
		}
		if !slices.Equal(removed, []int64{copy1.Seq, copy2.Seq}) && !slices.Equal(removed, []int64{copy2.Seq, copy1.Seq}) {
			t.Errorf("removals in a member's update log: seqs %v, want both copies'", removed)
		}

		must(t, "RestoreMessage", e.svc.RestoreMessage(e.ctx, src.ID, bad.Seq))
		for _, chat := range []messaging.ChatID{src.ID, g1.ID} {
			if got := texts(e.history(b, chat)); !slices.Contains(got, "join my pyramid scheme") {
				t.Errorf("chat %d after the reversal = %q, want the message back", chat, got)
			}
		}
		if got := texts(e.history(c, g2.ID)); !slices.Contains(got, "join my pyramid scheme") {
			t.Errorf("the copy of the copy's chat after the reversal = %q, want it back", got)
		}

		// A copy removed on its own is not brought back by its origin's reversal.
		_, err = e.svc.RemoveMessage(e.ctx, g2.ID, copy2.Seq, "spam here")
		must(t, "RemoveMessage of a copy", err)
		_, err = e.svc.RemoveMessage(e.ctx, src.ID, bad.Seq, "fraud")
		must(t, "RemoveMessage again", err)
		must(t, "RestoreMessage again", e.svc.RestoreMessage(e.ctx, src.ID, bad.Seq))
		if got := texts(e.history(c, g2.ID)); slices.Contains(got, "join my pyramid scheme") {
			t.Errorf("a copy removed on its own came back with its origin: %q", got)
		}
		if got := texts(e.history(b, g1.ID)); !slices.Contains(got, "join my pyramid scheme") {
			t.Errorf("the other copy did not come back: %q", got)
		}
	})
}

// Copies past one batch are removed and restored too, each batch in its own
// transaction.
func TestRemoveMessageRemovesCopiesPastOneBatch(t *testing.T) {
	run(t, messaging.Config{}, func(t *testing.T, e *env) {
		a, b := e.user("anaya"), e.user("bruno")
		src := e.group(a, "Source", b)
		dst := e.group(b, "Copies")
		bad := e.send(a, src.ID, "a viral scam")
		n := messaging.CopyBatch + 3
		for range n {
			_, err := e.svc.Send(e.ctx, b, dst.ID, messaging.SendParams{IdempotencyKey: e.key(), ForwardFrom: &messaging.MessageRef{ChatID: src.ID, Seq: bad.Seq}})
			must(t, "forward", err)
		}
		shown := func() int {
			return e.count(`SELECT COUNT(*) FROM messages WHERE chat_id = $1 AND deleted_at = 0`, dst.ID)
		}
		_, err := e.svc.RemoveMessage(e.ctx, src.ID, bad.Seq, "fraud")
		must(t, "RemoveMessage", err)
		if got := shown(); got != 0 {
			t.Errorf("%d of %d copies still shown after the removal", got, n)
		}
		must(t, "RestoreMessage", e.svc.RestoreMessage(e.ctx, src.ID, bad.Seq))
		if got := shown(); got != n {
			t.Errorf("%d of %d copies shown after the reversal", got, n)
		}
	})
}

// A chat taken down takes the copies of its messages forwarded elsewhere
// with it; reinstating it brings them back, except the copies of a message
// removed on its own, which stay removed with it.
func TestTakeDownRemovesCopiesForwardedElsewhere(t *testing.T) {
	run(t, messaging.Config{}, func(t *testing.T, e *env) {
		owner, sub := e.user("owner"), e.user("subscriber")
		ch, err := e.svc.CreateChannel(e.ctx, owner, messaging.NewChat{Title: "Recruiting", Username: "recruitnow"})
		must(t, "CreateChannel", err)
		_, err = e.svc.Join(e.ctx, sub, ch.ID)
		must(t, "Join", err)
		p1 := e.send(owner, ch.ID, "join us, first call")
		p2 := e.send(owner, ch.ID, "join us, second call")
		g := e.group(sub, "Friends")
		for _, p := range []messaging.Message{p1, p2} {
			_, err := e.svc.Send(e.ctx, sub, g.ID, messaging.SendParams{IdempotencyKey: e.key(), ForwardFrom: &messaging.MessageRef{ChatID: ch.ID, Seq: p.Seq}})
			must(t, "forward", err)
		}
		e.send(sub, g.ID, "my own words")

		_, err = e.svc.RemoveMessage(e.ctx, ch.ID, p2.Seq, "second call removed first")
		must(t, "RemoveMessage", err)
		must(t, "TakeDown", e.svc.TakeDown(e.ctx, ch.ID, "terrorist recruitment"))
		if got := texts(e.history(sub, g.ID)); !slices.Equal(got, []string{"my own words"}) {
			t.Errorf("the group after the channel's takedown shows %q, want only its own message", got)
		}
		must(t, "Reinstate", e.svc.Reinstate(e.ctx, ch.ID))
		if got := texts(e.history(sub, g.ID)); !slices.Equal(got, []string{"join us, first call", "my own words"}) {
			t.Errorf("the group after reinstating shows %q, want the first call back and the removed second call still gone", got)
		}
		must(t, "RestoreMessage", e.svc.RestoreMessage(e.ctx, ch.ID, p2.Seq))
		if got := texts(e.history(sub, g.ID)); !slices.Equal(got, []string{"join us, first call", "join us, second call", "my own words"}) {
			t.Errorf("the group after restoring the second call shows %q, want both back", got)
		}
	})
}
