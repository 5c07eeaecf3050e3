package media_test

import (
	"bytes"
	"compress/zlib"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"kurir"
	"kurir/account"
	"kurir/blob"
	"kurir/clocktest"
	"kurir/media"
	"kurir/messaging"
	"kurir/ratelimit"
	"kurir/sqldb"
	"kurir/sqldb/sqldbtest"
)

type env struct {
	t       *testing.T
	ctx     context.Context
	db      *sqldb.DB
	clock   *clocktest.Fake
	acc     *account.Service
	msg     *messaging.Service
	svc     *media.Service
	blobs   *blob.FS
	staging string
	n       int
}

// run runs fn on every engine with a fresh media service whose config is cfg.
func run(t *testing.T, cfg media.Config, fn func(t *testing.T, e *env), scanners ...media.Scanner) {
	t.Helper()
	t.Parallel()
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		t.Parallel()
		dir := t.TempDir()
		blobs, err := blob.OpenFS(filepath.Join(dir, "blobs"))
		if err != nil {
			t.Fatal(err)
		}
		clock := clocktest.New(time.Time{})
		e := &env{t: t, ctx: t.Context(), db: db, clock: clock, blobs: blobs, staging: filepath.Join(dir, "uploads"),
			acc: account.NewService(db, clock, nil, account.Config{Argon2: account.CheapArgon2Params, Limits: &account.Limits{}})}
		e.msg = messaging.NewService(db, nil, clock, nil, messaging.Config{})
		cfg := cfg // each engine runs in parallel with its own copy
		if cfg.UploadsPerUser == nil {
			cfg.UploadsPerUser = &ratelimitOff
		}
		if e.svc, err = media.NewService(db, blobs, e.msg, e.staging, clock, nil, cfg, scanners...); err != nil {
			t.Fatal(err)
		}
		fn(t, e)
	}, account.Migrations, media.Migrations, messaging.Migrations)
}

func (e *env) user(name string) kurir.UserID {
	e.t.Helper()
	u, err := e.acc.Register(e.ctx, account.RegisterParams{Username: name, Password: "wet-otter-lantern-9"})
	if err != nil {
		e.t.Fatal(err)
	}
	return u.ID
}

func (e *env) upload(owner kurir.UserID, name string, data []byte) (media.Media, error) {
	return e.svc.Upload(e.ctx, owner, media.UploadParams{Name: name, Size: int64(len(data))}, bytes.NewReader(data))
}

func (e *env) mustUpload(owner kurir.UserID, name string, data []byte) media.Media {
	e.t.Helper()
	m, err := e.upload(owner, name, data)
	if err != nil {
		e.t.Fatalf("upload %s: %v", name, err)
	}
	return m
}

// post sends m in chat as its owner.
func (e *env) post(owner kurir.UserID, chat messaging.ChatID, m media.Media) messaging.Message {
	e.t.Helper()
	m, err := e.svc.Attach(e.ctx, owner, m.ID)
	if err != nil {
		e.t.Fatalf("attach: %v", err)
	}
	e.n++
	msg, err := e.msg.Send(e.ctx, owner, chat, messaging.SendParams{IdempotencyKey: strings.Repeat("k", e.n),
		Media: &messaging.Attachment{MediaID: int64(m.ID), Kind: string(m.Kind), ContentType: m.ContentType, Name: m.Name, Size: m.Size}})
	if err != nil {
		e.t.Fatalf("send: %v", err)
	}
	return msg
}

func (e *env) read(viewer kurir.UserID, id media.ID, thumb bool) ([]byte, error) {
	_, o, err := e.svc.Open(e.ctx, viewer, id, thumb)
	if err != nil {
		return nil, err
	}
	defer o.Close()
	return io.ReadAll(o)
}

func (e *env) count(q string, args ...any) int {
	e.t.Helper()
	var n int
	if err := e.db.Read().QueryRowContext(e.ctx, q, args...).Scan(&n); err != nil {
		e.t.Fatal(err)
	}
	return n
}

