package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"kurir"
	"kurir/safety/hashbank"
)

const adminBankHelp = `Usage: kurir admin bank <command> [flags] [arguments]

Hash banks hold hashes of known harmful content. Uploads that match an
enabled entry are blocked, held for review or flagged, as the bank says.

  bank create NAME --action block|hold|flag [--description TEXT]
                                 create a bank (or change its action)
  bank list                      list banks and their enabled entries
  bank import FILE --bank NAME [--format list|csv] [--signal pdq|md5|sha256] [--provenance TEXT]
                                 add a file of hashes to a bank: a plain list
                                 (one hash per line, --signal says which kind) or
                                 CSV with a signal type and value on each line
                                 (HMA and ThreatExchange layouts); a file with
                                 any bad line is refused whole; FILE "-" reads
                                 standard input
  bank export NAME [--format list|csv] [--signal pdq|md5|sha256]
                                 write a bank's enabled entries to standard output,
                                 in a form bank import reads back
  bank entries NAME [--after ID] [--limit N]
                                 list a bank's entries with their IDs
  bank find HASH                 the entries, in any bank, with this hash
  bank disable ENTRY_ID          stop an entry matching, on every node within a second
  bank enable ENTRY_ID           let it match again
`

func (a *adminCmd) bank(ctx context.Context, args []string) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprint(a.stdout, adminBankHelp)
		if len(args) == 0 {
			return usagef("admin bank: name a command, e.g. kurir admin bank list")
		}
		return nil
	}
	switch cmd, rest := args[0], args[1:]; cmd {
	case "create":
		return a.bankCreate(ctx, rest)
	case "list":
		return a.bankList(ctx, rest)
	case "import":
		return a.bankImport(ctx, rest)
	case "export":
		return a.bankExport(ctx, rest)
	case "entries":
		return a.bankEntries(ctx, rest)
	case "find":
		return a.bankFind(ctx, rest)
	case "disable", "enable":
		return a.bankEnable(ctx, rest, cmd == "enable")
	default:
		fmt.Fprint(a.stderr, adminBankHelp)
		return usagef("admin bank: unknown command %q", cmd)
	}
}

// bankSetup parses flags and opens the hash bank service.
func (a *adminCmd) bankSetup(ctx context.Context, name, help string, args []string, nargs int, extra func(envFlags)) (*hashbank.Service, func(), []string, error) {
	db, log, rest, err := a.open(ctx, "admin bank "+name, help, args, nargs, extra)
	if err != nil {
		return nil, nil, nil, err
	}
	// The running servers apply changes from the log; a command needs no
	// index, which at millions of entries takes seconds to load.
	svc := hashbank.NewManager(db, kurir.SystemClock{}, log)
	return svc, func() { db.Close() }, rest, nil
}

func (a *adminCmd) bankCreate(ctx context.Context, args []string) error {
	var action, description string
	svc, done, rest, err := a.bankSetup(ctx, "create", "Usage: kurir admin bank create NAME --action block|hold|flag [--description TEXT]\n", args, 1, func(e envFlags) {
		e.fs.StringVar(&action, "action", "", "what a match does: block, hold or flag")
		e.fs.StringVar(&description, "description", "", "what the bank holds, for other operators")
	})
	if err != nil {
		return err
	}
	defer done()
	if err := svc.CreateBank(ctx, rest[0], hashbank.Action(action), description); err != nil {
		return err
	}
	if err := a.audit(ctx, "admin.bank_create", "bank:"+rest[0], "action "+action+": "+description); err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "bank %s: matches %s\n", rest[0], action)
	return nil
}

func (a *adminCmd) bankList(ctx context.Context, args []string) error {
	svc, done, _, err := a.bankSetup(ctx, "list", "Usage: kurir admin bank list\n", args, 0, nil)
	if err != nil {
		return err
	}
	defer done()
	banks, err := svc.Banks(ctx)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "BANK\tACTION\tENTRIES\tCREATED\tDESCRIPTION")
	for _, b := range banks {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\n", b.Name, b.Action, b.Entries, b.CreatedAt.Format(time.DateOnly), b.Description)
	}
	return tw.Flush()
}

func (a *adminCmd) bankEnable(ctx context.Context, args []string, enabled bool) error {
	name := map[bool]string{true: "enable", false: "disable"}[enabled]
	svc, done, rest, err := a.bankSetup(ctx, name, "Usage: kurir admin bank "+name+" ENTRY_ID\n", args, 1, nil)
	if err != nil {
		return err
	}
	defer done()
	id, err := strconv.ParseInt(rest[0], 10, 64)
	if err != nil || id <= 0 {
		return usagef("admin bank %s: %q is not an entry ID", name, rest[0])
	}
	if err := svc.SetEnabled(ctx, id, enabled); err != nil {
		return err
	}
	if err := a.audit(ctx, "admin.bank_"+name, fmt.Sprintf("bank_entry:%d", id), ""); err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "entry %d %sd\n", id, name)
	return nil
}

