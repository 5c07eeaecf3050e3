package messaging_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"kurir"
	"kurir/messaging"
)

func TestSendIdempotency(t *testing.T) {
	run(t, messaging.Config{}, func(t *testing.T, e *env) {
		anna, boris, chen := e.user("anna"), e.user("boris"), e.user("chen")
		pc := e.private(anna, boris)
		other := e.private(anna, chen)
		first, err := e.svc.Send(e.ctx, anna, pc.ID, messaging.SendParams{Text: "once", IdempotencyKey: "tap-1"})
		if err != nil {
			t.Fatal(err)
		}
		// A retry, even one whose body changed in transit, returns the first message.
		retry, err := e.svc.Send(e.ctx, anna, pc.ID, messaging.SendParams{Text: "once more", IdempotencyKey: "tap-1"})
		if err != nil || retry.Seq != first.Seq || retry.Text != "once" || !retry.CreatedAt.Equal(first.CreatedAt) {
			t.Errorf("retry = %+v, %v; want the first message %+v", retry, err, first)
		}
		if n := e.count(`SELECT COUNT(*) FROM messages WHERE chat_id = $1`, pc.ID); n != 1 {
			t.Errorf("%d messages stored after a retry, want 1", n)
		}
		if ups := e.updates(boris, 0, 100); len(ups) != 1 {
			t.Errorf("boris got %d updates after a retry, want 1", len(ups))
		}

		_, err = e.svc.Send(e.ctx, anna, other.ID, messaging.SendParams{Text: "elsewhere", IdempotencyKey: "tap-1"})
		wantCode(t, "same key in another chat", err, kurir.EInvalid, "idempotency_key_reused")
		if seq := e.storedSeq(other.ID); seq != 0 {
			t.Errorf("refused send moved the other chat to seq %d", seq)
		}

		// Keys belong to their sender: boris may happen to pick the same one.
		if m, err := e.svc.Send(e.ctx, boris, pc.ID, messaging.SendParams{Text: "mine", IdempotencyKey: "tap-1"}); err != nil || m.Seq == first.Seq {
			t.Errorf("boris sending with anna's key = %+v, %v; want a new message", m, err)
		}

		for _, key := range []string{"", strings.Repeat("k", 129), "\xff\xfe"} {
			_, err := e.svc.Send(e.ctx, anna, pc.ID, messaging.SendParams{Text: "no key", IdempotencyKey: key})
			wantCode(t, "key "+keyName(key), err, kurir.EInvalid, "invalid_idempotency_key")
		}
		if n := e.count(`SELECT COUNT(*) FROM messages`); n != 2 {
			t.Errorf("%d messages stored, want 2", n)
		}
	})
}

// keyName shows an idempotency key in a failure, shortened.
func keyName(s string) string {
	if len(s) > 10 {
		s = s[:10] + "..."
	}
	return fmt.Sprintf("%q", s)
}

// A flaky network makes a client retry a send many times at once; exactly
// one message must come of it, and every attempt must be told about it.
// Several rounds, so that on PostgreSQL later rounds find warm connections
// and the attempts really overlap.
func TestSendIdempotencyConcurrentRetries(t *testing.T) {
	run(t, messaging.Config{}, func(t *testing.T, e *env) {
		anna, boris := e.user("anna"), e.user("boris")
		pc := e.private(anna, boris)
		e.send(boris, pc.ID, "are you there?")
		const rounds, retries = 3, 20
		for r := range rounds {
			key := fmt.Sprintf("retry-storm-%d", r)
			got := make([]messaging.Message, retries)
			var wg sync.WaitGroup
			start := make(chan struct{})
			for i := range retries {
				wg.Go(func() {
					<-start
					m, err := e.svc.Send(e.ctx, anna, pc.ID, messaging.SendParams{Text: key, IdempotencyKey: key})
					if err != nil {
						t.Errorf("round %d attempt %d: %v", r, i, err)
					}
					got[i] = m
				})
			}
			close(start)
			wg.Wait()
			for i, m := range got {
				if m.Seq != got[0].Seq || m.Text != key {
					t.Errorf("round %d: attempt %d returned seq %d %q, attempt 0 seq %d", r, i, m.Seq, m.Text, got[0].Seq)
				}
			}
			if n := e.count(`SELECT COUNT(*) FROM messages WHERE chat_id = $1 AND text = $2`, pc.ID, key); n != 1 {
				t.Errorf("round %d: %d messages stored from %d attempts, want 1", r, n, retries)
			}
		}
		if seq := e.storedSeq(pc.ID); seq != 1+rounds {
			t.Errorf("chat at seq %d, want %d", seq, 1+rounds)
		}
		wantPTS(t, "boris's log", e.updates(boris, 0, 100), 1, 1+rounds)
	})
}