// files counts the blobs stored and the files left in staging.
func (e *env) files() (blobs, staged int) {
	e.t.Helper()
	e.blobs.Walk(e.ctx, func(blob.Hash, int64) error { blobs++; return nil })
	left, _ := os.ReadDir(e.staging)
	return blobs, len(left)
}

func wantErr(t *testing.T, what string, err error, code kurir.Code, reason string) {
	t.Helper()
	var ke *kurir.Error
	if kurir.ErrorCode(err) != code || (reason != "" && (!errors.As(err, &ke) || ke.Reason != reason)) {
		t.Errorf("%s: err = %v (reason %q), want %s/%s", what, err, kurir.ErrorReason(err), code, reason)
	}
}

func pngImage(t *testing.T, w, h int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, color.RGBA{uint8(x), uint8(y), 128, 255})
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// jpegWithLocation is a JPEG whose Exif block holds a GPS position with the
// marker text "SECRET-PLACE".
func jpegWithLocation(t *testing.T) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 64, 48))
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, nil); err != nil {
		t.Fatal(err)
	}
	// TIFF, big-endian: IFD0 with a GPS pointer; the GPS IFD with an ASCII
	// GPSMapDatum (tag 0x12) holding the marker.
	marker := []byte("SECRET-PLACE\x00")
	var tiff bytes.Buffer
	be := binary.BigEndian
	tiff.Write([]byte("MM\x00\x2a"))
	binary.Write(&tiff, be, uint32(8))
	binary.Write(&tiff, be, uint16(1))                                      // IFD0: one entry
	binary.Write(&tiff, be, []uint16{0x8825, 4})                            // GPSInfo, LONG
	binary.Write(&tiff, be, []uint32{1, 26})                                // count 1, GPS IFD at 26
	binary.Write(&tiff, be, uint32(0))                                      // no next IFD
	binary.Write(&tiff, be, uint16(1))                                      // GPS IFD: one entry
	binary.Write(&tiff, be, []uint16{0x12, 2})                              // GPSMapDatum, ASCII
	binary.Write(&tiff, be, []uint32{uint32(len(marker)), 26 + 2 + 12 + 4}) // count, offset of the text
	binary.Write(&tiff, be, uint32(0))
	tiff.Write(marker)
	app1 := append([]byte("Exif\x00\x00"), tiff.Bytes()...)
	seg := []byte{0xFF, 0xE1, byte((len(app1) + 2) >> 8), byte(len(app1) + 2)}
	out := append([]byte{}, b.Bytes()[:2]...) // SOI
	out = append(out, seg...)
	out = append(out, app1...)
	return append(out, b.Bytes()[2:]...)
}

