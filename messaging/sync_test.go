package messaging_test

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"kurir"
	"kurir/messaging"
)

// Every kind of change to a chat takes the chat's next seq, and each member's
// update log gets the changes made while they were in it, once each.
func TestEveryChangeTakesTheNextSeq(t *testing.T) {
	run(t, messaging.Config{}, func(t *testing.T, e *env) {
		anna, boris, chen, dora := e.user("anna"), e.user("boris"), e.user("chen"), e.user("dora")
		g := e.group(anna, "Everything", boris, dora)                              // 1 create, 2 join boris, 3 join dora
		one := e.send(anna, g.ID, "one")                                           // 4
		two := e.send(boris, g.ID, "two")                                          // 5
		must(t, "edit", e.edit(anna, g.ID, one.Seq, "one, edited"))                // 6
		must(t, "delete", e.svc.Delete(e.ctx, boris, g.ID, two.Seq))               // 7
		must(t, "pin", e.svc.Pin(e.ctx, anna, g.ID, one.Seq))                      // 8
		must(t, "unpin", e.svc.Pin(e.ctx, anna, g.ID, 0))                          // 9
		must(t, "add", e.svc.AddMembers(e.ctx, boris, g.ID, []kurir.UserID{chen})) // 10
		must(t, "role", e.svc.SetRole(e.ctx, anna, g.ID, boris, messaging.Admin))  // 11
		title := "Everything, renamed"
		_, err := e.svc.EditInfo(e.ctx, boris, g.ID, messaging.ChatInfo{Title: &title}) // 12
		must(t, "info", err)
		must(t, "leave", e.svc.Leave(e.ctx, chen, g.ID))                      // 13
		must(t, "remove", e.svc.RemoveMember(e.ctx, anna, g.ID, dora, false)) // 14

		want := []messaging.EventKind{
			messaging.EventCreate, messaging.EventJoin, messaging.EventJoin, messaging.EventMessage, messaging.EventMessage,
			messaging.EventEdit, messaging.EventDelete, messaging.EventPin, messaging.EventUnpin, messaging.EventJoin,
			messaging.EventRole, messaging.EventInfo, messaging.EventLeave, messaging.EventRemove,
		}
		n := int64(len(want))
		for _, limit := range []int{1, 4, 100} {
			evs := e.chatEvents(anna, g.ID, 0, limit)
			wantSeqs(t, fmt.Sprintf("ChatDifference paged by %d", limit), evs, 1, n)
			if got := kinds(evs); !slices.Equal(got, want) {
				t.Errorf("kinds = %v\nwant    %v", got, want)
			}
		}
		if c := e.chat(anna, g.ID); c.Seq != n {
			t.Errorf("chat at seq %d, want %d", c.Seq, n)
		}
		evs := e.chatEvents(anna, g.ID, 0, 100)
		if int64(len(evs)) != n {
			t.Fatalf("%d events, want %d", len(evs), n)
		}
		for _, c := range []struct {
			seq         int64
			actor, user kurir.UserID
			msg         int64
		}{
			{2, anna, boris, 0}, {4, anna, 0, 4}, {6, anna, 0, 4}, {7, boris, 0, 5}, {8, anna, 0, 4},
			{10, boris, chen, 0}, {11, anna, boris, 0}, {13, chen, chen, 0}, {14, anna, dora, 0},
		} {
			ev := evs[c.seq-1]
			if ev.ActorID != c.actor || ev.UserID != c.user || ev.MessageSeq != c.msg {
				t.Errorf("event %d (%s): actor %d user %d message %d; want %d %d %d", c.seq, ev.Kind, ev.ActorID, ev.UserID, ev.MessageSeq, c.actor, c.user, c.msg)
			}
		}
		if m := evs[3].Message; m == nil || m.Text != "one, edited" {
			t.Errorf("message event carries %+v, want the message as it is now", m)
		}
		if m := evs[4].Message; m == nil || !m.Deleted || m.Text != "" {
			t.Errorf("deleted message's event carries %+v, want a tombstone", m)
		}

		// Each member's log holds what happened while they were in the group;
		// the leaver and the removed member learn of their own departure.
		logs := map[string]struct {
			user     kurir.UserID
			from, to int64
		}{"anna": {anna, 1, 14}, "boris": {boris, 2, 14}, "dora": {dora, 3, 14}, "chen": {chen, 10, 13}}
		for name, l := range logs {
			ups := e.updates(l.user, 0, 5)
			wantPTS(t, name+"'s log", ups, 1, l.to-l.from+1)
			for i, u := range ups {
				if u.Event.ChatID != g.ID || u.Event.Seq != l.from+int64(i) {
					t.Errorf("%s's update %d is chat %d seq %d, want chat %d seq %d", name, u.PTS, u.Event.ChatID, u.Event.Seq, g.ID, l.from+int64(i))
					break
				}
			}
		}

		pc := e.private(anna, boris)
		m := e.send(boris, pc.ID, "hi")
		must(t, "edit", e.edit(boris, pc.ID, m.Seq, "hi!"))
		must(t, "pin", e.svc.Pin(e.ctx, anna, pc.ID, m.Seq))
		must(t, "unpin", e.svc.Pin(e.ctx, boris, pc.ID, 0))
		must(t, "delete", e.svc.Delete(e.ctx, boris, pc.ID, m.Seq))
		pevs := e.chatEvents(boris, pc.ID, 0, 2)
		wantSeqs(t, "private chat", pevs, 1, 5)
		if got, want := kinds(pevs), []messaging.EventKind{messaging.EventMessage, messaging.EventEdit, messaging.EventPin, messaging.EventUnpin, messaging.EventDelete}; !slices.Equal(got, want) {
			t.Errorf("private chat kinds = %v, want %v", got, want)
		}
	})
}

