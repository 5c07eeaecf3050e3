package media

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"kurir"
	"kurir/blob"
	"kurir/sqldb"
)

// Remove takes down content by hash: every media object whose served
// content or whose bytes as uploaded have hash h becomes unavailable to
// everyone at once, and the same bytes are refused at upload. The blob is
// kept (unserved) so that the decision can be reviewed and reversed with
// Restore; reason is shown to people who ask for it. It returns how many
// media objects it made unavailable.
func (s *Service) Remove(ctx context.Context, h blob.Hash, reason string) (int64, error) {
	n, err := Remove(ctx, s.db, s.clock.Now(), h, reason)
	if err == nil {
		s.log.Info("content removed", "sha256", h, "media", n, "reason", reason)
	}
	return n, err
}

// Restore reverses Remove for hash h.
func (s *Service) Restore(ctx context.Context, h blob.Hash) error { return Restore(ctx, s.db, h) }

// Remove is Service.Remove for callers without a Service, such as "kurir
// admin media remove" beside a running server: it changes only the
// database, so every node sees it at once.
func Remove(ctx context.Context, db *sqldb.DB, now time.Time, h blob.Hash, reason string) (int64, error) {
	if strings.TrimSpace(reason) == "" {
		return 0, kurir.Invalid("reason", "reason_required", "Say why the content is removed; the people who shared it are told.")
	}
	var n int64
	err := db.WriteTx(ctx, func(tx *sqldb.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE blobs SET removed_at = $2, removed_reason = $3
			WHERE sha256 = $1 OR sha256 IN (SELECT blob FROM media WHERE upload_sha256 = $1)`, h.String(), sqldb.Micros(now), reason)
		if err != nil {
			return err
		}
		if k, _ := res.RowsAffected(); k == 0 {
			return kurir.Errorf(kurir.ENotFound, "No stored content has hash %s.", h)
		}
		return tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM media WHERE blob = $1 OR blob IN (SELECT blob FROM media WHERE upload_sha256 = $1)`,
			h.String()).Scan(&n)
	})
	if err != nil {
		return 0, fmt.Errorf("remove content %s: %w", h, err)
	}
	return n, nil
}

// Restore is Service.Restore for callers without a Service.
func Restore(ctx context.Context, db *sqldb.DB, h blob.Hash) error {
	return db.WriteTx(ctx, func(tx *sqldb.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE blobs SET removed_at = 0, removed_reason = ''
			WHERE removed_at <> 0 AND (sha256 = $1 OR sha256 IN (SELECT blob FROM media WHERE upload_sha256 = $1))`, h.String())
		if err != nil {
			return err
		}
		if k, _ := res.RowsAffected(); k == 0 {
			return kurir.Errorf(kurir.ENotFound, "No removed content has hash %s.", h)
		}
		return nil
	})
}

// Collect deletes what nobody needs any more: uploads that expired
// unfinished, media objects never attached to a message within the grace
// period, and blobs that no media object has referenced for the grace
// period (unless taken down, which keeps them for review). It returns how
// many blobs it deleted.
func (s *Service) Collect(ctx context.Context) (int, error) {
	now := s.clock.Now()
	if err := s.collectUploads(ctx, now); err != nil {
		return 0, err
	}
	if err := s.collectUnattached(ctx, now); err != nil {
		return 0, err
	}
	return s.collectBlobs(ctx, now)
}

func (s *Service) collectUploads(ctx context.Context, now time.Time) error {
	rows, err := s.db.Read().QueryContext(ctx, `SELECT id FROM uploads WHERE expires_at <= $1 LIMIT 1000`, sqldb.Micros(now))
	if err != nil {
		return fmt.Errorf("collect uploads: %w", err)
	}
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return err
		}
		ids = append(ids, id)
	}
	rows.Close()
	for _, id := range ids {
		if err := s.dropUpload(ctx, id); err != nil {
			return err
		}
	}
	return rows.Err()
}

// collectUnattached deletes media objects that were uploaded but never sent,
// and releases their blobs.
func (s *Service) collectUnattached(ctx context.Context, now time.Time) error {
	cutoff := sqldb.Micros(now.Add(-s.cfg.Grace))
	return s.db.WriteTx(ctx, func(tx *sqldb.Tx) error {
		for _, col := range []string{"blob", "thumb"} {
			if _, err := tx.ExecContext(ctx, `UPDATE blobs SET refs = refs - (SELECT COUNT(*) FROM media m
				WHERE m.`+col+` = blobs.sha256 AND m.attached_at = 0 AND m.created_at < $1)
				WHERE sha256 IN (SELECT `+col+` FROM media WHERE attached_at = 0 AND created_at < $1)`, cutoff); err != nil {
				return fmt.Errorf("collect unsent media: %w", err)
			}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE blobs SET unreferenced_at = $1 WHERE refs = 0 AND unreferenced_at = 0`, sqldb.Micros(now)); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `DELETE FROM media WHERE attached_at = 0 AND created_at < $1`, cutoff)
		return err
	})
}

