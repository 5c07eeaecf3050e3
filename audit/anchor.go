package audit

import (
	"bufio"
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"kurir"
	"kurir/sqldb"
)

// Head is the log's head at a moment: the last entry's ID and hash. Because
// every entry's hash covers the one before, a head kept outside the database
// commits to every entry up to it: if the log later holds a different hash
// for that ID, something up to it was rewritten, even if the whole chain was
// recomputed and verifies.
type Head struct {
	ID   int64     `json:"id"`
	Hash string    `json:"hash"`
	At   time.Time `json:"at"` // when the head was read
	Line int       `json:"-"`  // the line ReadHeads read it from; 0 otherwise
}

// CurrentHead reads the log's head row. An empty log has ID 0 and no hash.
// It takes no lock: q may be the database's reader while entries are being
// appended, on any node.
func CurrentHead(ctx context.Context, q sqldb.Querier) (Head, error) {
	id, hash, ok, err := head(ctx, q)
	if err != nil {
		return Head{}, err
	}
	if !ok {
		return Head{}, errors.New("audit: the log's head row is missing")
	}
	return Head{ID: id, Hash: hash}, nil
}

// Anchor copies the log's head out of the database, to the server log and to
// an append-only file, so that a later rewrite of the whole table (with the
// chain recomputed, which Verify cannot tell from the real one) is caught by
// CheckHeads. It only reads the database, so every node may run one; give
// each node its own file.
//
// An Anchor is not safe for concurrent use: one goroutine calls Once and Run.
type Anchor struct {
	DB    sqldb.Querier // where the head is read; the database's reader is enough
	Path  string        // the heads file, appended to; "" writes the log only
	Clock kurir.Clock
	Log   *slog.Logger

	last Head // the head written last; the same head is not written again
}

// Once reads the head and, unless it is the one Once wrote last or the log is
// empty, writes it: an info line "audit head" with id, hash and at to the
// log, then a line (see WriteHead) appended to Path and synced to disk before
// Once returns. It returns the head and whether it wrote it. A head that
// could not be appended to the file is tried again by the next call. With an
// empty log it only creates the file, so that one that cannot be written is
// reported at once.
func (a *Anchor) Once(ctx context.Context) (Head, bool, error) {
	h, err := CurrentHead(ctx, a.DB)
	if err != nil {
		return Head{}, false, err
	}
	if h.ID == 0 && a.Path != "" {
		// Nothing to anchor yet, but a file that cannot be written should be
		// found now, not at the first entry.
		f, err := os.OpenFile(a.Path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640)
		if err != nil {
			return h, false, fmt.Errorf("audit: open the heads file: %w", err)
		}
		return h, false, f.Close()
	}
	if h.ID == 0 || h.ID == a.last.ID && h.Hash == a.last.Hash {
		return h, false, nil
	}
	h.At = a.Clock.Now().UTC()
	a.Log.Info("audit head", "id", h.ID, "hash", h.Hash, "at", h.At)
	if a.Path != "" {
		if err := appendHead(a.Path, h); err != nil {
			return h, false, err
		}
	}
	a.last = h
	return h, true, nil
}

// Run calls Once every interval until ctx ends, logging failures, and once
// more as it stops, so that entries made since the last tick are anchored
// too. Call Once before it to anchor at once and to learn whether the file
// can be written.
func (a *Anchor) Run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			// The database is still open: jobs stop before it closes.
			fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			defer cancel()
			if _, _, err := a.Once(fctx); err != nil {
				a.Log.Error("anchor the audit log's head on stopping", "err", err)
			}
			return
		case <-t.C:
		}
		if _, _, err := a.Once(ctx); err != nil && ctx.Err() == nil {
			a.Log.Error("anchor the audit log's head", "file", a.Path, "err", err)
		}
	}
}

// appendHead appends h's line to the file at path, creating it (readable by
// its owner's group, like the rest of the data directory) if need be, and
// syncs it. The file is opened for each line, so that it may be rotated or
// moved away between lines. One write of one short line with O_APPEND does
// not interleave with another process's on a local file system.
func appendHead(path string, h Head) error {
	_, statErr := os.Stat(path)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640)
	if err != nil {
		return fmt.Errorf("audit: open the heads file: %w", err)
	}
	werr := WriteHead(f, h)
	if werr == nil {
		werr = f.Sync()
	}
	if err := f.Close(); werr == nil {
		werr = err
	}
	if werr != nil {
		return fmt.Errorf("audit: append to the heads file %s: %w", path, werr)
	}
	if errors.Is(statErr, os.ErrNotExist) {
		// A new file's name is durable only once its directory is synced.
		if d, err := os.Open(filepath.Dir(path)); err == nil {
			d.Sync()
			d.Close()
		}
	}
	return nil
}

