package media

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"

	"kurir"
	"kurir/blob"
	"kurir/sqldb"
)

// Upload is a resumable upload in progress: the client sends the file in
// parts, each starting where the last one ended, and may resume after a
// broken connection from Received.
type Upload struct {
	ID          string
	Name        string
	ContentType string
	Kind        Kind
	Size        int64
	Received    int64
	ExpiresAt   time.Time
	// Media is the stored object once the last byte has arrived.
	Media *Media
}

// uploadLocks serialise the parts of one upload on this node. A resumable
// upload's bytes live on the node that took it, so it must be continued
// there (behind a load balancer, with session affinity on the upload ID).
type uploadLocks struct {
	mu sync.Mutex
	m  map[string]*sync.Mutex
}

func (l *uploadLocks) lock(id string) func() {
	l.mu.Lock()
	if l.m == nil {
		l.m = map[string]*sync.Mutex{}
	}
	mu := l.m[id]
	if mu == nil {
		mu = &sync.Mutex{}
		l.m[id] = mu
	}
	l.mu.Unlock()
	mu.Lock()
	return func() {
		mu.Unlock()
		l.mu.Lock()
		if l.m[id] == mu && mu.TryLock() { // nobody else waits: forget it
			delete(l.m, id)
			mu.Unlock()
		}
		l.mu.Unlock()
	}
}

func (s *Service) partPath(id string) string { return filepath.Join(s.staging, id+".part") }

// StartUpload begins a resumable upload of p.Size bytes (required).
func (s *Service) StartUpload(ctx context.Context, owner kurir.UserID, p UploadParams) (Upload, error) {
	if p.Size <= 0 {
		return Upload{}, kurir.Invalid("size", "size_required", "A resumable upload needs the file's size in bytes, and a file cannot be empty.")
	}
	p, err := s.checkUpload(ctx, owner, p)
	if err != nil {
		return Upload{}, err
	}
	now := s.clock.Now().UTC().Truncate(time.Microsecond)
	u := Upload{ID: rand.Text(), Name: p.Name, ContentType: p.ContentType, Kind: p.Kind, Size: p.Size, ExpiresAt: now.Add(s.cfg.UploadTTL)}
	f, err := os.OpenFile(s.partPath(u.ID), os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return Upload{}, fmt.Errorf("start upload: %w", err)
	}
	f.Close()
	err = s.db.WriteTx(ctx, func(tx *sqldb.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO uploads (id, owner_id, name, content_type, kind, size, created_at, expires_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, u.ID, owner, u.Name, u.ContentType, string(u.Kind), u.Size, sqldb.Micros(now), sqldb.Micros(u.ExpiresAt))
		return err
	})
	if err != nil {
		os.Remove(s.partPath(u.ID))
		return Upload{}, fmt.Errorf("start upload: %w", err)
	}
	return u, nil
}

// UploadStatus returns an upload in progress: where to resume from.
func (s *Service) UploadStatus(ctx context.Context, owner kurir.UserID, id string) (Upload, error) {
	return s.loadUpload(ctx, s.db.Read(), owner, id)
}

func (s *Service) loadUpload(ctx context.Context, q sqldb.Querier, owner kurir.UserID, id string) (Upload, error) {
	var u Upload
	var kind string
	var expires int64
	err := q.QueryRowContext(ctx, `SELECT id, name, content_type, kind, size, received, expires_at FROM uploads
		WHERE id = $1 AND owner_id = $2`, id, owner).Scan(&u.ID, &u.Name, &u.ContentType, &kind, &u.Size, &u.Received, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return Upload{}, kurir.Errorf(kurir.ENotFound, "No upload %q in progress; it may have finished or expired.", id)
	}
	if err != nil {
		return Upload{}, fmt.Errorf("load upload: %w", err)
	}
	u.Kind, u.ExpiresAt = Kind(kind), sqldb.FromMicros(expires)
	if !s.clock.Now().Before(u.ExpiresAt) {
		return Upload{}, kurir.Errorf(kurir.ENotFound, "No upload %q in progress; it may have finished or expired.", id)
	}
	return u, nil
}

