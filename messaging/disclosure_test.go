package messaging_test

import (
	"slices"
	"testing"
	"time"

	"kurir/messaging"
)

func TestSentByListsEveryChatKindOldestFirstWithRemovedContentAndNoDeletedText(t *testing.T) {
	run(t, messaging.Config{}, func(t *testing.T, e *env) {
		suspect, friend := e.user("suspect"), e.user("friend")
		dm := e.private(suspect, friend)
		g := e.group(suspect, "Crew", friend)
		ch, err := e.svc.CreateChannel(e.ctx, suspect, messaging.NewChat{Title: "Announcements"})
		must(t, "CreateChannel", err)

		start := e.clock.Now()
		e.send(suspect, dm.ID, "one: private")
		e.clock.Advance(time.Minute)
		e.send(friend, dm.ID, "not the suspect's")
		e.clock.Advance(time.Minute)
		removed := e.send(suspect, g.ID, "two: removed by moderation")
		e.clock.Advance(time.Minute)
		deleted := e.send(suspect, g.ID, "three: deleted by its author")
		e.clock.Advance(time.Minute)
		e.send(suspect, ch.ID, "four: a channel post")
		e.clock.Advance(time.Minute)
		e.send(suspect, g.ID, "five: in a group later taken down")
		e.clock.Advance(time.Minute)
		end := e.clock.Now()
		e.send(suspect, dm.ID, "six: after the range")

		_, err = e.svc.RemoveMessage(e.ctx, g.ID, removed.Seq, "spam")
		must(t, "RemoveMessage", err)
		must(t, "Delete", e.svc.Delete(e.ctx, suspect, g.ID, deleted.Seq))
		must(t, "TakeDown", e.svc.TakeDown(e.ctx, g.ID, "abuse"))

		all, err := e.svc.SentBy(e.ctx, suspect, time.Time{}, time.Time{}, 0)
		must(t, "SentBy open range", err)
		got := make([]string, len(all))
		for i, m := range all {
			got[i] = m.Text
			if m.SenderID != suspect {
				t.Errorf("SentBy returned message %d/%d of sender %d", m.ChatID, m.Seq, m.SenderID)
			}
		}
		want := []string{"one: private", "two: removed by moderation", "", "four: a channel post", "five: in a group later taken down", "six: after the range"}
		if !slices.Equal(got, want) {
			t.Fatalf("SentBy texts = %q, want %q", got, want)
		}
		if m := all[1]; m.Deleted || m.Removed.IsZero() || m.ChatID != g.ID {
			t.Errorf("removed message = %+v; want its content, not deleted, with the time of removal", m)
		}
		if m := all[2]; !m.Deleted || m.Seq != deleted.Seq || !m.Removed.IsZero() {
			t.Errorf("deleted message = %+v; want listed as deleted, without text", m)
		}
		if m := all[0]; m.Deleted || !m.Removed.IsZero() || m.ChatID != dm.ID {
			t.Errorf("private message = %+v", m)
		}

		in, err := e.svc.SentBy(e.ctx, suspect, start.Add(time.Minute), end, 0)
		must(t, "SentBy in a range", err)
		if got := len(in); got != 4 || in[0].Seq != removed.Seq || in[3].Text != "five: in a group later taken down" {
			t.Errorf("SentBy [start+1m, end) = %+v; want messages two to five (the message at end excluded)", in)
		}
		first, err := e.svc.SentBy(e.ctx, suspect, start, time.Time{}, 2)
		must(t, "SentBy with a limit", err)
		if len(first) != 2 || first[0].Text != "one: private" {
			t.Errorf("SentBy limit 2 = %+v; want the two oldest", first)
		}
		none, err := e.svc.SentBy(e.ctx, suspect, end.Add(time.Hour), time.Time{}, 0)
		if err != nil || len(none) != 0 {
			t.Errorf("SentBy after the last message = %+v, %v; want nothing", none, err)
		}
	})
}