// WriteHead writes h as one line of JSON, {"id":…,"hash":"…","at":"…"}, in a
// single write. It is the form ReadHeads reads, and the form the server's
// JSON log gives the "audit head" line, so heads kept with the logs can be
// checked too.
func WriteHead(w io.Writer, h Head) error {
	b, err := json.Marshal(h)
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// maxHeadLine is the longest line ReadHeads accepts; a head takes about 120
// bytes, a line of the server's JSON log a little more.
const maxHeadLine = 64 << 10

// ReadHeads reads heads written by WriteHead, one a line, in order, with
// their line numbers. Blank
// lines are skipped and fields other than id, hash and at are ignored (lines
// of the server's JSON log carry time, level and msg). A line that is not a
// head — no ID of 1 or more, or no 64-digit hex hash — is an error naming its
// line number, and nothing is returned: a file that cannot be read whole is
// not evidence either way.
func ReadHeads(r io.Reader) ([]Head, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), maxHeadLine)
	var out []Head
	n := 0
	for sc.Scan() {
		n++
		line := sc.Bytes()
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		var h Head
		if err := json.Unmarshal(line, &h); err != nil {
			return nil, fmt.Errorf("line %d: not a head: %w", n, err)
		}
		if h.ID < 1 {
			return nil, fmt.Errorf("line %d: not a head: no entry ID of 1 or more", n)
		}
		if b, err := hex.DecodeString(h.Hash); err != nil || len(b) != 32 {
			return nil, fmt.Errorf("line %d: not a head: the hash is not 64 hex digits", n)
		}
		h.Hash, h.Line = strings.ToLower(h.Hash), n
		out = append(out, h)
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return nil, fmt.Errorf("line %d: not a head: longer than %d bytes", n+1, maxHeadLine)
		}
		return nil, err
	}
	return out, nil
}

// HeadsResult is what CheckHeads found.
type HeadsResult struct {
	Checked int // heads checked
	Failed  int // heads the log no longer matches
	// First is the index of the first head, in the order given, that the log
	// no longer matches; -1 if every head matches.
	First int
	// Now is the hash the log holds today for heads[First].ID; "" if it has
	// no such entry (it was cut short).
	Now string
	// LastGood is the index of a head that still matches with the highest ID
	// below heads[First].ID; -1 if none. With an intact chain the rewrite
	// began after that entry and at or before heads[First].ID.
	LastGood int
}

// CheckHeads reports whether the log still holds each head's hash for its
// ID. Run it after Verify: on an intact chain a head that matches vouches for
// every entry up to it. It reads the log once, in ID order, keeping only the
// heads in memory.
func CheckHeads(ctx context.Context, q sqldb.Querier, heads []Head) (HeadsResult, error) {
	r := HeadsResult{Checked: len(heads), First: -1, LastGood: -1}
	if len(heads) == 0 {
		return r, nil
	}
	ids := make([]int64, 0, len(heads))
	for _, h := range heads {
		ids = append(ids, h.ID)
	}
	slices.Sort(ids)
	ids = slices.Compact(ids)
	now := make(map[int64]string, len(ids))
	rows, err := q.QueryContext(ctx, `SELECT id, hash FROM audit_log WHERE id >= $1 AND id <= $2 ORDER BY id`, ids[0], ids[len(ids)-1])
	if err != nil {
		return HeadsResult{}, fmt.Errorf("audit: read the log: %w", err)
	}
	defer rows.Close()
	next := 0
	for rows.Next() {
		var id int64
		var hash string
		if err := rows.Scan(&id, &hash); err != nil {
			return HeadsResult{}, fmt.Errorf("audit: read the log: %w", err)
		}
		for next < len(ids) && ids[next] < id {
			next++
		}
		if next < len(ids) && ids[next] == id {
			now[id] = hash
		}
	}
	if err := rows.Err(); err != nil {
		return HeadsResult{}, fmt.Errorf("audit: read the log: %w", err)
	}
	for i, h := range heads {
		if now[h.ID] == h.Hash {
			continue
		}
		r.Failed++
		if r.First < 0 {
			r.First, r.Now = i, now[h.ID]
		}
	}
	if r.First >= 0 {
		for i, h := range heads {
			if now[h.ID] == h.Hash && h.ID < heads[r.First].ID && (r.LastGood < 0 || h.ID > heads[r.LastGood].ID) {
				r.LastGood = i
			}
		}
	}
	return r, nil
}
