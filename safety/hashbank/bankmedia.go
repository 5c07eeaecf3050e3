package hashbank

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"kurir/media"
	"kurir/sqldb"
)

// CheckBank returns ENotFound unless bank exists, for a caller about to
// act before it banks (moderation's remove and bank).
func CheckBank(ctx context.Context, db *sqldb.DB, bank string) error {
	_, err := bankAction(ctx, db.Read(), bank)
	return err
}

// BankMedia adds stored media object id's hashes to bank: its SHA-256 as
// uploaded and, for a photo, its PDQ hash, so that a copy uploaded later
// is matched, recompressed, resized or turned (a lookup tries every turn
// of the upload). provenance is recorded on the entries. It returns how
// many entries were new. It changes only the database, for callers without
// a Service (moderation): every node applies the entries within a sync,
// and the Rechecker then checks the files already stored against them.
func BankMedia(ctx context.Context, db *sqldb.DB, now time.Time, bank string, id media.ID, provenance string) (int, error) {
	h, err := media.HashesOf(ctx, db.Read(), id)
	if err != nil {
		return 0, err
	}
	entries := []parsed{{signal: SignalSHA256, value: h.UploadSHA256.String(), provenance: provenance}}
	if len(h.PDQ) > 0 {
		entries = append(entries, parsed{signal: SignalPDQ, value: h.PDQ[0].String(), provenance: provenance})
	}
	added := 0
	err = db.WriteTx(ctx, func(tx *sqldb.Tx) error {
		added = 0
		if _, err := bankAction(ctx, tx, bank); err != nil {
			return err
		}
		if err := lockChanges(ctx, tx); err != nil {
			return err
		}
		for _, e := range entries {
			var eid int64
			err := tx.QueryRowContext(ctx, `INSERT INTO hash_entries (bank, signal, value, provenance, created_at, updated_at)
				VALUES ($1, $2, $3, $4, $5, $5) ON CONFLICT (bank, signal, value) DO NOTHING RETURNING id`,
				bank, string(e.signal), e.value, e.provenance, sqldb.Micros(now)).Scan(&eid)
			if errors.Is(err, sql.ErrNoRows) {
				// Banked before: enable it again if it was disabled, as
				// the moderator asks for it to match.
				res, err := tx.ExecContext(ctx, `UPDATE hash_entries SET enabled = 1, updated_at = $4 WHERE bank = $1 AND signal = $2 AND value = $3 AND enabled = 0`,
					bank, string(e.signal), e.value, sqldb.Micros(now))
				if err != nil {
					return err
				}
				if n, _ := res.RowsAffected(); n == 0 {
					continue
				}
				err = tx.QueryRowContext(ctx, `SELECT id FROM hash_entries WHERE bank = $1 AND signal = $2 AND value = $3`, bank, string(e.signal), e.value).Scan(&eid)
			}
			if err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO hash_changes (entry_id, enabled) VALUES ($1, 1)`, eid); err != nil {
				return err
			}
			added++
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("bank media %d in %s: %w", id, bank, err)
	}
	return added, nil
}
