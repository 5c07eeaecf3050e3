package hashbank

import (
	"bufio"
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"strings"

	"kurir"
)

// Export writes bank's enabled entries to w in format, in the layout Import
// reads, so that an export imports again into another bank or server. A
// List holds one signal type, signal; "" means the bank's only one (an
// error if it holds several). A CSV holds every type, with each entry's
// provenance. It returns how many entries it wrote.
func (s *Service) Export(ctx context.Context, bank string, w io.Writer, format Format, signal SignalType) (int, error) {
	if _, err := bankAction(ctx, s.db.Read(), bank); err != nil {
		return 0, err
	}
	switch format {
	case List:
		if signal == "" {
			types, err := s.signalTypes(ctx, bank)
			if err != nil {
				return 0, err
			}
			if len(types) > 1 {
				return 0, kurir.Invalid("signal", "signal_required", "Bank %s holds %s hashes; a plain list holds one kind: say which, or export CSV.", bank, strings.Join(types, ", "))
			}
			signal = SignalPDQ
			if len(types) == 1 {
				signal = SignalType(types[0])
			}
		}
	case CSV:
		if signal != "" {
			return 0, kurir.Invalid("signal", "signal_with_csv", "A CSV export holds every kind of hash; --signal is for a plain list.")
		}
	default:
		return 0, kurir.Invalid("format", "invalid_format", "The format is list or csv, not %q.", format)
	}
	q := `SELECT signal, value, provenance FROM hash_entries WHERE bank = $1 AND enabled = 1 AND ` + visible + ` ORDER BY id`
	args := []any{bank}
	if signal != "" {
		q = `SELECT signal, value, provenance FROM hash_entries WHERE bank = $1 AND enabled = 1 AND signal = $2 AND ` + visible + ` ORDER BY id`
		args = append(args, string(signal))
	}
	rows, err := s.db.Read().QueryContext(ctx, q, args...)
	if err != nil {
		return 0, fmt.Errorf("export %s: %w", bank, err)
	}
	defer rows.Close()
	bw := bufio.NewWriterSize(w, 64<<10)
	cw := csv.NewWriter(bw)
	if format == CSV {
		cw.Write([]string{"signal_type", "signal_value", "provenance"})
	} else {
		fmt.Fprintf(bw, "# %s hashes of bank %s, one per line\n", signal, bank)
	}
	n := 0
	for rows.Next() {
		var sig, value, prov string
		if err := rows.Scan(&sig, &value, &prov); err != nil {
			return n, err
		}
		if format == CSV {
			cw.Write([]string{sig, value, strings.Join(strings.Fields(prov), " ")}) // one line each, as Import reads
		} else {
			bw.WriteString(value)
			bw.WriteByte('\n')
		}
		n++
	}
	if err := rows.Err(); err != nil {
		return n, fmt.Errorf("export %s: %w", bank, err)
	}
	if cw.Flush(); cw.Error() != nil {
		return n, cw.Error()
	}
	return n, bw.Flush()
}

func (s *Service) signalTypes(ctx context.Context, bank string) ([]string, error) {
	rows, err := s.db.Read().QueryContext(ctx, `SELECT DISTINCT signal FROM hash_entries WHERE bank = $1 AND enabled = 1 AND `+visible+` ORDER BY signal`, bank)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var t string
		if err := rows.Scan(&t); err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// Entries returns up to limit of bank's entries, enabled or not, in ID
// order from the first after ID after (0 for the start).
func (s *Service) Entries(ctx context.Context, bank string, after int64, limit int) ([]Entry, error) {
	if _, err := bankAction(ctx, s.db.Read(), bank); err != nil {
		return nil, err
	}
	if limit <= 0 {
		return nil, kurir.Invalid("limit", "invalid_limit", "The limit is a positive number of entries.")
	}
	return s.entries(ctx, `SELECT id, bank, signal, value, enabled, provenance FROM hash_entries WHERE bank = $1 AND id > $2 AND `+visible+` ORDER BY id LIMIT $3`, bank, after, limit)
}

// Find returns the entries, in any bank, enabled or not, whose hash is
// value (hex, any case: an MD5, a SHA-256 or a PDQ hash).
func (s *Service) Find(ctx context.Context, value string) ([]Entry, error) {
	value = strings.ToLower(strings.TrimSpace(value))
	t := SignalSHA256
	if len(value) == 32 {
		t = SignalMD5
	}
	if _, err := decodeValue(t, value); err != nil {
		return nil, kurir.Invalid("hash", "invalid_hash", "A hash is 32 (MD5) or 64 (SHA-256, PDQ) hexadecimal digits: %v", err)
	}
	return s.entries(ctx, `SELECT id, bank, signal, value, enabled, provenance FROM hash_entries WHERE value = $1 AND `+visible+` ORDER BY id`, value)
}

func (s *Service) entries(ctx context.Context, q string, args ...any) ([]Entry, error) {
	rows, err := s.db.Read().QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list hash bank entries: %w", err)
	}
	defer rows.Close()
	var out []Entry
	for rows.Next() {
		var e Entry
		var signal string
		var enabled int
		if err := rows.Scan(&e.ID, &e.Bank, &signal, &e.Value, &enabled, &e.Provenance); err != nil {
			return nil, err
		}
		e.Signal, e.Enabled = SignalType(signal), enabled != 0
		out = append(out, e)
	}
	return out, rows.Err()
}
