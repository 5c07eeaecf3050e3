package moderation_test

import (
	"fmt"
	"strings"
	"testing"

	"kurir"
	"kurir/media"
	"kurir/media/mediatest"
	"kurir/messaging"
	"kurir/moderation"
)

// TestBulkTakedownByFileNeedsASecondPersonAboveTheThreshold: every channel
// that posted a file is previewed, and taken down only once someone other
// than the requester approves; each owner gets a statement of their own.
func TestBulkTakedownByFileNeedsASecondPersonAboveTheThreshold(t *testing.T) {
	run(t, func(t *testing.T, e *env) {
		files := mediatest.New(t, e.db, e.msg, e.clock, nil, media.Config{})
		bad := []byte("%PDF-1.4\n% the same leaflet everywhere\n")
		var owners []kurir.UserID
		var chans []messaging.Chat
		for i := range 12 {
			owner := e.user(fmt.Sprintf("owner%02d", i))
			owners = append(owners, owner)
			ch, _ := e.channel(owner, fmt.Sprintf("leaflets%02d", i))
			chans = append(chans, ch)
			m, err := files.Upload(e.ctx, owner, media.UploadParams{Name: "leaflet.pdf", Size: int64(len(bad))}, strings.NewReader(string(bad)))
			must(t, "Upload", err)
			att := &messaging.Attachment{MediaID: int64(m.ID), Kind: string(m.Kind), ContentType: m.ContentType, Name: m.Name, Size: m.Size}
			e.keys++
			_, err = e.msg.Send(e.ctx, owner, ch.ID, messaging.SendParams{Media: att, IdempotencyKey: fmt.Sprint("bulk", e.keys)})
			must(t, "Send", err)
			if i == 0 {
				// The same file twice in one channel is one target.
				e.keys++
				_, err = e.msg.Send(e.ctx, owner, ch.ID, messaging.SendParams{Media: att, IdempotencyKey: fmt.Sprint("bulk", e.keys)})
				must(t, "Send again", err)
			}
		}
		clean, _ := e.channel(e.user("bystander"), "cleanchan")
		sum := sha256Hex(bad)
		p := moderation.BulkParams{Kind: moderation.TakeDown, SHA256: sum, Category: moderation.Terrorism,
			Facts: "The channel shares a leaflet of a banned organisation."}

		_, err := e.mod.PreviewBulk(e.ctx, e.triage, p)
		wantCode(t, "triage previews", err, kurir.EForbidden, "")
		bp := p
		bp.SHA256 = "nothex"
		_, err = e.mod.PreviewBulk(e.ctx, e.mod1, bp)
		wantCode(t, "bad hash", err, kurir.EInvalid, "")
		pre, err := e.mod.PreviewBulk(e.ctx, e.mod1, p)
		must(t, "PreviewBulk", err)
		if len(pre.Targets) != 12 || !pre.NeedsApproval {
			t.Fatalf("preview: %d targets, needs approval %v; want 12 channels, needing approval", len(pre.Targets), pre.NeedsApproval)
		}
		if _, err := e.msg.History(e.ctx, owners[0], chans[0].ID, 0, messaging.Older, 1); err != nil {
			t.Fatalf("a preview changed something: %v", err)
		}

		req, err := e.mod.RequestBulk(e.ctx, e.mod1, p)
		must(t, "RequestBulk", err)
		if req.State != moderation.BulkPending {
			t.Fatalf("request state %q, want pending", req.State)
		}
		if _, err := e.msg.History(e.ctx, owners[1], chans[1].ID, 0, messaging.Older, 1); err != nil {
			t.Fatalf("a pending bulk action took effect: %v", err)
		}
		_, err = e.mod.ApproveBulk(e.ctx, e.mod1, req.ID)
		wantCode(t, "requester approves own request", err, kurir.EForbidden, "own_request")
		done, err := e.mod.ApproveBulk(e.ctx, e.mod2, req.ID)
		must(t, "ApproveBulk", err)
		if done.Done != 12 || done.Failed != 0 {
			t.Errorf("bulk ran %d actions with %d failures, want 12 and 0", done.Done, done.Failed)
		}
		_, err = e.mod.ApproveBulk(e.ctx, e.mod2, req.ID)
		wantCode(t, "approve twice", err, kurir.EConflict, "")
		for i, ch := range chans {
			_, err := e.msg.History(e.ctx, owners[i], ch.ID, 0, messaging.Older, 1)
			wantCode(t, "history of a channel taken down in bulk", err, kurir.EForbidden, "chat_unavailable")
			acts, _, _ := e.mod.Statements(e.ctx, owners[i])
			if len(acts) != 1 || acts[0].Kind != moderation.TakeDown {
				t.Errorf("owner %d statements: %+v", i, acts)
			}
		}
		if _, err := e.msg.History(e.ctx, e.admin.ID, clean.ID, 0, messaging.Older, 1); err != nil {
			t.Errorf("a channel that never posted the file: %v", err)
		}

		// Small ones run at once.
		m, err := files.Upload(e.ctx, owners[0], media.UploadParams{Name: "other.pdf", Size: 19}, strings.NewReader("%PDF-1.4\n% another\n"))
		must(t, "Upload", err)
		g, err := e.msg.CreateGroup(e.ctx, owners[0], messaging.NewChat{Title: "g"})
		must(t, "CreateGroup", err)
		e.keys++
		_, err = e.msg.Send(e.ctx, owners[0], g.ID, messaging.SendParams{Media: &messaging.Attachment{MediaID: int64(m.ID), Kind: "file", Name: "other.pdf"},
			IdempotencyKey: fmt.Sprint("bulk", e.keys)})
		must(t, "Send", err)
		small, err := e.mod.RequestBulk(e.ctx, e.mod1, moderation.BulkParams{Kind: moderation.RemoveMessage, SHA256: m.SHA256.String(),
			Category: moderation.Spam, Facts: "spam leaflet"})
		must(t, "RequestBulk small", err)
		if small.State != moderation.BulkDone || small.Done != 1 {
			t.Errorf("small bulk: %+v", small)
		}
	})
}
