package media

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"kurir"
	"kurir/blob"
	"kurir/media/imaging"
	"kurir/safety/pdq"
	"kurir/sqldb"
)

// decodedPhoto is what ingest keeps of a decoded photo: its PDQ hashes and
// its thumbnail, not its pixels.
type decodedPhoto struct {
	hashes []pdq.Hash
	thumb  []byte
}

// decode decodes the image in r once, holding one of the decoding slots
// while its pixels are in memory, and returns its PDQ hashes and thumbnail.
func (s *Service) decode(ctx context.Context, r io.ReaderAt, size int64, lim imaging.Limits) (decodedPhoto, error) {
	select {
	case s.decoding <- struct{}{}:
	case <-ctx.Done():
		return decodedPhoto{}, ctx.Err()
	}
	n := s.inflight.Add(1)
	for p := s.peak.Load(); n > p && !s.peak.CompareAndSwap(p, n); p = s.peak.Load() {
	}
	defer func() {
		s.inflight.Add(-1)
		<-s.decoding
	}()
	d, err := imaging.Decode(r, size, lim)
	if err != nil {
		return decodedPhoto{}, err
	}
	var out decodedPhoto
	if all, quality, err := pdq.Dihedral(d.Image); err == nil && quality >= pdq.MinQuality {
		out.hashes = all[:]
	}
	t, err := d.Thumbnail(s.cfg.ThumbnailSide)
	if err != nil {
		return decodedPhoto{}, err
	}
	out.thumb = t.JPEG
	return out, nil
}

// joinHashes writes a photo's PDQ hashes as the media table keeps them.
func joinHashes(hashes []pdq.Hash) string {
	var b strings.Builder
	for _, h := range hashes {
		b.WriteString(h.String())
	}
	return b.String()
}

// splitHashes reads what joinHashes wrote; nil for anything else.
func splitHashes(s string) []pdq.Hash {
	if len(s) == 0 || len(s)%64 != 0 {
		return nil
	}
	out := make([]pdq.Hash, len(s)/64)
	for i := range out {
		if _, err := hex.Decode(out[i][:], []byte(s[i*64:(i+1)*64])); err != nil {
			return nil
		}
	}
	return out
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// wakeHasher tells RunHasher a photo waits for it; it never blocks.
func (s *Service) wakeHasher() {
	select {
	case s.hashing <- struct{}{}:
	default:
	}
}

// hashLease is how long a node may take over a photo left to hash before
// another takes it again: far longer than decoding the largest photo.
const hashLease = 10 * time.Minute

// RunHasher decodes the photos too large to decode at upload (see
// Config.HashLaterPixels), whichever node stored them, until ctx ends: it
// adds their thumbnails and PDQ hashes and scans them again, and the
// scanners' verdict can take them down (Block), hold them (Hold) or
// record a signal. It wakes when this node stores such a photo and every
// interval for the others'. Photos wait in the database, so none is lost
// when a node stops. workers run at once; the decoding bound
// (Config.Decoders) applies to them and to uploads together.
func (s *Service) RunHasher(ctx context.Context, interval time.Duration, workers int) {
	wake := make(chan struct{})
	var wg sync.WaitGroup
	defer wg.Wait() // after ctx ended, which stops the workers
	for range max(workers, 1) {
		wg.Go(func() {
			for {
				select {
				case <-ctx.Done():
					return
				case <-wake:
				}
				for ctx.Err() == nil {
					ok, err := s.HashPending(ctx)
					if err != nil && ctx.Err() == nil {
						s.log.Error("hash stored photo", "err", err)
					}
					if !ok || err != nil {
						break
					}
				}
			}
		})
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-s.hashing:
		}
		for range max(workers, 1) {
			select {
			case wake <- struct{}{}:
			default: // that worker is busy and will look again
			}
		}
	}
}