func TestUploadShareAndDownload(t *testing.T) {
	run(t, media.Config{}, func(t *testing.T, e *env) {
		owner, friend, stranger := e.user("owner"), e.user("friend"), e.user("stranger")
		pic := pngImage(t, 640, 480)
		m := e.mustUpload(owner, "holiday.png", pic)
		if m.Kind != media.Photo || m.ContentType != "image/png" || m.Width != 640 || m.Height != 480 || !m.Thumbnail || m.Status != media.Ready {
			t.Errorf("uploaded PNG = %+v; want a ready 640x480 photo with a thumbnail", m)
		}
		got, err := e.read(owner, m.ID, false)
		if err != nil || !bytes.Equal(got, pic) {
			t.Errorf("owner reads back %d bytes (err %v), want the %d uploaded", len(got), err, len(pic))
		}
		thumb, err := e.read(owner, m.ID, true)
		if err != nil {
			t.Fatal(err)
		}
		if cfg, format, err := image.DecodeConfig(bytes.NewReader(thumb)); err != nil || format != "jpeg" || max(cfg.Width, cfg.Height) > 320 {
			t.Errorf("thumbnail: %s %dx%d, %v; want a JPEG at most 320 px", format, cfg.Width, cfg.Height, err)
		}

		// Nobody else sees it until it is posted where they can read it.
		if _, err := e.read(friend, m.ID, false); kurir.ErrorCode(err) != kurir.ENotFound {
			t.Errorf("friend reads an unposted upload: err = %v, want not found", err)
		}
		g, err := e.msg.CreateGroup(e.ctx, owner, messaging.NewChat{Title: "Trip", Members: []kurir.UserID{friend}})
		if err != nil {
			t.Fatal(err)
		}
		e.post(owner, g.ID, m)
		if got, err := e.read(friend, m.ID, false); err != nil || !bytes.Equal(got, pic) {
			t.Errorf("member reads a posted photo: %d bytes, %v", len(got), err)
		}
		_, noSuch := e.read(stranger, m.ID+1000, false)
		_, notYours := e.read(stranger, m.ID, false)
		digits := regexp.MustCompile(`[0-9]+`)
		shape := func(err error) string { return digits.ReplaceAllString(kurir.ErrorMessage(err), "N") }
		if kurir.ErrorCode(notYours) != kurir.ENotFound || kurir.ErrorCode(noSuch) != kurir.ENotFound || shape(notYours) != shape(noSuch) {
			t.Errorf("non-member: %v; missing object: %v; want the same not-found answer", notYours, noSuch)
		}

		// The same bytes again are stored once.
		again := e.mustUpload(friend, "copy.png", pic)
		if again.SHA256 != m.SHA256 || again.ID == m.ID {
			t.Errorf("second upload of the same bytes: %+v", again)
		}
		if n := e.count(`SELECT refs FROM blobs WHERE sha256 = $1`, m.SHA256.String()); n != 2 {
			t.Errorf("blob refs = %d, want 2", n)
		}
		if blobs, staged := e.files(); blobs != 2 || staged != 0 {
			t.Errorf("%d blobs (photo and thumbnail expected: 2) and %d staged files (want 0)", blobs, staged)
		}
	})
}

func TestImageMetadataStripped(t *testing.T) {
	run(t, media.Config{}, func(t *testing.T, e *env) {
		owner := e.user("traveller")
		raw := jpegWithLocation(t)
		m := e.mustUpload(owner, "IMG_0001.JPG", raw)
		got, err := e.read(owner, m.ID, false)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(got, []byte("SECRET-PLACE")) {
			t.Error("the served photo still carries its GPS block")
		}
		if _, err := jpeg.Decode(bytes.NewReader(got)); err != nil {
			t.Errorf("the stripped photo does not decode: %v", err)
		}
		if m.UploadSHA256 == m.SHA256 || m.UploadSHA256 != blob.Hash(sha(raw)) {
			t.Errorf("upload hash %s, stored %s: want the upload's own hash, different from the stripped content's", m.UploadSHA256, m.SHA256)
		}
	})
}

