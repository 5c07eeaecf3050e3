package media

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strings"
	"unicode"
	"unicode/utf8"

	"kurir"
	"kurir/blob"
	"kurir/media/imaging"
	"kurir/safety/pdq"
	"kurir/sqldb"
)

// UploadParams describe an upload.
type UploadParams struct {
	// Name is the file's name as the uploader calls it; only its last path
	// element is kept.
	Name string
	// ContentType is what the client says the file is. It is never trusted:
	// the type is sniffed from the bytes, and a claim to be an image that
	// the bytes do not bear out is refused.
	ContentType string
	// Kind asks for the file to be sent as a photo (an image is required) or
	// as a file; empty means by its content.
	Kind Kind
	// Size is the length the client announced, or -1 if it did not.
	Size int64
}

// Upload takes in a whole file from r (a request body) and stores it. The
// bytes are staged on disk while they arrive, never held in memory.
func (s *Service) Upload(ctx context.Context, owner kurir.UserID, p UploadParams, r io.Reader) (Media, error) {
	p, err := s.checkUpload(ctx, owner, p)
	if err != nil {
		return Media{}, err
	}
	f, err := os.CreateTemp(s.staging, "upload-*")
	if err != nil {
		return Media{}, fmt.Errorf("stage upload: %w", err)
	}
	defer func() {
		f.Close()
		os.Remove(f.Name())
	}()
	h := blob.NewHasher()
	n, err := io.Copy(io.MultiWriter(f, h), io.LimitReader(r, s.cfg.MaxSize+1))
	if err != nil {
		// The client went away or the body was cut short: either way the
		// file is incomplete.
		return Media{}, &kurir.Error{Code: kurir.EInvalid, Reason: "incomplete_upload", Field: "body", Err: err,
			Message: fmt.Sprintf("The upload broke off after %d bytes; nothing was stored. Send it again, or use a resumable upload.", n)}
	}
	if err := checkReceived(n, p.Size, s.cfg.MaxSize); err != nil {
		return Media{}, err
	}
	return s.ingest(ctx, owner, p, f, h.Info())
}

// checkUpload validates an upload before any byte is read: the rate limit,
// the size limit and the quota, and the name and kind.
func (s *Service) checkUpload(ctx context.Context, owner kurir.UserID, p UploadParams) (UploadParams, error) {
	if s.limiter != nil {
		if ok, retry := s.limiter.Allow(fmt.Sprint(owner)); !ok {
			return p, &kurir.Error{Code: kurir.ERateLimited, Reason: "upload_rate", RetryAfter: retry,
				Message: "You are uploading too fast; wait a moment and try again."}
		}
	}
	if p.Size > s.cfg.MaxSize {
		return p, tooLarge(s.cfg.MaxSize)
	}
	switch p.Kind {
	case "", Photo, File:
	default:
		return p, kurir.Invalid("kind", "invalid_kind", "Send media as %q or %q, or leave the kind out.", Photo, File)
	}
	p.Name = CleanName(p.Name)
	var used int64
	err := s.db.Read().QueryRowContext(ctx, `SELECT COALESCE(SUM(size), 0) FROM media WHERE owner_id = $1`, owner).Scan(&used)
	if err != nil {
		return p, fmt.Errorf("read media quota: %w", err)
	}
	if used+max(p.Size, 0) > s.cfg.Quota {
		return p, &kurir.Error{Code: kurir.EForbidden, Reason: "quota_exceeded", Limit: s.cfg.Quota,
			Message: fmt.Sprintf("Your files take %s of your %s; delete some before uploading more.", humanBytes(used), humanBytes(s.cfg.Quota))}
	}
	return p, nil
}

func checkReceived(n, declared, limit int64) error {
	switch {
	case n > limit:
		return tooLarge(limit)
	case declared >= 0 && n != declared:
		return kurir.Invalid("size", "size_mismatch", "The upload was announced as %d bytes but %d arrived; nothing was stored.", declared, n)
	case n == 0:
		return kurir.Invalid("body", "empty_file", "The file is empty.")
	}
	return nil
}

func tooLarge(limit int64) error {
	e := kurir.Invalid("size", "too_large", "Files may be at most %s.", humanBytes(limit))
	e.Limit = limit
	return e
}

