package messaging_test

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"kurir"
	"kurir/messaging"
)

// in returns the env's context with the reader placed in country.
func (e *env) in(country string) context.Context {
	return kurir.WithLocation(e.ctx, kurir.Location{Network: country})
}

// TestMessageWithheldInOneCountryOnEveryPath: a message of a small group
// restricted in Germany reads as withheld there — history, the update log,
// the chat list, search, forwarding — and as sent elsewhere and to work
// done for nobody in particular (moderation's).
func TestMessageWithheldInOneCountryOnEveryPath(t *testing.T) {
	run(t, messaging.Config{}, func(t *testing.T, e *env) {
		ana, ben := e.user("anabel"), e.user("benedikt")
		g := e.group(ana, "Friends", ben)
		bad := e.send(ana, g.ID, "a slogan banned in one country")
		r, err := e.svc.Restrict(e.ctx, messaging.Restriction{Chat: g.ID, Seq: bad.Seq, Scope: []string{"de"}, Reason: "Banned slogan", LegalRef: "§ 86a StGB"})
		must(t, "Restrict", err)
		if !slices.Equal(r.Scope, []string{"DE"}) || r.ID == 0 {
			t.Errorf("Restrict = %+v", r)
		}
		de, fr := e.in("DE"), e.in("FR")

		page, err := e.svc.History(de, ben, g.ID, 0, messaging.Older, 10)
		must(t, "History in Germany", err)
		if len(page) != 1 || page[0].Text != "" || page[0].Withheld == nil || page[0].Withheld.LegalRef != "§ 86a StGB" || page[0].SenderID != ana {
			t.Errorf("history in Germany = %+v", page)
		}
		page, err = e.svc.History(fr, ben, g.ID, 0, messaging.Older, 10)
		must(t, "History in France", err)
		if len(page) != 1 || page[0].Text != bad.Text || page[0].Withheld != nil {
			t.Errorf("history in France = %+v", page)
		}
		d, err := e.svc.Difference(de, ben, 0, 1000)
		must(t, "Difference in Germany", err)
		for _, u := range d.Updates {
			if m := u.Event.Message; m != nil && m.Seq == bad.Seq && (m.Text != "" || m.Withheld == nil) {
				t.Errorf("the update log in Germany carries %+v", m)
			}
		}
		ds, err := e.svc.Dialogs(de, ben, messaging.DialogCursor{}, 10)
		must(t, "Dialogs in Germany", err)
		if len(ds) != 1 || ds[0].LastMessage == nil || ds[0].LastMessage.Withheld == nil || ds[0].LastMessage.Text != "" {
			t.Errorf("chat list in Germany = %+v", ds)
		}
		found, err := e.svc.SearchMessages(de, ben, "slogan", 0, 10)
		must(t, "search in Germany", err)
		if len(found) != 0 {
			t.Errorf("search in Germany found %+v", found)
		}
		if found, _ := e.svc.SearchMessages(fr, ben, "slogan", 0, 10); len(found) != 1 {
			t.Errorf("search in France found %d, want 1", len(found))
		}
		_, err = e.svc.MessageVisible(de, ben, g.ID, bad.Seq)
		wantCode(t, "reading it in Germany", err, kurir.ELegal, "withheld_in_country")
		_, err = e.svc.Send(de, ben, g.ID, messaging.SendParams{IdempotencyKey: e.key(), ForwardFrom: &messaging.MessageRef{ChatID: g.ID, Seq: bad.Seq}})
		wantCode(t, "forwarding it in Germany", err, kurir.ELegal, "withheld_in_country")
		// A copy forwarded from France is withheld in Germany as the original is.
		other := e.group(ben, "Elsewhere", ana)
		fwd, err := e.svc.Send(fr, ben, other.ID, messaging.SendParams{IdempotencyKey: e.key(), ForwardFrom: &messaging.MessageRef{ChatID: g.ID, Seq: bad.Seq}})
		must(t, "forward from France", err)
		if page, _ := e.svc.History(de, ana, other.ID, 0, messaging.Older, 10); len(page) != 1 || page[0].Seq != fwd.Seq || page[0].Withheld == nil || page[0].Text != "" {
			t.Errorf("the forwarded copy in Germany reads %+v", page)
		}
		if page, _ := e.svc.History(fr, ana, other.ID, 0, messaging.Older, 10); len(page) != 1 || page[0].Text != bad.Text {
			t.Errorf("the forwarded copy in France reads %+v", page)
		}
		// Declaring Germany is enough; so is either of two countries.
		both := kurir.WithLocation(e.ctx, kurir.Location{Network: "FR", Declared: "DE"})
		if page, _ := e.svc.History(both, ben, g.ID, 0, messaging.Older, 10); page[0].Withheld == nil {
			t.Error("a reader connecting from France who declares Germany reads it")
		}
		// Moderators work for nobody in particular and see it.
		if page, _ := e.svc.History(e.ctx, ben, g.ID, 0, messaging.Older, 10); page[0].Text != bad.Text {
			t.Errorf("without a location the message reads %+v", page[0])
		}

		must(t, "Unrestrict", e.svc.Unrestrict(e.ctx, r.ID))
		wantCode(t, "Unrestrict twice", e.svc.Unrestrict(e.ctx, r.ID), kurir.EConflict, "")
		if page, _ := e.svc.History(de, ben, g.ID, 0, messaging.Older, 10); page[0].Text != bad.Text || page[0].Withheld != nil {
			t.Errorf("after lifting, history in Germany = %+v", page)
		}
		// Devices learn of both changes as events of the chat.
		evs := e.chatEvents(ben, g.ID, bad.Seq, 10)
		if got := kinds(evs); !slices.Equal(got, []messaging.EventKind{messaging.EventRestricted, messaging.EventUnrestricted}) || evs[0].MessageSeq != bad.Seq {
			t.Errorf("events after the message: %v", evs)
		}
	})
}

