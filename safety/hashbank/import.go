package hashbank

import (
	"bufio"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"kurir"
	"kurir/sqldb"
)

// Format is the layout of an import file.
type Format string

// The formats operators receive hash lists in.
const (
	// List is one hash per line, all of one signal type; '#' comments and
	// blank lines are ignored.
	List Format = "list"
	// CSV has a signal type and a value on each line, as HMA's local files
	// and ThreatExchange exports have them: either a header naming the
	// columns (signal_type or hash_type, and signal, signal_value, hash or
	// hash_value; optionally provenance, source or tags) or no header and
	// the two columns "type,value".
	CSV Format = "csv"
)

// ImportResult summarises an import.
type ImportResult struct {
	Lines      int // lines read
	Added      int // new entries
	Duplicates int // already in the bank, or repeated in the file
}

// ImportError is an import refused because of bad lines; nothing of it was
// stored.
type ImportError struct {
	Lines []*LineError // at most 20
	Total int          // bad lines in all
}

func (e *ImportError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d bad line(s); nothing was imported", e.Total)
	for _, l := range e.Lines {
		fmt.Fprintf(&b, "\n  %s", l)
	}
	if e.Total > len(e.Lines) {
		fmt.Fprintf(&b, "\n  ... and %d more", e.Total-len(e.Lines))
	}
	return b.String()
}

// LineError is one bad line of an import file.
type LineError struct {
	Line int
	Err  error
}

func (e *LineError) Error() string { return fmt.Sprintf("line %d: %v", e.Line, e.Err) }

const maxImportLine = 4096

type parsed struct {
	signal     SignalType
	value      string // normalised hex
	provenance string
}

// Import reads a hash list into bank, all or nothing: a file with any bad
// line is refused whole (an *ImportError names the lines), and a good one
// is stored whole. It writes a few thousand entries per transaction, so
// that a large import never stalls other writers for long, and lookups see
// none of the file until all of it is stored (see stage). signal is the type of every hash in a List; CSV
// files name theirs. provenance is recorded on each entry unless its line
// gives one. progress, if not nil, is called as lines are read.
func (s *Service) Import(ctx context.Context, bank string, r io.Reader, format Format, signal SignalType, provenance string, progress func(lines int)) (ImportResult, error) {
	var res ImportResult
	if _, err := bankAction(ctx, s.db.Read(), bank); err != nil {
		return res, err
	}
	var entries []parsed
	var err error
	switch format {
	case List:
		if signal == "" {
			return res, kurir.Invalid("signal", "signal_required", "A plain list holds one kind of hash: say which (pdq, md5 or sha256).")
		}
		entries, res.Lines, err = parseList(r, signal, progress)
	case CSV:
		entries, res.Lines, err = parseCSV(r, progress)
	default:
		return res, kurir.Invalid("format", "invalid_format", "The format is list or csv, not %q.", format)
	}
	if err != nil {
		return res, err
	}
	seen := make(map[parsed]bool, len(entries))
	unique := entries[:0]
	for _, e := range entries {
		key := parsed{signal: e.signal, value: e.value}
		if seen[key] {
			res.Duplicates++
			continue
		}
		seen[key] = true
		if e.provenance == "" {
			e.provenance = provenance
		}
		unique = append(unique, e)
	}
	if res.Added, err = s.stage(ctx, bank, unique); err != nil {
		return res, fmt.Errorf("import into %s: %w", bank, err)
	}
	res.Duplicates += len(unique) - res.Added
	return res, s.Sync(ctx)
}

// importBatch is how many entries an import writes per transaction: few
// enough that other writers (messages being sent) wait milliseconds for
// the database, not the length of the import.
const importBatch = 2000

// stage writes entries into bank under a new import in batches, invisible
// (see visible), then makes them all visible at once: one short
// transaction marks the import done and writes the one change that tells
// every node to load it. It returns how many entries were new. If any
// batch fails, what was staged is deleted and nothing was ever visible.
func (s *Service) stage(ctx context.Context, bank string, entries []parsed) (int, error) {
	now := sqldb.Micros(s.clock.Now())
	var id int64
	err := s.db.WriteTx(ctx, func(tx *sqldb.Tx) error {
		return tx.QueryRowContext(ctx, `INSERT INTO hash_imports (bank, state, started_at) VALUES ($1, 'staging', $2) RETURNING id`,
			bank, now).Scan(&id)
	})
	if err != nil {
		return 0, err
	}
	added := 0
	for i := 0; i < len(entries) && err == nil; i += importBatch {
		part := entries[i:min(i+importBatch, len(entries))]
		err = s.db.WriteTx(ctx, func(tx *sqldb.Tx) error {
			n, err := insertEntries(ctx, tx, bank, id, now, part)
			added += n
			return err
		})
	}
	if err == nil {
		err = s.db.WriteTx(ctx, func(tx *sqldb.Tx) error {
			if err := lockChanges(ctx, tx); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `UPDATE hash_imports SET state = 'done' WHERE id = $1`, id); err != nil {
				return err
			}
			_, err := tx.ExecContext(ctx, `INSERT INTO hash_changes (entry_id, enabled, bank, import_id) VALUES (0, 1, $1, $2)`, bank, id)
			return err
		})
	}
	if err != nil {
		if cerr := s.dropImport(context.WithoutCancel(ctx), id); cerr != nil {
			s.log.Error("delete a failed import's entries; they stay invisible", "import", id, "err", cerr)
		}
		return 0, err
	}
	return added, nil
}