// ingest turns a staged upload into a stored media object: it sniffs the
// type, checks images before decoding them, decodes a photo once (within
// the decoding bound) for its thumbnail and PDQ hashes, asks every Scanner,
// strips metadata, stores the blobs and records the object. A photo over
// HashLaterPixels is stored without being decoded, for RunHasher.
func (s *Service) ingest(ctx context.Context, owner kurir.UserID, p UploadParams, staged *os.File, up blob.Info) (Media, error) {
	head := make([]byte, imaging.SniffLen)
	n, err := staged.ReadAt(head, 0)
	if err != nil && !errors.Is(err, io.EOF) {
		return Media{}, fmt.Errorf("read staged upload: %w", err)
	}
	m := Media{OwnerID: owner, Name: p.Name, Size: up.Size, UploadSHA256: up.SHA256, UploadMD5: up.MD5Hex(),
		ContentType: imaging.Sniff(head[:n]), CreatedAt: s.clock.Now().UTC()}
	format := supportedImage(m.ContentType)
	claimsImage := p.Kind == Photo || strings.HasPrefix(strings.ToLower(p.ContentType), "image/")
	switch {
	case format != "":
		m.Kind = Photo
		if p.Kind == File {
			m.Kind = File
		}
	case claimsImage:
		return Media{}, kurir.Invalid("body", "not_an_image",
			"The file is not a JPEG, PNG, GIF or WebP image, whatever its name or type says; send it as a file instead.")
	case strings.HasPrefix(m.ContentType, "video/"):
		m.Kind = Video
	case strings.HasPrefix(m.ContentType, "audio/"):
		m.Kind = Audio
	default:
		m.Kind = File
	}
	if err := s.refuseRemoved(ctx, up.SHA256); err != nil {
		return Media{}, err
	}
	// An image's size is checked from its header before anything, a
	// scanner included, decodes it.
	lim := imaging.Limits{MaxPixels: s.cfg.MaxPixels, MaxSide: s.cfg.MaxSide}
	later := false
	if format != "" {
		info, err := imaging.Inspect(io.NewSectionReader(staged, 0, up.Size), lim)
		if err != nil {
			return Media{}, err
		}
		m.Width, m.Height = info.DisplaySize()
		later = int64(info.Width)*int64(info.Height) > s.cfg.HashLaterPixels
	}
	c := Candidate{Owner: owner, Kind: m.Kind, ContentType: m.ContentType, Size: up.Size,
		Width: m.Width, Height: m.Height, UploadSHA256: up.SHA256, UploadMD5: up.MD5,
		Open: func() (io.ReadCloser, error) { return os.Open(staged.Name()) }}
	var thumb []byte
	if format != "" && !later {
		// One decode, under the decoding bound, for the hashes the scanners
		// see and the thumbnail.
		d, err := s.decode(ctx, staged, up.Size, lim)
		if err != nil {
			return Media{}, err
		}
		c.PDQ, thumb = d.hashes, d.thumb
	}
	verdict, err := s.scan(ctx, c)
	if err != nil {
		return Media{}, err
	}
	m.Status = Ready
	if verdict.Action == Hold {
		m.Status = Held
	}

	put := func() (blob.Info, error) { return s.blobs.Put(ctx, io.NewSectionReader(staged, 0, up.Size), up.Size) }
	if format != "" {
		put = func() (blob.Info, error) {
			pr, pw := io.Pipe()
			go func() { pw.CloseWithError(imaging.StripMetadata(pw, staged, up.Size)) }()
			info, err := s.blobs.Put(ctx, pr, up.Size+64<<10)
			pr.CloseWithError(io.ErrClosedPipe) // stop the stripper if Put gave up early
			return info, err
		}
	}
	stored, err := put()
	if err != nil {
		return Media{}, err
	}
	m.SHA256 = stored.SHA256
	var thumbInfo blob.Info
	if thumb != nil {
		if thumbInfo, err = s.blobs.Put(ctx, bytes.NewReader(thumb), int64(len(thumb))); err != nil {
			return Media{}, fmt.Errorf("store thumbnail: %w", err)
		}
		m.Thumbnail = true
	}
	if err := s.record(ctx, &m, stored, thumbInfo, verdict.Reason, c.PDQ, later); err != nil {
		return Media{}, err
	}
	// A collector may have deleted a blob that had no references between
	// Put finding it stored and record referencing it; now that it is
	// referenced nothing deletes it, so store it again if it went.
	if err := s.ensure(ctx, stored.SHA256, put); err != nil {
		return Media{}, err
	}
	if thumb != nil {
		if err := s.ensure(ctx, thumbInfo.SHA256, func() (blob.Info, error) {
			return s.blobs.Put(ctx, bytes.NewReader(thumb), int64(len(thumb)))
		}); err != nil {
			return Media{}, err
		}
	}
	if m.Status == Held {
		s.log.Info("media held for review", "media", m.ID, "owner", owner, "reason", verdict.Reason)
	}
	if verdict.Signal != nil {
		verdict.Signal(ctx, m.ID)
	}
	if later {
		s.wakeHasher()
	}
	if s.cfg.Stored != nil {
		sha := m.SHA256
		s.cfg.Stored(m, func(ctx context.Context) (blob.Object, error) { return s.blobs.Open(ctx, sha) })
	}
	return m, nil
}

func (s *Service) ensure(ctx context.Context, h blob.Hash, put func() (blob.Info, error)) error {
	_, err := s.blobs.Stat(ctx, h)
	if errors.Is(err, blob.ErrNotFound) {
		_, err = put()
	}
	if err != nil {
		return fmt.Errorf("store blob %s: %w", h, err)
	}
	return nil
}