func TestUploadBadInput(t *testing.T) {
	run(t, media.Config{MaxSize: 1 << 20}, func(t *testing.T, e *env) {
		u := e.user("mallory")
		up := func(p media.UploadParams, body io.Reader) error {
			_, err := e.svc.Upload(e.ctx, u, p, body)
			return err
		}
		wantErr(t, "empty file", up(media.UploadParams{Size: 0}, bytes.NewReader(nil)), kurir.EInvalid, "empty_file")
		wantErr(t, "declared size wrong", up(media.UploadParams{Size: 10}, strings.NewReader("12345")), kurir.EInvalid, "size_mismatch")
		wantErr(t, "over the limit", up(media.UploadParams{Size: -1}, bytes.NewReader(make([]byte, 1<<20+1))), kurir.EInvalid, "too_large")
		wantErr(t, "announced over the limit", up(media.UploadParams{Size: 2 << 20}, strings.NewReader("x")), kurir.EInvalid, "too_large")
		wantErr(t, "text claiming to be a JPEG", up(media.UploadParams{Name: "cat.jpg", ContentType: "image/jpeg", Size: -1},
			strings.NewReader("this is not a picture at all")), kurir.EInvalid, "not_an_image")
		wantErr(t, "text sent as a photo", up(media.UploadParams{Kind: media.Photo, Size: -1},
			strings.NewReader("still not a picture")), kurir.EInvalid, "not_an_image")
		wantErr(t, "broken connection", up(media.UploadParams{Size: -1},
			io.MultiReader(strings.NewReader("half a file"), iotestErr{})), kurir.EInvalid, "incomplete_upload")
		wantErr(t, "unknown kind", up(media.UploadParams{Kind: "sticker", Size: -1}, strings.NewReader("x")), kurir.EInvalid, "invalid_kind")

		// A decompression bomb: a small PNG that claims 50,000 x 50,000 pixels.
		bomb := pngBomb(t, 50_000, 50_000)
		err := up(media.UploadParams{Name: "bomb.png", Size: int64(len(bomb))}, bytes.NewReader(bomb))
		if kurir.ErrorCode(err) != kurir.EInvalid {
			t.Errorf("PNG bomb: err = %v, want invalid", err)
		}
		if blobs, staged := e.files(); blobs != 0 || staged != 0 {
			t.Errorf("after refused uploads: %d blobs and %d staged files, want none", blobs, staged)
		}
		if n := e.count(`SELECT COUNT(*) FROM media`); n != 0 {
			t.Errorf("%d media objects recorded from refused uploads", n)
		}

		// A name with path tricks keeps only a harmless last element.
		m, err := e.upload(u, "../../etc/\u202Egpj.exe", []byte("plain text file"))
		if err != nil {
			t.Fatal(err)
		}
		if m.Name != "gpj.exe" || m.Kind != media.File {
			t.Errorf("name %q, kind %s; want gpj.exe, file", m.Name, m.Kind)
		}
	})
}

func TestResumableUpload(t *testing.T) {
	run(t, media.Config{}, func(t *testing.T, e *env) {
		u, other := e.user("uploader"), e.user("other")
		data := pngImage(t, 300, 200)
		up, err := e.svc.StartUpload(e.ctx, u, media.UploadParams{Name: "big.png", Size: int64(len(data))})
		if err != nil {
			t.Fatal(err)
		}
		half := len(data) / 2
		// The connection breaks a third of the way through the first part:
		// what arrived is kept.
		third := len(data) / 3
		got, err := e.svc.AppendUpload(e.ctx, u, up.ID, 0, io.MultiReader(bytes.NewReader(data[:third]), iotestErr{}))
		wantErr(t, "broken part", err, kurir.EInvalid, "incomplete_part")
		if got.Received != int64(third) {
			t.Errorf("after a broken part, received = %d, want %d", got.Received, third)
		}
		if _, err := e.svc.AppendUpload(e.ctx, u, up.ID, 0, bytes.NewReader(data[:half])); kurir.ErrorCode(err) != kurir.EConflict {
			t.Errorf("part at a stale offset: err = %v, want conflict", err)
		}
		if _, err := e.svc.AppendUpload(e.ctx, other, up.ID, int64(third), bytes.NewReader(data[third:])); kurir.ErrorCode(err) != kurir.ENotFound {
			t.Errorf("someone else's upload: err = %v, want not found", err)
		}
		if got, err = e.svc.AppendUpload(e.ctx, u, up.ID, int64(third), bytes.NewReader(data[third:half])); err != nil || got.Received != int64(half) || got.Media != nil {
			t.Fatalf("second part: %+v, %v", got, err)
		}
		if _, err := e.svc.AppendUpload(e.ctx, u, up.ID, int64(half), bytes.NewReader(append(data[half:], 'x'))); kurir.ErrorCode(err) != kurir.EInvalid {
			t.Errorf("a part past the size: err = %v, want invalid", err)
		}
		got, err = e.svc.AppendUpload(e.ctx, u, up.ID, int64(half), bytes.NewReader(data[half:]))
		if err != nil || got.Media == nil || got.Media.Width != 300 {
			t.Fatalf("last part: %+v, %v; want the stored photo", got, err)
		}
		if back, err := e.read(u, got.Media.ID, false); err != nil || !bytes.Equal(back, data) {
			t.Errorf("read back %d bytes, %v", len(back), err)
		}
		if _, err := e.svc.UploadStatus(e.ctx, u, up.ID); kurir.ErrorCode(err) != kurir.ENotFound {
			t.Errorf("a finished upload is still in progress: %v", err)
		}
		if _, staged := e.files(); staged != 0 {
			t.Errorf("%d staged files left after the upload finished", staged)
		}

		// An abandoned upload expires and its bytes go.
		left, err := e.svc.StartUpload(e.ctx, u, media.UploadParams{Name: "left.bin", Size: 100})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.AppendUpload(e.ctx, u, left.ID, 0, bytes.NewReader(make([]byte, 40))); err != nil {
			t.Fatal(err)
		}
		e.clock.Advance(25 * time.Hour)
		if _, err := e.svc.Collect(e.ctx); err != nil {
			t.Fatal(err)
		}
		if _, staged := e.files(); staged != 0 {
			t.Errorf("%d staged files left after an abandoned upload expired", staged)
		}
	})
}

