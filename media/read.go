package media

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"kurir"
	"kurir/blob"
	"kurir/sqldb"
)

// mediaRow is a media object with the standing of its blob.
type mediaRow struct {
	Media
	thumb         blob.Hash
	statusReason  string
	removedReason string // non-empty when the blob was taken down
	attached      bool
}

func loadMedia(ctx context.Context, q sqldb.Querier, id ID) (*mediaRow, error) {
	var r mediaRow
	var sha, thumb, upload, kind, status string
	var created, removed, attached int64
	err := q.QueryRowContext(ctx, `SELECT m.id, m.owner_id, m.blob, COALESCE(m.thumb, ''), m.upload_sha256, m.upload_md5, m.size,
		m.content_type, m.kind, m.name, m.width, m.height, m.status, m.status_reason, m.created_at, m.attached_at,
		b.removed_at, b.removed_reason
		FROM media m JOIN blobs b ON b.sha256 = m.blob WHERE m.id = $1`, id).Scan(
		&r.ID, &r.OwnerID, &sha, &thumb, &upload, &r.UploadMD5, &r.Size, &r.ContentType, &kind, &r.Name, &r.Width, &r.Height,
		&status, &r.statusReason, &created, &attached, &removed, &r.removedReason)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, noMedia(id)
	}
	if err != nil {
		return nil, fmt.Errorf("load media %d: %w", id, err)
	}
	r.Kind, r.Status, r.CreatedAt = Kind(kind), Status(status), sqldb.FromMicros(created)
	r.attached = attached != 0
	if removed == 0 {
		r.removedReason = ""
	} else if r.removedReason == "" {
		r.removedReason = "removed"
	}
	if r.SHA256, err = blob.ParseHash(sha); err != nil {
		return nil, err
	}
	if r.UploadSHA256, err = blob.ParseHash(upload); err != nil {
		return nil, err
	}
	if thumb != "" {
		if r.thumb, err = blob.ParseHash(thumb); err != nil {
			return nil, err
		}
		r.Thumbnail = true
	}
	return &r, nil
}

func noMedia(id ID) error { return kurir.Errorf(kurir.ENotFound, "No media %d.", id) }

// viewable loads a media object for viewer: its owner, or anyone who can
// read a message it is attached to. Anyone else gets the same not-found
// answer as for an object that does not exist.
func (s *Service) viewable(ctx context.Context, viewer kurir.UserID, id ID) (*mediaRow, error) {
	r, err := loadMedia(ctx, s.db.Read(), id)
	if err != nil {
		return nil, err
	}
	if r.OwnerID != viewer {
		if r.Status != Ready {
			return nil, noMedia(id)
		}
		ok, err := s.visible.MediaVisible(ctx, viewer, int64(id))
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, noMedia(id)
		}
	}
	if r.removedReason != "" {
		return nil, &kurir.Error{Code: kurir.ENotFound, Reason: "media_removed",
			Message: "This file was removed from the service: " + r.removedReason}
	}
	return r, nil
}

// Get returns a media object's description, for its owner or anyone who
// can read a message it is attached to.
func (s *Service) Get(ctx context.Context, viewer kurir.UserID, id ID) (Media, error) {
	r, err := s.viewable(ctx, viewer, id)
	if err != nil {
		return Media{}, err
	}
	return r.Media, nil
}

// Open returns a media object and its content (its thumbnail if thumb), for
// the same viewers as Get. The caller closes the Object.
func (s *Service) Open(ctx context.Context, viewer kurir.UserID, id ID, thumb bool) (Media, blob.Object, error) {
	r, err := s.viewable(ctx, viewer, id)
	if err != nil {
		return Media{}, nil, err
	}
	h := r.SHA256
	if thumb {
		if !r.Thumbnail {
			return Media{}, nil, kurir.Errorf(kurir.ENotFound, "Media %d has no thumbnail.", id)
		}
		h = r.thumb
	}
	o, err := s.blobs.Open(ctx, h)
	if errors.Is(err, blob.ErrNotFound) {
		s.log.Error("media blob missing", "media", id, "blob", h)
		return Media{}, nil, &kurir.Error{Code: kurir.EUnavailable, Message: "The file's content is unavailable right now.", Err: err}
	}
	if err != nil {
		return Media{}, nil, err
	}
	return r.Media, o, nil
}

// Attach returns a media object its owner is attaching to a message, and
// marks it attached so it is not collected as an unsent upload. Only the
// owner attaches (forwarding copies a message's attachment instead), and
// only a ready object that was not taken down.
func (s *Service) Attach(ctx context.Context, owner kurir.UserID, id ID) (Media, error) {
	var m Media
	err := s.db.WriteTx(ctx, func(tx *sqldb.Tx) error {
		r, err := loadMedia(ctx, tx, id)
		if err != nil {
			return err
		}
		if r.OwnerID != owner {
			return noMedia(id)
		}
		switch {
		case r.removedReason != "":
			return &kurir.Error{Code: kurir.EForbidden, Reason: "media_removed", Message: "This file was removed from the service: " + r.removedReason}
		case r.Status == Held:
			return &kurir.Error{Code: kurir.EForbidden, Reason: "media_held", Message: "This file is waiting for review and cannot be sent yet."}
		}
		if !r.attached {
			if _, err := tx.ExecContext(ctx, `UPDATE media SET attached_at = $2 WHERE id = $1`, id, sqldb.Micros(s.clock.Now())); err != nil {
				return err
			}
		}
		m = r.Media
		return nil
	})
	return m, err
}

// OpenForReview returns a media object and its content (its thumbnail if
// thumb) for a moderator reviewing a case, whoever may otherwise see it,
// and even if it was removed: the caller (moderation) has checked that the
// object belongs to the case and recorded the view.
func (s *Service) OpenForReview(ctx context.Context, id ID, thumb bool) (Media, blob.Object, error) {
	r, err := loadMedia(ctx, s.db.Read(), id)
	if err != nil {
		return Media{}, nil, err
	}
	h := r.SHA256
	if thumb {
		if !r.Thumbnail {
			return Media{}, nil, kurir.Errorf(kurir.ENotFound, "Media %d has no thumbnail.", id)
		}
		h = r.thumb
	}
	o, err := s.blobs.Open(ctx, h)
	if errors.Is(err, blob.ErrNotFound) {
		return Media{}, nil, kurir.Errorf(kurir.ENotFound, "The content of media %d is no longer stored.", id)
	}
	if err != nil {
		return Media{}, nil, err
	}
	return r.Media, o, nil
}

// Describe returns a media object as stored, whoever owns it: for a
// moderator reviewing it. The caller checks who may.
func Describe(ctx context.Context, q sqldb.Querier, id ID) (Media, error) {
	r, err := loadMedia(ctx, q, id)
	if err != nil {
		return Media{}, err
	}
	return r.Media, nil
}

// Release makes a media object held for review ready: its owner can send it.
func Release(ctx context.Context, db *sqldb.DB, id ID) error {
	return db.WriteTx(ctx, func(tx *sqldb.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE media SET status = 'ready', status_reason = '' WHERE id = $1 AND status = 'held'`, id)
		if err != nil {
			return fmt.Errorf("release media %d: %w", id, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return kurir.Errorf(kurir.EConflict, "Media %d is not held for review.", id)
		}
		return nil
	})
}