// scan asks every Scanner; the strictest verdict wins, and Block refuses.
func (s *Service) scan(ctx context.Context, c Candidate) (Verdict, error) {
	v, err := s.verdict(ctx, c)
	if err != nil {
		return v, err
	}
	if v.Action == Block {
		s.log.Info("media upload blocked", "owner", c.Owner, "sha256", c.UploadSHA256, "reason", v.Reason)
		return v, &kurir.Error{Code: kurir.EForbidden, Reason: "media_blocked",
			Message: "This file cannot be shared on this service: " + v.Reason}
	}
	return v, nil
}

// verdict asks every Scanner and returns the strictest verdict, whose
// Signal calls every scanner's that found something.
func (s *Service) verdict(ctx context.Context, c Candidate) (Verdict, error) {
	var v Verdict
	var signals []func(context.Context, ID)
	for _, sc := range s.scanners {
		got, err := sc.Scan(ctx, c)
		if err != nil {
			s.log.Error("media scan failed", "owner", c.Owner, "sha256", c.UploadSHA256, "err", err)
			return v, &kurir.Error{Code: kurir.EUnavailable, Reason: "scan_failed", Err: err,
				Message: "The upload could not be checked right now; nothing was stored. Try again later."}
		}
		if got.Signal != nil {
			signals = append(signals, got.Signal)
		}
		if got.Action > v.Action {
			v = got
		}
	}
	// Every scanner that found something records it, whichever decided.
	v.Signal = nil
	if len(signals) > 0 {
		v.Signal = func(ctx context.Context, id ID) {
			for _, sig := range signals {
				sig(ctx, id)
			}
		}
	}
	return v, nil
}

// refuseRemoved refuses an upload whose bytes were taken down before.
func (s *Service) refuseRemoved(ctx context.Context, upload blob.Hash) error {
	var reason string
	err := s.db.Read().QueryRowContext(ctx, `SELECT b.removed_reason FROM blobs b WHERE b.removed_at <> 0 AND (b.sha256 = $1
		OR b.sha256 IN (SELECT m.blob FROM media m WHERE m.upload_sha256 = $1)) LIMIT 1`, upload.String()).Scan(&reason)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("check removed content: %w", err)
	}
	return &kurir.Error{Code: kurir.EForbidden, Reason: "media_removed",
		Message: "This file was removed from the service and cannot be shared again: " + reason}
}

// record stores the media object and takes a reference on its blobs.
func (s *Service) record(ctx context.Context, m *Media, stored, thumb blob.Info, reason string, hashes []pdq.Hash, later bool) error {
	now := sqldb.Micros(m.CreatedAt)
	return s.db.WriteTx(ctx, func(tx *sqldb.Tx) error {
		if err := addRef(ctx, tx, stored, now); err != nil {
			return err
		}
		var thumbKey any
		if !thumb.SHA256.IsZero() {
			if err := addRef(ctx, tx, thumb, now); err != nil {
				return err
			}
			thumbKey = thumb.SHA256.String()
		}
		return tx.QueryRowContext(ctx, `INSERT INTO media (owner_id, blob, thumb, upload_sha256, upload_md5, size, content_type, kind, name,
			width, height, status, status_reason, created_at, pdq, hash_pending)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16) RETURNING id`,
			m.OwnerID, stored.SHA256.String(), thumbKey, m.UploadSHA256.String(), m.UploadMD5, stored.Size, m.ContentType, string(m.Kind), m.Name,
			m.Width, m.Height, string(m.Status), reason, now, joinHashes(hashes), boolInt(later)).Scan(&m.ID)
	})
}

func addRef(ctx context.Context, tx *sqldb.Tx, b blob.Info, now int64) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO blobs (sha256, md5, size, refs, created_at) VALUES ($1, $2, $3, 1, $4)
		ON CONFLICT (sha256) DO UPDATE SET refs = blobs.refs + 1, unreferenced_at = 0`,
		b.SHA256.String(), b.MD5Hex(), b.Size, now)
	if err != nil {
		return fmt.Errorf("reference blob: %w", err)
	}
	return nil
}

// supportedImage returns the image format of a sniffed content type if
// it is one that is inspected, thumbnailed and stripped, and "" otherwise.
func supportedImage(contentType string) imaging.Format {
	for _, f := range []imaging.Format{imaging.JPEG, imaging.PNG, imaging.GIF, imaging.WebP} {
		if contentType == f.ContentType() {
			return f
		}
	}
	return ""
}

// CleanName returns a file name safe to store and to show: the last
// element of whatever path it came with, without control or bidirectional
// formatting characters (which can make "photo\u202Egpj.exe" look like a
// JPEG), at most 255 bytes, and "file" if nothing is left.
func CleanName(name string) string {
	name = strings.ToValidUTF8(name, "")
	name = strings.ReplaceAll(name, "\\", "/")
	name = path.Base("/" + name)
	name = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r) || r == '\uFEFF' {
			return -1
		}
		return r
	}, name)
	name = strings.TrimSpace(strings.Trim(name, "."))
	for len(name) > 255 {
		_, size := utf8.DecodeLastRuneInString(name)
		name = name[:len(name)-size]
	}
	if name == "" || name == "/" {
		return "file"
	}
	return name
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d bytes", n)
}
