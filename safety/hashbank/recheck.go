package hashbank

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"kurir/media"
	"kurir/sqldb"
)

// Rechecker checks the media already stored against bank entries as they
// are enabled (imported, or enabled again), which those uploads were never
// checked against, and acts as each bank says: a block takes the content
// down everywhere (media.Service.Remove), a hold holds it for review;
// every match is recorded as a safety signal naming the object, which
// opens a moderation case. Photos are matched by the PDQ hashes media
// keeps for them, other files by their SHA-256 and MD5 as uploaded.
type Rechecker struct {
	Banks *Service
	Media *media.Service
	Log   *slog.Logger
}

// recheckLease is how long a node may hold the recheck job before another
// takes it: far longer than a check of every stored file takes.
const recheckLease = 10 * time.Minute

// recheckPage is how many stored media Recheck reads at a time.
const recheckPage = 1000

// Run calls Recheck every interval until ctx ends.
func (r Rechecker) Run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if _, err := r.Recheck(ctx); err != nil && ctx.Err() == nil {
			r.log().Error("check stored media against new hash bank entries", "err", err)
		}
	}
}

func (r Rechecker) log() *slog.Logger {
	if r.Log == nil {
		return r.Banks.log
	}
	return r.Log
}

// Recheck checks every stored media object against the entries enabled
// since the last Recheck (on any node) and returns how many objects
// matched. One node at a time does it; on another it returns 0 at once.
// If it fails, the next Recheck checks the same entries again.
func (r Rechecker) Recheck(ctx context.Context) (int, error) {
	s := r.Banks
	if err := s.Sync(ctx); err != nil {
		return 0, err
	}
	s.syncMu.Lock()
	upTo := s.seq // the Index holds every change up to here
	s.syncMu.Unlock()
	now := s.clock.Now()
	var from int64
	err := s.db.WriteTx(ctx, func(tx *sqldb.Tx) error {
		return tx.QueryRowContext(ctx, `UPDATE hash_recheck SET leased_until = $1 WHERE id = 1 AND leased_until < $2 RETURNING seq`,
			sqldb.Micros(now.Add(recheckLease)), sqldb.Micros(now)).Scan(&from)
	})
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil // another node is at it
	}
	if err != nil {
		return 0, fmt.Errorf("take the recheck job: %w", err)
	}
	matched, err := 0, error(nil)
	if from < upTo {
		matched, err = r.check(ctx, from, upTo)
	}
	done := from
	if err == nil {
		done = max(from, upTo)
	}
	rctx := context.WithoutCancel(ctx) // give the job back even when stopping
	if rerr := s.db.WriteTx(rctx, func(tx *sqldb.Tx) error {
		_, err := tx.ExecContext(rctx, `UPDATE hash_recheck SET seq = $1, leased_until = 0 WHERE id = 1`, done)
		return err
	}); rerr != nil && err == nil {
		err = fmt.Errorf("release the recheck job: %w", rerr)
	}
	return matched, err
}

// fresh is the entries enabled in a stretch of the change log, indexed to
// find which stored files may match one.
type fresh struct {
	ids    map[int64]bool
	sha256 map[[32]byte]bool
	md5    map[[16]byte]bool
	pdq    *pdqTable
}

// check checks stored media against the entries enabled by changes after
// seq from up to seq upTo.
func (r Rechecker) check(ctx context.Context, from, upTo int64) (int, error) {
	f, err := r.Banks.enabledBetween(ctx, from, upTo)
	if err != nil || len(f.ids) == 0 {
		return 0, err
	}
	matched := 0
	for after := media.ID(0); ; {
		page, err := r.Media.Stored(ctx, after, recheckPage)
		if err != nil {
			return matched, err
		}
		for _, h := range page {
			if !f.mayMatch(h) {
				continue
			}
			ok, err := r.act(ctx, h, f)
			if err != nil {
				return matched, err
			}
			if ok {
				matched++
			}
		}
		if len(page) < recheckPage {
			return matched, nil
		}
		after = page[len(page)-1].ID
	}
}

