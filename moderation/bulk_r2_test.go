package moderation_test

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"kurir"
	"kurir/media"
	"kurir/media/mediatest"
	"kurir/messaging"
	"kurir/moderation"
)

// leafletChannels makes n channels, each of a different owner, that posted
// the same file, and returns the owners, the channels and the bulk
// takedown of all of them.
func leafletChannels(t *testing.T, e *env, n int) ([]kurir.UserID, []messaging.Chat, moderation.BulkParams) {
	t.Helper()
	files := mediatest.New(t, e.db, e.msg, e.clock, nil, media.Config{})
	bad := []byte("%PDF-1.4\n% a leaflet posted everywhere\n")
	var owners []kurir.UserID
	var chans []messaging.Chat
	for i := range n {
		owner := e.user(fmt.Sprintf("poster%02d", i))
		ch, _ := e.channel(owner, fmt.Sprintf("posters%02d", i))
		m, err := files.Upload(e.ctx, owner, media.UploadParams{Name: "leaflet.pdf", Size: int64(len(bad))}, strings.NewReader(string(bad)))
		must(t, "Upload", err)
		e.keys++
		_, err = e.msg.Send(e.ctx, owner, ch.ID, messaging.SendParams{IdempotencyKey: fmt.Sprint("r2bulk", e.keys),
			Media: &messaging.Attachment{MediaID: int64(m.ID), Kind: string(m.Kind), ContentType: m.ContentType, Name: m.Name, Size: m.Size}})
		must(t, "Send", err)
		owners, chans = append(owners, owner), append(chans, ch)
	}
	return owners, chans, moderation.BulkParams{Kind: moderation.TakeDown, SHA256: sha256Hex(bad), Category: moderation.Terrorism,
		Facts: "The channel shares a leaflet of a banned organisation."}
}

// onPublish calls fn with the number of messaging events published so far,
// each time one is: a takedown publishes one.
type onPublish struct {
	n  atomic.Int64
	fn func(n int64)
}

func (p *onPublish) Publish(ctx context.Context, subject string, data []byte) error {
	p.fn(p.n.Add(1))
	return nil
}

// takenDown counts the channels a reader can no longer read, and checks
// that each owner was sent one statement of reasons, not two.
func takenDown(t *testing.T, e *env, owners []kurir.UserID, chans []messaging.Chat) int {
	t.Helper()
	n := 0
	for i, ch := range chans {
		if _, err := e.msg.History(e.ctx, owners[i], ch.ID, 0, messaging.Older, 1); kurir.ErrorReason(err) == "chat_unavailable" {
			n++
		}
		if acts, _, _ := e.mod.Statements(e.ctx, owners[i]); len(acts) > 1 {
			t.Errorf("owner %d got %d statements for one bulk action", i, len(acts))
		}
	}
	return n
}

// TestBulkActionFinishesWhenTheApproverGoesAway: the approver's request is
// cancelled (their browser closed) after the first channel went down; every
// other channel goes down all the same, none counted as failed.
func TestBulkActionFinishesWhenTheApproverGoesAway(t *testing.T) {
	run(t, func(t *testing.T, e *env) {
		owners, chans, p := leafletChannels(t, e, 5)
		approver, gone := context.WithCancel(e.ctx)
		defer gone()
		msg := messaging.NewService(e.db, &onPublish{fn: func(int64) { gone() }}, e.clock, nil, messaging.Config{})
		mod := moderation.NewService(e.db, msg, e.acc, e.clock, nil, moderation.Config{BulkApprovalAbove: 2})
		req, err := mod.RequestBulk(e.ctx, e.mod1, p)
		must(t, "RequestBulk", err)
		b, err := mod.ApproveBulk(approver, e.mod2, req.ID)
		must(t, "ApproveBulk", err)
		if approver.Err() == nil {
			t.Fatal("the approval was never cancelled: the test proves nothing")
		}
		if b.State != moderation.BulkDone || b.Done != 5 || b.Failed != 0 {
			t.Errorf("bulk action after its approver went away: %s, %d done, %d failed; want done, 5, 0", b.State, b.Done, b.Failed)
		}
		if n := takenDown(t, e, owners, chans); n != 5 {
			t.Errorf("%d of 5 channels taken down", n)
		}
	})
}