// HashPending takes on one photo waiting to be decoded and scanned (see
// RunHasher) and reports whether there was one.
func (s *Service) HashPending(ctx context.Context) (bool, error) {
	now := s.clock.Now()
	stale := sqldb.Micros(now.Add(-hashLease))
	var id ID
	taken := false
	err := s.db.WriteTx(ctx, func(tx *sqldb.Tx) error {
		err := tx.QueryRowContext(ctx, `SELECT id FROM media WHERE hash_pending = 1 AND hash_claimed_at < $1 ORDER BY id LIMIT 1`, stale).Scan(&id)
		if err != nil {
			return err
		}
		// Another node may have taken it since the SELECT (PostgreSQL).
		res, err := tx.ExecContext(ctx, `UPDATE media SET hash_claimed_at = $2 WHERE id = $1 AND hash_pending = 1 AND hash_claimed_at < $3`,
			id, sqldb.Micros(now), stale)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		taken = n == 1
		return err
	})
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("take a photo to hash: %w", err)
	}
	if !taken {
		return true, nil // look again
	}
	return true, s.hashStored(ctx, id)
}

// hashStored decodes stored photo id, records its thumbnail and hashes,
// and scans it again.
func (s *Service) hashStored(ctx context.Context, id ID) error {
	r, err := loadMedia(ctx, s.db.Read(), id)
	if err != nil {
		return err
	}
	obj, err := s.blobs.Open(ctx, r.SHA256)
	if errors.Is(err, blob.ErrNotFound) {
		return s.doneHashing(ctx, id, decodedPhoto{})
	}
	if err != nil {
		return fmt.Errorf("open media %d to hash: %w", id, err)
	}
	defer obj.Close()
	lim := imaging.Limits{MaxPixels: s.cfg.MaxPixels, MaxSide: s.cfg.MaxSide}
	d, err := s.decode(ctx, obj, obj.Size(), lim)
	if kurir.ErrorCode(err) == kurir.EInvalid {
		// Its header passed at upload but its pixels do not decode: there
		// is nothing to hash or to show small, and nothing to retry.
		s.log.Warn("stored photo does not decode", "media", id, "err", err)
		return s.doneHashing(ctx, id, decodedPhoto{})
	}
	if err != nil {
		return fmt.Errorf("decode media %d: %w", id, err)
	}
	if err := s.doneHashing(ctx, id, d); err != nil {
		return err
	}
	if d.hashes == nil {
		return nil // its exact hashes were scanned at upload
	}
	md5, err := hex.DecodeString(r.UploadMD5)
	if err != nil || len(md5) != 16 {
		return fmt.Errorf("media %d: bad MD5 %q", id, r.UploadMD5)
	}
	c := Candidate{Owner: r.OwnerID, Kind: r.Kind, ContentType: r.ContentType, Size: r.Size, Width: r.Width, Height: r.Height,
		UploadSHA256: r.UploadSHA256, UploadMD5: [16]byte(md5), PDQ: d.hashes, Stored: id,
		Open: func() (io.ReadCloser, error) { return s.blobs.Open(ctx, r.SHA256) }}
	v, err := s.verdict(ctx, c)
	if err != nil {
		return err
	}
	return s.apply(ctx, r, v)
}

// doneHashing stores what decoding a photo left for later gave, and takes
// it off the list.
func (s *Service) doneHashing(ctx context.Context, id ID, d decodedPhoto) error {
	var thumb blob.Info
	if d.thumb != nil {
		var err error
		if thumb, err = s.blobs.Put(ctx, bytes.NewReader(d.thumb), int64(len(d.thumb))); err != nil {
			return fmt.Errorf("store thumbnail: %w", err)
		}
	}
	err := s.db.WriteTx(ctx, func(tx *sqldb.Tx) error {
		var thumbKey any
		if d.thumb != nil {
			if err := addRef(ctx, tx, thumb, sqldb.Micros(s.clock.Now())); err != nil {
				return err
			}
			thumbKey = thumb.SHA256.String()
		}
		_, err := tx.ExecContext(ctx, `UPDATE media SET thumb = COALESCE(thumb, $2), pdq = $3, hash_pending = 0 WHERE id = $1`,
			id, thumbKey, joinHashes(d.hashes))
		return err
	})
	if err != nil {
		return fmt.Errorf("record hashes of media %d: %w", id, err)
	}
	if d.thumb != nil {
		// As at upload: a collector may have deleted the thumbnail's blob
		// between Put and the reference.
		return s.ensure(ctx, thumb.SHA256, func() (blob.Info, error) {
			return s.blobs.Put(ctx, bytes.NewReader(d.thumb), int64(len(d.thumb)))
		})
	}
	return nil
}