// TestRestrictRefusesBadInput: each bad restriction is refused with a clear
// error and nothing is stored or announced.
func TestRestrictRefusesBadInput(t *testing.T) {
	run(t, messaging.Config{}, func(t *testing.T, e *env) {
		ana, ben := e.user("anabel"), e.user("benedikt")
		g := e.group(ana, "Friends", ben)
		pc := e.private(ana, ben)
		m := e.send(ana, g.ID, "hello")
		seq := e.storedSeq(g.ID)
		for _, c := range []struct {
			name string
			r    messaging.Restriction
			code kurir.Code
		}{
			{"unknown country", messaging.Restriction{Chat: g.ID, Scope: []string{"XX"}, Reason: "r"}, kurir.EInvalid},
			{"no scope nor category", messaging.Restriction{Chat: g.ID, Reason: "r"}, kurir.EInvalid},
			{"no reason", messaging.Restriction{Chat: g.ID, Scope: []string{"DE"}}, kurir.EInvalid},
			{"no such chat", messaging.Restriction{Chat: 999, Scope: []string{"DE"}, Reason: "r"}, kurir.ENotFound},
			{"no such message", messaging.Restriction{Chat: g.ID, Seq: m.Seq + 100, Scope: []string{"DE"}, Reason: "r"}, kurir.ENotFound},
			{"a whole private chat", messaging.Restriction{Chat: pc.ID, Scope: []string{"DE"}, Reason: "r"}, kurir.EInvalid},
		} {
			_, err := e.svc.Restrict(e.ctx, c.r)
			wantCode(t, c.name, err, c.code, "")
		}
		if n := e.count(`SELECT COUNT(*) FROM restrictions`); n != 0 {
			t.Errorf("%d restrictions stored", n)
		}
		if got := e.storedSeq(g.ID); got != seq {
			t.Errorf("refused restrictions moved the chat from %d to %d", seq, got)
		}
		wantCode(t, "Unrestrict unknown", e.svc.Unrestrict(e.ctx, 42), kurir.ENotFound, "")
	})
}

