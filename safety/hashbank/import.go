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

// Import reads a hash list into bank, in one transaction: a file with any
// bad line is refused whole (an *ImportError names the lines), and a good
// one is stored whole. signal is the type of every hash in a List; CSV
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
	now := sqldb.Micros(s.clock.Now())
	err = s.db.WriteTx(ctx, func(tx *sqldb.Tx) error {
		res.Added = 0
		if err := lockChanges(ctx, tx); err != nil {
			return err
		}
		const batch = 500
		for i := 0; i < len(unique); i += batch {
			part := unique[i:min(i+batch, len(unique))]
			var q strings.Builder
			q.WriteString(`INSERT INTO hash_entries (bank, signal, value, provenance, created_at, updated_at) VALUES `)
			args := make([]any, 0, len(part)*4+2)
			args = append(args, bank, now)
			for j, e := range part {
				if j > 0 {
					q.WriteString(", ")
				}
				n := len(args)
				fmt.Fprintf(&q, "($1, $%d, $%d, $%d, $2, $2)", n+1, n+2, n+3)
				args = append(args, string(e.signal), e.value, e.provenance)
			}
			q.WriteString(` ON CONFLICT (bank, signal, value) DO NOTHING RETURNING id`)
			rows, err := tx.QueryContext(ctx, q.String(), args...)
			if err != nil {
				return err
			}
			var ids []int64
			for rows.Next() {
				var id int64
				if err := rows.Scan(&id); err != nil {
					rows.Close()
					return err
				}
				ids = append(ids, id)
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return err
			}
			res.Added += len(ids)
			if len(ids) > 0 {
				var c strings.Builder
				c.WriteString(`INSERT INTO hash_changes (entry_id, enabled) VALUES `)
				cargs := make([]any, len(ids))
				for j, id := range ids {
					if j > 0 {
						c.WriteString(", ")
					}
					fmt.Fprintf(&c, "($%d, 1)", j+1)
					cargs[j] = id
				}
				if _, err := tx.ExecContext(ctx, c.String(), cargs...); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return res, fmt.Errorf("import into %s: %w", bank, err)
	}
	res.Duplicates += len(unique) - res.Added
	return res, s.Sync(ctx)
}

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