// Three members typing at once in one group still produce one gap-free
// sequence, which every member's log follows.
func TestConcurrentSendsToOneChat(t *testing.T) {
	run(t, messaging.Config{}, func(t *testing.T, e *env) {
		typists := e.users("typist", 3)
		reader := e.user("reader")
		g := e.group(typists[0], "Busy", typists[1], typists[2], reader) // seq 1..4
		const each = 100
		var wg sync.WaitGroup
		for _, u := range typists {
			wg.Go(func() {
				for i := range each {
					if _, err := e.trySend(u, g.ID, fmt.Sprintf("%d says %d", u, i)); err != nil {
						t.Errorf("send by %d: %v", u, err)
						return
					}
				}
			})
		}
		wg.Wait()
		const sent = 3 * each
		const n = 4 + sent
		evs := e.chatEvents(reader, g.ID, 0, 1000)
		wantSeqs(t, "ChatDifference", evs, 1, n)
		texts := map[string]bool{}
		for _, ev := range evs[4:] {
			if ev.Kind != messaging.EventMessage || ev.Message == nil || ev.Message.Seq != ev.Seq {
				t.Fatalf("event %d = %+v, want a message", ev.Seq, ev)
			}
			texts[ev.Message.Text] = true
		}
		if len(texts) != sent {
			t.Errorf("%d distinct messages, want %d", len(texts), sent)
		}
		if h := e.history(reader, g.ID); len(h) != sent {
			t.Errorf("history holds %d messages, want %d", len(h), sent)
		}
		// Each member's log is gap-free and follows the chat's order.
		for i, u := range append(typists, reader) {
			ups := e.updates(u, 0, 1000)
			wantPTS(t, fmt.Sprintf("member %d's log", i), ups, 1, int64(len(ups)))
			if len(ups) < sent || ups[len(ups)-1].Event.Seq != n {
				t.Errorf("member %d's log has %d updates up to seq %d, want every message up to seq %d", i, len(ups), ups[len(ups)-1].Event.Seq, n)
			}
			for j := 1; j < len(ups); j++ {
				if ups[j].Event.Seq != ups[j-1].Event.Seq+1 {
					t.Errorf("member %d's log jumps from seq %d to %d", i, ups[j-1].Event.Seq, ups[j].Event.Seq)
					break
				}
			}
		}
		if got := e.unread(reader, g.ID); got != sent {
			t.Errorf("reader has %d unread, want %d", got, sent)
		}
	})
}

