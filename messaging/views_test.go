package messaging_test

import (
	"testing"
	"time"

	"kurir"
	"kurir/messaging"
)

// views returns the view count of message seq as user reads it in history.
func (e *env) views(user kurir.UserID, id messaging.ChatID, seq int64) int64 {
	e.t.Helper()
	for _, m := range e.history(user, id) {
		if m.Seq == seq {
			return m.Views
		}
	}
	e.t.Fatalf("message %d of chat %d not in history", seq, id)
	return 0
}

func TestViewsCountOncePerViewer(t *testing.T) {
	run(t, messaging.Config{}, func(t *testing.T, e *env) {
		owner, sub, passer := e.user("editor"), e.user("subscriber"), e.user("passerby")
		ch, err := e.svc.CreateChannel(e.ctx, owner, messaging.NewChat{Title: "Morning news", Username: "morningnews"})
		must(t, "CreateChannel", err)
		_, err = e.svc.Join(e.ctx, sub, ch.ID)
		must(t, "Join", err)
		p1, p2 := e.send(owner, ch.ID, "Rain today"), e.send(owner, ch.ID, "Sun tomorrow")

		n, err := e.svc.RecordViews(e.ctx, sub, ch.ID, []int64{p1.Seq, p2.Seq, p2.Seq})
		must(t, "RecordViews", err)
		if n != 2 {
			t.Errorf("first views counted %d, want 2 (a seq twice in one batch counts once)", n)
		}
		// The same device reporting again, after a reload, adds nothing.
		n, err = e.svc.RecordViews(e.ctx, sub, ch.ID, []int64{p1.Seq, p2.Seq})
		must(t, "RecordViews again", err)
		if n != 0 {
			t.Errorf("repeat views counted %d, want 0", n)
		}
		// Anyone may read a public channel, and their view counts.
		_, err = e.svc.RecordViews(e.ctx, passer, ch.ID, []int64{p1.Seq})
		must(t, "RecordViews by a non-member of a public channel", err)
		if got := e.views(sub, ch.ID, p1.Seq); got != 2 {
			t.Errorf("post 1 shows %d views, want 2", got)
		}
		if got := e.views(owner, ch.ID, p2.Seq); got != 1 {
			t.Errorf("post 2 shows %d views, want 1", got)
		}
		// Syncing the channel carries the count too.
		for _, ev := range e.chatEvents(sub, ch.ID, 0, 100) {
			if ev.Message != nil && ev.Message.Seq == p1.Seq && ev.Message.Views != 2 {
				t.Errorf("synced post 1 has %d views, want 2", ev.Message.Views)
			}
		}
		if got, err := e.svc.RecentViews(e.ctx, ch.ID); err != nil || got != 2 {
			t.Errorf("RecentViews = %d, %v; want 2", got, err)
		}
		// Views of a deleted post, or of one that does not exist, count nothing.
		must(t, "Delete", e.svc.Delete(e.ctx, owner, ch.ID, p2.Seq))
		n, err = e.svc.RecordViews(e.ctx, passer, ch.ID, []int64{p2.Seq, p2.Seq + 100})
		must(t, "RecordViews of deleted and missing posts", err)
		if n != 0 {
			t.Errorf("views of deleted and missing posts counted %d, want 0", n)
		}
	})
}

func TestViewsRefused(t *testing.T) {
	run(t, messaging.Config{}, func(t *testing.T, e *env) {
		owner, sub, outsider := e.user("editor"), e.user("subscriber"), e.user("outsider")
		// A channel with no username is private: only its members read it.
		ch, err := e.svc.CreateChannel(e.ctx, owner, messaging.NewChat{Title: "Staff notes"})
		must(t, "CreateChannel", err)
		inv, err := e.svc.CreateInvite(e.ctx, owner, ch.ID, time.Time{}, 0)
		must(t, "CreateInvite", err)
		_, err = e.svc.JoinByInvite(e.ctx, sub, inv.Code)
		must(t, "JoinByInvite", err)
		post := e.send(owner, ch.ID, "Meeting at nine")
		tooMany := make([]int64, messaging.MaxViewBatch+1)
		for i := range tooMany {
			tooMany[i] = int64(i + 1)
		}
		for _, c := range []struct {
			what   string
			user   kurir.UserID
			seqs   []int64
			code   kurir.Code
			reason string
		}{
			{"no seqs", sub, nil, kurir.EInvalid, "count"},
			{"too many seqs", sub, tooMany, kurir.EInvalid, "count"},
			{"seq 0", sub, []int64{post.Seq, 0}, kurir.EInvalid, "range"},
			{"negative seq", sub, []int64{-3}, kurir.EInvalid, "range"},
			{"non-member of a private channel", outsider, []int64{post.Seq}, kurir.ENotFound, ""},
		} {
			_, err := e.svc.RecordViews(e.ctx, c.user, ch.ID, c.seqs)
			wantCode(t, c.what, err, c.code, c.reason)
		}
		if got := e.views(owner, ch.ID, post.Seq); got != 0 {
			t.Errorf("after refused views the post shows %d, want 0", got)
		}
		if n := e.count(`SELECT COUNT(*) FROM message_viewers`); n != 0 {
			t.Errorf("refused views left %d viewer rows", n)
		}
		// A small group counts no views.
		g := e.group(owner, "Family", sub)
		m := e.send(owner, g.ID, "Dinner?")
		_, err = e.svc.RecordViews(e.ctx, sub, g.ID, []int64{m.Seq})
		wantCode(t, "views in a small group", err, kurir.EInvalid, "no_views")
	})
}

func TestViewsWindow(t *testing.T) {
	run(t, messaging.Config{}, func(t *testing.T, e *env) {
		owner, a, b := e.user("editor"), e.user("reader1"), e.user("reader2")
		ch, err := e.svc.CreateChannel(e.ctx, owner, messaging.NewChat{Title: "Archive", Username: "archivenews"})
		must(t, "CreateChannel", err)
		post := e.send(owner, ch.ID, "Old news")
		_, err = e.svc.RecordViews(e.ctx, a, ch.ID, []int64{post.Seq})
		must(t, "RecordViews", err)
		e.clock.Advance(messaging.ViewWindow + time.Minute)
		n, err := e.svc.ForgetViewers(e.ctx)
		must(t, "ForgetViewers", err)
		if n != 1 {
			t.Errorf("ForgetViewers deleted %d rows, want 1", n)
		}
		// With its viewers forgotten the post takes no more views, so
		// nobody is counted twice; its count stays.
		for _, u := range []kurir.UserID{a, b} {
			n, err := e.svc.RecordViews(e.ctx, u, ch.ID, []int64{post.Seq})
			must(t, "RecordViews after the window", err)
			if n != 0 {
				t.Errorf("view after the window counted %d, want 0", n)
			}
		}
		if got := e.views(a, ch.ID, post.Seq); got != 1 {
			t.Errorf("old post shows %d views, want 1", got)
		}
	})
}
