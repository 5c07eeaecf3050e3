package main

import (
	"fmt"
	"strings"
	"testing"

	"kurir"
	"kurir/account"
	"kurir/media"
	"kurir/media/mediatest"
	"kurir/messaging"
	"kurir/moderation"
)

// TestAdminModBulk: a bulk takedown from the command line is previewed,
// requested, refused to its requester, approved by a second moderator (and
// then runs to the end before the command returns), listed and shown
// subject by subject; bad requests change nothing.
func TestAdminModBulk(t *testing.T) {
	w := newModWorld(t)
	files := mediatest.New(t, w.db, w.msg, kurir.SystemClock{}, nil, media.Config{})
	leaflet := []byte("%PDF-1.4\n% the banned leaflet\n")
	var chans []messaging.Chat
	var owners []kurir.UserID
	var sum string
	for i := range 11 {
		owner, err := w.acc.Register(w.ctx, account.RegisterParams{Username: fmt.Sprintf("poster%02d", i), Password: "wet-otter-lantern-9"})
		w.must("Register", err)
		ch, err := w.msg.CreateChannel(w.ctx, owner.ID, messaging.NewChat{Title: fmt.Sprintf("Leaflets %d", i), Username: fmt.Sprintf("leaflets%02d", i)})
		w.must("CreateChannel", err)
		m, err := files.Upload(w.ctx, owner.ID, media.UploadParams{Name: "leaflet.pdf", Size: int64(len(leaflet))}, strings.NewReader(string(leaflet)))
		w.must("Upload", err)
		w.keys++
		_, err = w.msg.Send(w.ctx, owner.ID, ch.ID, messaging.SendParams{IdempotencyKey: fmt.Sprint("k", w.keys),
			Media: &messaging.Attachment{MediaID: int64(m.ID), Kind: string(m.Kind), ContentType: m.ContentType, Name: m.Name, Size: m.Size}})
		w.must("Send", err)
		chans, owners, sum = append(chans, ch), append(owners, owner.ID), m.SHA256.String()
	}
	flags := []string{"--kind", "takedown", "--sha256", sum, "--category", "terrorism", "--facts", "The channel shares a banned organisation's leaflet."}

	out, err := w.kurir(append([]string{"bulk", "preview", "--as", "mona"}, flags...)...)
	if err != nil || !strings.Contains(out, "11 subjects; it would wait for a second person's approval") ||
		!hasRow(out, fmt.Sprintf("chat:%d", chans[3].ID)) {
		t.Fatalf("bulk preview: %v\n%s", err, out)
	}
	if _, err := w.kurir("bulk", "request", "--as", "mona", "--kind", "takedown", "--sha256", sum, "--category", "terrorism"); err == nil ||
		!strings.Contains(err.Error(), "facts is required") {
		t.Errorf("bulk request without facts: %v, want it refused", err)
	}
	out, err = w.kurir(append([]string{"bulk", "request", "--as", "mona"}, flags...)...)
	if err != nil || !strings.Contains(out, "waits for a second person's approval") {
		t.Fatalf("bulk request: %v\n%s", err, out)
	}
	var bulkID int64
	if _, err := fmt.Sscanf(out, "bulk action %d requested", &bulkID); err != nil {
		t.Fatalf("no bulk action ID in %q", out)
	}
	if out, err := w.kurir("bulk", "list", "--as", "tina"); err != nil || !hasRow(out, id(bulkID), "takedown", sum, "terrorism", "11") {
		t.Errorf("bulk list: %v\n%s", err, out)
	}
	if _, err := w.kurir("bulk", "approve", id(bulkID), "--as", "mona"); err == nil || !strings.Contains(err.Error(), "second person") {
		t.Errorf("the requester approves: %v, want it refused", err)
	}
	if _, err := w.kurir("bulk", "reject", id(bulkID), "--as", "milo"); err == nil || !strings.Contains(err.Error(), "--reason is required") {
		t.Errorf("reject without a reason: %v, want it refused", err)
	}
	if _, err := w.msg.History(w.ctx, owners[0], chans[0].ID, 0, messaging.Older, 1); err != nil {
		t.Fatalf("a channel was taken down before the approval: %v", err)
	}
	out, err = w.kurir("bulk", "approve", id(bulkID), "--as", "milo")
	if err != nil || !strings.Contains(out, fmt.Sprintf("bulk action %d done by @milo: takedown of 11 subjects, 11 acted on, 0 failed", bulkID)) {
		t.Fatalf("bulk approve: %v\n%s", err, out)
	}
	out, err = w.kurir("bulk", "show", id(bulkID))
	if err != nil || strings.Count(out, " done ") != 11 {
		t.Errorf("bulk show: %v\n%s; want 11 subjects done", err, out)
	}
	for i, ch := range chans {
		if _, err := w.msg.History(w.ctx, owners[i], ch.ID, 0, messaging.Older, 1); kurir.ErrorReason(err) != "chat_unavailable" {
			t.Errorf("channel %d after the bulk takedown: %v, want it unavailable", ch.ID, err)
		}
	}
}