// Difference is how a device catches up on private chats and small groups.
func TestDifference(t *testing.T) {
	run(t, messaging.Config{}, func(t *testing.T, e *env) {
		anna, boris, chen, loner := e.user("anna"), e.user("boris"), e.user("chen"), e.user("loner")
		pc := e.private(anna, boris)
		g := e.group(anna, "Trio", boris, chen) // boris's log: join boris, join chen
		e.send(anna, pc.ID, "p1")
		edited := e.send(boris, g.ID, "g1")
		deleted := e.send(anna, pc.ID, "p2")
		e.send(chen, g.ID, "g2")
		must(t, "edit", e.edit(boris, g.ID, edited.Seq, "g1, edited"))
		must(t, "delete", e.svc.Delete(e.ctx, anna, pc.ID, deleted.Seq))
		e.send(anna, pc.ID, "p3")
		must(t, "pin", e.svc.Pin(e.ctx, boris, pc.ID, 1))
		const n = 10

		full := e.updates(boris, 0, 1000)
		wantPTS(t, "boris's log", full, 1, n)
		seen := map[[2]int64]bool{}
		for _, u := range full {
			k := [2]int64{int64(u.Event.ChatID), u.Event.Seq}
			if seen[k] {
				t.Errorf("chat %d seq %d appears twice in the log", k[0], k[1])
			}
			seen[k] = true
		}
		if st, err := e.svc.State(e.ctx, boris); err != nil || st.PTS != n || len(st.LargeChats) != 0 {
			t.Errorf("State = %+v, %v; want pts %d and no large chats", st, err, n)
		}

		for k := int64(0); k <= n; k++ {
			d, err := e.svc.Difference(e.ctx, boris, k, 1000)
			if err != nil {
				t.Fatal(err)
			}
			if d.PTS != n || d.TooLong || !sameUpdates(d.Updates, full[k:]) {
				t.Errorf("Difference after %d: pts %d, %d updates, want pts %d and the %d after it", k, d.PTS, len(d.Updates), n, n-k)
			}
		}
		d, err := e.svc.Difference(e.ctx, boris, 4, 3)
		if err != nil || d.PTS != 7 || !sameUpdates(d.Updates, full[4:7]) {
			t.Errorf("Difference(after 4, limit 3) = pts %d, %d updates, %v; want pts 7 and updates 5..7", d.PTS, len(d.Updates), err)
		}
		for _, limit := range []int{1, 3, 9} {
			if got := e.updates(boris, 0, limit); !sameUpdates(got, full) {
				t.Errorf("paging by %d gave %d updates that differ from one call's %d", limit, len(got), len(full))
			}
		}

		for _, pts := range []int64{n + 1, -1} {
			_, err := e.svc.Difference(e.ctx, boris, pts, 10)
			wantCode(t, fmt.Sprintf("Difference after %d", pts), err, kurir.EInvalid, "beyond_end")
		}
		_, _, _, err = e.svc.ChatDifference(e.ctx, boris, g.ID, 99, 10)
		wantCode(t, "ChatDifference beyond the end", err, kurir.EInvalid, "beyond_end")

		// Messages come as they are now.
		for _, u := range full {
			m := u.Event.Message
			switch {
			case u.Event.Kind == messaging.EventMessage && u.Event.MessageSeq == edited.Seq && u.Event.ChatID == g.ID:
				if m == nil || m.Text != "g1, edited" || m.EditedAt.IsZero() {
					t.Errorf("edited message comes as %+v", m)
				}
			case u.Event.Kind == messaging.EventMessage && u.Event.MessageSeq == deleted.Seq && u.Event.ChatID == pc.ID:
				if m == nil || !m.Deleted || m.Text != "" {
					t.Errorf("deleted message comes as %+v", m)
				}
			case u.Event.Kind == messaging.EventMessage && m == nil:
				t.Errorf("message event %d has no message", u.PTS)
			}
		}

		d, err = e.svc.Difference(e.ctx, loner, 0, 10)
		if err != nil || d.PTS != 0 || len(d.Updates) != 0 {
			t.Errorf("empty log: %+v, %v", d, err)
		}
		_, err = e.svc.Difference(e.ctx, loner, 1, 10)
		wantCode(t, "Difference beyond an empty log", err, kurir.EInvalid, "beyond_end")
	})
}

func sameUpdates(a, b []messaging.Update) bool {
	return slices.EqualFunc(a, b, func(x, y messaging.Update) bool {
		return x.PTS == y.PTS && x.Event.ChatID == y.Event.ChatID && x.Event.Seq == y.Event.Seq && x.Event.Kind == y.Event.Kind
	})
}

// msgKey names a message; msgState is what a device shows for it.
type msgKey struct {
	chat messaging.ChatID
	seq  int64
}

type msgState struct {
	text    string
	deleted bool
}