func TestSendText(t *testing.T) {
	run(t, messaging.Config{}, func(t *testing.T, e *env) {
		anna, boris := e.user("anna"), e.user("boris")
		pc := e.private(anna, boris)
		ok := []struct{ name, text, want string }{
			{"plain", "hello", "hello"},
			{"trimmed", "  hello \n", "hello"},
			{"newlines and tabs inside", "line one\n\tline two", "line one\n\tline two"},
			{"limit in runes, not bytes", strings.Repeat("ж", 4096), strings.Repeat("ж", 4096)},
			{"emoji", strings.Repeat("👍", 4096), strings.Repeat("👍", 4096)},
		}
		for _, tt := range ok {
			m, err := e.trySend(anna, pc.ID, tt.text)
			if err != nil || m.Text != tt.want {
				t.Errorf("%s: Send = %.20q, %v; want %.20q", tt.name, m.Text, err, tt.want)
			}
		}
		bad := []struct{ name, text, reason string }{
			{"empty", "", "empty"},
			{"whitespace only", " \n\t\u00a0\u3000 ", "empty"},
			{"one rune over", strings.Repeat("ж", 4097), "too_long"},
			{"one emoji over", strings.Repeat("👍", 4097), "too_long"},
			{"invalid UTF-8", "caf\xe9", "invalid_utf8"},
			{"truncated UTF-8", "ok \xe2\x82", "invalid_utf8"},
			{"NUL", "a\x00b", "invalid_characters"},
			{"escape", "red \x1b[31m text", "invalid_characters"},
			{"C1 control", "a\u0085b", "invalid_characters"},
			{"DEL", "a\x7fb", "invalid_characters"},
		}
		seq := e.storedSeq(pc.ID)
		rows := e.count(`SELECT COUNT(*) FROM messages`)
		last := e.history(anna, pc.ID)
		for _, tt := range bad {
			_, err := e.trySend(anna, pc.ID, tt.text)
			wantCode(t, "Send "+tt.name, err, kurir.EInvalid, tt.reason)
			_, err = e.svc.Edit(e.ctx, anna, pc.ID, 1, tt.text)
			wantCode(t, "Edit to "+tt.name, err, kurir.EInvalid, tt.reason)
		}
		if got := e.storedSeq(pc.ID); got != seq {
			t.Errorf("refused sends moved the chat from seq %d to %d", seq, got)
		}
		if got := e.count(`SELECT COUNT(*) FROM messages`); got != rows {
			t.Errorf("refused sends stored %d messages", got-rows)
		}
		if got := e.history(anna, pc.ID); got[0].Text != last[0].Text || !got[0].EditedAt.IsZero() {
			t.Errorf("refused edits changed message 1 to %q", got[0].Text)
		}
	})
}

func TestSendMaxTextConfigured(t *testing.T) {
	run(t, messaging.Config{MaxText: 5}, func(t *testing.T, e *env) {
		anna, boris := e.user("anna"), e.user("boris")
		pc := e.private(anna, boris)
		if _, err := e.trySend(anna, pc.ID, "héllo"); err != nil {
			t.Errorf("5 characters (6 bytes): %v", err)
		}
		_, err := e.trySend(anna, pc.ID, "héllo!")
		wantCode(t, "6 characters", err, kurir.EInvalid, "too_long")
	})
}

func TestReplyTo(t *testing.T) {
	run(t, messaging.Config{}, func(t *testing.T, e *env) {
		anna, boris := e.user("anna"), e.user("boris")
		pc := e.private(anna, boris)
		g := e.group(anna, "Group", boris)
		q := e.send(anna, pc.ID, "question")
		a, err := e.svc.Send(e.ctx, boris, pc.ID, messaging.SendParams{Text: "answer", ReplyTo: q.Seq, IdempotencyKey: e.key()})
		if err != nil || a.ReplyTo != q.Seq {
			t.Fatalf("reply = %+v, %v", a, err)
		}
		if h := e.history(anna, pc.ID); h[1].ReplyTo != q.Seq {
			t.Errorf("stored reply points at %d, want %d", h[1].ReplyTo, q.Seq)
		}
		seq := e.storedSeq(g.ID)
		for _, to := range []int64{99, -1, 1 /* the group's create event, not a message */} {
			_, err := e.svc.Send(e.ctx, boris, g.ID, messaging.SendParams{Text: "re", ReplyTo: to, IdempotencyKey: e.key()})
			wantCode(t, "reply to missing message", err, kurir.EInvalid, "no_such_message")
		}
		if got := e.storedSeq(g.ID); got != seq {
			t.Errorf("refused replies moved the group from seq %d to %d", seq, got)
		}
	})
}