// collectBlobs deletes blobs unreferenced for the grace period. Each file
// is deleted inside the transaction that deletes its row, so an upload that
// takes a new reference either commits before (and the blob stays) or
// after (and stores the file again; see ingest).
func (s *Service) collectBlobs(ctx context.Context, now time.Time) (int, error) {
	cutoff := sqldb.Micros(now.Add(-s.cfg.Grace))
	deleted := 0
	for {
		n := 0
		err := s.db.WriteTx(ctx, func(tx *sqldb.Tx) error {
			n = 0
			rows, err := tx.QueryContext(ctx, `SELECT sha256 FROM blobs WHERE refs = 0 AND unreferenced_at <> 0 AND unreferenced_at < $1
				AND removed_at = 0 LIMIT 100`, cutoff)
			if err != nil {
				return err
			}
			var hs []string
			for rows.Next() {
				var h string
				if err := rows.Scan(&h); err != nil {
					rows.Close()
					return err
				}
				hs = append(hs, h)
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return err
			}
			for _, x := range hs {
				h, err := blob.ParseHash(x)
				if err != nil {
					return err
				}
				if _, err := tx.ExecContext(ctx, `DELETE FROM blobs WHERE sha256 = $1 AND refs = 0`, x); err != nil {
					return err
				}
				if err := s.blobs.Delete(ctx, h); err != nil {
					return err
				}
				n++
			}
			return nil
		})
		if err != nil {
			return deleted, fmt.Errorf("collect blobs: %w", err)
		}
		deleted += n
		if n < 100 {
			return deleted, nil
		}
	}
}

// removeStrayFiles deletes whole-file uploads that a crash left staged.
// Resumable uploads (*.part) stay: their clients resume them.
func (s *Service) removeStrayFiles() error {
	stray, err := filepath.Glob(filepath.Join(s.staging, "upload-*"))
	if err != nil {
		return err
	}
	for _, f := range stray {
		if err := os.Remove(f); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	return nil
}

// RunCollector runs Collect every interval until ctx ends.
func (s *Service) RunCollector(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if n, err := s.Collect(ctx); err != nil && ctx.Err() == nil {
			s.log.Error("media collector", "err", err)
		} else if n > 0 {
			s.log.Info("deleted unreferenced blobs", "blobs", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// WithHash returns the IDs of the media objects whose content (or whose
// bytes as uploaded) has SHA-256 h: every copy of one file, whoever sent it.
func WithHash(ctx context.Context, q sqldb.Querier, h blob.Hash) ([]ID, error) {
	rows, err := q.QueryContext(ctx, `SELECT id FROM media WHERE blob = $1 OR upload_sha256 = $1 ORDER BY id`, h.String())
	if err != nil {
		return nil, fmt.Errorf("media with hash %s: %w", h, err)
	}
	defer rows.Close()
	var out []ID
	for rows.Next() {
		var id ID
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, rows.Err()
}