// countingReader counts the bytes read through it, for the progress bar.
type countingReader struct {
	r io.Reader
	n atomic.Int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

func (a *adminCmd) bankImport(ctx context.Context, args []string) error {
	var bank, format, signal, provenance string
	svc, done, rest, err := a.bankSetup(ctx, "import", "Usage: kurir admin bank import FILE --bank NAME [--format list|csv] [--signal pdq|md5|sha256] [--provenance TEXT]\n", args, 1, func(e envFlags) {
		e.fs.StringVar(&bank, "bank", "", "the bank to add to")
		e.fs.StringVar(&format, "format", "", "list or csv (default: csv for a .csv file, else list)")
		e.fs.StringVar(&signal, "signal", "", "for a list: the kind of every hash in it, pdq, md5 or sha256")
		e.fs.StringVar(&provenance, "provenance", "", "where the hashes come from, recorded on each entry (default: the file's name)")
	})
	if err != nil {
		return err
	}
	defer done()
	if bank == "" {
		return usagef("admin bank import: say which bank with --bank")
	}
	path := rest[0]
	if format == "" {
		format = string(hashbank.List)
		if strings.EqualFold(filepath.Ext(path), ".csv") {
			format = string(hashbank.CSV)
		}
	}
	var sig hashbank.SignalType
	if signal != "" {
		if sig, err = hashbank.ParseSignal(signal); err != nil {
			return usagef("admin bank import: --signal: %v", err)
		}
	}
	if provenance == "" {
		provenance = filepath.Base(path)
	}
	var in io.Reader = a.stdin
	size := int64(-1) // unknown, for standard input
	if path != "-" {
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		st, err := f.Stat()
		if err != nil {
			return err
		}
		in, size = f, st.Size()
	} else if provenance == "-" {
		provenance = "standard input"
	}
	cr := &countingReader{r: in}
	start := time.Now()
	bar := func(lines int) {
		if size < 0 { // no size to measure against: count lines
			fmt.Fprintf(a.stderr, "\r%d lines", lines)
			return
		}
		pct := 100.0
		if size > 0 {
			pct = 100 * float64(cr.n.Load()) / float64(size)
		}
		const width = 30
		filled := int(pct / 100 * width)
		fmt.Fprintf(a.stderr, "\r[%s%s] %5.1f%%  %d lines", strings.Repeat("#", filled), strings.Repeat(".", width-filled), pct, lines)
	}
	res, err := svc.Import(ctx, bank, cr, hashbank.Format(format), sig, provenance, bar)
	fmt.Fprintln(a.stderr)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if err := a.audit(ctx, "admin.bank_import", "bank:"+bank, fmt.Sprintf("%s: %d lines, %d added, %d duplicates; provenance %s",
		filepath.Base(path), res.Lines, res.Added, res.Duplicates, provenance)); err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "%s: %d lines read, %d entries added to %s, %d duplicates skipped, 0 invalid (%.1fs)\n",
		path, res.Lines, res.Added, bank, res.Duplicates, time.Since(start).Seconds())
	return nil
}

func (a *adminCmd) bankExport(ctx context.Context, args []string) error {
	var format, signal string
	svc, done, rest, err := a.bankSetup(ctx, "export", "Usage: kurir admin bank export NAME [--format list|csv] [--signal pdq|md5|sha256]\n", args, 1, func(e envFlags) {
		e.fs.StringVar(&format, "format", "csv", "csv (every kind of hash, with provenance) or list (one kind, one hash per line)")
		e.fs.StringVar(&signal, "signal", "", "for a list: which kind of hash (default: the bank's only kind)")
	})
	if err != nil {
		return err
	}
	defer done()
	var sig hashbank.SignalType
	if signal != "" {
		if sig, err = hashbank.ParseSignal(signal); err != nil {
			return usagef("admin bank export: --signal: %v", err)
		}
	}
	n, err := svc.Export(ctx, rest[0], a.stdout, hashbank.Format(format), sig)
	if err != nil {
		return err
	}
	fmt.Fprintf(a.stderr, "%d entries of %s exported\n", n, rest[0])
	return nil
}

func (a *adminCmd) bankEntries(ctx context.Context, args []string) error {
	var after int64
	var limit int
	svc, done, rest, err := a.bankSetup(ctx, "entries", "Usage: kurir admin bank entries NAME [--after ID] [--limit N]\n", args, 1, func(e envFlags) {
		e.fs.Int64Var(&after, "after", 0, "list entries with IDs above this one (to page through a large bank)")
		e.fs.IntVar(&limit, "limit", 1000, "list at most this many entries")
	})
	if err != nil {
		return err
	}
	defer done()
	entries, err := svc.Entries(ctx, rest[0], after, limit)
	if err != nil {
		return err
	}
	if err := a.printEntries(entries); err != nil {
		return err
	}
	if len(entries) == limit {
		fmt.Fprintf(a.stderr, "more entries follow: --after %d\n", entries[len(entries)-1].ID)
	}
	return nil
}

func (a *adminCmd) bankFind(ctx context.Context, args []string) error {
	svc, done, rest, err := a.bankSetup(ctx, "find", "Usage: kurir admin bank find HASH\n", args, 1, nil)
	if err != nil {
		return err
	}
	defer done()
	entries, err := svc.Find(ctx, rest[0])
	if err != nil {
		return err
	}
	if len(entries) == 0 {
		return kurir.Errorf(kurir.ENotFound, "No bank holds the hash %s.", rest[0])
	}
	return a.printEntries(entries)
}

// printEntries prints entries as a table whose first column is the ID
// that bank disable and bank enable take.
func (a *adminCmd) printEntries(entries []hashbank.Entry) error {
	tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tBANK\tSIGNAL\tENABLED\tHASH\tPROVENANCE")
	for _, e := range entries {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\n", e.ID, e.Bank, e.Signal, map[bool]string{true: "yes", false: "no"}[e.Enabled], e.Value, e.Provenance)
	}
	return tw.Flush()
}
