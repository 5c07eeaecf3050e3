package messaging_test

import (
	"testing"

	"kurir"
	"kurir/messaging"
)

// TestAttachments: a message carries its attachment through history, sync
// and forwarding; a caption may be empty; and MediaVisible answers exactly
// for the people who can read a message it is attached to.
func TestAttachments(t *testing.T) {
	run(t, messaging.Config{}, func(t *testing.T, e *env) {
		owner, member, outsider, reader := e.user("photographer"), e.user("friend"), e.user("outsider"), e.user("reader")
		g := e.group(owner, "Photos", member)
		photo := &messaging.Attachment{MediaID: 41, Kind: "photo", ContentType: "image/jpeg", Name: "beach.jpg", Size: 12345, Width: 800, Height: 600, Thumbnail: true}
		m, err := e.svc.Send(e.ctx, owner, g.ID, messaging.SendParams{Media: photo, IdempotencyKey: e.key()})
		must(t, "send a photo without a caption", err)
		if m.Media == nil || *m.Media != *photo || m.Text != "" {
			t.Errorf("sent message media = %+v, text %q; want %+v and no caption", m.Media, m.Text, photo)
		}
		if _, err := e.svc.Send(e.ctx, owner, g.ID, messaging.SendParams{IdempotencyKey: e.key()}); kurir.ErrorCode(err) != kurir.EInvalid {
			t.Errorf("send with neither text nor media: err = %v, want invalid", err)
		}
		hist := e.history(member, g.ID)
		if len(hist) == 0 || hist[len(hist)-1].Media == nil || *hist[len(hist)-1].Media != *photo {
			t.Errorf("history's last message = %+v, want the photo", hist[len(hist)-1])
		}
		evs := e.chatEvents(member, g.ID, 0, 100)
		if last := evs[len(evs)-1]; last.Message == nil || last.Message.Media == nil || last.Message.Media.MediaID != 41 {
			t.Errorf("sync's last event = %+v, want the message with its photo", last)
		}

		// The caption can be edited, also to nothing.
		must(t, "caption", e.edit(owner, g.ID, m.Seq, "At the beach"))
		must(t, "remove the caption", e.edit(owner, g.ID, m.Seq, ""))

		visible := func(user kurir.UserID, id int64) bool {
			t.Helper()
			ok, err := e.svc.MediaVisible(e.ctx, user, id)
			must(t, "MediaVisible", err)
			return ok
		}
		if !visible(member, 41) || visible(outsider, 41) || visible(member, 42) {
			t.Errorf("MediaVisible: member %v, outsider %v, unattached %v; want true, false, false",
				visible(member, 41), visible(outsider, 41), visible(member, 42))
		}

		// Forwarding to a public channel shows it to anyone; deleting the
		// forward there hides it again.
		ch, err := e.svc.CreateChannel(e.ctx, owner, messaging.NewChat{Title: "Public photos", Username: "beachpics"})
		must(t, "channel", err)
		fwd, err := e.svc.Send(e.ctx, owner, ch.ID, messaging.SendParams{ForwardFrom: &messaging.MessageRef{ChatID: g.ID, Seq: m.Seq}, IdempotencyKey: e.key()})
		must(t, "forward", err)
		if fwd.Media == nil || fwd.Media.MediaID != 41 {
			t.Errorf("forward media = %+v, want the original's", fwd.Media)
		}
		if !visible(reader, 41) {
			t.Error("a photo posted in a public channel is not visible to a reader")
		}
		must(t, "delete the forward", e.svc.Delete(e.ctx, owner, ch.ID, fwd.Seq))
		if visible(reader, 41) {
			t.Error("a photo whose only public message was deleted is still visible")
		}
		// Deleting for everyone hides it from the group's members too; a
		// member who deleted it for themselves no longer sees it.
		must(t, "hide for me", e.svc.DeleteForMe(e.ctx, member, g.ID, m.Seq))
		if visible(member, 41) {
			t.Error("a photo in a message the member deleted for themselves is still visible to them")
		}
	})
}