type verdict media.Verdict

func (v verdict) Scan(context.Context, media.Candidate) (media.Verdict, error) {
	return media.Verdict(v), nil
}

func TestScannerVerdicts(t *testing.T) {
	t.Run("block", func(t *testing.T) {
		run(t, media.Config{}, func(t *testing.T, e *env) {
			u := e.user("blocked")
			_, err := e.upload(u, "x.png", pngImage(t, 10, 10))
			wantErr(t, "blocked upload", err, kurir.EForbidden, "media_blocked")
			if !strings.Contains(kurir.ErrorMessage(err), "matches a known hash") {
				t.Errorf("the refusal does not give the scanner's reason: %q", kurir.ErrorMessage(err))
			}
			if blobs, staged := e.files(); blobs != 0 || staged != 0 {
				t.Errorf("%d blobs, %d staged files after a blocked upload", blobs, staged)
			}
		}, verdict{Action: media.Allow}, verdict{Action: media.Block, Reason: "it matches a known hash"})
	})
	t.Run("hold", func(t *testing.T) {
		run(t, media.Config{}, func(t *testing.T, e *env) {
			u := e.user("held")
			m := e.mustUpload(u, "x.png", pngImage(t, 10, 10))
			if m.Status != media.Held {
				t.Errorf("status %s, want held", m.Status)
			}
			_, err := e.svc.Attach(e.ctx, u, m.ID)
			wantErr(t, "attach a held upload", err, kurir.EForbidden, "media_held")
		}, verdict{Action: media.Hold, Reason: "looks like spam"})
	})
}

func TestRemoveEverywhere(t *testing.T) {
	run(t, media.Config{}, func(t *testing.T, e *env) {
		a, b, c := e.user("alice"), e.user("bobby"), e.user("carol")
		raw := jpegWithLocation(t)
		m1 := e.mustUpload(a, "one.jpg", raw)
		m2 := e.mustUpload(b, "two.jpg", raw)
		g, _ := e.msg.CreateGroup(e.ctx, a, messaging.NewChat{Title: "G", Members: []kurir.UserID{b, c}})
		e.post(a, g.ID, m1)
		e.post(b, g.ID, m2)
		// Taken down by the hash of the bytes as uploaded: both copies go.
		n, err := e.svc.Remove(e.ctx, m1.UploadSHA256, "child sexual abuse material")
		if err != nil || n != 2 {
			t.Fatalf("Remove = %d, %v; want 2 objects", n, err)
		}
		for _, id := range []media.ID{m1.ID, m2.ID} {
			_, err := e.read(c, id, false)
			wantErr(t, "read removed media", err, kurir.ENotFound, "media_removed")
		}
		_, err = e.upload(c, "again.jpg", raw)
		wantErr(t, "upload removed content again", err, kurir.EForbidden, "media_removed")
		if err := e.svc.Restore(e.ctx, m1.UploadSHA256); err != nil {
			t.Fatal(err)
		}
		if _, err := e.read(c, m2.ID, false); err != nil {
			t.Errorf("after restore: %v", err)
		}
	})
}

