package messaging_test

import (
	"context"
	"encoding/json"
	"sync"
	"testing"

	"kurir"
	"kurir/messaging"
)

// notices records what a service publishes.
type notices struct {
	mu  sync.Mutex
	got []messaging.Notice
}

func (n *notices) Publish(_ context.Context, _ string, data []byte) error {
	var v messaging.Notice
	if err := json.Unmarshal(data, &v); err != nil {
		return err
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	n.got = append(n.got, v)
	return nil
}

func (n *notices) take() []messaging.Notice {
	n.mu.Lock()
	defer n.mu.Unlock()
	got := n.got
	n.got = nil
	return got
}

// readsIn returns the read marks in user's update log after pts.
func (e *env) readsIn(user kurir.UserID, pts int64) []messaging.Event {
	e.t.Helper()
	var out []messaging.Event
	for _, u := range e.updates(user, pts, 3) { // a small page, so reads and events interleave across pages
		if u.Event.Kind == messaging.EventRead {
			out = append(out, u.Event)
		}
	}
	return out
}

func (e *env) pts(user kurir.UserID) int64 {
	e.t.Helper()
	st, err := e.svc.State(e.ctx, user)
	if err != nil {
		e.t.Fatal(err)
	}
	return st.PTS
}

// TestReadReceipts: in a private chat each person sees how far the other
// has read, in the chat, the chat list and live; a reader's other devices
// learn of the mark through the update log; groups keep no receipts.
func TestReadReceipts(t *testing.T) {
	run(t, messaging.Config{}, func(t *testing.T, e *env) {
		pub := &notices{}
		e.svc = messaging.NewService(e.db, pub, e.clock, nil, messaging.Config{})
		anna, boris, chen := e.user("anna"), e.user("boris"), e.user("chen")
		pc := e.private(anna, boris)
		for range 3 {
			e.send(anna, pc.ID, "hello") // seq 1..3
		}
		if c := e.chat(anna, pc.ID); c.PeerReadSeq != 0 {
			t.Errorf("anna sees boris read to %d before he read anything", c.PeerReadSeq)
		}
		annaAt, borisAt := e.pts(anna), e.pts(boris)
		pub.take()

		must(t, "boris reads 2", e.svc.MarkRead(e.ctx, boris, pc.ID, 2))
		if c := e.chat(anna, pc.ID); c.PeerReadSeq != 2 {
			t.Errorf("anna's chat: boris read to %d, want 2", c.PeerReadSeq)
		}
		var listed bool
		for _, d := range e.dialogs(anna) {
			if d.Chat.ID == pc.ID {
				listed = true
				if d.Chat.PeerReadSeq != 2 {
					t.Errorf("anna's chat list: boris read to %d, want 2", d.Chat.PeerReadSeq)
				}
			}
		}
		if !listed {
			t.Error("the private chat is not in anna's list")
		}
		if c := e.chat(boris, pc.ID); c.PeerReadSeq != 3 {
			t.Errorf("boris's chat: anna (who sent 1..3) read to %d, want 3", c.PeerReadSeq)
		}
		want := messaging.Event{ChatID: pc.ID, Kind: messaging.EventRead, ActorID: boris, UserID: boris, MessageSeq: 2}
		for who, at := range map[kurir.UserID]int64{anna: annaAt, boris: borisAt} {
			reads := e.readsIn(who, at)
			if len(reads) != 1 {
				t.Fatalf("user %d's log has %d read marks, want 1: %+v", who, len(reads), reads)
			}
			got := reads[0]
			got.At = want.At
			if got != want {
				t.Errorf("user %d's log: %+v, want %+v", who, got, want)
			}
		}
		sent := pub.take()
		if len(sent) != 1 || sent[0].Event.Kind != messaging.EventRead || sent[0].Large || len(sent[0].To) != 2 {
			t.Fatalf("published %+v, want one read notice to both", sent)
		}
		for _, r := range sent[0].To {
			if r.PTS != e.pts(r.User) {
				t.Errorf("notice gives user %d pts %d, their log is at %d", r.User, r.PTS, e.pts(r.User))
			}
		}

		// A mark that does not move is no news.
		annaAt, borisAt = e.pts(anna), e.pts(boris)
		must(t, "boris reads 1 again", e.svc.MarkRead(e.ctx, boris, pc.ID, 1))
		must(t, "boris reads 2 again", e.svc.MarkRead(e.ctx, boris, pc.ID, 2))
		if e.pts(anna) != annaAt || e.pts(boris) != borisAt || len(pub.take()) != 0 {
			t.Error("marking an old position again advanced a log or published")
		}
		// Nor is a mark refused.
		wantCode(t, "read beyond the end", e.svc.MarkRead(e.ctx, boris, pc.ID, 9), kurir.EInvalid, "beyond_end")
		if c := e.chat(anna, pc.ID); c.PeerReadSeq != 2 || e.pts(anna) != annaAt {
			t.Errorf("a refused mark changed the receipt to %d", c.PeerReadSeq)
		}

		// Groups: the reader's own devices learn of it, nobody else.
		g := e.group(anna, "Club", boris, chen)
		m := e.send(anna, g.ID, "meeting at 8")
		annaAt, chenAt := e.pts(anna), e.pts(chen)
		must(t, "chen reads the group", e.svc.MarkRead(e.ctx, chen, g.ID, m.Seq))
		if reads := e.readsIn(chen, chenAt); len(reads) != 1 || reads[0].MessageSeq != m.Seq {
			t.Errorf("chen's log has %+v, want his read mark", reads)
		}
		if e.pts(anna) != annaAt {
			t.Error("a read in a group went to another member's log")
		}
		if c := e.chat(anna, g.ID); c.PeerReadSeq != 0 {
			t.Errorf("a group shows a peer read position %d", c.PeerReadSeq)
		}
		if c := e.chat(chen, g.ID); c.ReadSeq != m.Seq {
			t.Errorf("chen's ReadSeq %d, want %d", c.ReadSeq, m.Seq)
		}
	})
}