// apply updates a device's copy of its chats with one change.
func apply(state map[msgKey]msgState, ev messaging.Event) {
	k := msgKey{ev.ChatID, ev.MessageSeq}
	switch ev.Kind {
	case messaging.EventMessage, messaging.EventEdit:
		state[k] = msgState{ev.Message.Text, ev.Message.Deleted}
	case messaging.EventDelete:
		state[k] = msgState{deleted: true}
	}
}

// The acceptance check: anna sends over a thousand messages into a private
// chat and a small group from several devices at once, editing and deleting
// some. boris has a device that was online throughout, applying each change
// as it came in, and one that was offline for all of it and syncs once at the
// end. Both end with the same chats, and both match History. The group gets
// more than MaxUnread messages, so the returning device's chat list shows
// the capped count.
func TestOnlineAndOfflineDevicesAgree(t *testing.T) {
	run(t, messaging.Config{}, func(t *testing.T, e *env) {
		anna, boris, chen := e.user("anna"), e.user("boris"), e.user("chen")
		pc := e.private(anna, boris)
		g := e.group(anna, "Small group", boris, chen)
		startPTS := e.updates(boris, 0, 100) // the group's joins

		// boris's online device applies each change as it comes in, in small pages.
		const page = 7
		done := make(chan struct{})
		online := map[msgKey]msgState{}
		var onlineErr error
		var polls int
		var poller sync.WaitGroup
		poller.Go(func() {
			pts := int64(len(startPTS))
			for {
				var finished bool
				select {
				case <-done:
					finished = true
				default:
				}
				d, err := e.svc.Difference(e.ctx, boris, pts, page)
				polls++
				if err != nil {
					onlineErr = err
					return
				}
				for i, u := range d.Updates {
					if u.PTS != pts+int64(i)+1 {
						onlineErr = fmt.Errorf("after pts %d the update log gave pts %d at position %d", pts, u.PTS, i)
						return
					}
					apply(online, u.Event)
				}
				if n := len(d.Updates); n > 0 && d.PTS < d.Updates[n-1].PTS {
					onlineErr = fmt.Errorf("Difference returned pts %d behind its last update %d", d.PTS, d.Updates[n-1].PTS)
					return
				}
				pts = d.PTS
				switch {
				case len(d.Updates) == 0 && finished:
					return
				case len(d.Updates) < page:
					// Caught up: wait for more, as a device waiting for a push would.
					time.Sleep(50 * time.Millisecond)
				}
			}
		})

		// One message in ten goes to the private chat, the rest to the group.
		const total, workers = 1150, 8
		var mu sync.Mutex
		want := map[msgKey]msgState{}
		var senders sync.WaitGroup
		for w := range workers {
			senders.Go(func() {
				for i := w; i < total; i += workers {
					chat := g.ID
					if i%10 == 0 {
						chat = pc.ID
					}
					text := fmt.Sprintf("message %d", i)
					m, err := e.trySend(anna, chat, text)
					if err != nil {
						t.Errorf("send %d: %v", i, err)
						return
					}
					k, st := msgKey{chat, m.Seq}, msgState{text: text}
					if i%25 == 3 || i%50 == 10 {
						st.text += " (edited)"
						if err := e.edit(anna, chat, m.Seq, st.text); err != nil {
							t.Errorf("edit %d: %v", i, err)
						}
					}
					if i%100 == 20 || i%100 == 53 { // 53 was edited first
						st = msgState{deleted: true}
						if err := e.svc.Delete(e.ctx, anna, chat, m.Seq); err != nil {
							t.Errorf("delete %d: %v", i, err)
						}
					}
					mu.Lock()
					want[k] = st
					mu.Unlock()
				}
			})
		}
		senders.Wait()
		close(done)
		poller.Wait()
		if onlineErr != nil {
			t.Fatalf("online device: %v", onlineErr)
		}
		t.Logf("online device caught up in %d polls", polls)

		offline := map[msgKey]msgState{}
		ups := e.updates(boris, 0, 100)
		wantPTS(t, "offline device's sync", ups, 1, int64(len(ups)))
		for _, u := range ups {
			apply(offline, u.Event)
		}

		if len(want) != total {
			t.Fatalf("sent %d messages, want %d", len(want), total)
		}
		kept := map[messaging.ChatID]int{}
		for k, w := range want {
			if !w.deleted {
				kept[k.chat]++
			}
		}
		for name, got := range map[string]map[msgKey]msgState{"online": online, "offline": offline} {
			if len(got) != len(want) {
				t.Errorf("%s device has %d messages, want %d", name, len(got), len(want))
			}
			for k, w := range want {
				if got[k] != w {
					t.Errorf("%s device shows chat %d seq %d as %+v, want %+v", name, k.chat, k.seq, got[k], w)
				}
			}
		}
		for _, id := range []messaging.ChatID{pc.ID, g.ID} {
			h := e.history(boris, id)
			if len(h) != kept[id] {
				t.Errorf("chat %d: history shows %d messages, want %d", id, len(h), kept[id])
			}
			for _, m := range h {
				if w := offline[msgKey{id, m.Seq}]; w.deleted || w.text != m.Text {
					t.Errorf("chat %d seq %d: history shows %q, the devices %+v", id, m.Seq, m.Text, w)
				}
			}
		}

		if kept[g.ID] <= messaging.MaxUnread || kept[pc.ID] > messaging.MaxUnread {
			t.Fatalf("test bookkeeping: %d kept in the group, %d in the private chat", kept[g.ID], kept[pc.ID])
		}
		if got := e.unread(boris, g.ID); got != messaging.MaxUnread {
			t.Errorf("group with %d unread shows %d, want the cap %d", kept[g.ID], got, messaging.MaxUnread)
		}
		if got := e.unread(boris, pc.ID); got != kept[pc.ID] {
			t.Errorf("private chat shows %d unread, want %d", got, kept[pc.ID])
		}
		if got := e.unread(chen, g.ID); got != messaging.MaxUnread {
			t.Errorf("chen's group shows %d unread, want the cap %d", got, messaging.MaxUnread)
		}
	})
}

