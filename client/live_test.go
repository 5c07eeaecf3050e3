package client_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"kurir"

	"kurir/client"
	"kurir/sqldb"
	"kurir/sqldb/sqldbtest"
)

// next waits for the next live event.
func next(t *testing.T, l *client.Live) client.LiveEvent {
	t.Helper()
	select {
	case e, ok := <-l.Events():
		if !ok {
			t.Fatalf("live stream ended: %v", l.Err())
		}
		return e
	case <-time.After(10 * time.Second):
		t.Fatal("no live event within 10s")
	}
	return client.LiveEvent{}
}

// TestLiveHealsGaps: a device on the live stream sees every message once and
// in order, including those sent while its connection was down.
func TestLiveHealsGaps(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		srv := newServer(t, db, options{})
		ana, _ := srv.user(t, "anabel")
		ben, benUser := srv.user(t, "benedikt")
		chat, err := ana.OpenPrivateChat(ctx, benUser.ID)
		if err != nil {
			t.Fatal(err)
		}
		live, err := ben.Live(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer live.Close()
		for i := range 20 {
			if _, err := ana.Send(ctx, chat.ID, client.SendParams{Text: fmt.Sprint("m", i)}); err != nil {
				t.Fatal(err)
			}
		}
		// Drop every connection the server has: the stream must reconnect
		// and fetch what was sent meanwhile.
		srv.dropConnections()
		for i := 20; i < 40; i++ {
			if _, err := ana.Send(ctx, chat.ID, client.SendParams{Text: fmt.Sprint("m", i)}); err != nil {
				t.Fatal(err)
			}
		}
		for i := range 40 {
			e := next(t, live)
			if e.Event.Message == nil || e.Event.Message.Text != fmt.Sprint("m", i) {
				t.Fatalf("event %d = %+v, want message m%d", i, e, i)
			}
		}
	}, schema...)
}

// TestLiveGroupOf50: in a group of 50 with an admins-only posting rule, every
// member's device gets each admin post live, once and in order, and a
// member's attempt to post is refused and reaches nobody.
func TestLiveGroupOf50(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		srv := newServer(t, db, options{unchecked: true})
		owner, _ := srv.user(t, "grpowner")
		var members []*client.Client
		var ids []int64
		for i := range 49 {
			c, u := srv.user(t, fmt.Sprintf("member%02d", i))
			members = append(members, c)
			ids = append(ids, u.ID)
		}
		g, err := owner.CreateGroup(ctx, client.NewChat{Title: "Fifty", Members: ids, Permissions: &client.Permissions{Post: false}})
		if err != nil {
			t.Fatal(err)
		}
		if g.MemberCount != 50 {
			t.Fatalf("member count = %d, want 50", g.MemberCount)
		}
		var lives []*client.Live
		for _, m := range members {
			l, err := m.Live(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer l.Close()
			lives = append(lives, l)
		}
		if _, err := members[0].Send(ctx, g.ID, client.SendParams{Text: "I should not be able to"}); !client.IsCode(err, "forbidden") {
			t.Fatalf("member post: err = %v, want forbidden", err)
		}
		for i := range 5 {
			if _, err := owner.Send(ctx, g.ID, client.SendParams{Text: fmt.Sprint("announcement ", i)}); err != nil {
				t.Fatal(err)
			}
		}
		for n, l := range lives {
			for i := range 5 {
				e := next(t, l)
				if e.Event.Message == nil || e.Event.Message.Text != fmt.Sprint("announcement ", i) {
					t.Fatalf("member %d event %d = %+v, want announcement %d", n, i, e.Event, i)
				}
			}
		}
	}, schema...)
}

// TestLiveRefusedToken: a live stream on a token the server does not know
// fails with an unauthenticated *Error, which ends a stream's redialling
// instead of retrying forever.
func TestLiveRefusedToken(t *testing.T) {
	db := sqldbtest.SQLite(t, schema...)
	s := newServer(t, db, options{})
	_, err := s.client(t).WithToken("kurir_not_a_real_token").Live(t.Context())
	if !client.IsCode(err, kurir.EUnauthenticated) {
		t.Fatalf("Live with an unknown token: err = %v, want unauthenticated", err)
	}
}