func TestForward(t *testing.T) {
	run(t, messaging.Config{}, func(t *testing.T, e *env) {
		anna, boris, chen := e.user("anna"), e.user("boris"), e.user("chen")
		src := e.group(anna, "Source", boris)
		orig := e.send(anna, src.ID, "the original")
		e.clock.Advance(time.Minute)

		pc := e.private(boris, chen)
		fwd, err := e.svc.Send(e.ctx, boris, pc.ID, messaging.SendParams{ForwardFrom: &messaging.MessageRef{ChatID: src.ID, Seq: orig.Seq}, IdempotencyKey: e.key()})
		if err != nil {
			t.Fatal(err)
		}
		wantOrigin := messaging.Forward{ChatID: src.ID, Seq: orig.Seq, SenderID: anna, At: orig.CreatedAt}
		if fwd.Text != "the original" || fwd.SenderID != boris || !sameOrigin(fwd.Forward, wantOrigin) {
			t.Errorf("forward = %+v (origin %+v), want text %q from boris with origin %+v", fwd, fwd.Forward, orig.Text, wantOrigin)
		}

		// chen forwards the forward: it still names anna's message as origin.
		dst := e.group(chen, "Destination")
		again, err := e.svc.Send(e.ctx, chen, dst.ID, messaging.SendParams{ForwardFrom: &messaging.MessageRef{ChatID: pc.ID, Seq: fwd.Seq}, IdempotencyKey: e.key()})
		if err != nil {
			t.Fatal(err)
		}
		if !sameOrigin(again.Forward, wantOrigin) {
			t.Errorf("forward of a forward has origin %+v, want %+v", again.Forward, wantOrigin)
		}
		if h := e.history(chen, dst.ID); len(h) != 1 || !sameOrigin(h[0].Forward, wantOrigin) {
			t.Errorf("stored forward = %+v", h)
		}

		_, err = e.svc.Edit(e.ctx, chen, dst.ID, again.Seq, "my words now")
		wantCode(t, "edit a forwarded message", err, kurir.EForbidden, "")

		// chen is not in the source group: it might as well not exist.
		seq := e.storedSeq(dst.ID)
		_, err = e.svc.Send(e.ctx, chen, dst.ID, messaging.SendParams{ForwardFrom: &messaging.MessageRef{ChatID: src.ID, Seq: orig.Seq}, IdempotencyKey: e.key()})
		wantCode(t, "forward from a chat one cannot read", err, kurir.ENotFound, "")
		_, err = e.svc.Send(e.ctx, chen, dst.ID, messaging.SendParams{ForwardFrom: &messaging.MessageRef{ChatID: src.ID + 1000, Seq: 1}, IdempotencyKey: e.key()})
		wantCode(t, "forward from a missing chat", err, kurir.ENotFound, "")
		_, err = e.svc.Send(e.ctx, chen, dst.ID, messaging.SendParams{ForwardFrom: &messaging.MessageRef{ChatID: pc.ID, Seq: 99}, IdempotencyKey: e.key()})
		wantCode(t, "forward a missing message", err, kurir.ENotFound, "")
		_, err = e.svc.Send(e.ctx, chen, dst.ID, messaging.SendParams{Text: "look", ForwardFrom: &messaging.MessageRef{ChatID: pc.ID, Seq: fwd.Seq}, IdempotencyKey: e.key()})
		wantCode(t, "forward with text", err, kurir.EInvalid, "forward_with_text")
		if err := e.svc.Delete(e.ctx, anna, src.ID, orig.Seq); err != nil {
			t.Fatal(err)
		}
		_, err = e.svc.Send(e.ctx, boris, pc.ID, messaging.SendParams{ForwardFrom: &messaging.MessageRef{ChatID: src.ID, Seq: orig.Seq}, IdempotencyKey: e.key()})
		wantCode(t, "forward a deleted message", err, kurir.ENotFound, "")
		if got := e.storedSeq(dst.ID); got != seq {
			t.Errorf("refused forwards moved the chat from seq %d to %d", seq, got)
		}

		// Anyone may forward from a public channel without joining it.
		ch, err := e.svc.CreateChannel(e.ctx, anna, messaging.NewChat{Title: "Public", Username: "publicfeed"})
		if err != nil {
			t.Fatal(err)
		}
		post := e.send(anna, ch.ID, "news")
		if m, err := e.svc.Send(e.ctx, chen, dst.ID, messaging.SendParams{ForwardFrom: &messaging.MessageRef{ChatID: ch.ID, Seq: post.Seq}, IdempotencyKey: e.key()}); err != nil || m.Text != "news" {
			t.Errorf("forward from public channel = %+v, %v", m, err)
		}
	})
}