// Channels are large from the start: a post is stored once and changes no
// subscriber's update log; subscribers pull it by the channel's seq.
func TestChannelWritesNoPerSubscriberRows(t *testing.T) {
	run(t, messaging.Config{}, func(t *testing.T, e *env) {
		owner := e.user("owner")
		subs := e.users("sub", 4)
		other := e.private(owner, subs[0])
		e.send(owner, other.ID, "a small chat keeps its log")
		ch, err := e.svc.CreateChannel(e.ctx, owner, messaging.NewChat{Title: "Broadcast", Username: "broadcast"})
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range subs {
			if _, err := e.svc.Join(e.ctx, s, ch.ID); err != nil {
				t.Fatal(err)
			}
		}
		before := map[kurir.UserID]messaging.SyncState{}
		for _, u := range append([]kurir.UserID{owner}, subs...) {
			st, err := e.svc.State(e.ctx, u)
			if err != nil {
				t.Fatal(err)
			}
			if seq, ok := st.LargeChats[ch.ID]; !ok || seq != e.storedSeq(ch.ID) {
				t.Errorf("State(%d).LargeChats = %v, want channel %d at seq %d", u, st.LargeChats, ch.ID, e.storedSeq(ch.ID))
			}
			before[u] = st
		}
		rows := e.count(`SELECT COUNT(*) FROM user_updates`)
		seq := e.storedSeq(ch.ID)

		var posts []messaging.Message
		for i := range 10 {
			posts = append(posts, e.send(owner, ch.ID, fmt.Sprintf("post %d", i)))
		}
		must(t, "edit", e.edit(owner, ch.ID, posts[0].Seq, "post 0, corrected"))
		must(t, "delete", e.svc.Delete(e.ctx, owner, ch.ID, posts[1].Seq))
		must(t, "pin", e.svc.Pin(e.ctx, owner, ch.ID, posts[2].Seq))

		if got := e.count(`SELECT COUNT(*) FROM user_updates`); got != rows {
			t.Errorf("13 changes to a channel wrote %d update-log rows, want 0", got-rows)
		}
		if got := e.count(`SELECT COUNT(*) FROM user_updates WHERE chat_id = $1`, ch.ID); got != 0 {
			t.Errorf("the channel has %d update-log rows, want 0", got)
		}
		for u, b := range before {
			st, err := e.svc.State(e.ctx, u)
			if err != nil {
				t.Fatal(err)
			}
			if st.PTS != b.PTS || st.LargeChats[ch.ID] != seq+13 {
				t.Errorf("user %d: pts %d -> %d, channel seq %d; want pts unchanged and seq %d", u, b.PTS, st.PTS, st.LargeChats[ch.ID], seq+13)
			}
			evs := e.chatEvents(u, ch.ID, b.LargeChats[ch.ID], 4)
			wantSeqs(t, fmt.Sprintf("user %d syncing the channel", u), evs, seq+1, seq+13)
		}
	})
}