// AppendUpload adds the bytes of r to an upload at offset, which must be
// where the upload stands (Received). Bytes that arrive before a broken
// connection are kept, so the client resumes from the new Received. When
// the last byte arrives the file is stored and the Upload carries its
// Media.
func (s *Service) AppendUpload(ctx context.Context, owner kurir.UserID, id string, offset int64, r io.Reader) (Upload, error) {
	unlock := s.uploads.lock(id)
	defer unlock()
	u, err := s.loadUpload(ctx, s.db.Read(), owner, id)
	if err != nil {
		return Upload{}, err
	}
	if offset != u.Received {
		return u, &kurir.Error{Code: kurir.EConflict, Reason: "offset_mismatch", Field: "offset",
			Message: fmt.Sprintf("The upload stands at byte %d, not %d; resume from %d.", u.Received, offset, u.Received)}
	}
	f, err := os.OpenFile(s.partPath(id), os.O_WRONLY, 0)
	if err != nil {
		return u, fmt.Errorf("append to upload: %w", err)
	}
	defer f.Close()
	// Bytes past Received were written but never acknowledged (the server
	// stopped before recording them): drop them.
	if err := f.Truncate(u.Received); err != nil {
		return u, fmt.Errorf("append to upload: %w", err)
	}
	if _, err := f.Seek(u.Received, io.SeekStart); err != nil {
		return u, fmt.Errorf("append to upload: %w", err)
	}
	room := u.Size - u.Received
	n, readErr := io.Copy(f, io.LimitReader(r, room+1))
	if n > room {
		f.Truncate(u.Received)
		return u, kurir.Invalid("body", "beyond_size", "This part runs past the %d bytes the upload was started with; nothing of it was kept.", u.Size)
	}
	if n > 0 {
		if err := f.Sync(); err != nil {
			return u, fmt.Errorf("append to upload: %w", err)
		}
		err := s.db.WriteTx(ctx, func(tx *sqldb.Tx) error {
			_, err := tx.ExecContext(ctx, `UPDATE uploads SET received = $2 WHERE id = $1`, id, u.Received+n)
			return err
		})
		if err != nil {
			return u, fmt.Errorf("append to upload: %w", err)
		}
		u.Received += n
	}
	if readErr != nil {
		return u, kurir.Invalid("body", "incomplete_part", "The part broke off; the upload stands at byte %d, resume from there.", u.Received)
	}
	if u.Received < u.Size {
		return u, nil
	}
	m, err := s.finish(ctx, owner, u)
	if err != nil {
		return u, err
	}
	u.Media = &m
	return u, nil
}

// finish ingests a complete upload and forgets it, whether or not the file
// was accepted: a refused file does not become acceptable by trying again.
func (s *Service) finish(ctx context.Context, owner kurir.UserID, u Upload) (Media, error) {
	defer s.dropUpload(context.WithoutCancel(ctx), u.ID)
	f, err := os.Open(s.partPath(u.ID))
	if err != nil {
		return Media{}, fmt.Errorf("finish upload: %w", err)
	}
	defer f.Close()
	h := blob.NewHasher()
	if _, err := io.Copy(h, f); err != nil {
		return Media{}, fmt.Errorf("finish upload: %w", err)
	}
	if err := checkReceived(h.Info().Size, u.Size, s.cfg.MaxSize); err != nil {
		return Media{}, err
	}
	return s.ingest(ctx, owner, UploadParams{Name: u.Name, ContentType: u.ContentType, Kind: u.Kind, Size: u.Size}, f, h.Info())
}

// CancelUpload abandons an upload in progress and deletes what it received.
func (s *Service) CancelUpload(ctx context.Context, owner kurir.UserID, id string) error {
	unlock := s.uploads.lock(id)
	defer unlock()
	if _, err := s.loadUpload(ctx, s.db.Read(), owner, id); err != nil {
		return err
	}
	return s.dropUpload(ctx, id)
}

func (s *Service) dropUpload(ctx context.Context, id string) error {
	err := s.db.WriteTx(ctx, func(tx *sqldb.Tx) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM uploads WHERE id = $1`, id)
		return err
	})
	if err != nil {
		return fmt.Errorf("drop upload: %w", err)
	}
	if err := os.Remove(s.partPath(id)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("drop upload: %w", err)
	}
	return nil
}
