package moderation_test

import (
	"bytes"
	"image"
	"image/color"
	"image/jpeg"
	"strings"
	"testing"

	"kurir"
	"kurir/media"
	"kurir/media/mediatest"
	"kurir/moderation"
	"kurir/safety/hashbank"
	"kurir/safety/pdq"
)

// detailedJPEG draws a w × h photo with detail enough for PDQ.
func detailedJPEG(t *testing.T, seed, w, h, quality int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			v := uint8((x*3*320/w + y*240/h*seed) % 256)
			if (x*8/w+y*6/h+seed)%3 == 0 {
				v = 255 - v
			}
			img.Set(x, y, color.RGBA{v, uint8(x * 255 / w), uint8(y*255/h + seed*40), 255})
		}
	}
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: quality}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestRemoveAndBank: a moderator who removes a photo can add its hashes to
// a hash bank, and then a recompressed, resized copy of it is refused at
// upload, where before only the same bytes were. Banking goes only with
// remove_media, into a bank that exists; a bad request changes nothing.
func TestRemoveAndBank(t *testing.T) {
	run(t, func(t *testing.T, e *env) {
		banks, err := hashbank.NewService(e.ctx, e.db, e.clock, nil)
		must(t, "hashbank", err)
		must(t, "CreateBank", banks.CreateBank(e.ctx, "REMOVED", hashbank.Block, "files moderators removed"))
		files := mediatest.New(t, e.db, e.msg, e.clock, nil, media.Config{}, hashbank.MediaScanner{Banks: banks})
		owner := e.user("poster")
		upload := func(data []byte) (media.Media, error) {
			return files.Upload(e.ctx, owner, media.UploadParams{Name: "p.jpg", Size: int64(len(data))}, bytes.NewReader(data))
		}
		original, err := upload(detailedJPEG(t, 1, 320, 240, 90))
		must(t, "Upload", err)
		copyOf := detailedJPEG(t, 1, 256, 192, 60) // smaller and recompressed
		subj := moderation.Subject{Kind: moderation.SubjectMedia, Media: int64(original.ID)}
		p := moderation.ActParams{Kind: moderation.RemoveMedia, Category: moderation.Category("violence"), Facts: "A threat, drawn.", Bank: "REMOVED"}

		bad := p
		bad.Bank = "NO_SUCH_BANK"
		_, err = e.mod.ActOnOwnInitiative(e.ctx, e.admin, subj, bad, "")
		wantCode(t, "remove into a bank that does not exist", err, kurir.ENotFound, "")
		bad = p
		bad.Kind = moderation.Ban
		_, err = e.mod.ActOnOwnInitiative(e.ctx, e.admin, moderation.Subject{Kind: moderation.SubjectUser, User: owner}, bad, "")
		wantCode(t, "bank with a ban", err, kurir.EInvalid, "bank_not_applicable")
		if _, err := files.Get(e.ctx, owner, original.ID); err != nil {
			t.Fatalf("after refused requests the photo is %v; want it untouched", err)
		}
		if q, err := e.mod.Queue(e.ctx, e.admin, moderation.QueueFilter{}); err != nil || len(q) != 0 {
			t.Errorf("after refused requests the queue holds %d cases (%v); want none", len(q), err)
		}

		_, err = e.mod.ActOnOwnInitiative(e.ctx, e.admin, subj, p, "")
		must(t, "remove and bank", err)
		if _, err := files.Get(e.ctx, owner, original.ID); kurir.ErrorReason(err) != "media_removed" {
			t.Errorf("the removed photo: %v, want media_removed", err)
		}
		must(t, "Sync", banks.Sync(e.ctx))
		if _, err := upload(copyOf); kurir.ErrorReason(err) != "media_blocked" {
			t.Errorf("a recompressed, smaller copy of the removed photo: %v, want it blocked", err)
		}
		if _, err := upload(detailedJPEG(t, 4, 320, 240, 90)); err != nil {
			t.Errorf("an unrelated photo: %v, want it stored", err)
		}
		list, err := banks.Banks(e.ctx)
		must(t, "Banks", err)
		if len(list) != 1 || list[0].Entries != 2 {
			t.Errorf("banks: %+v, want REMOVED with the photo's SHA-256 and PDQ", list)
		}
	})
}

// TestRecheckTakedownIsAnAutomatedDecision: a photo stored before its hash
// was banked, found by the hash bank recheck and taken down, becomes a
// decided case whose statement says automated means decided, which its
// owner can appeal to a person.
func TestRecheckTakedownIsAnAutomatedDecision(t *testing.T) {
	run(t, func(t *testing.T, e *env) {
		banks, err := hashbank.NewService(e.ctx, e.db, e.clock, nil)
		must(t, "hashbank", err)
		files := mediatest.New(t, e.db, e.msg, e.clock, nil, media.Config{}, hashbank.MediaScanner{Banks: banks})
		owner := e.user("early")
		data := detailedJPEG(t, 2, 320, 240, 90)
		m, err := files.Upload(e.ctx, owner, media.UploadParams{Name: "p.jpg", Size: int64(len(data))}, bytes.NewReader(data))
		must(t, "Upload", err)
		must(t, "CreateBank", banks.CreateBank(e.ctx, "TERRORISM", hashbank.Block, ""))
		img, err := jpeg.Decode(bytes.NewReader(detailedJPEG(t, 2, 320, 240, 70)))
		must(t, "Decode", err)
		h, _, err := pdq.HashImage(img)
		must(t, "HashImage", err)
		_, err = banks.Import(e.ctx, "TERRORISM", strings.NewReader(h.String()+"\n"), hashbank.List, hashbank.SignalPDQ, "hotline", nil)
		must(t, "Import", err)
		n, err := hashbank.Rechecker{Banks: banks, Media: files}.Recheck(e.ctx)
		if err != nil || n != 1 {
			t.Fatalf("Recheck: %d, %v; want the stored photo found", n, err)
		}
		_, err = e.mod.IntakeDetection(e.ctx, 100)
		must(t, "IntakeDetection", err)
		acts, _, err := e.mod.Statements(e.ctx, owner)
		must(t, "Statements", err)
		if len(acts) != 1 || !acts[0].AutomatedDecision || acts[0].Kind != moderation.RemoveMedia || acts[0].Subject.Media != int64(m.ID) {
			t.Fatalf("statements: %+v; want one automated removal of the photo", acts)
		}
		if _, err := e.mod.FileAppeal(e.ctx, owner, acts[0].ID, "It is my own holiday photo."); err != nil {
			t.Errorf("appeal: %v", err)
		}
	})
}