// A group that passes Config.LargeChat tells its members, one last time
// through their logs, to sync it by seq from now on.
func TestGroupBecomesLarge(t *testing.T) {
	run(t, messaging.Config{LargeChat: 5}, func(t *testing.T, e *env) {
		users := e.users("member", 8)
		g := e.group(users[0], "Growing", users[1:4]...) // 4 members
		must(t, "add 5th", e.svc.AddMembers(e.ctx, users[0], g.ID, users[4:5]))
		if c := e.chat(users[0], g.ID); c.Large || c.MemberCount != 5 {
			t.Fatalf("group of 5 = %+v, want small (the limit is 5)", c)
		}
		e.send(users[1], g.ID, "still small")
		must(t, "add 6th", e.svc.AddMembers(e.ctx, users[0], g.ID, users[5:6]))
		c := e.chat(users[0], g.ID)
		if !c.Large || c.MemberCount != 6 {
			t.Fatalf("group of 6 = %+v, want large", c)
		}
		largeSeq := c.Seq
		if evs := e.chatEvents(users[0], g.ID, largeSeq-1, 10); len(evs) != 1 || evs[0].Kind != messaging.EventLarge {
			t.Fatalf("last event %+v, want the switch to large", evs)
		}

		pts := map[kurir.UserID]int64{}
		for _, u := range users[:6] {
			ups := e.updates(u, 0, 100)
			var large []messaging.Update
			for _, up := range ups {
				if up.Event.Kind == messaging.EventLarge {
					large = append(large, up)
				}
			}
			if len(large) != 1 || large[0].Event.ChatID != g.ID || large[0].Event.Seq != largeSeq || ups[len(ups)-1].Event.Seq != largeSeq {
				t.Errorf("user %d's log has large events %+v, want exactly one, at seq %d, last", u, large, largeSeq)
			}
			st, err := e.svc.State(e.ctx, u)
			if err != nil {
				t.Fatal(err)
			}
			if st.LargeChats[g.ID] != largeSeq {
				t.Errorf("State(%d).LargeChats = %v, want group %d at %d", u, st.LargeChats, g.ID, largeSeq)
			}
			pts[u] = st.PTS
		}

		rows := e.count(`SELECT COUNT(*) FROM user_updates`)
		post := e.send(users[2], g.ID, "now we are large")
		must(t, "edit", e.edit(users[2], g.ID, post.Seq, "now we are large!"))
		must(t, "add 7th", e.svc.AddMembers(e.ctx, users[1], g.ID, users[6:7]))
		must(t, "leave", e.svc.Leave(e.ctx, users[3], g.ID))
		if got := e.count(`SELECT COUNT(*) FROM user_updates`); got != rows {
			t.Errorf("4 changes to a large group wrote %d update-log rows, want 0", got-rows)
		}
		for u, p := range pts {
			st, err := e.svc.State(e.ctx, u)
			if err != nil {
				t.Fatal(err)
			}
			if st.PTS != p {
				t.Errorf("user %d's pts moved from %d to %d", u, p, st.PTS)
			}
		}
		evs := e.chatEvents(users[4], g.ID, largeSeq, 100)
		wantSeqs(t, "syncing the large group", evs, largeSeq+1, largeSeq+4)
		if got, want := kinds(evs), []messaging.EventKind{messaging.EventMessage, messaging.EventEdit, messaging.EventJoin, messaging.EventLeave}; !slices.Equal(got, want) {
			t.Errorf("kinds %v, want %v", got, want)
		}
		if st, err := e.svc.State(e.ctx, users[6]); err != nil || st.LargeChats[g.ID] != largeSeq+4 {
			t.Errorf("newcomer's State = %+v, %v; want the group at seq %d", st, err, largeSeq+4)
		}

		// A group created past the limit is large from the start.
		big, err := e.svc.CreateGroup(e.ctx, users[7], messaging.NewChat{Title: "Big from birth", Members: users[:6]})
		if err != nil {
			t.Fatal(err)
		}
		if !big.Large {
			t.Errorf("group created with 7 members is not large")
		}
		ups := e.updates(users[7], 0, 100)
		if last := ups[len(ups)-1]; last.Event.ChatID != big.ID || last.Event.Kind != messaging.EventLarge {
			t.Errorf("creator's last update = %+v, want the new group's switch to large", last.Event)
		}
	})
}
