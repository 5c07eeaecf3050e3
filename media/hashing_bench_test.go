package media_test

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/jpeg"
	"io"
	"math/rand/v2"
	"path/filepath"
	"testing"
	"time"

	"kurir/account"
	"kurir/blob"
	"kurir/clocktest"
	"kurir/media"
	"kurir/media/imaging"
	"kurir/messaging"
	"kurir/safety/pdq"
	"kurir/sqldb/sqldbtest"
)

// decodeAgain is the scanner the upload path had before media shared its
// decode: it decoded the upload a second time to compute its PDQ hashes
// (what hashbank.MediaScanner did then), for the "before" figure.
type decodeAgain struct{}

func (decodeAgain) Scan(_ context.Context, c media.Candidate) (media.Verdict, error) {
	rc, err := c.Open()
	if err != nil {
		return media.Verdict{}, err
	}
	defer rc.Close()
	img, err := pdq.Decode(rc.(io.ReaderAt), c.Size, imaging.Limits{})
	if err == nil {
		pdq.Dihedral(img)
	}
	return media.Verdict{}, nil
}

// BenchmarkPhotoUpload uploads a 12-megapixel JPEG (4000 × 3000, noisy
// gradients, 5 MB) on SQLite: stage, hash, decode, thumbnail, PDQ, scan,
// strip, store. "before" decodes twice as the path used to (thumbnail, then
// PDQ in the scanner); "shared" once for both; "later" is a photo over
// HashLaterPixels, answered without decoding (RunHasher decodes it after).
//
//	go test -run '^$' -bench PhotoUpload -benchtime 20x ./media/
func BenchmarkPhotoUpload(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	img := image.NewRGBA(image.Rect(0, 0, 4000, 3000))
	for y := range 3000 {
		for x := range 4000 {
			n := uint8(r.IntN(24))
			img.SetRGBA(x, y, color.RGBA{uint8(x/16) + n, uint8(y/12) + n, uint8((x+y)/28) + n, 255})
		}
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 85}); err != nil {
		b.Fatal(err)
	}
	data := buf.Bytes()
	for _, bc := range []struct {
		name     string
		cfg      media.Config
		scanners []media.Scanner
	}{
		{"before", media.Config{}, []media.Scanner{decodeAgain{}}},
		{"shared", media.Config{}, nil},
		{"later", media.Config{HashLaterPixels: 10_000_000}, nil},
	} {
		b.Run(bc.name, func(b *testing.B) {
			db := sqldbtest.SQLite(b, account.Migrations, media.Migrations, messaging.Migrations)
			clock := clocktest.New(time.Time{})
			acc := account.NewService(db, clock, nil, account.Config{Argon2: account.CheapArgon2Params, Limits: &account.Limits{}})
			u, err := acc.Register(b.Context(), account.RegisterParams{Username: "bench", Password: "wet-otter-lantern-9"})
			if err != nil {
				b.Fatal(err)
			}
			dir := b.TempDir()
			blobs, err := blob.OpenFS(filepath.Join(dir, "blobs"))
			if err != nil {
				b.Fatal(err)
			}
			cfg := bc.cfg
			cfg.UploadsPerUser, cfg.Quota = &ratelimitOff, 1<<40
			svc, err := media.NewService(db, blobs, messaging.NewService(db, nil, clock, nil, messaging.Config{}), filepath.Join(dir, "up"), clock, nil, cfg, bc.scanners...)
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := svc.Upload(b.Context(), u.ID, media.UploadParams{Name: "p.jpg", Size: int64(len(data))}, bytes.NewReader(data)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
