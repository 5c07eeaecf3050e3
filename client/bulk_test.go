package client_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"testing"

	"kurir"
	"kurir/client"
)

// testBulk: every channel that posted one file is previewed, requested,
// refused approval by its requester, approved by a second moderator and
// taken down; a second request is rejected.
func testBulk(t *testing.T, s *server) {
	ctx := t.Context()
	mona, _ := s.staff(t, "bulk_mona", kurir.RoleModerator)
	nico, _ := s.staff(t, "bulk_nico", kurir.RoleModerator)
	leaflet := []byte("%PDF-1.4\n% a leaflet of a banned group\n")
	sum := sha256.Sum256(leaflet)
	var owners []*client.Client
	var chans []client.Chat
	for i := range 11 {
		owner, _ := s.user(t, fmt.Sprintf("bulk_owner%02d", i))
		ch := must(owner.CreateChannel(ctx, client.NewChat{Title: fmt.Sprintf("Leaflets %d", i)}))(t, "create channel")
		m := must(owner.UploadMedia(ctx, bytes.NewReader(leaflet), int64(len(leaflet)), client.UploadParams{Name: "leaflet.pdf"}))(t, "upload")
		must(owner.Send(ctx, ch.ID, client.SendParams{MediaID: m.ID}))(t, "post")
		owners, chans = append(owners, owner), append(chans, ch)
	}
	p := client.BulkParams{Kind: client.ActionTakedown, SHA256: hex.EncodeToString(sum[:]), Category: "terrorism",
		Facts: "The channel spreads a leaflet of a banned organisation."}
	pre := must(mona.PreviewBulk(ctx, p))(t, "preview")
	if len(pre.Targets) != 11 || !pre.NeedsApproval || pre.ID != 0 {
		t.Fatalf("preview: %+v; want 11 channels, needing approval, nothing recorded", pre)
	}
	req := must(mona.RequestBulk(ctx, p))(t, "request")
	if req.State != "pending" || len(req.Subjects) != 11 {
		t.Fatalf("request: %+v", req)
	}
	pending := must(nico.BulkRequests(ctx, ""))(t, "list pending")
	if len(pending) != 1 || pending[0].ID != req.ID {
		t.Errorf("pending bulk actions: %+v", pending)
	}
	_, err := mona.ApproveBulk(ctx, req.ID)
	wantReason(t, "the requester approves", err, "forbidden", "own_request")
	done := must(nico.ApproveBulk(ctx, req.ID))(t, "approve")
	if done.State != "done" || done.Done != 11 {
		t.Errorf("approved: %+v", done)
	}
	for i, ch := range chans {
		_, err := owners[i].History(ctx, ch.ID, client.Before(0), 10)
		wantReason(t, "history of a channel taken down in bulk", err, "forbidden", "chat_unavailable")
	}

	other := []byte("%PDF-1.4\n% another leaflet\n")
	osum := sha256.Sum256(other)
	for i := range 11 {
		m := must(owners[i].UploadMedia(ctx, bytes.NewReader(other), int64(len(other)), client.UploadParams{Name: "other.pdf"}))(t, "upload")
		g := must(owners[i].CreateGroup(ctx, client.NewChat{Title: "g"}))(t, "group")
		must(owners[i].Send(ctx, g.ID, client.SendParams{MediaID: m.ID}))(t, "post")
	}
	p2 := p
	p2.SHA256, p2.Kind = hex.EncodeToString(osum[:]), client.ActionRemoveMessage
	req2 := must(mona.RequestBulk(ctx, p2))(t, "second request")
	if err := nico.RejectBulk(ctx, req2.ID, "Those are news reports about the leaflet."); err != nil {
		t.Fatal(err)
	}
	rejected := must(nico.BulkRequests(ctx, "rejected"))(t, "list rejected")
	if len(rejected) != 1 || rejected[0].Reason == "" {
		t.Errorf("rejected: %+v", rejected)
	}
}
