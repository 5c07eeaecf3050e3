package hashbank

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"

	"kurir"
	"kurir/media"
	"kurir/sqldb"
)

// MediaScanner checks every upload against the banks before it is stored
// (it is a media.Scanner): the bytes as uploaded by SHA-256 and MD5, and a
// photo by PDQ in all eight of its turns and mirror images (media computes
// them, from the decode that makes the thumbnail). The strictest matching
// bank decides: block refuses the upload, hold keeps it for review; a flag
// lets it through. Holds and flags are recorded as safety signals naming
// the stored object, for the moderation queue; a block is recorded naming
// the uploader and the file's hashes (nothing is stored).
//
// A photo too large to decode at upload is scanned again once media has
// hashed it (Candidate.Stored): a block then takes it down, and is
// recorded as a signal naming the object, like a hold.
type MediaScanner struct {
	Banks *Service
	Log   *slog.Logger
}

// Scan implements media.Scanner.
func (m MediaScanner) Scan(ctx context.Context, c media.Candidate) (media.Verdict, error) {
	sha, md := [32]byte(c.UploadSHA256), c.UploadMD5
	hashes := c.PDQ
	var matches []Match
	if c.Stored == 0 {
		matches = m.Banks.Lookup(ctx, &sha, &md, hashes)
	} else {
		matches = m.Banks.Lookup(ctx, nil, nil, hashes) // its exact hashes were checked at upload
	}
	if len(matches) == 0 {
		return media.Verdict{Action: media.Allow}, nil
	}
	v := media.Verdict{Action: media.Allow}
	var review []Match // holds and flags, for the moderation queue
	for _, match := range matches {
		if match.Action == Hold || match.Action == Flag || c.Stored != 0 {
			review = append(review, match)
		}
		a := media.Allow
		switch match.Action {
		case Block:
			a = media.Block
		case Hold:
			a = media.Hold
		}
		if m.Log != nil {
			m.Log.Warn("upload matches a hash bank", "owner", c.Owner, "bank", match.Entry.Bank, "entry", match.Entry.ID,
				"signal", match.Entry.Signal, "distance", match.Distance, "action", match.Action)
		}
		if a > v.Action || v.Reason == "" {
			v.Action = max(v.Action, a)
			v.Reason = bankReason(match.Entry.Bank)
		}
	}
	if v.Action == media.Block && c.Stored == 0 {
		// Nothing is stored, so the record is all there is: the uploader,
		// the file's hashes and what they matched, for a case about the
		// account (moderation files block signals against the uploader).
		if err := m.Banks.recordBlock(ctx, c, hashes, matches); err != nil && m.Log != nil {
			m.Log.Error("record hash bank block", "owner", c.Owner, "err", err)
		}
		return v, nil
	}
	if len(review) > 0 {
		v.Signal = func(ctx context.Context, id media.ID) {
			if err := m.Banks.recordSignal(ctx, c.Owner, id, review); err != nil && m.Log != nil {
				m.Log.Error("record hash bank signal", "media", id, "err", err)
			}
		}
	}
	return v, nil
}

// recordSignal writes what the banks found in stored upload id of owner to
// safety_signals, where the moderation queue picks it up.
func (s *Service) recordSignal(ctx context.Context, owner kurir.UserID, id media.ID, matches []Match) error {
	action, banks, entries := "flag", []string{}, []string{}
	for _, m := range matches {
		if m.Action == Hold && action == "flag" || m.Action == Block {
			action = string(m.Action)
		}
		if !slices.Contains(banks, m.Entry.Bank) {
			banks = append(banks, m.Entry.Bank)
		}
		entries = append(entries, fmt.Sprintf("%s#%d(%s)", m.Entry.Bank, m.Entry.ID, m.Entry.Signal))
	}
	return s.db.WriteTx(ctx, func(tx *sqldb.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO safety_signals (source, action, categories, rules, author_id, media_id, field, excerpt, created_at)
			VALUES ('hash_bank', $1, $2, $3, $4, $5, 'media', $6, $7)`,
			action, strings.Join(banks, ","), strings.Join(entries, ","), owner, int64(id), fmt.Sprintf("media %d", id), sqldb.Micros(s.clock.Now()))
		return err
	})
}

// recordBlock writes an upload the banks blocked to safety_signals: the
// uploader, the banks and entries it matched, and its hashes (SHA-256, MD5
// and, for a photo, its PDQ as uploaded), so that moderation can open a
// case about the uploader although no file was kept.
func (s *Service) recordBlock(ctx context.Context, c media.Candidate, hashes []PDQ, matches []Match) error {
	var banks, entries []string
	for _, m := range matches {
		if m.Action != Block {
			continue
		}
		if !slices.Contains(banks, m.Entry.Bank) {
			banks = append(banks, m.Entry.Bank)
		}
		entries = append(entries, fmt.Sprintf("%s#%d(%s)", m.Entry.Bank, m.Entry.ID, m.Entry.Signal))
	}
	excerpt := fmt.Sprintf("blocked upload (%s, %d bytes): sha256 %x md5 %x", c.ContentType, c.Size, c.UploadSHA256[:], c.UploadMD5[:])
	if len(hashes) > 0 {
		excerpt += " pdq " + hashes[0].String()
	}
	return s.db.WriteTx(ctx, func(tx *sqldb.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO safety_signals (source, action, categories, rules, author_id, field, excerpt, created_at)
			VALUES ('hash_bank', 'block', $1, $2, $3, 'media', $4, $5)`,
			strings.Join(banks, ","), strings.Join(entries, ","), c.Owner, excerpt, sqldb.Micros(s.clock.Now()))
		return err
	})
}