func sameOrigin(got *messaging.Forward, want messaging.Forward) bool {
	return got != nil && got.ChatID == want.ChatID && got.Seq == want.Seq && got.SenderID == want.SenderID && got.At.Equal(want.At)
}

func TestEdit(t *testing.T) {
	run(t, messaging.Config{}, func(t *testing.T, e *env) {
		anna, boris := e.user("anna"), e.user("boris")
		pc := e.private(anna, boris)
		m := e.send(anna, pc.ID, "helo")

		_, err := e.svc.Edit(e.ctx, boris, pc.ID, m.Seq, "hijacked")
		wantCode(t, "edit another's message", err, kurir.EForbidden, "")

		e.clock.Advance(47 * time.Hour)
		edited, err := e.svc.Edit(e.ctx, anna, pc.ID, m.Seq, "hello")
		if err != nil {
			t.Fatal(err)
		}
		if edited.Text != "hello" || !edited.EditedAt.Equal(e.clock.Now()) || !edited.CreatedAt.Equal(m.CreatedAt) {
			t.Errorf("edited = %+v, want text %q edited at %v", edited, "hello", e.clock.Now())
		}
		if h := e.history(boris, pc.ID); h[0].Text != "hello" || !h[0].EditedAt.Equal(e.clock.Now()) {
			t.Errorf("boris sees %+v", h[0])
		}

		e.clock.Advance(time.Hour + time.Second) // 48h and 1s after sending
		_, err = e.svc.Edit(e.ctx, anna, pc.ID, m.Seq, "too late")
		wantCode(t, "edit after the window", err, kurir.EForbidden, "")
		if h := e.history(boris, pc.ID); h[0].Text != "hello" {
			t.Errorf("late edit changed the text to %q", h[0].Text)
		}

		_, err = e.svc.Edit(e.ctx, anna, pc.ID, 99, "nothing")
		wantCode(t, "edit missing message", err, kurir.ENotFound, "")
		fresh := e.send(anna, pc.ID, "oops")
		if err := e.svc.Delete(e.ctx, anna, pc.ID, fresh.Seq); err != nil {
			t.Fatal(err)
		}
		_, err = e.svc.Edit(e.ctx, anna, pc.ID, fresh.Seq, "undo")
		wantCode(t, "edit deleted message", err, kurir.ENotFound, "")
	})
}

func TestEditWindowConfigured(t *testing.T) {
	run(t, messaging.Config{EditWindow: time.Minute}, func(t *testing.T, e *env) {
		anna, boris := e.user("anna"), e.user("boris")
		pc := e.private(anna, boris)
		m := e.send(anna, pc.ID, "quick")
		e.clock.Advance(time.Minute)
		if _, err := e.svc.Edit(e.ctx, anna, pc.ID, m.Seq, "quick!"); err != nil {
			t.Errorf("edit at the end of the window: %v", err)
		}
		e.clock.Advance(time.Microsecond)
		_, err := e.svc.Edit(e.ctx, anna, pc.ID, m.Seq, "quick!!")
		wantCode(t, "edit just past the window", err, kurir.EForbidden, "")
	})
}