// insertEntries inserts entries (new ones; duplicates are skipped) under
// import id and returns how many were new.
func insertEntries(ctx context.Context, tx *sqldb.Tx, bank string, id, now int64, entries []parsed) (int, error) {
	var q strings.Builder
	q.WriteString(`INSERT INTO hash_entries (bank, signal, value, provenance, created_at, updated_at, import_id) VALUES `)
	args := make([]any, 0, len(entries)*3+3)
	args = append(args, bank, now, id)
	for j, e := range entries {
		if j > 0 {
			q.WriteString(", ")
		}
		n := len(args)
		fmt.Fprintf(&q, "($1, $%d, $%d, $%d, $2, $2, $3)", n+1, n+2, n+3)
		args = append(args, string(e.signal), e.value, e.provenance)
	}
	q.WriteString(` ON CONFLICT (bank, signal, value) DO NOTHING`)
	res, err := tx.ExecContext(ctx, q.String(), args...)
	if err != nil {
		return 0, err
	}
	n, err := res.RowsAffected()
	return int(n), err
}

// dropImport deletes what import id staged, a batch at a time, and marks
// it failed; its entries were never visible.
func (s *Service) dropImport(ctx context.Context, id int64) error {
	err := s.db.WriteTx(ctx, func(tx *sqldb.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE hash_imports SET state = 'failed' WHERE id = $1`, id)
		return err
	})
	for n := int64(importBatch); err == nil && n == importBatch; {
		err = s.db.WriteTx(ctx, func(tx *sqldb.Tx) error {
			res, err := tx.ExecContext(ctx, `DELETE FROM hash_entries WHERE id IN (SELECT id FROM hash_entries WHERE import_id = $1 LIMIT $2)`, id, importBatch)
			if err != nil {
				return err
			}
			n, err = res.RowsAffected()
			return err
		})
	}
	return err
}

// visible is the SQL condition on hash_entries (unaliased) of an entry
// that is not part of an import still being staged, or one that failed.
const visible = `(hash_entries.import_id = 0 OR NOT EXISTS (SELECT 1 FROM hash_imports i WHERE i.id = hash_entries.import_id AND i.state <> 'done'))`

// lines reads r line by line, refusing lines that are too long or not
// UTF-8, and calls fn with each line that is not blank or a comment.
func lines(r io.Reader, progress func(int), fn func(n int, line string) error) (int, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	var bad []*LineError
	total := 0
	fail := func(n int, err error) {
		total++
		if len(bad) < 20 {
			bad = append(bad, &LineError{n, err})
		}
	}
	n := 0
	for {
		line, err := br.ReadSlice('\n')
		if len(line) == 0 && err == io.EOF {
			break
		}
		n++
		if errors.Is(err, bufio.ErrBufferFull) {
			fail(n, fmt.Errorf("longer than %d bytes", maxImportLine))
			for errors.Is(err, bufio.ErrBufferFull) { // skip the rest of it
				_, err = br.ReadSlice('\n')
			}
		} else if err != nil && err != io.EOF {
			return n, fmt.Errorf("read line %d: %w", n, err)
		} else if len(line) > maxImportLine {
			fail(n, fmt.Errorf("longer than %d bytes", maxImportLine))
		} else if !utf8.Valid(line) {
			fail(n, errors.New("not valid UTF-8 text"))
		} else if text := strings.TrimSpace(string(line)); text != "" && !strings.HasPrefix(text, "#") {
			if e := fn(n, text); e != nil {
				fail(n, e)
			}
		}
		if progress != nil && n%10000 == 0 {
			progress(n)
		}
		if err == io.EOF {
			break
		}
	}
	if progress != nil {
		progress(n)
	}
	if total > 0 {
		return n, &ImportError{Lines: bad, Total: total}
	}
	return n, nil
}

func parseList(r io.Reader, signal SignalType, progress func(int)) ([]parsed, int, error) {
	var out []parsed
	n, err := lines(r, progress, func(_ int, line string) error {
		v, err := decodeValue(signal, line)
		if err != nil {
			return err
		}
		out = append(out, parsed{signal: signal, value: fmt.Sprintf("%x", v)})
		return nil
	})
	return out, n, err
}

func parseCSV(r io.Reader, progress func(int)) ([]parsed, int, error) {
	var out []parsed
	typeCol, valueCol, provCol := 0, 1, -1
	first := true
	n, err := lines(r, progress, func(n int, line string) error {
		rec, err := csv.NewReader(strings.NewReader(line)).Read()
		if err != nil {
			return fmt.Errorf("not a CSV record: %v", err)
		}
		if first {
			first = false
			if i, j, k, ok := header(rec); ok {
				typeCol, valueCol, provCol = i, j, k
				return nil
			}
		}
		if len(rec) <= max(typeCol, valueCol) {
			return fmt.Errorf("want a signal type and a value, got %d field(s)", len(rec))
		}
		t, err := ParseSignal(rec[typeCol])
		if err != nil {
			return err
		}
		v, err := decodeValue(t, rec[valueCol])
		if err != nil {
			return err
		}
		p := parsed{signal: t, value: fmt.Sprintf("%x", v)}
		if provCol >= 0 && provCol < len(rec) {
			p.provenance = strings.TrimSpace(rec[provCol])
		}
		out = append(out, p)
		return nil
	})
	return out, n, err
}

// header finds the columns of a CSV header row.
func header(rec []string) (typeCol, valueCol, provCol int, ok bool) {
	typeCol, valueCol, provCol = -1, -1, -1
	for i, h := range rec {
		switch strings.ToLower(strings.TrimSpace(h)) {
		case "signal_type", "hash_type", "type":
			typeCol = i
		case "signal", "signal_value", "hash", "hash_value", "value":
			valueCol = i
		case "provenance", "source", "tags":
			provCol = i
		}
	}
	return typeCol, valueCol, provCol, typeCol >= 0 && valueCol >= 0
}