// TestBulkActionRunsInTheBackgroundAndResumesAfterARestart: with a worker,
// approval answers at once with the action running; a worker stopped after
// three channels leaves the rest to the next one, which (once the dead
// node's claim has run out, and not before) takes each remaining channel
// down exactly once.
func TestBulkActionRunsInTheBackgroundAndResumesAfterARestart(t *testing.T) {
	run(t, func(t *testing.T, e *env) {
		owners, chans, p := leafletChannels(t, e, 8)
		node1, crash := context.WithCancel(e.ctx)
		defer crash()
		msg := messaging.NewService(e.db, &onPublish{fn: func(n int64) {
			if n == 3 {
				crash()
			}
		}}, e.clock, nil, messaging.Config{})
		cfg := moderation.Config{BulkApprovalAbove: 2, BulkInBackground: true}
		mod := moderation.NewService(e.db, msg, e.acc, e.clock, nil, cfg)
		req, err := mod.RequestBulk(e.ctx, e.mod1, p)
		must(t, "RequestBulk", err)
		b, err := mod.ApproveBulk(e.ctx, e.mod2, req.ID)
		must(t, "ApproveBulk", err)
		if b.State != moderation.BulkRunning || takenDown(t, e, owners, chans) != 0 {
			t.Fatalf("approval with a worker: state %s, %d channels down; want running and none yet", b.State, takenDown(t, e, owners, chans))
		}
		running, err := mod.BulkRequests(e.ctx, e.triage, moderation.BulkRunning, 10)
		must(t, "BulkRequests running", err)
		if len(running) != 1 || running[0].ID != req.ID {
			t.Errorf("running bulk actions: %+v", running)
		}

		stopped := make(chan struct{})
		go func() { mod.RunBulk(node1, time.Hour); close(stopped) }()
		select {
		case <-stopped:
		case <-time.After(30 * time.Second):
			t.Fatal("the worker did not stop")
		}
		if n := takenDown(t, e, owners, chans); n != 3 {
			t.Fatalf("%d channels down when the first node stopped, want 3", n)
		}

		// The restarted node waits out the dead one's claim...
		mod2 := moderation.NewService(e.db, e.msg, e.acc, e.clock, nil, cfg)
		must(t, "WorkBulk", mod2.WorkBulk(e.ctx))
		if n := takenDown(t, e, owners, chans); n != 3 {
			t.Fatalf("a second node acted on a bulk action another node held: %d down", n)
		}
		// ...and then resumes it.
		e.clock.Advance(2 * time.Minute)
		node2, stop := context.WithCancel(e.ctx)
		go mod2.RunBulk(node2, time.Hour)
		defer stop()
		deadline := time.Now().Add(30 * time.Second)
		for {
			b, targets, err := mod2.BulkProgress(e.ctx, e.admin, req.ID)
			must(t, "BulkProgress", err)
			if b.State == moderation.BulkDone {
				if b.Done != 8 || b.Failed != 0 || len(targets) != 8 {
					t.Errorf("resumed bulk action: %d done, %d failed, %d targets; want 8, 0, 8", b.Done, b.Failed, len(targets))
				}
				for _, tg := range targets {
					if tg.State != "done" || tg.CaseID == 0 {
						t.Errorf("target %s: %+v", tg.Subject.Key(), tg)
					}
				}
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("bulk action not finished after a restart: %+v", b)
			}
			time.Sleep(20 * time.Millisecond)
		}
		if n := takenDown(t, e, owners, chans); n != 8 {
			t.Errorf("%d of 8 channels taken down after the restart", n)
		}
	})
}