func TestDelete(t *testing.T) {
	run(t, messaging.Config{}, func(t *testing.T, e *env) {
		anna, boris, chen := e.user("anna"), e.user("boris"), e.user("chen")

		pc := e.private(anna, boris)
		hers := e.send(anna, pc.ID, "hers")
		his := e.send(boris, pc.ID, "his")
		wantCode(t, "delete peer's message in private", e.svc.Delete(e.ctx, anna, pc.ID, his.Seq), kurir.EForbidden, "")
		if err := e.svc.Delete(e.ctx, anna, pc.ID, hers.Seq); err != nil {
			t.Fatal(err)
		}
		for _, u := range []kurir.UserID{anna, boris} {
			if got := texts(e.history(u, pc.ID)); len(got) != 1 || got[0] != "his" {
				t.Errorf("user %d sees %q after the deletion, want only %q", u, got, "his")
			}
		}
		wantCode(t, "delete twice", e.svc.Delete(e.ctx, anna, pc.ID, hers.Seq), kurir.ENotFound, "")
		wantCode(t, "delete missing", e.svc.Delete(e.ctx, anna, pc.ID, 99), kurir.ENotFound, "")

		g := e.group(anna, "Group", boris, chen)
		b1 := e.send(boris, g.ID, "boris one")
		b2 := e.send(boris, g.ID, "boris two")
		c1 := e.send(chen, g.ID, "chen one")
		wantCode(t, "member deletes another's message", e.svc.Delete(e.ctx, chen, g.ID, b1.Seq), kurir.EForbidden, "")
		if err := e.svc.Delete(e.ctx, chen, g.ID, c1.Seq); err != nil {
			t.Errorf("member deletes own message: %v", err)
		}
		if err := e.svc.Pin(e.ctx, anna, g.ID, b1.Seq); err != nil {
			t.Fatal(err)
		}
		if err := e.svc.Delete(e.ctx, anna, g.ID, b1.Seq); err != nil {
			t.Errorf("owner deletes a member's message: %v", err)
		}
		if c := e.chat(boris, g.ID); c.PinnedSeq != 0 {
			t.Errorf("deleted message stays pinned (seq %d)", c.PinnedSeq)
		}
		if err := e.svc.SetRole(e.ctx, anna, g.ID, chen, messaging.Admin); err != nil {
			t.Fatal(err)
		}
		if err := e.svc.Delete(e.ctx, chen, g.ID, b2.Seq); err != nil {
			t.Errorf("admin deletes a member's message: %v", err)
		}
		if got := e.history(anna, g.ID); len(got) != 0 {
			t.Errorf("group history after deleting everything: %q", texts(got))
		}
		if n := e.count(`SELECT COUNT(*) FROM messages WHERE chat_id = $1 AND text <> ''`, g.ID); n != 0 {
			t.Errorf("%d deleted messages still hold their text", n)
		}
	})
}

func TestDeleteForMe(t *testing.T) {
	run(t, messaging.Config{}, func(t *testing.T, e *env) {
		anna, boris, chen := e.user("anna"), e.user("boris"), e.user("chen")
		pc := e.private(anna, boris)
		e.send(anna, pc.ID, "keep")
		gone := e.send(boris, pc.ID, "embarrassing")
		e.send(anna, pc.ID, "also keep")
		if err := e.svc.DeleteForMe(e.ctx, anna, pc.ID, gone.Seq); err != nil {
			t.Fatal(err)
		}
		if err := e.svc.DeleteForMe(e.ctx, anna, pc.ID, gone.Seq); err != nil {
			t.Errorf("hiding twice: %v", err)
		}
		if got := texts(e.history(anna, pc.ID)); strings.Join(got, "|") != "keep|also keep" {
			t.Errorf("anna sees %q", got)
		}
		if got := texts(e.history(boris, pc.ID)); strings.Join(got, "|") != "keep|embarrassing|also keep" {
			t.Errorf("boris sees %q; hiding for anna must not touch his view", got)
		}
		wantCode(t, "outsider hides a message", e.svc.DeleteForMe(e.ctx, chen, pc.ID, gone.Seq), kurir.ENotFound, "")
		wantCode(t, "hide a missing message", e.svc.DeleteForMe(e.ctx, anna, pc.ID, 99), kurir.ENotFound, "")
	})
}

