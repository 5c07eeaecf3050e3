package media_test

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/jpeg"
	"slices"
	"sync"
	"testing"
	"time"

	"kurir"
	"kurir/media"
	"kurir/safety/pdq"
)

// photo draws a w × h picture with detail enough for PDQ, different for
// each seed.
func photo(t *testing.T, seed, w, h int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			v := uint8((x*3 + y*seed) % 256)
			if (x*8/w+y*6/h+seed)%3 == 0 {
				v = 255 - v
			}
			img.Set(x, y, color.RGBA{v, uint8(x * 255 / w), uint8(y*255/h + seed*40), 255})
		}
	}
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: 90}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// hashBanned is a scanner that blocks photos whose PDQ hashes are within
// matching distance of one banned photo's, and records what it saw.
type hashBanned struct {
	banned pdq.Hash
	mu     sync.Mutex
	seen   []media.Candidate
}

func (s *hashBanned) Scan(_ context.Context, c media.Candidate) (media.Verdict, error) {
	s.mu.Lock()
	s.seen = append(s.seen, c)
	s.mu.Unlock()
	for _, h := range c.PDQ {
		if pdq.Distance(h, s.banned) <= pdq.MatchDistance {
			return media.Verdict{Action: media.Block, Reason: "it matches a banned photo."}, nil
		}
	}
	return media.Verdict{Action: media.Allow}, nil
}

func (s *hashBanned) candidates() []media.Candidate {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.seen)
}

// TestLargePhotosAreHashedAfterwards: a photo over HashLaterPixels is
// stored and answered without being decoded, then decoded by RunHasher,
// which adds its thumbnail and hashes and scans it again: a banned one is
// taken down everywhere. Smaller photos are decoded once at upload, and
// the scanners see their hashes. However many uploads come at once, no
// more images decode at a time than Config.Decoders allows.
func TestLargePhotosAreHashedAfterwards(t *testing.T) {
	bannedPhoto := photo(t, 5, 400, 300)
	img, err := jpeg.Decode(bytes.NewReader(bannedPhoto))
	if err != nil {
		t.Fatal(err)
	}
	banned, _, err := pdq.HashImage(img)
	if err != nil {
		t.Fatal(err)
	}
	scanner := &hashBanned{banned: banned}
	run(t, media.Config{HashLaterPixels: 300 * 300, Decoders: 2}, func(t *testing.T, e *env) {
		u := e.user("photographer")
		const n = 8
		got := make([]media.Media, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				data := photo(t, i, 400, 300) // 120,000 pixels: hashed later
				if i%2 == 1 {
					data = photo(t, i, 200, 150) // 30,000 pixels: hashed now
				}
				if i == 4 {
					data = bannedPhoto
				}
				m, err := e.upload(u, "p.jpg", data)
				if err != nil {
					t.Errorf("upload %d: %v", i, err)
				}
				got[i] = m
			})
		}
		wg.Wait()
		if t.Failed() {
			return
		}
		for i, m := range got {
			if large := i%2 == 0; m.Thumbnail == large || m.Status != media.Ready {
				t.Errorf("upload %d (large: %v) answered with thumbnail %v, status %s", i, large, m.Thumbnail, m.Status)
			}
		}
		for _, c := range scanner.candidates() {
			if c.Stored != 0 {
				continue // the other engine's, scanned again
			}
			if large := c.Width == 400; (c.PDQ == nil) != large || len(c.PDQ) != 0 && len(c.PDQ) != 8 {
				t.Errorf("a %d × %d photo was scanned at upload with %d hashes", c.Width, c.Height, len(c.PDQ))
			}
		}

		ctx, cancel := context.WithCancel(e.ctx)
		done := make(chan struct{})
		go func() { e.svc.RunHasher(ctx, 20*time.Millisecond, 4); close(done) }()
		defer func() { cancel(); <-done }()
		deadline := time.Now().Add(30 * time.Second)
		for e.count(`SELECT COUNT(*) FROM media WHERE hash_pending = 1`) > 0 {
			if time.Now().After(deadline) {
				t.Fatal("large photos were still waiting to be hashed after 30 s")
			}
			time.Sleep(20 * time.Millisecond)
		}

		for i, m := range got {
			_, err := e.read(u, m.ID, true)
			if i == 4 {
				wantErr(t, "the banned large photo", err, kurir.ENotFound, "media_removed")
				continue
			}
			if err != nil {
				t.Errorf("photo %d has no thumbnail after hashing: %v", i, err)
			}
		}
		if k := e.count(`SELECT COUNT(*) FROM media WHERE pdq = ''`); k != 0 {
			t.Errorf("%d photos have no stored PDQ hashes", k)
		}
		if _, err := e.upload(u, "again.jpg", bannedPhoto); kurir.ErrorReason(err) != "media_removed" && kurir.ErrorReason(err) != "media_blocked" {
			t.Errorf("uploading the removed photo again: %v, want it refused", err)
		}
		if p := e.svc.DecodePeak(); p < 1 || p > 2 {
			t.Errorf("%d images decoded at once, want 1 or 2 (Decoders: 2)", p)
		}
	}, scanner)
}
