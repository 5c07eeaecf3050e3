package messaging_test

import (
	"testing"
	"time"

	"kurir/messaging"
)

// TestForgetSendKeys: a retry within the window returns the original
// message; keys past the window are forgotten, and only those.
func TestForgetSendKeys(t *testing.T) {
	run(t, messaging.Config{}, func(t *testing.T, e *env) {
		anna, boris := e.user("anna"), e.user("boris")
		chat, err := e.svc.OpenPrivate(e.ctx, anna, boris)
		must(t, "open", err)
		old, err := e.svc.Send(e.ctx, anna, chat.ID, messaging.SendParams{Text: "yesterday", IdempotencyKey: "old"})
		must(t, "send old", err)
		e.clock.Advance(messaging.IdempotencyWindow - time.Minute)
		again, err := e.svc.Send(e.ctx, anna, chat.ID, messaging.SendParams{Text: "yesterday", IdempotencyKey: "old"})
		must(t, "retry within window", err)
		if again.Seq != old.Seq {
			t.Fatalf("retry within the window stored seq %d, want the original %d", again.Seq, old.Seq)
		}
		_, err = e.svc.Send(e.ctx, anna, chat.ID, messaging.SendParams{Text: "today", IdempotencyKey: "new"})
		must(t, "send new", err)
		e.clock.Advance(2 * time.Minute)
		n, err := e.svc.ForgetSendKeys(e.ctx)
		must(t, "forget", err)
		if n != 1 {
			t.Errorf("forgot %d keys, want 1 (only the one past the window)", n)
		}
		var left int
		must(t, "count", e.db.Read().QueryRowContext(e.ctx, `SELECT COUNT(*) FROM send_keys WHERE idem_key = 'new'`).Scan(&left))
		if left != 1 {
			t.Errorf("the recent key was forgotten too")
		}
	})
}