// An outsider must learn nothing about a private chat or group, not even
// that it exists: every operation answers as for a chat ID never issued.
func TestNonMembersSeeNothing(t *testing.T) {
	run(t, messaging.Config{}, func(t *testing.T, e *env) {
		anna, boris, outsider := e.user("anna"), e.user("boris"), e.user("outsider")
		pc := e.private(anna, boris)
		e.send(anna, pc.ID, "private words")
		g := e.group(anna, "Private group", boris)
		e.send(boris, g.ID, "group words")
		ch, err := e.svc.CreateChannel(e.ctx, anna, messaging.NewChat{Title: "Private channel"})
		if err != nil {
			t.Fatal(err)
		}
		e.send(anna, ch.ID, "channel words")
		// A former member is an outsider too.
		left := e.group(anna, "Left behind", outsider)
		e.send(anna, left.ID, "after you go")
		if err := e.svc.Leave(e.ctx, outsider, left.ID); err != nil {
			t.Fatal(err)
		}
		missing := ch.ID + 1000

		ops := []struct {
			name string
			do   func(id messaging.ChatID) error
		}{
			{"Chat", func(id messaging.ChatID) error { _, err := e.svc.Chat(e.ctx, outsider, id); return err }},
			{"History", func(id messaging.ChatID) error {
				_, err := e.svc.History(e.ctx, outsider, id, 0, messaging.Older, 10)
				return err
			}},
			{"ChatDifference", func(id messaging.ChatID) error {
				_, _, _, err := e.svc.ChatDifference(e.ctx, outsider, id, 0, 10)
				return err
			}},
			{"Send", func(id messaging.ChatID) error { _, err := e.trySend(outsider, id, "let me in"); return err }},
			{"Edit", func(id messaging.ChatID) error { _, err := e.svc.Edit(e.ctx, outsider, id, 2, "x"); return err }},
			{"Delete", func(id messaging.ChatID) error { return e.svc.Delete(e.ctx, outsider, id, 2) }},
			{"DeleteForMe", func(id messaging.ChatID) error { return e.svc.DeleteForMe(e.ctx, outsider, id, 2) }},
			{"Pin", func(id messaging.ChatID) error { return e.svc.Pin(e.ctx, outsider, id, 2) }},
			{"Unpin", func(id messaging.ChatID) error { return e.svc.Pin(e.ctx, outsider, id, 0) }},
			{"MarkRead", func(id messaging.ChatID) error { return e.svc.MarkRead(e.ctx, outsider, id, 1) }},
			{"Join", func(id messaging.ChatID) error { _, err := e.svc.Join(e.ctx, outsider, id); return err }},
			{"Leave", func(id messaging.ChatID) error { return e.svc.Leave(e.ctx, outsider, id) }},
			{"AddMembers", func(id messaging.ChatID) error {
				return e.svc.AddMembers(e.ctx, outsider, id, []kurir.UserID{outsider})
			}},
			{"RemoveMember", func(id messaging.ChatID) error { return e.svc.RemoveMember(e.ctx, outsider, id, boris, false) }},
			{"SetRole", func(id messaging.ChatID) error { return e.svc.SetRole(e.ctx, outsider, id, outsider, messaging.Admin) }},
			{"EditInfo", func(id messaging.ChatID) error {
				title := "mine"
				_, err := e.svc.EditInfo(e.ctx, outsider, id, messaging.ChatInfo{Title: &title})
				return err
			}},
			{"CreateInvite", func(id messaging.ChatID) error {
				_, err := e.svc.CreateInvite(e.ctx, outsider, id, time.Time{}, 0)
				return err
			}},
		}
		chats := []struct {
			name string
			id   messaging.ChatID
		}{{"private chat", pc.ID}, {"private group", g.ID}, {"private channel", ch.ID}, {"group left", left.ID}}
		seqs := map[messaging.ChatID]int64{}
		for _, c := range chats {
			seqs[c.id] = e.storedSeq(c.id)
		}
		for _, op := range ops {
			errMissing := op.do(missing)
			wantCode(t, op.name+" on a missing chat", errMissing, kurir.ENotFound, "")
			for _, c := range chats {
				err := op.do(c.id)
				wantCode(t, op.name+" on "+c.name, err, kurir.ENotFound, "")
				if shape(err) != shape(errMissing) {
					t.Errorf("%s on %s says %q, on a missing chat %q", op.name, c.name, kurir.ErrorMessage(err), kurir.ErrorMessage(errMissing))
				}
			}
		}
		for _, c := range chats {
			if got := e.storedSeq(c.id); got != seqs[c.id] {
				t.Errorf("%s moved from seq %d to %d", c.name, seqs[c.id], got)
			}
		}
		if n := e.count(`SELECT COUNT(*) FROM messages WHERE sender_id = $1`, outsider); n != 0 {
			t.Errorf("outsider stored %d messages", n)
		}
	})
}
