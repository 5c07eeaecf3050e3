package messaging_test

import (
	"context"
	"testing"
	"time"

	"kurir"
	"kurir/account"
	"kurir/messaging"
	"kurir/sqldb"
	"kurir/sqldb/sqldbtest"
)

func TestSearch(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		acc := account.NewService(db, kurir.SystemClock{}, nil, account.Config{Argon2: account.CheapArgon2Params, Limits: &account.Limits{}})
		var ids []kurir.UserID
		for _, n := range []string{"searcher", "stranger"} {
			u, err := acc.Register(ctx, account.RegisterParams{Username: n, Password: "long-enough-pass-9"})
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, u.ID)
		}
		me, other := ids[0], ids[1]
		svc := messaging.NewService(db, nil, kurir.SystemClock{}, nil, messaging.Config{})
		news, err := svc.CreateChannel(ctx, other, messaging.NewChat{Title: "Jakarta Morning News", Username: "jktnews"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := svc.CreateGroup(ctx, other, messaging.NewChat{Title: "Secret Jakarta club"}); err != nil {
			t.Fatal(err)
		}
		found, err := svc.SearchChats(ctx, me, "jakarta", 10)
		if err != nil || len(found) != 1 || found[0].ID != news.ID {
			t.Errorf("SearchChats(jakarta) = %+v, %v; want only the public channel", found, err)
		}
		if found, _ := svc.SearchChats(ctx, me, "@JKT", 10); len(found) != 1 {
			t.Errorf("SearchChats(@JKT) = %+v, want the channel by its name", found)
		}

		g, err := svc.CreateGroup(ctx, me, messaging.NewChat{Title: "Trip", Members: []kurir.UserID{other}})
		if err != nil {
			t.Fatal(err)
		}
		send := func(who kurir.UserID, chat messaging.ChatID, text, key string) messaging.Message {
			m, err := svc.Send(ctx, who, chat, messaging.SendParams{Text: text, IdempotencyKey: key})
			if err != nil {
				t.Fatal(err)
			}
			return m
		}
		send(me, g.ID, "The train to Bandung leaves at nine", "1")
		gone := send(other, g.ID, "Bandung tickets are booked", "2")
		send(other, news.ID, "Flooding in Bandung this morning", "3")
		priv, _ := svc.CreateGroup(ctx, other, messaging.NewChat{Title: "Not yours"})
		send(other, priv.ID, "Bandung secret plans", "4")
		if err := svc.Delete(ctx, other, g.ID, gone.Seq); err != nil {
			t.Fatal(err)
		}

		got, err := svc.SearchMessages(ctx, me, "bandung", 0, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 1 || got[0].Text != "The train to Bandung leaves at nine" {
			t.Errorf("search in my chats = %+v, want only my group's live message (not deleted, not others' chats)", got)
		}
		if got, _ := svc.SearchMessages(ctx, me, "BANDUNG morning", news.ID, 10); len(got) != 1 {
			t.Errorf("search in a public channel = %+v, want its post (case-insensitive, all words)", got)
		}
		if _, err := svc.SearchMessages(ctx, me, "bandung", priv.ID, 10); kurir.ErrorCode(err) != kurir.ENotFound {
			t.Errorf("search in a private group I am not in: err = %v, want not found", err)
		}
		if got, err := svc.SearchMessages(ctx, me, `"bandung" OR NEAR(x`, 0, 10); err != nil || len(got) != 0 {
			t.Errorf("FTS syntax in the query must be taken literally: %+v, %v", got, err)
		}
		if _, err := svc.SearchMessages(ctx, me, "  ", 0, 10); kurir.ErrorCode(err) != kurir.EInvalid {
			t.Errorf("empty query: err = %v", err)
		}
	}, account.Migrations, messaging.Migrations)
}

// TestSearchIndexQueue: on SQLite a send only queues its message for the
// search index. Whatever happens to a message before or after the indexer
// reaches it (an edit, a deletion), search finds exactly its current text,
// and the indexer empties the queue.
func TestSearchIndexQueue(t *testing.T) {
	run(t, messaging.Config{}, func(t *testing.T, e *env) {
		me := e.user("indexer")
		g := e.group(me, "Index")
		find := func(q string) []string {
			t.Helper()
			got, err := e.svc.SearchMessages(e.ctx, me, q, g.ID, 10)
			must(t, "search "+q, err)
			return texts(got)
		}
		queued := func() int {
			if e.db.Engine() != sqldb.SQLite {
				return 0
			}
			return e.count(`SELECT COUNT(*) FROM search_pending`)
		}

		// Changed while still queued: the indexer reads the text as it is.
		edited := e.send(me, g.ID, "apples before")
		deleted := e.send(me, g.ID, "pears gone")
		if e.db.Engine() == sqldb.SQLite && queued() != 2 {
			t.Fatalf("%d messages queued for search after two sends, want 2", queued())
		}
		must(t, "edit", e.edit(me, g.ID, edited.Seq, "apricots after"))
		must(t, "delete", e.svc.Delete(e.ctx, me, g.ID, deleted.Seq))
		if got := find("apricots"); len(got) != 1 {
			t.Errorf("search for the edited text = %q, want the edited message", got)
		}
		if got := find("apples"); len(got) != 0 {
			t.Errorf("search for the text before the edit = %q, want nothing", got)
		}
		if got := find("pears"); len(got) != 0 {
			t.Errorf("search for a deleted message = %q, want nothing", got)
		}
		if queued() != 0 {
			t.Errorf("%d messages still queued after a search, want 0", queued())
		}

		// Changed after indexing: the index follows.
		must(t, "edit again", e.edit(me, g.ID, edited.Seq, "bananas later"))
		if got := find("apricots"); len(got) != 0 {
			t.Errorf("search for a replaced text = %q, want nothing", got)
		}
		if got := find("bananas"); len(got) != 1 {
			t.Errorf("search for the new text = %q, want the message", got)
		}

		// The background indexer empties the queue without any search.
		e.send(me, g.ID, "cherries queued")
		ctx, cancel := context.WithCancel(e.ctx)
		done := make(chan struct{})
		go func() { e.svc.RunSearchIndexer(ctx, time.Millisecond); close(done) }()
		for deadline := time.Now().Add(5 * time.Second); queued() != 0 && time.Now().Before(deadline); {
			time.Sleep(time.Millisecond)
		}
		cancel()
		<-done
		if queued() != 0 {
			t.Errorf("%d messages still queued with the indexer running, want 0", queued())
		}
		if e.db.Engine() == sqldb.SQLite {
			if n := e.count(`SELECT COUNT(*) FROM messages_fts WHERE messages_fts MATCH 'cherries'`); n != 1 {
				t.Errorf("the indexer indexed 'cherries' %d times, want once", n)
			}
		}
	})
}
