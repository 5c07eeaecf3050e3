package hashbank_test

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"strings"
	"testing"
	"time"

	"kurir"
	"kurir/account"
	"kurir/clocktest"
	"kurir/media"
	"kurir/media/mediatest"
	"kurir/messaging"
	"kurir/safety"
	"kurir/safety/hashbank"
	"kurir/safety/pdq"
	"kurir/sqldb"
	"kurir/sqldb/sqldbtest"
)

// picture draws a photo-like test image: gradients and shapes, so that
// PDQ has detail to work with.
func picture(seed int) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, 320, 240))
	for y := range 240 {
		for x := range 320 {
			v := uint8((x*3 + y*seed) % 256)
			if (x/40+y/30+seed)%3 == 0 {
				v = 255 - v
			}
			img.Set(x, y, color.RGBA{v, uint8(x), uint8(y + seed*40), 255})
		}
	}
	return img
}

func encodeJPEG(t *testing.T, img image.Image, q int) []byte {
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: q}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func rotate90(src *image.RGBA) *image.RGBA {
	b := src.Bounds()
	dst := image.NewRGBA(image.Rect(0, 0, b.Dy(), b.Dx()))
	for y := range b.Dy() {
		for x := range b.Dx() {
			dst.Set(b.Dy()-1-y, x, src.At(x, y))
		}
	}
	return dst
}

// TestMediaScanner: uploads are checked against the banks at ingest; a
// recompressed or rotated copy of a banked photo is still caught by PDQ,
// an exact file by its SHA-256, and an unrelated photo passes.
func TestMediaScanner(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		ctx := t.Context()
		clock := clocktest.New(time.Time{})
		banks, err := hashbank.NewService(ctx, db, clock, nil)
		if err != nil {
			t.Fatal(err)
		}
		banks.CreateBank(ctx, "TERRORISM", hashbank.Block, "")
		banks.CreateBank(ctx, "SPAM", hashbank.Hold, "")
		known := picture(1)
		h, q, err := pdq.HashImage(known)
		if err != nil || q < 50 {
			t.Fatalf("hash the known picture: %v (quality %d)", err, q)
		}
		if _, err := banks.Import(ctx, "TERRORISM", strings.NewReader(h.String()+"\n"), hashbank.List, hashbank.SignalPDQ, "test", nil); err != nil {
			t.Fatal(err)
		}
		spam := []byte("%PDF-1.4 spam flyer")
		sum := sha256.Sum256(spam)
		if _, err := banks.Import(ctx, "SPAM", strings.NewReader(fmt.Sprintf("%x\n", sum)), hashbank.List, hashbank.SignalSHA256, "test", nil); err != nil {
			t.Fatal(err)
		}

		acc := account.NewService(db, clock, nil, account.Config{Argon2: account.CheapArgon2Params, Limits: &account.Limits{}})
		u, err := acc.Register(ctx, account.RegisterParams{Username: "uploader", Password: "wet-otter-lantern-9"})
		if err != nil {
			t.Fatal(err)
		}
		msg := messaging.NewService(db, nil, clock, nil, messaging.Config{})
		files := mediatest.New(t, db, msg, clock, nil, media.Config{}, hashbank.MediaScanner{Banks: banks})
		upload := func(name string, data []byte) (media.Media, error) {
			return files.Upload(ctx, u.ID, media.UploadParams{Name: name, Size: int64(len(data))}, bytes.NewReader(data))
		}
		var png1 bytes.Buffer
		png.Encode(&png1, known)
		for _, tt := range []struct {
			name string
			data []byte
		}{
			{"the banked photo as PNG", png1.Bytes()},
			{"recompressed as JPEG at quality 60", encodeJPEG(t, known, 60)},
			{"turned a quarter", encodeJPEG(t, rotate90(known), 90)},
		} {
			_, err := upload("x", tt.data)
			if kurir.ErrorCode(err) != kurir.EForbidden || kurir.ErrorReason(err) != "media_blocked" {
				t.Errorf("%s: err = %v, want blocked", tt.name, err)
			}
		}
		if m, err := upload("other.jpg", encodeJPEG(t, picture(7), 90)); err != nil || m.Status != media.Ready {
			t.Errorf("an unrelated photo: %+v, %v; want it stored and ready", m, err)
		}
		if m, err := upload("flyer.pdf", spam); err != nil || m.Status != media.Held {
			t.Errorf("a file in a hold bank: %+v, %v; want it held", m, err)
		}
	}, account.Migrations, media.Migrations, messaging.Migrations, hashbank.Migrations)
}

// TestLargePhotoInABlockBankTakenDownAfterwards: a photo over
// HashLaterPixels is answered before its PDQ is computed; once the media
// hasher has hashed it, a block bank's match takes it down everywhere and
// leaves a block signal naming it, for a case.
func TestLargePhotoInABlockBankTakenDownAfterwards(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		ctx := t.Context()
		clock := clocktest.New(time.Time{})
		banks := node(t, db)
		must(t, banks.CreateBank(ctx, "TERRORISM", hashbank.Block, ""))
		h, _, err := pdq.HashImage(picture(1))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := banks.Import(ctx, "TERRORISM", strings.NewReader(h.String()+"\n"), hashbank.List, hashbank.SignalPDQ, "test", nil); err != nil {
			t.Fatal(err)
		}
		acc := account.NewService(db, clock, nil, account.Config{Argon2: account.CheapArgon2Params, Limits: &account.Limits{}})
		u, err := acc.Register(ctx, account.RegisterParams{Username: "uploader", Password: "wet-otter-lantern-9"})
		if err != nil {
			t.Fatal(err)
		}
		msg := messaging.NewService(db, nil, clock, nil, messaging.Config{})
		files := mediatest.New(t, db, msg, clock, nil, media.Config{HashLaterPixels: 200 * 200}, hashbank.MediaScanner{Banks: banks})
		data := encodeJPEG(t, picture(1), 85) // 320 × 240: over the bound
		m, err := files.Upload(ctx, u.ID, media.UploadParams{Name: "big.jpg", Size: int64(len(data))}, bytes.NewReader(data))
		if err != nil || m.Status != media.Ready || m.Thumbnail {
			t.Fatalf("upload: %+v, %v; want it stored and answered before decoding", m, err)
		}
		if ok, err := files.HashPending(ctx); !ok || err != nil {
			t.Fatalf("hash the photo left for later: %v, %v", ok, err)
		}
		if _, err := files.Get(ctx, u.ID, m.ID); kurir.ErrorReason(err) != "media_removed" {
			t.Errorf("after hashing: %v, want it taken down", err)
		}
		var action string
		if err := db.Read().QueryRowContext(ctx, `SELECT action FROM safety_signals WHERE media_id = $1`, int64(m.ID)).Scan(&action); err != nil || action != "block" {
			t.Errorf("signal: %q, %v; want a block naming the photo", action, err)
		}
		if ok, err := files.HashPending(ctx); ok || err != nil {
			t.Errorf("nothing should be left to hash: %v, %v", ok, err)
		}
	}, account.Migrations, media.Migrations, messaging.Migrations, safety.Migrations, hashbank.Migrations)
}