// mayMatch reports whether stored file h has a hash within reach of one
// of the fresh entries.
func (f *fresh) mayMatch(h media.StoredHashes) bool {
	if f.sha256[h.UploadSHA256] || f.md5[h.UploadMD5] {
		return true
	}
	for _, p := range h.PDQ {
		found := false
		f.pdq.search(toWords(p), MaxDistance, func(uint32, int) { found = true })
		if found {
			return true
		}
	}
	return false
}

// act looks stored file h up in the banks and, if it matches one of the
// fresh entries, does what the strictest matching bank says.
func (r Rechecker) act(ctx context.Context, h media.StoredHashes, f *fresh) (bool, error) {
	s := r.Banks
	sha := [32]byte(h.UploadSHA256)
	var matches []Match
	for _, m := range s.Lookup(ctx, &sha, &h.UploadMD5, h.PDQ) {
		if f.ids[m.Entry.ID] {
			matches = append(matches, m)
		}
	}
	if len(matches) == 0 {
		return false, nil
	}
	strictest := matches[0]
	for _, m := range matches {
		if rank(m.Action) > rank(strictest.Action) {
			strictest = m
		}
	}
	reason := bankReason(strictest.Entry.Bank)
	r.log().Warn("stored media matches a hash bank entry enabled since", "media", h.ID, "owner", h.Owner,
		"bank", strictest.Entry.Bank, "entry", strictest.Entry.ID, "action", strictest.Action)
	switch strictest.Action {
	case Block:
		if _, err := r.Media.Remove(ctx, h.SHA256, reason); err != nil {
			return false, err
		}
	case Hold:
		if err := r.Media.Hold(ctx, h.ID, reason); err != nil {
			return false, err
		}
	}
	if err := s.recordSignal(ctx, h.Owner, h.ID, matches); err != nil {
		return false, err
	}
	return true, nil
}

func rank(a Action) int {
	switch a {
	case Block:
		return 2
	case Hold:
		return 1
	}
	return 0
}

// bankReason is what the uploader and the people a file was shared with
// are told when a bank's match takes it down or holds it.
func bankReason(bank string) string {
	return "it matches content known to be prohibited (" + strings.ToLower(strings.ReplaceAll(bank, "_", " ")) + ")."
}

// enabledBetween reads the entries that changes after seq from up to seq
// upTo enabled (one by one or by an import) and that are enabled still.
func (s *Service) enabledBetween(ctx context.Context, from, upTo int64) (*fresh, error) {
	f := &fresh{ids: map[int64]bool{}, sha256: map[[32]byte]bool{}, md5: map[[16]byte]bool{}}
	var ids []int64
	var hashes [][4]uint64
	for _, q := range []string{
		`SELECT e.id, e.signal, e.value FROM hash_changes c JOIN hash_entries e ON e.id = c.entry_id
			WHERE c.seq > $1 AND c.seq <= $2 AND c.entry_id <> 0 AND c.enabled = 1 AND e.enabled = 1`,
		`SELECT e.id, e.signal, e.value FROM hash_changes c JOIN hash_entries e ON e.import_id = c.import_id
			WHERE c.seq > $1 AND c.seq <= $2 AND c.import_id <> 0 AND e.enabled = 1`,
	} {
		rows, err := s.db.Read().QueryContext(ctx, q, from, upTo)
		if err != nil {
			return nil, fmt.Errorf("read newly enabled hash bank entries: %w", err)
		}
		for rows.Next() {
			var id int64
			var signal, value string
			if err := rows.Scan(&id, &signal, &value); err != nil {
				rows.Close()
				return nil, err
			}
			v, err := decodeValue(SignalType(signal), value)
			if err != nil || f.ids[id] {
				continue
			}
			f.ids[id] = true
			switch SignalType(signal) {
			case SignalPDQ:
				ids = append(ids, id)
				hashes = append(hashes, toWords(PDQ(v)))
			case SignalMD5:
				f.md5[[16]byte(v)] = true
			case SignalSHA256:
				f.sha256[[32]byte(v)] = true
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	f.pdq = buildTable(ids, hashes)
	return f, nil
}