// TestAnotherNodeSeesARestrictionOnceItSyncs: nodes share the database, and
// each keeps the restrictions in memory; another node applies a new one when
// it syncs (every second in a server), and at once when the restriction's
// own event reaches it live.
func TestAnotherNodeSeesARestrictionOnceItSyncs(t *testing.T) {
	run(t, messaging.Config{}, func(t *testing.T, e *env) {
		other := messaging.NewService(e.db, nil, e.clock, nil, messaging.Config{})
		ana := e.user("anabel")
		ch, err := e.svc.CreateChannel(e.ctx, ana, messaging.NewChat{Title: "News", Username: "newsroom"})
		must(t, "CreateChannel", err)
		post := e.send(ana, ch.ID, "news")
		de := e.in("DE")
		if _, err := other.History(de, ana, ch.ID, 0, messaging.Older, 10); err != nil { // loads its copy
			t.Fatal(err)
		}
		_, err = e.svc.Restrict(e.ctx, messaging.Restriction{Chat: ch.ID, Scope: []string{"DE"}, Reason: "court order"})
		must(t, "Restrict", err)
		if _, err := e.svc.History(de, ana, ch.ID, 0, messaging.Older, 10); kurir.ErrorCode(err) != kurir.ELegal {
			t.Errorf("the node that restricted it still serves it in Germany: %v", err)
		}
		live := messaging.Event{ChatID: ch.ID, Seq: post.Seq, Kind: messaging.EventMessage, MessageSeq: post.Seq, Message: &post}
		if other.LiveRestricted(live) {
			t.Log("the other node knew before syncing") // allowed, not required
		}
		restricted := messaging.Event{ChatID: ch.ID, Kind: messaging.EventRestricted}
		if other.LiveRestricted(restricted) {
			t.Error("a restriction's own event is filtered")
		}
		// Its own event synced the other node: the post is now withheld live.
		if !other.LiveRestricted(live) {
			t.Fatal("after the restriction's event the other node does not filter the chat's posts")
		}
		view, changed := other.LiveView(kurir.Location{Network: "DE"}, live)
		if !changed || view.Message.Text != "" || view.Message.Withheld == nil {
			t.Errorf("live in Germany: %+v", view.Message)
		}
		if view, changed := other.LiveView(kurir.Location{Network: "FR"}, live); changed || view.Message.Text != "news" {
			t.Errorf("live in France: %+v, changed %v", view.Message, changed)
		}
		if post.Text != "news" {
			t.Error("LiveView changed the event it was given")
		}
		if _, err := other.History(de, ana, ch.ID, 0, messaging.Older, 10); kurir.ErrorCode(err) != kurir.ELegal {
			t.Errorf("the other node serves it in Germany after syncing: %v", err)
		}
	})
}

// TestSearchFillsItsPageWhenTheNewestAreWithheld: withheld messages do not
// use up a search's limit; the older matches behind them are found.
func TestSearchFillsItsPageWhenTheNewestAreWithheld(t *testing.T) {
	run(t, messaging.Config{}, func(t *testing.T, e *env) {
		ana, ben := e.user("anabel"), e.user("benedikt")
		g := e.group(ana, "Friends", ben)
		var older []int64
		for i := range 3 {
			older = append(older, e.send(ana, g.ID, fmt.Sprintf("harmless river %d", i)).Seq)
		}
		for i := range 4 {
			bad := e.send(ana, g.ID, fmt.Sprintf("banned river %d", i))
			_, err := e.svc.Restrict(e.ctx, messaging.Restriction{Chat: g.ID, Seq: bad.Seq, Scope: []string{"DE"}, Reason: "Banned"})
			must(t, "Restrict", err)
		}
		de := e.in("DE")
		for _, chat := range []messaging.ChatID{g.ID, 0} {
			found, err := e.svc.SearchMessages(de, ben, "river", chat, 2)
			must(t, "search in Germany", err)
			if len(found) != 2 || found[0].Seq != older[2] || found[1].Seq != older[1] {
				t.Errorf("search in chat %d in Germany, limit 2: %+v; want the two newest harmless ones", chat, found)
			}
			found, err = e.svc.SearchMessages(de, ben, "river", chat, 10)
			must(t, "search in Germany", err)
			if len(found) != 3 {
				t.Errorf("search in chat %d in Germany, limit 10: %d found, want the 3 harmless", chat, len(found))
			}
		}
	})
}