// TestAdminModUserAndAssignees: the account review, the queue by assignee,
// and appeals listed with their due date and assigned (never to the
// decider).
func TestAdminModUserAndAssignees(t *testing.T) {
	w := newModWorld(t)
	userCase := w.report(w.ravi, moderation.Subject{Kind: moderation.SubjectUser, User: w.sam}, moderation.Spam)
	other := w.report(w.rita, moderation.Subject{Kind: moderation.SubjectMessage, Chat: w.news.ID, Seq: w.post.Seq}, moderation.Terrorism)
	if out, err := w.kurir("assign", id(userCase), "tina"); err != nil {
		t.Fatalf("assign: %v\n%s", err, out)
	}
	out, err := w.kurir("queue", "--assignee", "@tina")
	if err != nil || !hasRow(out, id(userCase)) || hasRow(out, id(other)) {
		t.Errorf("queue --assignee @tina: %v\n%s; want only case %d", err, out, userCase)
	}
	if _, err := w.kurir("queue", "--assignee", "nobody"); err == nil {
		t.Error("queue --assignee of a user that does not exist: no error")
	}

	if out, err := w.kurir("act", id(userCase), "--kind", "suspend", "--for", "7d", "--facts", "Spam runs", "--as", "mona"); err != nil {
		t.Fatalf("act: %v\n%s", err, out)
	}
	out, err = w.kurir("user", "@sammy", "--as", "tina")
	if err != nil || !strings.Contains(out, "@sammy") || !strings.Contains(out, "suspend") || !strings.Contains(out, "Spam runs") {
		t.Errorf("user @sammy: %v\n%s", err, out)
	}
	acts, _, err := w.mod.Statements(w.ctx, w.sam)
	w.must("Statements", err)
	p, err := w.mod.FileAppeal(w.ctx, w.sam, acts[0].ID, "I only posted twice.")
	w.must("FileAppeal", err)
	out, err = w.kurir("appeals", "--as", "tina")
	if err != nil || !hasRow(out, id(p.ID), "decision") || !strings.Contains(out, "in 168h") {
		t.Errorf("appeals: %v\n%s; want appeal %d due in 7 days", err, out, p.ID)
	}
	if _, err := w.kurir("assign-appeal", id(p.ID), "mona", "--as", "tina"); err == nil || !strings.Contains(err.Error(), "someone other than") {
		t.Errorf("assign the appeal to the decider: %v, want it refused", err)
	}
	if out, err := w.kurir("assign-appeal", id(p.ID), "milo", "--as", "tina"); err != nil || !strings.Contains(out, "assigned to @milo") {
		t.Errorf("assign-appeal: %v\n%s", err, out)
	}
	if out, err := w.kurir("appeals", "--assignee", "milo"); err != nil || !hasRow(out, id(p.ID), "decision") {
		t.Errorf("appeals --assignee milo: %v\n%s", err, out)
	}
	if out, err := w.kurir("appeals", "--assignee", "mona"); err != nil || hasRow(out, id(p.ID), "decision") {
		t.Errorf("appeals --assignee mona: %v\n%s; want none", err, out)
	}
}
