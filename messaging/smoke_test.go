package messaging_test

import (
	"context"
	"testing"

	"kurir"
	"kurir/account"
	"kurir/messaging"
	"kurir/sqldb"
	"kurir/sqldb/sqldbtest"
)

func TestSmoke(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		acc := account.NewService(db, kurir.SystemClock{}, nil, account.Config{Argon2: account.CheapArgon2Params, Limits: &account.Limits{}})
		var ids []kurir.UserID
		for _, n := range []string{"anna", "boris", "chen"} {
			u, err := acc.Register(ctx, account.RegisterParams{Username: n, Password: "long-enough-pass-9"})
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, u.ID)
		}
		svc := messaging.NewService(db, nil, kurir.SystemClock{}, nil, messaging.Config{})
		pc, err := svc.OpenPrivate(ctx, ids[0], ids[1])
		if err != nil {
			t.Fatal(err)
		}
		m, err := svc.Send(ctx, ids[0], pc.ID, messaging.SendParams{Text: "hi", IdempotencyKey: "k1"})
		if err != nil {
			t.Fatal(err)
		}
		m2, err := svc.Send(ctx, ids[0], pc.ID, messaging.SendParams{Text: "hi", IdempotencyKey: "k1"})
		if err != nil || m2.Seq != m.Seq {
			t.Fatalf("retry: %v %v %v", err, m, m2)
		}
		if _, err := svc.Edit(ctx, ids[0], pc.ID, m.Seq, "hello"); err != nil {
			t.Fatal(err)
		}
		d, err := svc.Difference(ctx, ids[1], 0, 100)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("diff: %+v", d)
		if len(d.Updates) != 2 || d.Updates[0].Event.Message.Text != "hello" {
			t.Errorf("difference = %+v", d)
		}
		if _, err := svc.Send(ctx, ids[2], pc.ID, messaging.SendParams{Text: "intruder", IdempotencyKey: "k2"}); kurir.ErrorCode(err) != kurir.ENotFound {
			t.Errorf("outsider send: %v", err)
		}
		g, err := svc.CreateGroup(ctx, ids[0], messaging.NewChat{Title: "Team", Members: ids[1:]})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := svc.Send(ctx, ids[2], g.ID, messaging.SendParams{Text: "yo", IdempotencyKey: "k3"}); err != nil {
			t.Fatal(err)
		}
		ch, err := svc.CreateChannel(ctx, ids[0], messaging.NewChat{Title: "News", Username: "newsroom"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := svc.Join(ctx, ids[1], ch.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.Send(ctx, ids[1], ch.ID, messaging.SendParams{Text: "no", IdempotencyKey: "k4"}); kurir.ErrorCode(err) != kurir.EForbidden {
			t.Errorf("subscriber post: %v", err)
		}
		if _, err := svc.Send(ctx, ids[0], ch.ID, messaging.SendParams{Text: "post", IdempotencyKey: "k5"}); err != nil {
			t.Fatal(err)
		}
		dl, err := svc.Dialogs(ctx, ids[1], messaging.DialogCursor{}, 10)
		if err != nil {
			t.Fatal(err)
		}
		for _, x := range dl {
			t.Logf("dialog %s %q unread=%d last=%v", x.Chat.Kind, x.Chat.Title, x.Unread, x.LastMessage != nil)
		}
		h, err := svc.History(ctx, ids[1], ch.ID, 0, messaging.Older, 10)
		if err != nil || len(h) != 1 {
			t.Errorf("history %v %v", h, err)
		}
		evs, next, tl, err := svc.ChatDifference(ctx, ids[1], ch.ID, 0, 100)
		t.Logf("chatdiff %d events next %d toolong %v err %v", len(evs), next, tl, err)
		st, err := svc.State(ctx, ids[1])
		t.Logf("state %+v %v", st, err)
	}, account.Migrations, messaging.Migrations)
}