// apply carries out a verdict on a stored object: Block takes its content
// down everywhere, Hold holds it for review; either way the scanners'
// signals are recorded.
func (s *Service) apply(ctx context.Context, r *mediaRow, v Verdict) error {
	switch v.Action {
	case Block:
		if _, err := s.Remove(ctx, r.SHA256, v.Reason); err != nil {
			return err
		}
	case Hold:
		if err := s.Hold(ctx, r.ID, v.Reason); err != nil {
			return err
		}
	}
	if v.Signal != nil {
		v.Signal(ctx, r.ID)
	}
	return nil
}

// StoredHashes are a stored media object's hashes, for checking it again
// against hashes banked after it was stored.
type StoredHashes struct {
	ID    ID
	Owner kurir.UserID
	// SHA256 addresses the content served; UploadSHA256 and UploadMD5 are
	// of the bytes as uploaded.
	SHA256, UploadSHA256 blob.Hash
	UploadMD5            [16]byte
	// PDQ is a photo's hashes in its eight turns and mirror images, or nil.
	PDQ []pdq.Hash
}

// Stored returns up to limit media objects with IDs above after, in ID
// order, with their hashes; objects taken down are left out.
func (s *Service) Stored(ctx context.Context, after ID, limit int) ([]StoredHashes, error) {
	rows, err := s.db.Read().QueryContext(ctx, `SELECT `+storedColumns+`
		FROM media m JOIN blobs b ON b.sha256 = m.blob WHERE m.id > $1 AND b.removed_at = 0 ORDER BY m.id LIMIT $2`, after, limit)
	if err != nil {
		return nil, fmt.Errorf("list stored media: %w", err)
	}
	defer rows.Close()
	var out []StoredHashes
	for rows.Next() {
		h, err := scanStored(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, h)
	}
	return out, rows.Err()
}

// HashesOf returns media object id's hashes, taken down or not, for
// callers without a Service (moderation banking a file it removed).
func HashesOf(ctx context.Context, q sqldb.Querier, id ID) (StoredHashes, error) {
	h, err := scanStored(q.QueryRowContext(ctx, `SELECT `+storedColumns+` FROM media m WHERE m.id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return h, noMedia(id)
	}
	return h, err
}

const storedColumns = `m.id, m.owner_id, m.blob, m.upload_sha256, m.upload_md5, m.pdq`

func scanStored(row interface{ Scan(...any) error }) (StoredHashes, error) {
	var h StoredHashes
	var sha, upload, md5, hashes string
	if err := row.Scan(&h.ID, &h.Owner, &sha, &upload, &md5, &hashes); err != nil {
		return h, err
	}
	var err error
	if h.SHA256, err = blob.ParseHash(sha); err != nil {
		return h, err
	}
	if h.UploadSHA256, err = blob.ParseHash(upload); err != nil {
		return h, err
	}
	if _, err := hex.Decode(h.UploadMD5[:], []byte(md5)); err != nil || len(md5) != 32 {
		return h, fmt.Errorf("media %d: bad MD5 %q", h.ID, md5)
	}
	h.PDQ = splitHashes(hashes)
	return h, nil
}

// Hold makes media object id invisible to everyone but its owner until a
// moderator releases it (Release), as a Hold verdict at upload does;
// reason is recorded. Holding an object already held changes nothing.
func (s *Service) Hold(ctx context.Context, id ID, reason string) error {
	err := s.db.WriteTx(ctx, func(tx *sqldb.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE media SET status = 'held', status_reason = $2 WHERE id = $1 AND status = 'ready'`, id, reason)
		return err
	})
	if err != nil {
		return fmt.Errorf("hold media %d: %w", id, err)
	}
	s.log.Info("media held for review", "media", id, "reason", reason)
	return nil
}
