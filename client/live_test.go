package client_test

import (
	"context"
	"fmt"
	"testing"
	"time"

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