func TestCollect(t *testing.T) {
	run(t, media.Config{Grace: time.Hour}, func(t *testing.T, e *env) {
		u := e.user("collector")
		sent := e.mustUpload(u, "sent.png", pngImage(t, 20, 20))
		unsent := e.mustUpload(u, "unsent.bin", []byte("never sent"))
		g, _ := e.msg.CreateGroup(e.ctx, u, messaging.NewChat{Title: "G"})
		e.post(u, g.ID, sent)
		e.clock.Advance(2 * time.Hour)
		if _, err := e.svc.Collect(e.ctx); err != nil { // forgets the unsent object
			t.Fatal(err)
		}
		if _, err := e.svc.Get(e.ctx, u, unsent.ID); kurir.ErrorCode(err) != kurir.ENotFound {
			t.Errorf("unsent upload after the grace period: %v, want not found", err)
		}
		if blobs, _ := e.files(); blobs != 3 {
			t.Errorf("%d blobs right after the object went, want 3 (kept for the grace period)", blobs)
		}
		e.clock.Advance(2 * time.Hour)
		n, err := e.svc.Collect(e.ctx)
		if err != nil || n != 1 {
			t.Errorf("Collect = %d, %v; want the unsent file's blob deleted", n, err)
		}
		if got, err := e.read(u, sent.ID, false); err != nil || len(got) == 0 {
			t.Errorf("the sent photo after collection: %d bytes, %v", len(got), err)
		}
	})
}

func TestQuota(t *testing.T) {
	run(t, media.Config{Quota: 1000}, func(t *testing.T, e *env) {
		u := e.user("hoarder")
		e.mustUpload(u, "a.bin", make([]byte, 600))
		_, err := e.upload(u, "b.bin", make([]byte, 600))
		wantErr(t, "over quota", err, kurir.EForbidden, "quota_exceeded")
	})
}

var ratelimitOff = ratelimit.Limit{}

type iotestErr struct{}

func (iotestErr) Read([]byte) (int, error) { return 0, io.ErrUnexpectedEOF }

func sha(b []byte) [32]byte { return sha256.Sum256(b) }

// pngBomb is a tiny PNG whose header claims w x h pixels.
func pngBomb(t *testing.T, w, h uint32) []byte {
	t.Helper()
	var out bytes.Buffer
	out.WriteString("\x89PNG\r\n\x1a\n")
	chunk := func(kind string, data []byte) {
		binary.Write(&out, binary.BigEndian, uint32(len(data)))
		out.WriteString(kind)
		out.Write(data)
		crc := crc32.NewIEEE()
		crc.Write([]byte(kind))
		crc.Write(data)
		binary.Write(&out, binary.BigEndian, crc.Sum32())
	}
	ihdr := binary.BigEndian.AppendUint32(binary.BigEndian.AppendUint32(nil, w), h)
	chunk("IHDR", append(ihdr, 8, 0, 0, 0, 0)) // 8-bit greyscale
	var z bytes.Buffer
	zw := zlib.NewWriter(&z)
	zw.Write(make([]byte, 1<<16)) // compresses to almost nothing
	zw.Close()
	chunk("IDAT", z.Bytes())
	chunk("IEND", nil)
	return out.Bytes()
}
